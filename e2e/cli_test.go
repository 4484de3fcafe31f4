package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/internal/fixture"
)

func TestKeysCommands(t *testing.T) {
	c := newCLI(t, "")
	if _, errs, code := c.run("keys", "show"); code != 1 || !strings.Contains(errs, "keys init") {
		t.Fatalf("keys show without a key: exit %d, %q", code, errs)
	}
	out := c.ok("keys", "init")
	keyFile := filepath.Join(c.data, "key.json")
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, fi.Mode())
	}
	// Again: nothing to do, said so, exit 0 (the README's steps may run it
	// twice), and the key file untouched.
	before, _ := os.ReadFile(keyFile)
	again, _, code := c.run("keys", "init")
	if code != 0 || !strings.Contains(again, "already holds the server key; nothing to do") {
		t.Fatalf("second keys init: exit %d, %q", code, again)
	}
	if after, _ := os.ReadFile(keyFile); string(after) != string(before) {
		t.Fatal("the second keys init changed the key file")
	}
	var shown struct{ Suite, Mode, KeyID, PublicKey, Fingerprint string }
	raw := c.ok("keys", "show", "--json")
	if err := json.Unmarshal([]byte(strings.NewReplacer(`"key_id"`, `"KeyID"`, `"public_key"`, `"PublicKey"`).Replace(raw)), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Suite != "ristretto255-SHA512" || shown.Mode != "voprf" || len(shown.KeyID) != 16 || len(shown.PublicKey) != 43 {
		t.Fatalf("keys show --json: %s", raw)
	}
	if !strings.Contains(out, shown.KeyID) || !strings.Contains(out, shown.Fingerprint) {
		t.Fatalf("keys init printed %q", out)
	}
	secret, _ := os.ReadFile(keyFile)
	var kf struct {
		MasterSecret string `json:"master_secret"`
	}
	json.Unmarshal(secret, &kf)
	if kf.MasterSecret == "" || strings.Contains(c.output.String(), kf.MasterSecret) {
		t.Fatal("a command printed the master secret")
	}
}

func TestRedisNeedsKeyFile(t *testing.T) {
	c := newCLI(t, "")
	c.env = append(c.env, "KHABARDAR_REDIS_URL=redis://127.0.0.1:1/0")
	if _, errs, code := c.run("listings", "list"); code != 1 || !strings.Contains(errs, "--key-file") {
		t.Fatalf("exit %d, %q", code, errs)
	}
}

func TestListingsValidation(t *testing.T) {
	c := newCLI(t, "")
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", listingYAML("a", "prce_pkr: 5\n"), "prce_pkr"},
		{"unknown nested field", strings.Replace(listingYAML("a", ""), "kind: whatsapp", "kind: whatsapp, link: x", 1), "link"},
		{"bad status", strings.Replace(listingYAML("a", ""), "status: active", "status: sold", 1), "status"},
		{"bad source kind", strings.Replace(listingYAML("a", ""), "kind: whatsapp", "kind: forum", 1), "source.kind"},
		{"bad category", strings.Replace(listingYAML("a", ""), "category: location", "category: dna", 1), "categories[0].category"},
		{"negative price", strings.Replace(listingYAML("a", ""), "price_pkr: 500", "price_pkr: -1", 1), "categories[0].price_pkr"},
		{"bad date", strings.Replace(listingYAML("a", ""), "2025-01-02", "2025-13-02", 1), "first_seen"},
		{"last before first", listingYAML("a", "last_seen: 2024-01-01\n"), "last_seen"},
		{"bad reference", listingYAML("a", "references: [ftp://x]\n"), "references[0]"},
		{"bad id", strings.Replace(listingYAML("a", ""), "id: a", "id: Has Spaces", 1), "id"},
		{"price not a number", strings.Replace(listingYAML("a", ""), "price_pkr: 500", "price_pkr: cheap", 1), "cheap"},
		{"not yaml", "{{{", "listing document 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := c.run("listings", "add", c.write("l.yaml", tt.yaml))
			if code != 1 || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q, want it to name %q", code, errs, tt.want)
			}
		})
	}
	if out := c.ok("listings", "list"); !strings.Contains(out, "no listings") {
		t.Fatalf("a rejected file was stored: %s", out)
	}
	// A file holding two documents adds both; adding again updates.
	two := listingYAML("one", "") + "---\n" + listingYAML("two", "verified: true\n")
	if out := c.ok("listings", "add", c.write("two.yaml", two)); !strings.Contains(out, "added listing one") || !strings.Contains(out, "added listing two") {
		t.Fatalf("add: %s", out)
	}
	if out := c.ok("listings", "add", c.write("two.yaml", two)); !strings.Contains(out, "updated listing one") {
		t.Fatalf("re-add: %s", out)
	}
	if out := c.ok("listings", "add", example(t, "listing-pakdata-shop.yaml")); !strings.Contains(out, "pakdata-shop-2025") {
		t.Fatalf("example listing: %s", out)
	}
}

// TestIngest checks exact counts, rejections by reason with row numbers,
// idempotent re-runs and removal, on both stores.
func TestIngest(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.addListing("leak")
		// 2,000 rows of the fixture mix, then rows to reject, then repeats.
		var b strings.Builder
		fixture.WriteCSV(&b, 2000)
		b.WriteString("bad sci,3.52021E+12,,\n")             // row 2002
		b.WriteString("bad luhn,,,352099001761482\n")        // row 2003
		b.WriteString("landline,,042-1234567,\n")            // row 2004
		b.WriteString("nothing,,,\n")                        // row 2005
		b.WriteString("repeat,," + fixture.Phone(0) + ",\n") // row 2006: a duplicate
		file := c.write("leak.csv", b.String())

		s := c.ingest("leak", file)
		want := counts{CNIC: 500, Phone: 1001, IMEI: 500}
		if s.Rows != 2005 || s.Identifiers != want || s.New != (counts{CNIC: 500, Phone: 1000, IMEI: 500}) || s.Duplicates != 1 || s.EmptyRows != 1 {
			t.Fatalf("summary %+v", s)
		}
		for reason, row := range map[string]int{"scientific_notation": 2002, "bad_check_digit": 2003, "not_mobile": 2004} {
			r, ok := s.Rejected[reason]
			if !ok || r.Count != 1 || len(r.Rows) != 1 || r.Rows[0].Row != row {
				t.Errorf("rejected[%s] = %+v, want row %d (all: %+v)", reason, r, row, s.Rejected)
			}
		}
		if s.ListingCounts != (counts{CNIC: 500, Phone: 1000, IMEI: 500}) {
			t.Fatalf("listing counts %+v", s.ListingCounts)
		}

		again := c.ingest("leak", file)
		if again.New != (counts{}) || again.Duplicates != 2001 || again.ListingCounts != s.ListingCounts {
			t.Fatalf("re-run: %+v", again)
		}
		if got := c.listingCounts("leak"); got != s.ListingCounts {
			t.Fatalf("listings list: %+v", got)
		}

		if _, errs, code := c.run("ingest", "--listing", "absent", file); code != 1 || !strings.Contains(errs, "absent") {
			t.Fatalf("unknown listing: exit %d %q", code, errs)
		}
		if _, errs, code := c.run("ingest", "--listing", "leak", filepath.Join(c.dir, "missing.csv")); code != 1 || !strings.Contains(errs, "missing.csv") {
			t.Fatalf("missing file: exit %d %q", code, errs)
		}
		if _, _, code := c.run("ingest", file); code != 2 {
			t.Fatalf("no --listing: exit %d", code)
		}

		if out := c.ok("listings", "remove", "leak"); !strings.Contains(out, "2000 identifiers") {
			t.Fatalf("remove: %s", out)
		}
		if _, _, code := c.run("listings", "remove", "leak"); code != 1 {
			t.Fatal("removing twice succeeded")
		}
		c.addListing("leak")
		if s := c.ingest("leak", file); s.New.CNIC != 500 {
			t.Fatalf("after remove and re-add, ingest found old exposures: %+v", s)
		}
	})
}

func TestIngestExampleFile(t *testing.T) {
	c := newCLI(t, "")
	c.ok("listings", "add", example(t, "listing-pakdata-shop.yaml"))
	s := c.ingest("pakdata-shop-2025", example(t, "leak-sample.csv"))
	// Row 4 has a lost CNIC, an unallocated prefix and a bad check digit.
	if s.Identifiers != (counts{CNIC: 2, Phone: 3, IMEI: 2}) || s.New != (counts{CNIC: 2, Phone: 3, IMEI: 1}) || s.RejectedCount() != 3 {
		t.Fatalf("summary %+v", s)
	}
}

func (s summary) RejectedCount() (n int64) {
	for _, r := range s.Rejected {
		n += r.Count
	}
	return n
}

// example returns the absolute path of a file in examples/: commands run in
// the test's own directory.
func example(t *testing.T, name string) string {
	p, err := filepath.Abs(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
