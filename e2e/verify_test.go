package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/fixture"
)

// verifyOut is `khabardar verify --json`, as far as the tests read it.
type verifyOut struct {
	Sample struct {
		Files       []string
		Rows        int
		Identifiers struct{ CNIC, Phone, IMEI *int }
		Distinct    int
	}
	Plausibility struct {
		Verdict string
		Reasons []string
		Tests   []struct{ Test, Level, Reason string }
	}
	Listings []struct {
		ID      string
		Matched int
		Share   float64
		CI95    []float64
	}
	NewShare *float64 `json:"new_share"`
	Origin   *struct {
		Verdict  string
		LookedUp int `json:"looked_up"`
		Distinct int
		Summary  string
	}
	Server *struct {
		KeyID string `json:"key_id"`
	}
}

func (v verifyOut) listing(id string) (matched int, share float64, ci []float64) {
	for _, l := range v.Listings {
		if l.ID == id {
			return l.Matched, l.Share, l.CI95
		}
	}
	return -1, 0, nil
}

func (v verifyOut) test(name string) string {
	for _, t := range v.Plausibility.Tests {
		if t.Test == name {
			return t.Level
		}
	}
	return ""
}

// verifyValues makes n realistic identifiers (CNICs, mobile numbers, IMEIs
// in turn) from seed, none in avoid, with their sentinels for the scans.
func verifyValues(t *testing.T, seed uint64, n int, avoid map[string]bool) ([]string, []sentinel) {
	t.Helper()
	r := fixture.NewRand(seed)
	gens := []func() string{
		func() string { return fixture.RealisticCNIC(r) },
		func() string { return fixture.RealisticPhone(r) },
		func() string { return fixture.RealisticIMEI(r) },
	}
	var vals []string
	var sents []sentinel
	for i := 0; len(vals) < n; i++ {
		v := gens[i%3]()
		cn := canonical(t, v)
		if avoid[cn] {
			continue
		}
		avoid[cn] = true
		vals = append(vals, v)
		sents = append(sents, sentinel{v, cn})
	}
	return vals, sents
}

// sampleCSV writes values as a seller's spreadsheet: a name column and one
// column per kind, each value in its kind's column (by its digits, for a
// value that is no identifier).
func sampleCSV(t *testing.T, values []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("name,cnic,mobile,imei\n")
	for i, v := range values {
		cells := []string{fmt.Sprint("person ", i), "", "", ""}
		cells[kindColumn(v)] = v
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	return b.String()
}

// kindColumn is 1 for a CNIC, 2 for a mobile number, 3 for an IMEI.
func kindColumn(v string) int {
	if id, err := identifier.Parse(identifier.Unknown, identifier.Raw(v)); err == nil {
		return int(id.Kind())
	}
	switch len(asciiDigits(v)) {
	case 13:
		return 1
	case 14, 15, 16:
		return 3
	}
	return 2
}

// TestVerify runs `khabardar verify` against `khabardar serve` over
// loopback: samples drawn wholly, partly or not at all from an ingested
// listing, fabricated ones, every file format, the HTML report, lookups cut
// by --max-lookups and through an API key; then scans everything printed,
// written and logged for every sample value in every form.
func TestVerify(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	c.ok("listings", "add", c.write("shops.yaml", listingYAML("old-shop", "")+"---\n"+listingYAML("other-shop", "")))
	used := map[string]bool{}
	listed, _ := verifyValues(t, 1, 600, used)
	if s := c.ingest("old-shop", c.write("old-shop.csv", sampleCSV(t, listed))); s.ListingCounts.CNIC+s.ListingCounts.Phone+s.ListingCounts.IMEI != 600 {
		t.Fatalf("ingest: %+v", s.ListingCounts)
	}
	otherVals, _ := verifyValues(t, 2, 30, used)
	c.ingest("other-shop", c.write("other-shop.csv", sampleCSV(t, otherVals)))
	keyOut := c.ok("apikeys", "create", "--name", "journalist", "--max-batch", "200")
	apiKey := regexp.MustCompile(`khb_[A-Za-z0-9_-]{43}`).FindString(keyOut)
	srv := startServe(t, c)

	var sents []sentinel // every sample value, for the privacy scans
	for _, v := range listed {
		sents = append(sents, sentinel{v, canonical(t, v)})
	}
	fresh, freshSents := verifyValues(t, 3, 300, used)
	sents = append(sents, freshSents...)
	sequential := fixture.SequentialCNICs(4210155500001, 100)
	for _, v := range sequential {
		sents = append(sents, sentinel{v, canonical(t, v)})
	}
	badIMEIs := make([]string, 60)
	r := fixture.NewRand(4)
	for i := range badIMEIs {
		badIMEIs[i] = fixture.RandomIMEI(r) // a few pass the check digit and are identifiers
	}

	whole := listed[:150]
	partly := append(append([]string{}, listed[150:230]...), fresh[:120]...) // 80 of 200 listed: 40%
	files := map[string]string{
		"whole.csv":      c.write("whole.csv", sampleCSV(t, whole)),
		"partly.csv":     c.write("partly.csv", sampleCSV(t, partly)),
		"sequential.csv": c.write("sequential.csv", sampleCSV(t, sequential)),
		"bad-imei.csv":   c.write("bad-imei.csv", sampleCSV(t, badIMEIs)),
		"new.jsonl":      c.write("new.jsonl", jsonLines(fresh[120:300])),
		"partly.xlsx":    writeXLSX(t, filepath.Join(c.dir, "partly.xlsx"), xlsxRows(partly)),
		"chat.txt":       c.write("chat.txt", chatExport(partly)),
	}
	server := "--server=" + srv.base
	verifyJSON := func(t *testing.T, args ...string) verifyOut {
		t.Helper()
		out := c.ok(append([]string{"verify", server, "--json"}, args...)...)
		var v verifyOut
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return v
	}

	tests := []struct {
		name       string
		args       []string
		verdict    string
		origin     string
		rows       int
		lookedUp   int
		oldMatched int
		trueShare  float64 // of old-shop
		tests      map[string]string
	}{
		{"drawn wholly from the listing", []string{files["whole.csv"]}, "plausible", "repackaged", 150, 150, 150, 1, nil},
		{"40% from the listing, 60% new", []string{files["partly.csv"]}, "plausible", "partly_known", 200, 200, 80, 0.4, nil},
		{"40%, from XLSX", []string{files["partly.xlsx"]}, "plausible", "partly_known", 200, 200, 80, 0.4, nil},
		{"40%, from a chat export", []string{files["chat.txt"]}, "plausible", "partly_known", 200, 200, 80, 0.4, nil},
		{"40%, a random 80 looked up", []string{"--max-lookups", "80", "--seed", "7", files["partly.csv"]}, "plausible", "partly_known", 200, 80, -1, 0.4, nil},
		{"new, from JSON lines", []string{files["new.jsonl"]}, "plausible", "new", 180, 180, 0, 0, nil},
		{"two files at once", []string{files["whole.csv"], files["new.jsonl"]}, "plausible", "partly_known", 330, 330, 150, 150.0 / 330, nil},
		{"sequential CNICs", []string{files["sequential.csv"]}, "fabricated", "new", 100, 100, 0, 0, map[string]string{"sequences_cnic": "fabricated"}},
		{"IMEIs with wrong check digits", []string{files["bad-imei.csv"]}, "fabricated", "", 60, -1, 0, 0, map[string]string{"imei_check_digit": "fabricated"}},
		{"with an API key", []string{"--api-key", apiKey, files["partly.csv"]}, "plausible", "partly_known", 200, 200, 80, 0.4, nil},
	}
	// verify evaluates in full batches: 200 identifiers under the server's
	// cap of 16 (no API key) are 13 evaluate requests, not 200.
	t.Run("full evaluate batches", func(t *testing.T) {
		const route = `khabardar_http_requests_total{method="POST",route="/v1/evaluate",status="200"}`
		before := scrape(t, srv.metrics)
		v := verifyJSON(t, files["partly.csv"])
		after := scrape(t, srv.metrics)
		if v.Origin == nil || v.Origin.LookedUp != 200 {
			t.Fatalf("origin %+v", v.Origin)
		}
		if d := metricValue(after, route) - metricValue(before, route); d != 13 {
			t.Errorf("%v evaluate requests for 200 identifiers, want 13 (batches of 16)", d)
		}
		if d := metricValue(after, "khabardar_evaluated_elements_total") - metricValue(before, "khabardar_evaluated_elements_total"); d != 200 {
			t.Errorf("%v elements evaluated, want 200", d)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verifyJSON(t, tt.args...)
			if v.Plausibility.Verdict != tt.verdict || len(v.Plausibility.Reasons) == 0 {
				t.Errorf("plausibility %s, want %s: %q", v.Plausibility.Verdict, tt.verdict, v.Plausibility.Reasons)
			}
			if v.Sample.Rows != tt.rows || v.Sample.Identifiers.CNIC == nil || v.Sample.Identifiers.Phone == nil || v.Sample.Identifiers.IMEI == nil {
				t.Errorf("sample: %+v", v.Sample)
			}
			for test, level := range tt.tests {
				if got := v.test(test); got != level {
					t.Errorf("%s: %s, want %s", test, got, level)
				}
			}
			if v.Origin == nil || v.NewShare == nil || v.Server == nil || v.Server.KeyID != srv.keyID {
				t.Fatalf("no lookups: %+v", v)
			}
			if tt.origin != "" && v.Origin.Verdict != tt.origin {
				t.Errorf("origin %s, want %s: %s", v.Origin.Verdict, tt.origin, v.Origin.Summary)
			}
			if tt.lookedUp >= 0 && v.Origin.LookedUp != tt.lookedUp {
				t.Errorf("looked up %d, want %d", v.Origin.LookedUp, tt.lookedUp)
			}
			matched, share, ci := v.listing("old-shop")
			if tt.oldMatched >= 0 && matched != tt.oldMatched {
				t.Errorf("old-shop matched %d, want %d", matched, tt.oldMatched)
			}
			if len(ci) != 2 || ci[0] > tt.trueShare || tt.trueShare > ci[1] || ci[0] > share || share > ci[1] {
				t.Errorf("old-shop: true share %.3f, measured %.3f, interval %v", tt.trueShare, share, ci)
			}
			if m, _, ci := v.listing("other-shop"); m != 0 || len(ci) != 2 || ci[0] != 0 {
				t.Errorf("other-shop holds none of the samples: matched %d, %v", m, ci)
			}
			if got := 1 - *v.NewShare; tt.oldMatched >= 0 && v.Origin.LookedUp > 0 && absf(got-float64(tt.oldMatched)/float64(v.Origin.LookedUp)) > 1e-9 {
				t.Errorf("new_share %v", *v.NewShare)
			}
		})
	}

	t.Run("human output", func(t *testing.T) {
		out := c.ok("verify", server, files["partly.csv"])
		for _, want := range []string{"Plausibility: PLAUSIBLE", "old-shop", "80   40.0%", "in no listing", "Origin: PARTLY KNOWN", "Looked up at " + srv.base} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("html report", func(t *testing.T) {
		report := filepath.Join(c.dir, "report.html")
		out := c.ok("verify", server, "--html", report, files["partly.csv"], files["sequential.csv"])
		if !strings.Contains(out, "Report written to "+report) {
			t.Errorf("%s", out)
		}
		b, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, want := range []string{"<svg", `<rect class="bar"`, `class="whisker"`, "old-shop", "Real? FABRICATED", "New? PARTLY KNOWN"} {
			if !strings.Contains(page, want) {
				t.Errorf("the report lacks %q", want)
			}
		}
		for _, p := range selfContainedProblems(page) {
			t.Error(p)
		}
	})

	t.Run("offline", func(t *testing.T) {
		out := c.ok("verify", "--server", "http://"+freeAddr(t), "--offline", "--json", files["sequential.csv"])
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatal(err)
		}
		if string(raw["listings"]) != "[]" || string(raw["new_share"]) != "null" || !strings.Contains(string(raw["plausibility"]), `"fabricated"`) {
			t.Errorf("%s", out)
		}
	})

	logs := srv.stop(t)
	// The anonymous runs kept to the server's max_batch of 16: no
	// evaluation was refused, and there were many.
	if strings.Contains(logs, "batch_too_large") || strings.Count(logs, `"route":"/v1/evaluate"`) < 200/16 {
		t.Errorf("evaluations: %d logged, or one refused as too large", strings.Count(logs, `"route":"/v1/evaluate"`))
	}

	// Nothing of any sample reached the server's logs or anything verify
	// printed or wrote, in any form; the inputs themselves aside.
	everything := append([]byte(logs), c.output.Bytes()...)
	filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, c.data) || isSampleInput(p, files) {
			return err
		}
		b, _ := os.ReadFile(p)
		everything = append(everything, b...)
		return nil
	})
	for i, s := range sents {
		for form, needle := range s.forms() {
			if bytes.Contains(everything, needle) {
				t.Errorf("the %s form of sample value %d (%s) was printed, logged or written", form, i, s.canonical[:strings.IndexByte(s.canonical, ':')])
			}
		}
	}
	for i, v := range badIMEIs {
		if bytes.Contains(everything, []byte(v)) {
			t.Errorf("invalid sample value %d was echoed", i)
		}
	}
	if entries, _ := os.ReadDir(c.tmp); len(entries) != 0 {
		t.Errorf("verify left %d files in TMPDIR", len(entries))
	}
	// The scan must be able to fail: the inputs hold the values.
	if b, _ := os.ReadFile(files["partly.csv"]); !bytes.Contains(b, []byte(partly[0])) || !strings.Contains(logs, `"route":"/v1/buckets/:prefix"`) {
		t.Fatal("self-check: the inputs lack the values, or the logs the requests")
	}
}

// TestVerifyNoListings: against a server with no listings, verify says so
// instead of "undetermined", and looks nothing up.
func TestVerifyNoListings(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	srv := startServe(t, c)
	sample := c.write("s.csv", sampleCSV(t, []string{"35202-1234567-1", "0300-1234567", "0321-7654321"}))
	out := c.ok("verify", "--server", srv.base, sample)
	if !strings.Contains(out, "Origin: NO LISTINGS LOADED") || strings.Contains(out, "UNDETERMINED") || strings.Contains(out, "NEW") {
		t.Fatalf("verify against an empty server:\n%s", out)
	}
	var j struct {
		Origin struct{ Verdict string }
	}
	if err := json.Unmarshal([]byte(c.ok("verify", "--server", srv.base, "--json", sample)), &j); err != nil || j.Origin.Verdict != "no_listings_loaded" {
		t.Fatalf("--json: %v %+v", err, j)
	}
	report := filepath.Join(c.dir, "r.html")
	c.ok("verify", "--server", srv.base, "--html", report, sample)
	if page, _ := os.ReadFile(report); !strings.Contains(string(page), "New? NO LISTINGS LOADED") {
		t.Errorf("the HTML report does not say no listings are loaded")
	}
	if logs := srv.stop(t); strings.Contains(logs, "/v1/evaluate") {
		t.Errorf("verify looked identifiers up against an empty server:\n%s", logs)
	}
}

// TestVerifyUsage covers what is decided before anything is read or asked.
func TestVerifyUsage(t *testing.T) {
	c := newCLI(t, "")
	closed := "http://" + freeAddr(t)
	sample := c.write("s.csv", sampleCSV(t, []string{"35202-1234567-1", "0300-1234567"}))
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"help", []string{"-h"}, 0, "Exit codes:\n  0 the sample was judged", ""},
		{"no files", nil, 2, "", "name one or more sample files"},
		{"json and html", []string{"--json", "--html", "r.html", sample}, 2, "", "--json and --html are alternatives"},
		{"negative max", []string{"--max-lookups", "-1", sample}, 2, "", "--max-lookups"},
		{"bad server", []string{"--server", "ftp://example.com", sample}, 2, "", "http or https URL"},
		{"missing file", []string{"--offline", filepath.Join(c.dir, "nope.csv")}, 1, "", "no such file"},
		{"no identifier column", []string{"--offline", c.write("names.csv", "name,city\na,b\n")}, 1, "", "--column"},
		{"server down", []string{"--server", closed, sample}, 1, "", "connection refused"},
		{"offline needs no server", []string{"--server", closed, "--offline", sample}, 0, "Plausibility: TOO FEW TO JUDGE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := c.run(append([]string{"verify"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
		})
	}
	for _, v := range []string{"35202-1234567-1", "3520212345671", "0300-1234567", "03001234567"} {
		if strings.Contains(c.output.String(), v) {
			t.Errorf("a sample value was echoed:\n%s", c.output.String())
		}
	}
}

// selfContainedProblems lists what could make the HTML report fetch or run
// something when an editor opens it: a fetching or scripting element, a URL
// attribute or event handler in any tag, CSS url() or @import, or no CSP
// forbidding fetches. Text is escaped, so every "<" starts a real tag.
func selfContainedProblems(page string) []string {
	var problems []string
	badTag := regexp.MustCompile(`(?i)^<\s*/?\s*(script|link|iframe|frame|object|embed|base|img|image|use|audio|video|source|track|form)\b`)
	badAttr := regexp.MustCompile(`(?i)\s(src|href|srcset|xlink:href|poster|action|formaction|data|background|ping|on[a-z]+)\s*=`)
	for _, tag := range regexp.MustCompile(`<[^>]*>`).FindAllString(page, -1) {
		if badTag.MatchString(tag) || badAttr.MatchString(tag) || regexp.MustCompile(`https?://`).MatchString(tag) {
			problems = append(problems, "a tag could fetch or run something: "+tag)
		}
	}
	if m := regexp.MustCompile(`(?i)url\s*\(|@import`).FindString(page); m != "" {
		problems = append(problems, "the CSS could fetch: "+m)
	}
	if !strings.Contains(page, `content="default-src 'none'; style-src 'unsafe-inline'"`) {
		problems = append(problems, "no CSP forbids fetches")
	}
	return problems
}

func isSampleInput(p string, files map[string]string) bool {
	for _, f := range files {
		if p == f {
			return true
		}
	}
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, "old-shop.csv") || strings.HasSuffix(p, "other-shop.csv")
}

func jsonLines(values []string) string {
	var b strings.Builder
	for _, v := range values {
		key := []string{"", "cnic", "msisdn", "imei"}[kindColumn(v)]
		fmt.Fprintf(&b, "{\"name\":\"x\",%q:%q}\n", key, v)
	}
	return b.String()
}

func xlsxRows(values []string) [][]string {
	rows := [][]string{{"Name", "CNIC", "Mobile", "IMEI"}}
	for i, v := range values {
		row := []string{fmt.Sprint("person ", i), "", "", ""}
		row[kindColumn(v)] = v
		rows = append(rows, row)
	}
	return rows
}

// chatExport writes values as a seller's WhatsApp messages, one a line.
func chatExport(values []string) string {
	var b strings.Builder
	for i, v := range values {
		fmt.Fprintf(&b, "[12/10/2025, 9:%02d pm] Seller: sample %d: %s ✅\n", i%60, i, v)
	}
	return b.String()
}

func absf(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// siteVerifyReport writes the HTML report of `khabardar verify` for the
// browser tests (KHABARDAR_VERIFY_REPORT): a sample of 120, half from the
// fixture CSV of rows rows that the server at base has ingested, half new.
// It returns the report's path and the sample's values for the log scan.
func siteVerifyReport(t *testing.T, c *cli, base string, rows int) (string, []sentinel) {
	t.Helper()
	inCSV := map[string]bool{}
	var values []string
	var sents []sentinel
	for i := range rows {
		_, v := fixture.Identifier(i)
		cn := canonical(t, v)
		inCSV[cn] = true
		if i < 60 {
			values = append(values, v)
			sents = append(sents, sentinel{v, cn})
		}
	}
	fresh, freshSents := verifyValues(t, 11, 60, inCSV)
	values = append(values, fresh...)
	sents = append(sents, freshSents...)
	report := filepath.Join(c.dir, "verify-report.html")
	c.ok("verify", "--server", base, "--html", report, c.write("verify-sample.csv", sampleCSV(t, values)))
	return report, sents
}

// TestVerifyBucketBits: verify refuses a server that asks for more bucket
// bits than its limit, as check does, before evaluating anything.
func TestVerifyBucketBits(t *testing.T) {
	c, honest, lying, wide := bucketBitsServers(t)
	sample := c.write("sample.csv", sampleCSV(t, []string{foundCNIC.typed, foundPhone.typed, absentPh.typed}))
	tests := []struct {
		name   string
		srv    *lyingServer
		args   []string
		code   int
		stderr []string
		asked  []string
	}{
		{"16 bits", honest, nil, 0, nil, []string{"GET /v1/config", "GET /v1/listings", "POST /v1/evaluate", "GET /v1/buckets/{prefix}", "GET /v1/buckets/{prefix}", "GET /v1/buckets/{prefix}", "GET /v1/listings", "GET /v1/listings"}},
		{"32 bits refused", lying, nil, 1, []string{"khabardar verify: refused: the server at " + lying.url + " asks for 32-bit bucket numbers, more than the 16", "nothing was looked up"}, askedConfig},
		{"20 bits refused", wide, []string{"--json"}, 1, []string{"asks for 20-bit bucket numbers"}, askedConfig},
		{"lowered", honest, []string{"--max-bucket-bits", "12"}, 1, []string{"asks for 16-bit bucket numbers, more than the 12"}, askedConfig},
		{"raised on purpose", wide, []string{"--unsafe-max-bucket-bits", "20"}, 0, []string{"khabardar verify: warning: --unsafe-max-bucket-bits 20", "about 430"},
			[]string{"GET /v1/config", "GET /v1/listings", "POST /v1/evaluate", "GET /v1/buckets/{prefix}", "GET /v1/buckets/{prefix}", "GET /v1/buckets/{prefix}", "GET /v1/listings", "GET /v1/listings"}},
		{"raising takes the unsafe flag", wide, []string{"--max-bucket-bits", "20"}, 2, []string{"can only lower"}, askedNothing},
		{"offline asks nothing", lying, []string{"--offline"}, 0, nil, askedNothing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.srv.asked()
			out, errs, code := c.run(append([]string{"verify", "--server", tt.srv.url, sample}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if got := tt.srv.asked(); !slices.Equal(got, tt.asked) {
				t.Errorf("the server was asked %q, want %q", got, tt.asked)
			}
		})
	}
}
