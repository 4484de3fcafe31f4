package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar/frontend"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/kanneltest"
	"github.com/khabardar/khabardar/internal/prereq"
)

// siteCSP is the website's Content-Security-Policy, pinned here as the
// contract the frontend is built against.
const siteCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; manifest-src 'self'"

// siteBudget is the budget for the first load: index.html and the
// assets it references, as sent compressed.
const siteBudget = 100_000

// Environment of the browser tests.
const (
	envRequireBrowser = "KHABARDAR_REQUIRE_BROWSER" // 1: a missing browser or Node.js fails even under KHABARDAR_ALLOW_SKIP=1
	envChromium       = "KHABARDAR_CHROMIUM"        // the Chromium binary; default /usr/bin/chromium
	envScreenshots    = "KHABARDAR_SCREENSHOTS"     // where the tests save screenshots; default frontend/test/screenshots
	browserTimeout    = 8 * time.Minute             // npm ci, then the whole node --test run: a hang guard, not a speed bound
	limitedEvaluate   = 4                           // the limited server's --rate-evaluate, per hour
)

// TestServeSite: serve's website is the embedded one, a directory read at
// start, or none.
func TestServeSite(t *testing.T) {
	index, err := fs.ReadFile(frontend.Dist(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		flags []string
		env   string
		want  string // the body of GET /; "" wants the API's 404
	}{
		{"embedded by default", nil, "", string(index)},
		{"a directory", []string{"--site-dir", "site"}, "", "<!doctype html><p>from disk</p>"},
		{"a directory from the environment", nil, "KHABARDAR_SITE_DIR=site", "<!doctype html><p>from disk</p>"},
		{"none", []string{"--no-site"}, "", ""},
		{"none from the environment", nil, "KHABARDAR_NO_SITE=1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, "")
			site := filepath.Join(c.dir, "site")
			if err := os.MkdirAll(filepath.Join(site, "assets"), 0o700); err != nil {
				t.Fatal(err)
			}
			c.write("site/index.html", "<!doctype html><p>from disk</p>")
			c.write("site/assets/app-5XJQ3A2B.js", "console.log(1)")
			c.env = append(c.env, tt.env)
			c.ok("keys", "init")
			srv := startServe(t, c, tt.flags...)

			r := apiCall(t, "GET", srv.base+"/", "", nil)
			if tt.want == "" {
				if r.status != 404 || r.code() != "not_found" {
					t.Fatalf("GET /: %d %s, want the API's 404", r.status, r.body)
				}
				return
			}
			if r.status != 200 || string(r.body) != tt.want || r.header.Get("Content-Security-Policy") != siteCSP {
				t.Fatalf("GET /: %d, CSP %q, %q", r.status, r.header.Get("Content-Security-Policy"), r.body)
			}
			if strings.Contains(tt.name, "directory") {
				if r := apiCall(t, "GET", srv.base+"/assets/app-5XJQ3A2B.js", "", nil); r.status != 200 || string(r.body) != "console.log(1)" {
					t.Fatalf("an asset: %d %q", r.status, r.body)
				}
				// Read at start: a later edit needs a restart.
				c.write("site/index.html", "<p>edited</p>")
				if r := apiCall(t, "GET", srv.base+"/", "", nil); string(r.body) != tt.want {
					t.Fatalf("after an edit on disk: %q", r.body)
				}
			}
			if logs := srv.stop(t); !strings.Contains(logs, `"msg":"site loaded"`) {
				t.Errorf("no site loaded line:\n%s", logs)
			}
		})
	}
}

// TestSiteBudget fetches / over loopback as a browser does and adds up the
// compressed bytes of index.html and every asset its script and link tags
// reference: the first load must fit the 100 KB.
func TestSiteBudget(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	srv := startServe(t, c)
	const accept = "gzip, deflate, br, zstd"

	index := apiCall(t, "GET", srv.base+"/", "", nil, "Accept-Encoding", "identity")
	if index.status != 200 {
		t.Fatalf("GET /: %d", index.status)
	}
	base, _ := url.Parse(srv.base + "/")
	files := []string{"/"}
	for _, ref := range siteReferences(index.body) {
		u, err := base.Parse(ref)
		if err != nil {
			t.Fatalf("index.html references %q: %v", ref, err)
		}
		if u.Host == base.Host && !slicesContains(files, u.Path) {
			files = append(files, u.Path)
		}
	}
	var wire, plain int
	for _, p := range files {
		r := apiCall(t, "GET", srv.base+p, "", nil, "Accept-Encoding", accept)
		if r.status != 200 {
			t.Errorf("%s, referenced by index.html: %d", p, r.status)
			continue
		}
		raw := apiCall(t, "GET", srv.base+p, "", nil, "Accept-Encoding", "identity")
		t.Logf("%-40s %7d bytes sent (%s), %7d plain", p, len(r.body), orIdentity(r.header.Get("Content-Encoding")), len(raw.body))
		wire += len(r.body)
		plain += len(raw.body)
	}
	t.Logf("first load: %d files, %d bytes compressed (%d plain); budget %d", len(files), wire, plain, siteBudget)
	if wire > siteBudget {
		t.Errorf("the first load is %d bytes compressed, over the %d-byte budget", wire, siteBudget)
	}
	srv.stop(t)
}

// siteReferences returns the src of every script tag and the href of every
// link tag in an HTML document.
func siteReferences(html []byte) []string {
	tag := regexp.MustCompile(`(?is)<(?:script|link)\b[^>]*>`)
	attr := regexp.MustCompile(`(?is)\s(?:src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
	var out []string
	for _, t := range tag.FindAll(html, -1) {
		if m := attr.FindSubmatch(t); m != nil {
			out = append(out, string(m[1])+string(m[2])+string(m[3]))
		}
	}
	return out
}

func orIdentity(enc string) string {
	if enc == "" {
		return "identity"
	}
	return enc
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// skipOrFail fails the test for want of a browser or Node.js, saying how to
// install them; see package prereq for KHABARDAR_ALLOW_SKIP=1 and
// KHABARDAR_REQUIRE_BROWSER=1.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	prereq.Missing(t, envRequireBrowser, why, "apt-get install -y chromium nodejs npm")
}

// siteFixture is what the browser tests are told, as KHABARDAR_FIXTURE.
type siteFixture struct {
	Listing json.RawMessage     `json:"listing"` // as GET /v1/listings lists it
	Found   map[string][]string `json:"found"`   // by kind, as a person might type them
	Absent  map[string][]string `json:"absent"`
}

// TestSite runs the website's browser tests (frontend/test, node --test with
// Playwright driving Chromium) against the real binary: one server with a
// listing of a few hundred synthetic identifiers and default limits, a
// second one allowing only a few evaluations an hour, and a third with no
// listings at all. Then it scans both
// servers' logs for every identifier the tests typed.
func TestSite(t *testing.T) {
	frontendDir, err := filepath.Abs(filepath.Join("..", "frontend"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFail(t, "node is not on PATH: the browser tests need Node.js")
	}
	chromium := os.Getenv(envChromium)
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		skipOrFail(t, fmt.Sprintf("no Chromium at %s (apt-get install chromium, or set %s)", chromium, envChromium))
	}
	if _, err := os.Stat(filepath.Join(frontendDir, "package.json")); err != nil {
		skipOrFail(t, "frontend/package.json is missing: no browser tests to run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	if _, err := os.Stat(filepath.Join(frontendDir, "node_modules", "playwright-core")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			skipOrFail(t, "frontend/node_modules lacks playwright-core and npm is not on PATH to install it")
		}
		if _, err := runLogged(ctx, t, frontendDir, nil, npm, "ci", "--no-audit", "--no-fund"); err != nil {
			t.Fatal(err)
		}
	}

	// The main server: the example listing and a fixture file.
	c := newCLI(t, "")
	c.ok("keys", "init")
	listingFile, err := filepath.Abs(filepath.Join("..", "examples", "listing-pakdata-shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.ok("listings", "add", listingFile)
	const rows = 400
	csv := filepath.Join(c.dir, "leak.csv")
	want, err := fixture.CSVFile(csv, rows)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.ingest("pakdata-shop-2025", csv); s.ListingCounts != (counts{CNIC: int64(want["cnic"]), Phone: int64(want["phone"]), IMEI: int64(want["imei"])}) {
		t.Fatalf("ingest: %+v, want %v", s.ListingCounts, want)
	}
	// Passport numbers, the fourth kind, in the same listing: the page's
	// fourth box and its kind choice come from the kind table.
	pp := c.write("passports.csv", "name,passport no\n"+strings.Join(sitePassports, "\n")+"\n")
	if s := c.ingest("pakdata-shop-2025", pp); s.New.Passport != int64(len(sitePassports)) {
		t.Fatalf("passport ingest: %+v, want %d new passports", s.New, len(sitePassports))
	}
	fx, typed := siteValues(t, rows)
	// Alerts on, sent through a real Kannel: the browser test reads the
	// confirmation code from what its fakesmsc, the phone, received.
	k := kanneltest.New(t)
	kannelEnv(c, k)
	srv := startServe(t, c)
	startKannel(k, srv)
	phone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]string{}
		for _, m := range k.Received() {
			out = append(out, map[string]string{"to": m.To, "text": m.Text})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}))
	defer phone.Close()

	// Self-check through the CLI: the fixture says what it claims, so a
	// failing browser test is the website's.
	for _, set := range []struct {
		name  string
		found bool
		vals  map[string][]string
	}{{"found", true, fx.Found}, {"absent", false, fx.Absent}} {
		var vals []string
		for _, k := range []string{"cnic", "phone", "imei"} {
			vals = append(vals, set.vals[k]...)
		}
		var got struct {
			Results []struct {
				Found *bool `json:"found"`
			}
		}
		out := c.ok(append([]string{"check", "--json", "--server", srv.base}, vals...)...)
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Results) != len(vals) {
			t.Fatalf("check: %v\n%s", err, out)
		}
		for i, r := range got.Results {
			if r.Found == nil || *r.Found != set.found {
				t.Fatalf("self-check: %s value #%d is not %s by khabardar check", set.name, i+1, set.name)
			}
		}
	}

	// The report of `khabardar verify --html` the browser opens from disk.
	report, sampleTyped := siteVerifyReport(t, c, srv.base, rows)
	typed = append(typed, sampleTyped...)

	// The limited server: the same listing, nothing ingested.
	lc := newCLI(t, "")
	lc.ok("keys", "init")
	lc.ok("listings", "add", listingFile)
	limited := startServe(t, lc, "--rate-evaluate", strconv.Itoa(limitedEvaluate)+"-H")

	// The empty server: no listing at all, as right after the quick start.
	ec := newCLI(t, "")
	ec.ok("keys", "init")
	empty := startServe(t, ec)

	var ls struct {
		Listings []json.RawMessage `json:"listings"`
	}
	if r := apiCall(t, "GET", srv.base+"/v1/listings", "", nil); r.status != 200 || json.Unmarshal(r.body, &ls) != nil || len(ls.Listings) != 1 {
		t.Fatalf("GET /v1/listings: %d %s", r.status, r.body)
	}
	fx.Listing = ls.Listings[0]
	fixtureFile := filepath.Join(c.dir, "fixture.json")
	b, _ := json.MarshalIndent(fx, "", "  ")
	if err := os.WriteFile(fixtureFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	screenshots := os.Getenv(envScreenshots)
	if screenshots == "" {
		screenshots = filepath.Join(frontendDir, "test", "screenshots")
	}
	if err := os.MkdirAll(screenshots, 0o755); err != nil {
		t.Fatal(err)
	}

	if _, err := os.Stat(filepath.Join(frontendDir, "test")); err != nil {
		t.Log("frontend/test does not exist yet: no browser tests ran")
	} else {
		env := []string{
			"KHABARDAR_URL=" + srv.base,
			"KHABARDAR_LIMITED_URL=" + limited.base,
			"KHABARDAR_LIMITED_EVALUATIONS=" + strconv.Itoa(limitedEvaluate),
			"KHABARDAR_EMPTY_URL=" + empty.base,
			"KHABARDAR_FIXTURE=" + fixtureFile,
			"KHABARDAR_SMS_OUTBOX=" + phone.URL,
			"KHABARDAR_VERIFY_REPORT=" + report,
			envScreenshots + "=" + screenshots,
			envChromium + "=" + chromium,
		}
		out, err := runLogged(ctx, t, frontendDir, env, node, "--test", "--test-reporter=spec", "test/")
		if err != nil {
			t.Error(err) // and still scan the logs of what ran
		}
		// The spec reporter ends with "ℹ tests N", the TAP one with "# tests N".
		m := regexp.MustCompile(`(?m)^(?:# |ℹ )tests (\d+)$`).FindStringSubmatch(out)
		switch {
		case m == nil:
			t.Log("browser tests: node printed no count")
		case m[1] == "0":
			t.Log("browser tests: none ran (frontend/test holds no tests yet)")
		default:
			t.Logf("browser tests: %s ran; screenshots in %s", m[1], screenshots)
		}
	}

	// Nothing the tests typed reached either server's logs, in any form.
	logs := srv.stop(t) + limited.stop(t) + empty.stop(t)
	if !strings.Contains(logs, `"route":"/v1/evaluate"`) {
		t.Fatalf("self-check: no evaluations in the logs:\n%s", logs)
	}
	everything := append([]byte(logs), c.output.Bytes()...)
	everything = append(everything, lc.output.Bytes()...)
	everything = append(everything, ec.output.Bytes()...)
	for _, s := range typed {
		for form, needle := range s.forms() {
			if bytes.Contains(everything, needle) {
				t.Errorf("the server logs or the commands' output hold the %s form of a fixture %s", form, s.canonical[:strings.IndexByte(s.canonical, ':')])
			}
		}
	}
}

// siteValues chooses the fixture's found values (identifiers of the CSV of
// fixture.CSVFile(rows), each written the way a person might type it) and
// absent ones (valid identifiers not in it), checks each parses to what it
// should, and returns them with the sentinels the privacy scan looks for.
func siteValues(t *testing.T, rows int) (siteFixture, []sentinel) {
	t.Helper()
	inCSV := map[string]bool{}
	for i := range rows {
		_, v := fixture.Identifier(i)
		inCSV[canonical(t, v)] = true
	}
	for _, v := range sitePassports {
		inCSV[canonical(t, v)] = true
	}
	urdu := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '۰' + r - '0'
			}
			return r
		}, s)
	}
	digits := func(s string) string { return asciiDigits(s) }
	spaced := func(s string) string { return strings.ReplaceAll(s, "-", " ") }
	intl := func(s string) string { d := digits(s); return "+92 " + d[1:4] + " " + d[4:] } // 0300-1234567 → +92 300 1234567
	grouped := func(s string) string { return s[:2] + "-" + s[2:8] + "-" + s[8:14] + "-" + s[14:] }

	// fixture.Identifier: i%4 is 0 or 1 for a phone, 2 for a CNIC, 3 for an IMEI.
	found := map[string][]string{
		"cnic":  {fixture.CNIC(2), spaced(fixture.CNIC(6)), digits(fixture.CNIC(10)), urdu(fixture.CNIC(14))},
		"phone": {fixture.Phone(4), intl(fixture.Phone(5)), digits(fixture.Phone(8))[1:], urdu(fixture.Phone(9)), "0092" + digits(fixture.Phone(12))[1:]},
		"imei":  {fixture.IMEI(3), grouped(fixture.IMEI(7)), spaced(grouped(fixture.IMEI(11))), urdu(fixture.IMEI(15))},
		// as typed: lower case, a dash, a space, Urdu digits
		"passport": {sitePassports[0], strings.ToLower(sitePassports[1]), sitePassports[2][:2] + "-" + sitePassports[2][2:],
			sitePassports[3][:2] + " " + urdu(sitePassports[3][2:])},
	}
	absent := map[string][]string{
		"cnic":     {fixture.CNIC(rows*1000 + 2), spaced(fixture.CNIC(rows*1000 + 6))},
		"phone":    {fixture.Phone(rows * 1000), intl(fixture.Phone(rows*1000 + 1)), urdu(fixture.Phone(rows*1000 + 4))},
		"imei":     {fixture.IMEI(rows*1000 + 3), grouped(fixture.IMEI(rows*1000 + 7))},
		"passport": {"ZX9081726", "qa 1002003"},
	}
	var typed []sentinel
	for kind, vals := range found {
		for _, v := range vals {
			cn := canonical(t, v)
			if !strings.HasPrefix(cn, kind+":") || !inCSV[cn] {
				t.Fatalf("self-check: a found %s does not parse to an identifier of the CSV", kind)
			}
			typed = append(typed, sentinel{v, cn})
		}
	}
	for kind, vals := range absent {
		for _, v := range vals {
			cn := canonical(t, v)
			if !strings.HasPrefix(cn, kind+":") || inCSV[cn] {
				t.Fatalf("self-check: an absent %s is not a %s outside the CSV", kind, kind)
			}
			typed = append(typed, sentinel{v, cn})
		}
	}
	return siteFixture{Found: found, Absent: absent}, typed
}

// sitePassports are synthetic passport numbers ingested for the website
// test.
var sitePassports = []string{"AB1234567", "CD7654321", "KP0012345", "LM5550001", "RT2468013"}

func canonical(t *testing.T, v string) string {
	t.Helper()
	id, err := identifier.Parse(identifier.Unknown, identifier.Raw(v))
	if err != nil {
		t.Fatalf("self-check: a fixture value does not parse: %v", err)
	}
	return string(id.Canonical())
}

// runLogged runs a command in dir with extra environment, passing its output
// to t.Log line by line as it comes. It returns the output, and an error if
// the command exits non-zero or outlives ctx. The command runs in a process
// group of its own, killed when it ends: node starts Chromium, which must
// not outlive it.
func runLogged(ctx context.Context, t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	w := &lineLog{t: t}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = 10 * time.Second // a child left holding the output cannot hang the test
	killGroup := inOwnGroup(cmd)
	err := cmd.Run()
	killGroup()
	w.flush()
	what := filepath.Base(name) + " " + strings.Join(args, " ")
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("%s: did not finish in %v", what, browserTimeout)
	case err != nil:
		err = fmt.Errorf("%s: %w", what, err)
	}
	return w.all.String(), err
}

// lineLog passes a child's output to t.Log a line at a time, and keeps it.
type lineLog struct {
	t       *testing.T
	mu      sync.Mutex
	partial []byte
	all     bytes.Buffer
}

func (w *lineLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
}

func (w *lineLog) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.t.Log(string(w.partial))
		w.partial = nil
	}
}
