package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
)

// The citizen website (Config.Site) is a handful of static files, read and
// compressed once in New and served from memory at exact routes (siteRoute:
// top pages without ".html"): no catch-all, so an unknown path still gets
// the API's JSON 404. Site routes are neither rate-limited nor per-caller:
// the same bytes for everyone, made to be cached by a CDN.

// siteCSP replaces the API's policy on site responses (securityHeaders sets
// the others): the page runs its own script and stylesheet, talks only to
// this origin, and may not be framed.
const siteCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; manifest-src 'self'"

// Cache-Control of site files. A document names its assets, so a browser
// must revalidate it on every visit (a 304 when unchanged); an asset whose
// name carries its content's hash never changes under that name.
const (
	siteDocumentCC = "no-cache"
	siteHashedCC   = "public, max-age=31536000, immutable"
	siteOtherCC    = "public, max-age=3600"
)

// siteTypes maps the extensions the site may hold to their Content-Type.
// A file of another extension is not served: nosniff would leave a browser
// guessing at an octet stream.
var siteTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".json":        "application/json",
	".map":         "application/json", // esbuild's source maps
	".png":         "image/png",
	".ico":         "image/x-icon",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
	".woff2":       "font/woff2",
}

// hashedName matches a bundler's content-hashed file name, "app-5XJQ3A2B.js"
// (esbuild's upper-case base32) or "app-3fa9c1d2.js" (lower-case hex): a
// word such as "app-settings.js" is neither.
var hashedName = regexp.MustCompile(`-(?:[A-Z0-9]{8,}|[a-f0-9]{8,})(?:\.[A-Za-z0-9]+)+$`)

// routableName accepts path segments fiber matches literally: its route
// syntax gives ':', '*', '+' and '?' meanings, and a name outside this set
// would have to be requested percent-encoded.
var routableName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)

// coding is a content coding the site keeps precompressed bodies in.
type coding uint8

const (
	codingIdentity coding = iota
	codingGzip
	codingBr
	numCodings
)

// contentEncoding is each coding's Content-Encoding value.
var contentEncoding = [numCodings]string{codingIdentity: "", codingGzip: "gzip", codingBr: "br"}

// siteFile is one file of the site in every coding that saves bytes.
type siteFile struct {
	contentType, cacheControl string
	reps                      [numCodings]*siteRep // reps[codingIdentity] always set
	have                      [numCodings]bool
	vary                      bool // more than one representation
}

// siteRep is one representation: its bytes and strong ETag.
type siteRep struct {
	body []byte
	etag string
}

// mountSite reads cfg.Site and routes each of its files. A file it cannot
// read or serve is left out with a warning naming it (the name is the
// site's, never a request's).
func (s *Server) mountSite() {
	if s.cfg.Site == nil {
		return
	}
	var files, plain, served int
	err := fs.WalkDir(s.cfg.Site, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			s.log.Warn("site: cannot read", "file", name, "err", err.Error())
			return nil
		}
		if name == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") { // .DS_Store, an editor's swap file, .git
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		f, why := s.loadSiteFile(name)
		if f == nil {
			s.log.Warn("site: file not served", "file", name, "reason", why)
			return nil
		}
		s.app.Get(siteRoute(name), f.serve) // GET and HEAD
		files++
		plain += len(f.reps[codingIdentity].body)
		served += f.smallest()
		return nil
	})
	if err != nil {
		s.log.Warn("site: cannot list", "err", err.Error())
	}
	s.log.Info("site loaded", "files", files, "bytes", plain, "smallest_bytes", served)
}

// siteRoute is the path a site file is served at: its name, except that a
// page at the top (index.html, stats.html) is served without ".html", index
// at /, so that the addresses people type and share are /, /stats. One
// route per file: a second spelling of a page would split caches.
func siteRoute(name string) string {
	switch {
	case name == "index.html":
		return "/"
	case !strings.Contains(name, "/") && path.Ext(name) == ".html":
		return "/" + strings.TrimSuffix(name, ".html")
	}
	return "/" + name
}

// loadSiteFile reads and precompresses one file, or says why it cannot be
// served.
func (s *Server) loadSiteFile(name string) (*siteFile, string) {
	if !routableName.MatchString(name) {
		return nil, "the name has characters outside A-Z a-z 0-9 . _ -"
	}
	ctype, ok := siteTypes[path.Ext(name)]
	if !ok {
		return nil, "no content type for its extension"
	}
	body, err := fs.ReadFile(s.cfg.Site, name)
	if err != nil {
		return nil, err.Error()
	}
	f := &siteFile{contentType: ctype, cacheControl: siteOtherCC}
	switch {
	case path.Ext(name) == ".html":
		f.cacheControl = siteDocumentCC
	case strings.HasPrefix(name, "assets/") && hashedName.MatchString(path.Base(name)):
		f.cacheControl = siteHashedCC
	}
	f.add(codingIdentity, body)
	f.add(codingGzip, gzipBest(body))
	f.add(codingBr, brotliBest(body))
	return f, ""
}

// add keeps a compressed body only if it is smaller than the plain one.
func (f *siteFile) add(c coding, body []byte) {
	if c != codingIdentity && len(body) >= len(f.reps[codingIdentity].body) {
		return
	}
	sum := sha256.Sum256(body)
	f.reps[c] = &siteRep{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	f.have[c] = true
	f.vary = f.vary || c != codingIdentity
}

func (f *siteFile) smallest() int {
	n := len(f.reps[codingIdentity].body)
	for _, r := range f.reps {
		if r != nil {
			n = min(n, len(r.body))
		}
	}
	return n
}

func gzipBest(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level never fails
	w.Write(b)                                              // a bytes.Buffer never fails
	w.Close()
	return buf.Bytes()
}

func brotliBest(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// serve answers GET and HEAD with the representation Accept-Encoding
// prefers, or 304 when If-None-Match names it.
func (f *siteFile) serve(c *fiber.Ctx) error {
	cd := negotiate(c.Request().Header.Peek(fiber.HeaderAcceptEncoding), f.have)
	rep := f.reps[cd]
	h := &c.Response().Header
	h.Set(fiber.HeaderContentSecurityPolicy, siteCSP)
	h.Set(fiber.HeaderCrossOriginResourcePolicy, "same-origin")
	h.Set(fiber.HeaderCacheControl, f.cacheControl)
	h.Set(fiber.HeaderETag, rep.etag)
	if f.vary {
		h.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	}
	if etagMatches(c.Request().Header.Peek(fiber.HeaderIfNoneMatch), rep.etag) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	h.Set(fiber.HeaderContentType, f.contentType)
	if cd != codingIdentity {
		h.Set(fiber.HeaderContentEncoding, contentEncoding[cd])
	}
	c.Response().SetBodyRaw(rep.body) // shared and never modified: no copy per request
	return nil
}

// negotiate picks the coding of the response from an Accept-Encoding header
// (RFC 9110 §12.5.3) among the codings a file has: the highest weight wins,
// ties go to br, then gzip, then identity, and a weight of 0 excludes. A
// coding not named takes the weight of "*" if given; identity not named is
// acceptable but preferred least. If nothing acceptable is available the
// answer is identity, as the RFC advises, rather than a 406. A missing or
// empty header means identity.
func negotiate(header []byte, have [numCodings]bool) coding {
	q := [numCodings]int{-1, -1, -1} // thousandths; -1: not named
	star := -1
	eachCoding(header, func(name []byte, weight int) {
		switch {
		case bytes.EqualFold(name, []byte("br")):
			q[codingBr] = weight
		case bytes.EqualFold(name, []byte("gzip")), bytes.EqualFold(name, []byte("x-gzip")):
			q[codingGzip] = weight
		case bytes.EqualFold(name, []byte("identity")):
			q[codingIdentity] = weight
		case string(name) == "*":
			star = weight
		}
	})
	for c := range q {
		if q[c] < 0 {
			q[c] = max(star, 0)
		}
	}
	best := codingIdentity
	for _, c := range [...]coding{codingGzip, codingBr} { // later wins ties
		if have[c] && q[c] > 0 && q[c] >= q[best] {
			best = c
		}
	}
	return best
}

// eachCoding calls fn with each well-formed element of an Accept-Encoding
// header: its coding as sent and its weight in thousandths (1000 when no
// "q" parameter). Elements with a malformed coding or weight are skipped,
// as if not sent.
func eachCoding(header []byte, fn func(name []byte, weight int)) {
	for len(header) > 0 {
		var el []byte
		if i := bytes.IndexByte(header, ','); i >= 0 {
			el, header = header[:i], header[i+1:]
		} else {
			el, header = header, nil
		}
		name, params, _ := bytes.Cut(el, []byte(";"))
		name = trimOWS(name)
		if !isToken(name) {
			continue
		}
		weight, ok := 1000, true
		for len(params) > 0 && ok {
			var p []byte
			p, params, _ = bytes.Cut(params, []byte(";"))
			k, v, _ := bytes.Cut(p, []byte("="))
			if bytes.EqualFold(trimOWS(k), []byte("q")) {
				weight, ok = parseQ(trimOWS(v))
			}
		}
		if ok {
			fn(name, weight)
		}
	}
}

// parseQ parses an RFC 9110 qvalue, "0" to "1" with up to three decimals,
// into thousandths.
func parseQ(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 5 || v[0] != '0' && v[0] != '1' {
		return 0, false
	}
	n := int(v[0]-'0') * 1000
	if len(v) == 1 {
		return n, true
	}
	if v[1] != '.' {
		return 0, false
	}
	scale := 100
	for _, d := range v[2:] {
		if d < '0' || d > '9' || v[0] == '1' && d != '0' {
			return 0, false
		}
		n += int(d-'0') * scale
		scale /= 10
	}
	return n, true
}

func trimOWS(b []byte) []byte { return bytes.Trim(b, " \t") }

// isToken reports whether b is an RFC 9110 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
