package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestPassport follows the fourth kind, Pakistani passport numbers, through
// every surface on each store: ingest finds the column by its header,
// `listings list` and `stats` count them, /v1/stats has the key, `check`
// finds one typed in lower case with a dash and not another, and an SMS
// "PASSPORT …" gets the found reply, in words for a passport. Nothing typed
// reaches the logs or the store (the privacy scans of TestPrivacy cover
// every kind; here, the passport values).
func TestPassport(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.ok("keys", "init")
		c.addListing("passport-shop")
		s := c.ingest("passport-shop", c.write("pp.csv", "name,Passport No.\na,MN2345678\nb,cd 7654321\nc,KP0012345\nd,MN123\n"))
		if s.New.Passport != 3 || s.Identifiers.CNIC+s.Identifiers.Phone+s.Identifiers.IMEI != 0 {
			t.Fatalf("ingest: %+v, want 3 passport numbers", s)
		}
		if list := c.ok("listings", "list"); !strings.Contains(list, "PASSPORT") {
			t.Errorf("listings list has no passport column:\n%s", list)
		}
		if st := c.ok("stats"); !strings.Contains(st, "passport 3") {
			t.Errorf("stats does not count the passports:\n%s", st)
		}

		const (
			token  = "test-twilio-auth-token"
			public = "https://khabardar.example.pk"
		)
		c.env = append(c.env, "KHABARDAR_TWILIO_AUTH_TOKEN="+token)
		srv := startServe(t, c, "--public-url", public)

		r, err := http.Get(srv.base + "/v1/stats")
		if err != nil {
			t.Fatal(err)
		}
		var stats struct {
			Exposures map[string]int64 `json:"exposures"`
		}
		json.NewDecoder(r.Body).Decode(&stats)
		r.Body.Close()
		if stats.Exposures["passport"] != 3 || stats.Exposures["total"] != 3 || stats.Exposures["cnic"] != 0 {
			t.Errorf("/v1/stats exposures %v, want passport 3 of 3", stats.Exposures)
		}

		out, errs, code := c.run("check", "--server", srv.base, "--json", "cd-7654321", "passport:zz9999999")
		var res struct {
			Results []struct {
				InputKind string `json:"input_kind"`
				Status    string
			}
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
			t.Fatalf("check: exit %d %v\n%s%s", code, err, out, errs)
		}
		if len(res.Results) != 2 || res.Results[0].Status != "found" || res.Results[1].Status != "not_found" ||
			res.Results[0].InputKind != "passport" {
			t.Errorf("check: %+v, want the first found and the second not, both passports", res.Results)
		}

		out, errs, code = c.runWithInput("PASSPORT mn-2345678\nPASSPORT MN23456\n", "sms-sim", "--server", srv.base,
			"--public-url", public, "--gateway", "twilio", "--from", "+923001234567")
		if code != 0 {
			t.Fatalf("sms-sim: exit %d\n%s%s", code, out, errs)
		}
		if !strings.Contains(out, "passport") || !strings.Contains(out, "2 letters and 7 digits") {
			t.Errorf("SMS replies do not speak of a found passport and a malformed one:\n%s", out)
		}
		logs := srv.stop(t)
		// The replies' own example (AB1234567) is no one's; these are
		// the values typed.
		for _, v := range []string{"MN2345678", "mn-2345678", "CD7654321", "7654321", "2345678", "MN23456"} {
			if strings.Contains(logs, v) {
				t.Errorf("a passport value typed in the server's logs")
			}
			if strings.Contains(c.output.String(), v) {
				t.Errorf("a passport value typed in the commands' output")
			}
		}
	})
}
