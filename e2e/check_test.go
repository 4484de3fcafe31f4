package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/client"
	"github.com/khabardar/khabardar/internal/fixture"
)

// The identifiers TestCheck ingests (found) and looks up without ingesting
// (absent), one of each kind, with their canonical forms for the privacy
// scan. None is anyone's: CNICs and numbers are made up, IMEIs synthetic.
var (
	foundCNIC  = sentinel{"35202-1234567-1", "cnic:3520212345671"}
	foundPhone = sentinel{"0300-1234567", "phone:+923001234567"}
	foundIMEI  = sentinel{"352099001761481", "imei:35209900176148"}
	absentCNIC = sentinel{"42101-1111111-1", "cnic:4210111111111"}
	absentPh   = sentinel{"0345-7654321", "phone:+923457654321"}
	absentIMEI = sentinel{"490154203237518", "imei:49015420323751"}

	checkSentinels = []sentinel{foundCNIC, foundPhone, foundIMEI, absentCNIC, absentPh, absentIMEI}
	// Values that are not identifiers; they must not be echoed either.
	checkInvalid = []string{"3.52021E+12", "352099001761482", "+92 42 1234567"}
)

const (
	checkListingOne = `id: data-shop
title: Data shop one
source: {kind: whatsapp, description: a group}
first_seen: 2025-01-02
status: active
categories:
  - {category: location, price_pkr: 500}
  - {category: cdr, price_pkr: 3500}
`
	checkListingTwo = `id: device-trader
title: Device trader
source: {kind: website, url: "https://example.com/x"}
first_seen: 2024-11-05
last_seen: 2025-02-01
status: taken_down
verified: true
categories:
  - {category: imei, price_pkr: 25000}
`
)

// TestCheck runs `khabardar check` against `khabardar serve` over loopback,
// on both stores: found and absent identifiers of every kind, human and JSON
// output, invalid input, batches over the server's max_batch, and then scans
// the server's logs and everything printed for the identifiers.
func TestCheck(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.ok("listings", "add", c.write("one.yaml", checkListingOne+"---\n"+checkListingTwo))
		var filler strings.Builder // other identifiers, so the buckets are not just ours
		fixture.WriteCSV(&filler, 300)
		one := filler.String() + fmt.Sprintf("x,%s,%s,\n", foundCNIC.typed, foundPhone.typed)
		if s := c.ingest("data-shop", c.write("one.csv", one)); s.ListingCounts != (counts{CNIC: 76, Phone: 151, IMEI: 75}) {
			t.Fatalf("ingest: %+v", s.ListingCounts)
		}
		two := "name,cnic,imei\n" + fmt.Sprintf("y,%s,%s\n", foundCNIC.typed, foundIMEI.typed)
		if s := c.ingest("device-trader", c.write("two.csv", two)); s.ListingCounts != (counts{CNIC: 1, IMEI: 1}) {
			t.Fatalf("ingest: %+v", s.ListingCounts)
		}

		srv := startServe(t, c)
		server := "--server=" + srv.base
		today := khabardar.Date{Time: time.Now().UTC().Truncate(24 * time.Hour)}
		notFound := notFound(client.Catalogue{Listings: 2, NewestAdded: today})
		if !strings.Contains(notFound, "not in any of the 2 listings Khabardar knows of, newest added "+today.Format("2 Jan 2006")) {
			t.Fatalf("notFound: %s", notFound)
		}

		t.Run("human", func(t *testing.T) {
			shop := []string{"  - Data shop one\n", "    source: whatsapp · first seen 2025-01-02 · status: active\n",
				"    offered: phone location Rs 500; call records (CDR) Rs 3,500\n"}
			trader := []string{"  - Device trader\n", "    source: website · first seen 2024-11-05, last seen 2025-02-01 · status: taken down, verified\n",
				"    offered: IMEI details Rs 25,000\n"}
			tests := []struct {
				name string
				args []string
				want []string
			}{
				{"cnic found in two listings", []string{foundCNIC.typed}, append(append([]string{"#1 (cnic): FOUND in 2 listings\n"}, shop...), trader...)},
				{"cnic found, digits only", []string{"3520212345671"}, []string{"#1 (cnic): FOUND in 2 listings\n"}},
				{"cnic found, kind prefix", []string{"cnic:35202 1234567 1"}, []string{"#1 (cnic): FOUND in 2 listings\n"}},
				{"phone found", []string{foundPhone.typed}, append([]string{"#1 (phone): FOUND in 1 listing\n"}, shop...)},
				{"phone found, international", []string{"+92 300 1234567"}, []string{"#1 (phone): FOUND in 1 listing\n"}},
				{"phone found, Urdu digits", []string{"۰۳۰۰-۱۲۳۴۵۶۷"}, []string{"#1 (phone): FOUND in 1 listing\n"}},
				{"imei found", []string{foundIMEI.typed}, append([]string{"#1 (imei): FOUND in 1 listing\n"}, trader...)},
				{"imei found, grouped", []string{"35-209900-176148-1"}, []string{"#1 (imei): FOUND in 1 listing\n"}},
				{"cnic absent", []string{absentCNIC.typed}, []string{"#1 (cnic): " + notFound + "\n"}},
				{"phone absent", []string{absentPh.typed}, []string{"#1 (phone): " + notFound + "\n"}},
				{"imei absent", []string{absentIMEI.typed}, []string{"#1 (imei): " + notFound + "\n"}},
				{"kind forced", []string{"--kind", "cnic", "3520212345671"}, []string{"#1 (cnic): FOUND in 2 listings\n"}},
				{"several, in order", []string{absentPh.typed, foundIMEI.typed, absentCNIC.typed},
					[]string{"#1 (phone): not found", "#2 (imei): FOUND in 1 listing", "#3 (cnic): not found"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					out, errs, code := c.run(append([]string{"check", server}, tt.args...)...)
					if code != 0 {
						t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
					}
					for _, w := range tt.want {
						if !strings.Contains(out, w) {
							t.Errorf("output lacks %q:\n%s", w, out)
						}
					}
					if !strings.Contains(out, "Checked with server key "+srv.keyID) {
						t.Errorf("output does not name the key:\n%s", out)
					}
				})
			}
		})

		// Several identifiers in one check share one evaluate request, so
		// one proof: the server's metrics count requests and elements.
		t.Run("one evaluate request for several identifiers", func(t *testing.T) {
			const route = `khabardar_http_requests_total{method="POST",route="/v1/evaluate",status="200"}`
			before := scrape(t, srv.metrics)
			c.ok("check", server, absentPh.typed, foundIMEI.typed, absentCNIC.typed)
			after := scrape(t, srv.metrics)
			if d := metricValue(after, route) - metricValue(before, route); d != 1 {
				t.Errorf("%v evaluate requests for one check of three identifiers, want 1", d)
			}
			if d := metricValue(after, "khabardar_evaluated_elements_total") - metricValue(before, "khabardar_evaluated_elements_total"); d != 3 {
				t.Errorf("%v elements evaluated, want 3", d)
			}
		})

		t.Run("flags after values", func(t *testing.T) {
			out := c.ok("check", foundPhone.typed, "--json", "--server", srv.base)
			if !json.Valid([]byte(out)) || !strings.Contains(out, `"found": true`) {
				t.Fatalf("%s", out)
			}
		})

		t.Run("json", func(t *testing.T) {
			args := []string{"check", server, "--json", foundCNIC.typed, foundPhone.typed, foundIMEI.typed,
				absentCNIC.typed, absentPh.typed, absentIMEI.typed, checkInvalid[0]}
			out, errs, code := c.run(args...)
			if code != 1 || !strings.Contains(errs, "1 of 7 values is not a valid identifier (#7)") {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			var got struct {
				Results []struct {
					Position  int     `json:"position"`
					InputKind string  `json:"input_kind"`
					Found     *bool   `json:"found"`
					Listings  []jsonL `json:"listings"`
					Error     *struct{ Reason, Message string }
				}
				Server struct {
					KeyID       string `json:"key_id"`
					Fingerprint string
				}
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			want := []struct {
				kind     string
				listings []string
			}{
				{"cnic", []string{"data-shop", "device-trader"}}, {"phone", []string{"data-shop"}}, {"imei", []string{"device-trader"}},
				{"cnic", nil}, {"phone", nil}, {"imei", nil},
			}
			if len(got.Results) != 7 || got.Server.KeyID != srv.keyID || got.Server.Fingerprint == "" {
				t.Fatalf("%s", out)
			}
			for i, w := range want {
				r := got.Results[i]
				var ids []string
				for _, l := range r.Listings {
					ids = append(ids, l.ID)
				}
				if r.Position != i+1 || r.InputKind != w.kind || r.Found == nil || *r.Found != (w.listings != nil) || !slices.Equal(ids, w.listings) || r.Listings == nil || r.Error != nil {
					t.Errorf("result %d: %+v, want %+v", i, r, w)
				}
			}
			if l := got.Results[0].Listings[1]; l.Title != "Device trader" || l.FirstSeen != "2024-11-05" || l.Status != "taken_down" || !l.Verified ||
				len(l.Categories) != 1 || l.Categories[0].Category != "imei" || l.Categories[0].PricePKR != 25000 || l.SourceKind != "website" {
				t.Errorf("listing details: %+v", l)
			}
			if r := got.Results[6]; r.Position != 7 || r.Found != nil || r.Error == nil || r.Error.Reason != "scientific_notation" {
				t.Errorf("invalid value: %+v", r)
			}
		})

		t.Run("invalid", func(t *testing.T) {
			tests := []struct {
				name   string
				args   []string
				stdout []string
				stderr string
			}{
				{"some invalid, the others checked", append([]string{foundPhone.typed}, checkInvalid...),
					[]string{"#1 (phone): FOUND", "#2: invalid — the value is in scientific notation", "(scientific_notation)",
						"#3: invalid — the IMEI's check digit is wrong", "#4: invalid — the number is not a Pakistani mobile number"},
					"3 of 4 values are not valid identifiers (#2, #3, #4); nothing about them was sent"},
				{"only invalid", []string{"hello"}, []string{"#1: invalid — the value contains a character"}, "1 of 1 values is not a valid identifier (#1)"},
				{"wrong kind label", []string{"imei:" + foundCNIC.typed}, []string{"#1: invalid — an IMEI has 15 digits"}, "(#1)"},
				{"kind forced, another kind typed", []string{"--kind", "phone", foundCNIC.typed}, []string{"#1: invalid"}, "(#1)"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					out, errs, code := c.run(append([]string{"check", server}, tt.args...)...)
					if code != 1 || !strings.Contains(errs, tt.stderr) {
						t.Fatalf("exit %d, stderr %q, want 1 and %q", code, errs, tt.stderr)
					}
					for _, w := range tt.stdout {
						if !strings.Contains(out, w) {
							t.Errorf("output lacks %q:\n%s", w, out)
						}
					}
				})
			}
		})

		t.Run("standard input, batched", func(t *testing.T) {
			// 40 values: more than the anonymous max_batch of 16.
			var in strings.Builder
			in.WriteString(foundPhone.typed + "\n\n  " + absentCNIC.typed + "  \n")
			for i := range 37 {
				in.WriteString(fixture.Phone(5_000_000+i) + "\n")
			}
			in.WriteString(foundIMEI.typed + "\n")
			out, errs, code := c.runWithInput(in.String(), "check", server, "-")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, w := range []string{"#1 (phone): FOUND", "#2 (cnic): not found", "#3 (phone): not found", "#39 (phone): not found", "#40 (imei): FOUND"} {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if n := strings.Count(out, "\n#"); n != 39 {
				t.Errorf("%d results after the first, want 39", n)
			}
		})

		t.Run("server from the environment", func(t *testing.T) {
			saved := c.env
			defer func() { c.env = saved }()
			c.env = append(slices.Clip(c.env), "KHABARDAR_SERVER="+srv.base)
			if out := c.ok("check", foundIMEI.typed); !strings.Contains(out, "#1 (imei): FOUND") {
				t.Fatal(out)
			}
		})

		t.Run("unknown API key", func(t *testing.T) {
			saved := c.env
			defer func() { c.env = saved }()
			c.env = append(slices.Clip(c.env), "KHABARDAR_API_KEY=not-a-key")
			_, errs, code := c.run("check", server, foundIMEI.typed)
			if code != 1 || !strings.Contains(errs, "refused the API key") || strings.Contains(errs, "not-a-key") {
				t.Fatalf("exit %d, %q", code, errs)
			}
		})

		logs := srv.stop(t)
		c.output.WriteString(logs)
		for _, s := range checkSentinels {
			for form, needle := range s.forms() {
				if bytes.Contains(c.output.Bytes(), needle) {
					t.Errorf("the serve logs or the commands' output hold the %s form of %s identifier", form, s.canonical[:strings.IndexByte(s.canonical, ':')])
				}
			}
		}
		for i, v := range checkInvalid {
			if strings.Contains(c.output.String(), v) || strings.Contains(c.output.String(), asciiDigits(v)) {
				t.Errorf("invalid value %d was echoed", i)
			}
		}
		if regexp.MustCompile(`/v1/buckets/[0-9a-f]{4}`).MatchString(logs) {
			t.Error("a bucket prefix reached the serve logs")
		}
		// The scan must be able to fail: the inputs hold every sentinel.
		if !strings.Contains(one+two, foundCNIC.typed) || !strings.Contains(logs, `"route"`) {
			t.Fatalf("self-check: no inputs or no request logs:\n%s", logs)
		}
	})
}

type jsonL struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	SourceKind string `json:"source_kind"`
	FirstSeen  string `json:"first_seen"`
	Status     string `json:"status"`
	Verified   bool   `json:"verified"`
	Categories []struct {
		Category string `json:"category"`
		PricePKR int64  `json:"price_pkr"`
	} `json:"categories"`
}

// TestCheckEmptyCatalogue: a server with no listings gets no "not found":
// check says it cannot tell, and exits 3, until a listing has identifiers.
func TestCheckEmptyCatalogue(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	srv := startServe(t, c)
	server := "--server=" + srv.base
	empty := func(stage string) {
		t.Helper()
		out, errs, code := c.run("check", server, absentPh.typed)
		if code != exitNoListings || !strings.Contains(out, "#1 (phone): "+noListings) || !strings.Contains(out, "No listings are loaded yet") || strings.Contains(out, "not found") {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", stage, code, out, errs)
		}
		out, _, code = c.run("check", server, "--json", absentPh.typed)
		var j struct {
			Results   []struct{ Status string }
			Catalogue struct{ Listings int }
		}
		if code != exitNoListings || json.Unmarshal([]byte(out), &j) != nil || j.Results[0].Status != "no_listings" || j.Catalogue.Listings != 0 {
			t.Fatalf("%s: --json: exit %d: %s", stage, code, out)
		}
	}
	empty("a fresh server")
	c.ok("listings", "add", c.write("one.yaml", checkListingOne))
	empty("a listing with no identifiers yet")
	c.ingest("data-shop", c.write("one.csv", "name,cnic\nx,"+foundCNIC.typed+"\n"))
	out := c.ok("check", server, absentPh.typed)
	if !strings.Contains(out, "not in any of the 1 listing Khabardar knows of, newest added ") {
		t.Fatalf("after an ingest: %s", out)
	}
	if logs := srv.stop(t); !strings.Contains(logs, "no listings are loaded") {
		t.Errorf("serve did not warn of its empty catalogue at start:\n%s", logs)
	}
}

// TestCheckUsage covers what is decided before any server is asked.
func TestCheckUsage(t *testing.T) {
	c := newCLI(t, "")
	closed := "http://" + freeAddr(t) // nothing listens there
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"help", []string{"-h"}, 0, "Exit codes:\n  0 every value was checked", ""},
		{"no values", nil, 2, "", "name one or more values"},
		{"bad kind", []string{"--kind", "ntn", "x"}, 2, "", "--kind must be cnic, phone, imei or passport"},
		{"bad server", []string{"--server", "ftp://example.com", foundPhone.typed}, 2, "", "http or https URL"},
		{"unknown flag", []string{"--verbose", foundPhone.typed}, 2, "", "unknown flag: --verbose"},
		{"server down", []string{"--server", closed, foundPhone.typed}, 1, "", "connection refused"},
		{"only invalid, no server needed", []string{"--server", closed, "12"}, 1, "#1: invalid", "1 of 1 values is not a valid identifier"},
		{"after --, values only", []string{"--server", closed, "--", "--json"}, 1, "#1: invalid", "(#1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := c.run(append([]string{"check"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
		})
	}
	if strings.Contains(c.output.String(), foundPhone.typed) || strings.Contains(c.output.String(), asciiDigits(foundPhone.typed)) {
		t.Errorf("a value was echoed:\n%s", c.output.String())
	}
}

// runWithInput runs the binary with standard input (none if stdin is "").
func (c *cli) runWithInput(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir, cmd.Env = c.dir, c.env
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	c.output.Write(out.Bytes())
	c.output.Write(errb.Bytes())
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("khabardar %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// served is a running `khabardar serve`.
type served struct {
	base, keyID string
	metrics     string // the metrics listener's base URL
	cmd         *exec.Cmd
	logs        *bytes.Buffer
	done        chan error
}

// startServe starts `khabardar serve` with extra flags on a free loopback
// port and waits until it answers.
func startServe(t *testing.T, c *cli, flags ...string) *served {
	t.Helper()
	return startServeWith(t, c, nil, flags...)
}

// startServeWith is startServe run by wrapper, a command and its arguments
// such as prlimit's (nil: none). The metrics listener gets a free port of
// its own unless c.env sets KHABARDAR_METRICS_ADDR (flags override both):
// its fixed default would collide between tests running at once.
func startServeWith(t *testing.T, c *cli, wrapper []string, flags ...string) *served {
	t.Helper()
	var k struct {
		KeyID string `json:"key_id"`
	}
	if err := json.Unmarshal([]byte(c.ok("keys", "show", "--json")), &k); err != nil {
		t.Fatal(err)
	}
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	s := &served{base: "http://" + addr, metrics: "http://" + metricsAddr, keyID: k.KeyID, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	args := append(append(slices.Clip(wrapper), binPath, "serve", "--addr", addr), flags...)
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Dir, s.cmd.Env, s.cmd.Stderr = c.dir, slices.Clip(c.env), s.logs
	if !slices.ContainsFunc(c.env, func(kv string) bool { return strings.HasPrefix(kv, "KHABARDAR_METRICS_ADDR=") }) {
		s.cmd.Env = append(s.cmd.Env, "KHABARDAR_METRICS_ADDR="+metricsAddr)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		r, err := http.Get(s.base + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve exited: %v\n%s", err, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not answer /healthz in 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM, waits for the exit and returns the logs.
func (s *served) stop(t *testing.T) string {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	return s.logs.String()
}

// lyingServer is a Khabardar server that publishes another bucket_bits than
// the one it uses, as a compromised or coerced server would: a reverse proxy
// in front of a real serve that rewrites bucket_bits in /v1/config (unless
// bits is 0) and records the route of every request, as issue 11's logging
// proxy did.
type lyingServer struct {
	url  string
	bits int

	mu   sync.Mutex
	seen []string
}

func newLyingServer(t *testing.T, upstream string, bits int) *lyingServer {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	l := &lyingServer{bits: bits}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Del("Accept-Encoding") // a body this proxy can read and rewrite
		},
		ModifyResponse: func(resp *http.Response) error {
			if l.bits == 0 || resp.Request.URL.Path != "/v1/config" || resp.StatusCode != 200 {
				return nil
			}
			var cfg map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
				return err
			}
			resp.Body.Close()
			cfg["bucket_bits"] = l.bits
			b, _ := json.Marshal(cfg)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			resp.Header.Del("ETag")
			return nil
		},
	}
	bucket := regexp.MustCompile(`^/v1/buckets/[^/]*$`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.seen = append(l.seen, r.Method+" "+bucket.ReplaceAllString(r.URL.Path, "/v1/buckets/{prefix}"))
		l.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

// asked returns the routes asked since the last call, and forgets them.
func (l *lyingServer) asked() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := l.seen
	l.seen = nil
	return seen
}

// bucketBitsServers starts two real servers holding foundPhone and
// foundCNIC, one at 16 bucket bits and one at 20, and returns three views of
// them: the 16-bit one honestly, the 16-bit one claiming 32 bits, and the
// 20-bit one honestly.
func bucketBitsServers(t *testing.T) (c *cli, honest, lying, wide *lyingServer) {
	t.Helper()
	start := func(env ...string) *served {
		c := newCLI(t, "")
		c.env = append(c.env, env...)
		c.ok("listings", "add", c.write("one.yaml", checkListingOne))
		c.ingest("data-shop", c.write("one.csv", fmt.Sprintf("name,cnic,phone\nx,%s,%s\n", foundCNIC.typed, foundPhone.typed)))
		return startServe(t, c)
	}
	s16, s20 := start(), start("KHABARDAR_BUCKET_BITS=20")
	return newCLI(t, ""), newLyingServer(t, s16.base, 0), newLyingServer(t, s16.base, 32), newLyingServer(t, s20.base, 0)
}

var (
	askedAll     = []string{"GET /v1/config", "POST /v1/evaluate", "GET /v1/buckets/{prefix}", "GET /v1/listings"}
	askedConfig  = []string{"GET /v1/config"}
	askedNothing = []string(nil)
)

// TestCheckBucketBits: check refuses a server that asks for more bucket bits
// than its limit (16 unless --max-bucket-bits or KHABARDAR_MAX_BUCKET_BITS
// lowers it), in plain words, before anything but the config is asked;
// raising the limit takes --unsafe-max-bucket-bits and a warning.
func TestCheckBucketBits(t *testing.T) {
	c, honest, lying, wide := bucketBitsServers(t)
	refused := func(bits, max int) string {
		return fmt.Sprintf("asks for %d-bit bucket numbers, more than the %d this client", bits, max)
	}
	tests := []struct {
		name   string
		srv    *lyingServer
		args   []string
		env    string
		code   int
		stdout string
		stderr []string
		asked  []string
	}{
		{"16 bits", honest, []string{foundPhone.typed}, "", 0, "#1 (phone): FOUND", nil, askedAll},
		{"32 bits refused", lying, []string{foundPhone.typed}, "", 1, "",
			[]string{"khabardar check: refused: the server at " + lying.url + " " + refused(32, 16), "nothing was looked up",
				"at 32 bits the bucket number alone can single out the number checked", "--unsafe-max-bucket-bits 32 accepts it"}, askedConfig},
		{"32 bits refused, JSON", lying, []string{"--json", foundPhone.typed}, "", 1, "", []string{refused(32, 16)}, askedConfig},
		{"32 bits refused, from standard input", lying, []string{"-"}, "", 1, "", []string{refused(32, 16)}, askedConfig},
		{"20 bits refused", wide, []string{foundPhone.typed}, "", 1, "",
			[]string{refused(20, 16), "at 20 bits about 430 share one"}, askedConfig},
		{"lowered below the server's", honest, []string{"--max-bucket-bits", "12", foundPhone.typed}, "", 1, "",
			[]string{refused(16, 12) + " was told to accept", "At 12 bits about 110,000"}, askedConfig},
		{"lowered to 15", honest, []string{"--max-bucket-bits=15", foundPhone.typed}, "", 1, "", []string{refused(16, 15)}, askedConfig},
		{"lowered from the environment", honest, []string{foundPhone.typed}, "12", 1, "", []string{refused(16, 12)}, askedConfig},
		{"the flag wins over the environment", honest, []string{"--max-bucket-bits", "16", foundPhone.typed}, "12", 0, "#1 (phone): FOUND", nil, askedAll},
		{"raising takes the unsafe flag", wide, []string{"--max-bucket-bits", "20", foundPhone.typed}, "", 2, "",
			[]string{"--max-bucket-bits can only lower the limit of 16 bucket bits", "use --unsafe-max-bucket-bits 20"}, askedNothing},
		{"the environment cannot raise", wide, []string{foundPhone.typed}, "20", 2, "", []string{"KHABARDAR_MAX_BUCKET_BITS can only lower"}, askedNothing},
		{"the environment is a number", honest, []string{foundPhone.typed}, "many", 2, "", []string{`KHABARDAR_MAX_BUCKET_BITS="many" is not a whole number`}, askedNothing},
		{"raised on purpose, with a warning", wide, []string{"--unsafe-max-bucket-bits", "20", foundPhone.typed}, "", 0, "#1 (phone): FOUND",
			[]string{"khabardar check: warning: --unsafe-max-bucket-bits 20 accepts a server that asks for bucket numbers of up to 20 bits",
				"at 16 bits about 6,900 possible mobile numbers share one; at 20 bits, about 430"}, askedAll},
		{"raised, not far enough", lying, []string{"--unsafe-max-bucket-bits", "24", foundPhone.typed}, "", 1, "",
			[]string{"warning: --unsafe-max-bucket-bits 24", "at 24 bits, about 27", refused(32, 24)}, askedConfig},
		{"raised to 32, the warning says what it costs", honest, []string{"--unsafe-max-bucket-bits", "32", foundPhone.typed}, "", 0, "#1 (phone): FOUND",
			[]string{"at 32 bits, so few that the bucket number alone can single out the number checked"}, askedAll},
		{"both flags", honest, []string{"--max-bucket-bits", "12", "--unsafe-max-bucket-bits", "20", foundPhone.typed}, "", 2, "", []string{"are alternatives"}, askedNothing},
		{"below 4", honest, []string{"--max-bucket-bits", "3", foundPhone.typed}, "", 2, "", []string{"--max-bucket-bits must be from 4 to 16"}, askedNothing},
		{"unsafe above 32", honest, []string{"--unsafe-max-bucket-bits", "36", foundPhone.typed}, "", 2, "", []string{"must be from 4 to 32"}, askedNothing},
		{"several values: a note on linkage", honest, []string{foundPhone.typed, foundCNIC.typed}, "", 0, "#2 (cnic): FOUND",
			[]string{linkageNote}, []string{"GET /v1/config", "POST /v1/evaluate", "GET /v1/buckets/{prefix}", "GET /v1/buckets/{prefix}", "GET /v1/listings"}},
		{"several values refused, without the note", lying, []string{foundPhone.typed, foundCNIC.typed}, "", 1, "", []string{refused(32, 16)}, askedConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := c.env
			defer func() { c.env = saved }()
			if tt.env != "" {
				c.env = append(slices.Clip(c.env), "KHABARDAR_MAX_BUCKET_BITS="+tt.env)
			}
			tt.srv.asked()
			stdin := ""
			if slices.Contains(tt.args, "-") {
				stdin = foundPhone.typed + "\n"
			}
			out, errs, code := c.runWithInput(stdin, append([]string{"check", "--server", tt.srv.url}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if !slices.Contains(tt.stderr, linkageNote) && strings.Contains(errs, "note:") {
				t.Errorf("a note on linkage, for one value or nothing sent:\n%s", errs)
			}
			if got := tt.srv.asked(); !slices.Equal(got, tt.asked) {
				t.Errorf("the server was asked %q, want %q", got, tt.asked)
			}
		})
	}
	for _, s := range []sentinel{foundPhone, foundCNIC} {
		for form, needle := range s.forms() {
			if bytes.Contains(c.output.Bytes(), needle) {
				t.Errorf("the output holds the %s form of a value checked", form)
			}
		}
	}
}
