package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestListingsFlag sets and clears flags with the real binary, on both
// stores, one step after another on the same listing; counts survive every
// change; and a served /v1/stats leaves the listing out once it is
// fabricated.
func TestListingsFlag(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.ok("keys", "init")
		c.addListing("shop") // unflagged
		c.ok("listings", "add", c.write("seen.yaml", listingYAML("seen", "verified: true\n")))
		s := c.ingest("shop", c.write("leak.csv", "cnic,phone\n35202-1234567-1,0300-1234567\n"))
		if s.ListingCounts != (counts{CNIC: 1, Phone: 1}) {
			t.Fatalf("ingest: %+v", s.ListingCounts)
		}

		type flags struct{ Verified, Fabricated, Sensitive bool }
		tests := []struct {
			name   string
			args   []string
			code   int
			output string // in stdout, or in stderr when code != 0
			shop   flags  // the shop's flags afterwards
		}{
			{"fabricated", []string{"shop", "--fabricated"}, 0, "fabricated false → true", flags{Fabricated: true}},
			{"again: unchanged", []string{"shop", "--fabricated=true"}, 0, "shop: unchanged", flags{Fabricated: true}},
			{"flags before the ID", []string{"--sensitive", "shop"}, 0, "sensitive false → true", flags{Fabricated: true, Sensitive: true}},
			{"verified while fabricated", []string{"shop", "--verified"}, 2, "add --fabricated=false", flags{Fabricated: true, Sensitive: true}},
			{"both at once", []string{"shop", "--verified", "--fabricated"}, 2, "cannot be both", flags{Fabricated: true, Sensitive: true}},
			{"cleared and verified in one go", []string{"shop", "--fabricated=false", "--verified", "--sensitive=false"}, 0,
				"verified false → true, fabricated true → false, sensitive true → false", flags{Verified: true}},
			{"fabricated while verified", []string{"shop", "--fabricated"}, 2, "add --verified=false", flags{Verified: true}},
			{"no flag", []string{"shop"}, 2, "name a flag", flags{Verified: true}},
			{"no ID", []string{"--sensitive"}, 2, "exactly one listing ID", flags{Verified: true}},
			{"two IDs", []string{"shop", "seen", "--sensitive"}, 2, "exactly one listing ID", flags{Verified: true}},
			{"not a boolean", []string{"shop", "--sensitive=maybe"}, 2, "sensitive", flags{Verified: true}},
			{"unknown listing", []string{"absent", "--sensitive"}, 1, "absent", flags{Verified: true}},
			{"unverified, then fabricated", []string{"shop", "--verified=false", "--fabricated"}, 0,
				"verified true → false, fabricated false → true", flags{Fabricated: true}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out, errs, code := c.run(append([]string{"listings", "flag"}, tt.args...)...)
				got := out
				if tt.code != 0 {
					got = errs
				}
				if code != tt.code || !strings.Contains(got, tt.output) {
					t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errs, tt.code, tt.output)
				}
				var ls []struct {
					ID string
					flags
					Counts counts
				}
				if err := json.Unmarshal([]byte(c.ok("listings", "list", "--json")), &ls); err != nil || len(ls) != 2 {
					t.Fatalf("listings list: %v %+v", err, ls)
				}
				if ls[1].ID != "shop" || ls[1].flags != tt.shop || ls[1].Counts != s.ListingCounts {
					t.Errorf("shop is %+v, want flags %+v and counts %+v", ls[1], tt.shop, s.ListingCounts)
				}
				if ls[0].flags != (flags{Verified: true}) {
					t.Errorf("the other listing changed: %+v", ls[0])
				}
			})
		}

		// The fabricated shop is out of the served totals.
		// A genuine listing beside it, so that the catalogue is not empty.
		c.ingest("seen", c.write("seen.csv", "cnic\n42101-7654321-3\n"))
		srv := startServe(t, c)
		r := apiCall(t, "GET", srv.base+"/v1/stats", "", nil)
		var st struct {
			Exposures           struct{ Total int64 }
			FabricatedExposures struct{ Total int64 } `json:"fabricated_exposures"`
			Listings            struct{ Total, Counted, Fabricated int }
		}
		if err := json.Unmarshal(r.body, &st); r.status != 200 || err != nil {
			t.Fatalf("GET /v1/stats: %d %v %s", r.status, err, r.body)
		}
		if st.Exposures.Total != 1 || st.FabricatedExposures.Total != 2 || st.Listings.Total != 2 || st.Listings.Counted != 1 || st.Listings.Fabricated != 1 {
			t.Errorf("GET /v1/stats: %s", r.body)
		}
		// check does not call an identifier found for being in a fabricated
		// listing only, and says where it is.
		out := c.ok("check", "--server", srv.base, "35202-1234567-1")
		if !strings.Contains(out, "not found") || !strings.Contains(out, "only in 1 listing shown to be fabricated") || !strings.Contains(out, "FABRICATED") {
			t.Errorf("check of an identifier only in a fabricated listing:\n%s", out)
		}
		// With only the fabricated listing, nothing genuine is loaded: the
		// check cannot tell, and still says where the identifier is.
		c.ok("listings", "remove", "seen")
		out, _, code := c.run("check", "--server", srv.base, "35202-1234567-1")
		if code != exitNoListings || !strings.Contains(out, "cannot tell") || !strings.Contains(out, "only in 1 listing shown to be fabricated") {
			t.Errorf("check against a catalogue of one fabricated listing: exit %d\n%s", code, out)
		}
		srv.stop(t)
	})
}
