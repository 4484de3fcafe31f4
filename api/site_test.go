package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

// noise is incompressible: no coding saves bytes on it.
func noise(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(b)
	return b
}

var (
	testIndex = []byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Khabardar</title>` +
		`<link rel="stylesheet" href="/assets/app-3fa9c1d2.css"><script type="module" src="/assets/app-5XJQ3A2B.js"></script></head>` +
		`<body>` + strings.Repeat(`<p>Is my data being sold?</p>`, 40) + `</body></html>`)
	testStats = []byte(strings.Replace(string(testIndex), "Is my data being sold?", "Data for sale, in numbers", -1))
	testJS    = []byte(strings.Repeat(`export function check(value) { return fetch("/v1/config").then((r) => r.json()); }`+"\n", 30))
	testCSS   = []byte(strings.Repeat("body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 40rem; }\n", 30))
	testPNG   = noise(600)

	testSite = fstest.MapFS{
		"index.html":              {Data: testIndex},
		"assets/app-5XJQ3A2B.js":  {Data: testJS},
		"assets/app-3fa9c1d2.css": {Data: testCSS},
		"assets/app-settings.js":  {Data: testJS},
		"favicon.ico":             {Data: noise(300)},
		"logo.png":                {Data: testPNG},
		"icon.svg":                {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">` + strings.Repeat(`<circle cx="8" cy="8" r="7"/>`, 10) + `</svg>`)},
		"site.webmanifest":        {Data: []byte(`{"name":"Khabardar","short_name":"Khabardar","start_url":"/","display":"standalone","icons":[{"src":"/icon.svg","sizes":"any","type":"image/svg+xml"}]}`)},
		"robots.txt":              {Data: []byte("User-agent: *\nAllow: /\n")},
		"strings.json":            {Data: []byte(strings.Repeat(`{"found":"FOUND","absent":"not found"},`, 20))},
		"help/index.html":         {Data: testIndex},
		"stats.html":              {Data: testStats},
		".hidden.txt":             {Data: []byte("an editor's leftovers\n")},
		"notes.md":                {Data: []byte("# no content type\n")},
		"odd:name.js":             {Data: testJS},
	}
)

func newSiteEnv(t *testing.T, edit ...func(*Config, *ratelimit.Config)) *env {
	t.Helper()
	return newEnv(t, append([]func(*Config, *ratelimit.Config){func(c *Config, _ *ratelimit.Config) { c.Site = testSite }}, edit...)...)
}

// decode undoes a Content-Encoding.
func decode(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch encoding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		t.Fatalf("unexpected Content-Encoding %q", encoding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s body: %v", encoding, err)
	}
	return b
}

// TestSiteFiles fetches every kind of file in every coding and checks the
// body, its type, coding and caching headers.
func TestSiteFiles(t *testing.T) {
	e := newSiteEnv(t)
	const (
		doc    = "no-cache"
		hashed = "public, max-age=31536000, immutable"
		other  = "public, max-age=3600"
	)
	tests := []struct {
		name, path, accept string
		ctype, encoding    string
		cc                 string
		vary               bool
		body               []byte
	}{
		{"index, no Accept-Encoding", "/", "", "text/html; charset=utf-8", "", doc, true, testIndex},
		{"index, gzip", "/", "gzip", "text/html; charset=utf-8", "gzip", doc, true, testIndex},
		{"index, br", "/", "br", "text/html; charset=utf-8", "br", doc, true, testIndex},
		{"index, a browser's header", "/", "gzip, deflate, br, zstd", "text/html; charset=utf-8", "br", doc, true, testIndex},
		{"index, gzip preferred by weight", "/", "br;q=0.5, gzip", "text/html; charset=utf-8", "gzip", doc, true, testIndex},
		{"index, br excluded", "/", "br;q=0, gzip;q=0.1", "text/html; charset=utf-8", "gzip", doc, true, testIndex},
		{"index, all codings excluded", "/", "*;q=0", "text/html; charset=utf-8", "", doc, true, testIndex},
		{"index, identity preferred", "/", "identity, gzip;q=0.5", "text/html; charset=utf-8", "", doc, true, testIndex},
		{"another document", "/help/index.html", "br", "text/html; charset=utf-8", "br", doc, true, testIndex},
		{"a top page without .html", "/stats", "br", "text/html; charset=utf-8", "br", doc, true, testStats},
		{"hashed script, esbuild's hash", "/assets/app-5XJQ3A2B.js", "br, gzip", "text/javascript; charset=utf-8", "br", hashed, true, testJS},
		{"hashed stylesheet, hex hash", "/assets/app-3fa9c1d2.css", "gzip", "text/css; charset=utf-8", "gzip", hashed, true, testCSS},
		{"script without a hash", "/assets/app-settings.js", "br", "text/javascript; charset=utf-8", "br", other, true, testJS},
		{"incompressible image: identity only", "/logo.png", "br, gzip", "image/png", "", other, false, testPNG},
		{"icon", "/favicon.ico", "", "image/x-icon", "", other, false, testSite["favicon.ico"].Data},
		{"svg", "/icon.svg", "br", "image/svg+xml", "br", other, true, testSite["icon.svg"].Data},
		{"manifest", "/site.webmanifest", "gzip", "application/manifest+json", "gzip", other, true, testSite["site.webmanifest"].Data},
		{"json", "/strings.json", "br", "application/json", "br", other, true, testSite["strings.json"].Data},
		{"text, too short to compress", "/robots.txt", "br, gzip", "text/plain; charset=utf-8", "", other, false, testSite["robots.txt"].Data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(tt.path, "Accept-Encoding", tt.accept)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			h := r.header
			if h.Get("Content-Type") != tt.ctype || h.Get("Content-Encoding") != tt.encoding || h.Get("Cache-Control") != tt.cc {
				t.Errorf("Content-Type %q, Content-Encoding %q, Cache-Control %q; want %q, %q, %q",
					h.Get("Content-Type"), h.Get("Content-Encoding"), h.Get("Cache-Control"), tt.ctype, tt.encoding, tt.cc)
			}
			if got := h.Get("Vary") == "Accept-Encoding"; got != tt.vary {
				t.Errorf("Vary %q, want Accept-Encoding: %v", h.Get("Vary"), tt.vary)
			}
			if !bytes.Equal(decode(t, tt.encoding, r.body), tt.body) {
				t.Error("the decoded body is not the file")
			}
			if tt.encoding != "" && len(r.body) >= len(tt.body) {
				t.Errorf("%s body of %d bytes for a file of %d", tt.encoding, len(r.body), len(tt.body))
			}
			if n, _ := strconv.Atoi(h.Get("Content-Length")); n != len(r.body) {
				t.Errorf("Content-Length %q for %d bytes", h.Get("Content-Length"), len(r.body))
			}
			etag := h.Get("ETag")
			if !strings.HasPrefix(etag, `"`) || len(etag) < 18 {
				t.Errorf("ETag %q is not strong", etag)
			}
		})
	}
}

// TestSiteHeaders: site responses carry the site's CSP and the API's other
// security headers, no cookie and no rate-limit headers, in every coding and
// on 304s; API responses keep the API's policy.
func TestSiteHeaders(t *testing.T) {
	e := newSiteEnv(t, func(_ *Config, rc *ratelimit.Config) {
		rc.Evaluate, rc.Bucket, rc.Listing = "1-H", "1-H", "1-H"
	})
	etag := e.get("/", "Accept-Encoding", "gzip").header.Get("ETag")
	tests := []struct {
		name   string
		path   string
		header []string
		status int
	}{
		{"index", "/", nil, 200},
		{"index, br", "/", []string{"Accept-Encoding", "br"}, 200},
		{"index, 304", "/", []string{"Accept-Encoding", "gzip", "If-None-Match", etag}, 304},
		{"asset", "/assets/app-5XJQ3A2B.js", []string{"Accept-Encoding", "gzip"}, 200},
		{"image", "/logo.png", nil, 200},
	}
	want := map[string]string{
		"Content-Security-Policy":      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; manifest-src 'self'",
		"Referrer-Policy":              "no-referrer",
		"X-Content-Type-Options":       "nosniff",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Permissions-Policy":           apiHeader(t, "Permissions-Policy"),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 { // over every rate limit: the site has none
				r := e.get(tt.path, tt.header...)
				if r.status != tt.status {
					t.Fatalf("%d, want %d", r.status, tt.status)
				}
				for k, v := range want {
					if got := r.header.Values(k); len(got) != 1 || got[0] != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
				for _, k := range []string{"Set-Cookie", "X-RateLimit-Limit", "Retry-After"} {
					if v := r.header.Get(k); v != "" {
						t.Errorf("%s: %q", k, v)
					}
				}
			}
		})
	}
	if r := e.get("/v1/config"); r.header.Get("Content-Security-Policy") == want["Content-Security-Policy"] {
		t.Error("the API answers with the site's CSP")
	}
}

// apiHeader is the value securityHeaders sets for name.
func apiHeader(t *testing.T, name string) string {
	for _, kv := range securityHeaderList {
		if string(kv[0]) == name {
			return string(kv[1])
		}
	}
	t.Fatalf("securityHeaders sets no %s", name)
	return ""
}

// TestSiteConditional: If-None-Match names a representation, so a cache
// holding the gzip body revalidates it and a br request does not match it.
func TestSiteConditional(t *testing.T) {
	e := newSiteEnv(t)
	etags := map[string]string{}
	for _, enc := range []string{"", "gzip", "br"} {
		etags[enc] = e.get("/assets/app-5XJQ3A2B.js", "Accept-Encoding", enc).header.Get("ETag")
	}
	if etags[""] == etags["gzip"] || etags["gzip"] == etags["br"] || etags[""] == etags["br"] {
		t.Fatalf("representations share an ETag: %v", etags)
	}
	tests := []struct {
		name, accept, inm string
		status            int
	}{
		{"gzip, its ETag", "gzip", etags["gzip"], 304},
		{"br, its ETag", "br", etags["br"], 304},
		{"identity, its ETag", "", etags[""], 304},
		{"weak form", "br", "W/" + etags["br"], 304},
		{"in a list", "br", `"stale", ` + etags["br"], 304},
		{"any", "gzip", "*", 304},
		{"br, the gzip ETag", "br", etags["gzip"], 200},
		{"gzip, the identity ETag", "gzip", etags[""], 200},
		{"stale", "br", `"stale"`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get("/assets/app-5XJQ3A2B.js", "Accept-Encoding", tt.accept, "If-None-Match", tt.inm)
			if r.status != tt.status {
				t.Fatalf("%d, want %d", r.status, tt.status)
			}
			if tt.status == 304 {
				if len(r.body) != 0 || r.header.Get("Cache-Control") == "" || r.header.Get("Vary") != "Accept-Encoding" || r.header.Get("Content-Encoding") != "" {
					t.Errorf("304 with %d bytes, Cache-Control %q, Vary %q, Content-Encoding %q",
						len(r.body), r.header.Get("Cache-Control"), r.header.Get("Vary"), r.header.Get("Content-Encoding"))
				}
				if enc := tt.accept; r.header.Get("ETag") != etags[enc] {
					t.Errorf("304 with ETag %q, want %q", r.header.Get("ETag"), etags[enc])
				}
			}
		})
	}
	// Another replica (or a restart) serves the same ETags.
	other := newSiteEnv(t)
	for enc, etag := range etags {
		if got := other.get("/assets/app-5XJQ3A2B.js", "Accept-Encoding", enc).header.Get("ETag"); got != etag {
			t.Errorf("%q: a second server answers ETag %s, the first %s", enc, got, etag)
		}
	}
}

// TestSiteHead: HEAD is GET without the body.
func TestSiteHead(t *testing.T) {
	e := newSiteEnv(t)
	for _, enc := range []string{"", "gzip", "br"} {
		t.Run("coding "+enc, func(t *testing.T) {
			get := e.get("/", "Accept-Encoding", enc)
			req := httptest.NewRequest(http.MethodHead, "/", nil)
			req.Header.Set("Accept-Encoding", enc)
			head := e.do(req)
			if head.status != 200 || len(head.body) != 0 {
				t.Fatalf("HEAD: %d with %d bytes", head.status, len(head.body))
			}
			for _, k := range []string{"Content-Type", "Content-Encoding", "Content-Length", "ETag", "Cache-Control", "Vary", "Content-Security-Policy"} {
				if head.header.Get(k) != get.header.Get(k) {
					t.Errorf("%s: HEAD %q, GET %q", k, head.header.Get(k), get.header.Get(k))
				}
			}
		})
	}
}

// TestSiteNotFound: only the site's files are routes; anything else gets
// the API's JSON errors, and files the site cannot serve are named in a
// warning.
func TestSiteNotFound(t *testing.T) {
	e := newSiteEnv(t)
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown file", "GET", "/nothing.js", 404, khabardar.ENOTFOUND},
		{"index by name", "GET", "/index.html", 404, khabardar.ENOTFOUND},
		{"a top page by name", "GET", "/stats.html", 404, khabardar.ENOTFOUND},
		{"a top page with a slash", "GET", "/stats/", 404, khabardar.ENOTFOUND},
		{"a deeper page without .html", "GET", "/help/index", 404, khabardar.ENOTFOUND},
		{"a directory", "GET", "/assets/", 404, khabardar.ENOTFOUND},
		{"a directory without slash", "GET", "/assets", 404, khabardar.ENOTFOUND},
		{"case differs", "GET", "/ASSETS/app-5XJQ3A2B.js", 404, khabardar.ENOTFOUND},
		{"trailing slash", "GET", "/robots.txt/", 404, khabardar.ENOTFOUND},
		{"dot file", "GET", "/.hidden.txt", 404, khabardar.ENOTFOUND},
		{"no content type", "GET", "/notes.md", 404, khabardar.ENOTFOUND},
		{"name fiber would parse", "GET", "/odd:name.js", 404, khabardar.ENOTFOUND},
		{"an API path under v2", "GET", "/v2/nothing", 404, khabardar.ENOTFOUND},
		{"POST to the index", "POST", "/", 405, wire.CodeMethodNotAllowed},
		{"PUT to an asset", "PUT", "/assets/app-5XJQ3A2B.js", 405, wire.CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(httptest.NewRequest(tt.method, tt.path, nil))
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if csp := r.header.Get("Content-Security-Policy"); csp == siteCSP {
				t.Error("an error answers with the site's CSP")
			}
		})
	}
	logs := e.logs.String()
	for _, name := range []string{"notes.md", "odd:name.js"} {
		if !strings.Contains(logs, `"file":"`+name+`"`) {
			t.Errorf("no warning names %s:\n%s", name, logs)
		}
	}
	if strings.Contains(logs, ".hidden.txt") {
		t.Error("a dot file was reported: it is skipped silently")
	}

	// Without a site, / is just an unknown path.
	bare := newEnv(t)
	if r := bare.get("/"); r.status != 404 || r.code() != khabardar.ENOTFOUND {
		t.Fatalf("no site: GET / %d %s", r.status, r.body)
	}
}

// TestSiteLogs: requests for the site are logged and counted under their
// route, the index as "/", never as unmatched.
func TestSiteLogs(t *testing.T) {
	e := newSiteEnv(t)
	e.logs.Reset()
	e.get("/")
	e.get("/assets/app-5XJQ3A2B.js")
	e.get("/nothing")
	logs := e.logs.String()
	for _, want := range []string{`"route":"/","status":200`, `"route":"/assets/app-5XJQ3A2B.js","status":200`, `"route":"unmatched","status":404`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	metrics := e.scrape()
	if !strings.Contains(metrics, `khabardar_http_requests_total{method="GET",route="/",status="200"} 1`) {
		t.Error("/metrics does not count the index under route /")
	}
}

// TestSiteRoute: where each kind of file name is served.
func TestSiteRoute(t *testing.T) {
	tests := []struct{ name, file, route string }{
		{"index", "index.html", "/"},
		{"a top page", "stats.html", "/stats"},
		{"a page in a directory", "help/index.html", "/help/index.html"},
		{"an asset", "assets/app-5XJQ3A2B.js", "/assets/app-5XJQ3A2B.js"},
		{"a top file that is not a page", "favicon.svg", "/favicon.svg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := siteRoute(tt.file); got != tt.route {
				t.Errorf("siteRoute(%q) = %q, want %q", tt.file, got, tt.route)
			}
		})
	}
}

// TestNegotiate covers Accept-Encoding parsing and the choice among the
// codings a file has.
func TestNegotiate(t *testing.T) {
	all := [numCodings]bool{true, true, true}
	noBr := [numCodings]bool{true, true, false}
	plain := [numCodings]bool{true, false, false}
	tests := []struct {
		name   string
		header string
		have   [numCodings]bool
		want   coding
	}{
		{"no header", "", all, codingIdentity},
		{"gzip", "gzip", all, codingGzip},
		{"br", "br", all, codingBr},
		{"br wins a tie", "gzip, br", all, codingBr},
		{"gzip wins a tie with identity", "identity, gzip", all, codingGzip},
		{"case-insensitive", "GZIP, Br", all, codingBr},
		{"x-gzip", "x-gzip", all, codingGzip},
		{"weights", "br;q=0.8, gzip;q=0.9", all, codingGzip},
		{"three decimals", "br;q=0.501, gzip;q=0.5", all, codingBr},
		{"q=1.000", "br;q=1.000, gzip;q=0.999", all, codingBr},
		{"q=0 excludes", "br;q=0, gzip", all, codingGzip},
		{"q=0.000 excludes", "br;q=0.000", all, codingIdentity},
		{"all excluded", "br;q=0, gzip;q=0", all, codingIdentity},
		{"identity excluded too: identity anyway", "identity;q=0, *;q=0", all, codingIdentity},
		{"star", "*", all, codingBr},
		{"star excluded", "*;q=0", all, codingIdentity},
		{"star with an exception", "*;q=0, gzip", all, codingGzip},
		{"named beats star", "*;q=0.1, gzip;q=0.5", all, codingGzip},
		{"identity preferred", "identity;q=1, br;q=0.5", all, codingIdentity},
		{"file without br", "br, gzip;q=0.5", noBr, codingGzip},
		{"file without br, only br accepted", "br", noBr, codingIdentity},
		{"incompressible file", "br, gzip", plain, codingIdentity},
		{"unknown coding", "deflate, zstd", all, codingIdentity},
		{"spaces", "  br ;  q=0.2 ,gzip ; q=0.1  ", all, codingBr},
		{"other parameters", "br;level=5;q=0.2, gzip;q=0.1", all, codingBr},
		{"Q upper case", "br;Q=0, gzip", all, codingGzip},
		{"malformed weight ignored: too many decimals", "br;q=0.0001, gzip;q=0.1", all, codingGzip},
		{"malformed weight ignored: over 1", "br;q=1.5, gzip;q=0.1", all, codingGzip},
		{"malformed weight ignored: empty", "br;q=, gzip;q=0.1", all, codingGzip},
		{"malformed weight ignored: sign", "br;q=-1, gzip;q=0.1", all, codingGzip},
		{"malformed coding ignored", "b r, gzip;q=0.1", all, codingGzip},
		{"empty elements", ",, ,gzip,,", all, codingGzip},
		{"the last of duplicates", "br;q=0, br", all, codingBr},
		{"only commas", ",,,", all, codingIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := negotiate([]byte(tt.header), tt.have); got != tt.want {
				t.Errorf("negotiate(%q) = %s, want %s", tt.header, contentEncoding[got], contentEncoding[tt.want])
			}
		})
	}
}

// FuzzAcceptEncoding: the parser never panics, reports only tokens with
// weights from 0 to 1000, and negotiate picks a coding the file has and the
// header accepts.
func FuzzAcceptEncoding(f *testing.F) {
	haves := [][numCodings]bool{{true, true, true}, {true, true, false}, {true, false, true}, {true, false, false}}
	f.Fuzz(func(t *testing.T, header string, haveIndex uint8) {
		named := map[string]int{}
		eachCoding([]byte(header), func(name []byte, weight int) {
			if !isToken(name) || !strings.Contains(header, string(name)) {
				t.Fatalf("coding %q is not a token of the header", name)
			}
			if weight < 0 || weight > 1000 {
				t.Fatalf("coding %q with weight %d", name, weight)
			}
			c := strings.ToLower(string(name))
			if c == "x-gzip" {
				c = "gzip"
			}
			named[c] = weight // the last of duplicates, as negotiate
		})
		have := haves[int(haveIndex)%len(haves)]
		got := negotiate([]byte(header), have)
		if got >= numCodings || !have[got] {
			t.Fatalf("negotiate chose %d, which the file lacks", got)
		}
		if got == codingIdentity {
			return
		}
		weight, ok := named[contentEncoding[got]]
		if !ok {
			weight, ok = named["*"]
		}
		if !ok || weight == 0 {
			t.Fatalf("negotiate chose %s, which %q does not accept", contentEncoding[got], header)
		}
	})
}
