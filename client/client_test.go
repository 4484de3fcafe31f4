package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/client"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/wire"
)

// The identifiers the fake server's store holds, and where.
var (
	storedCNIC  = "35202-1234567-1"
	storedPhone = "0300-1234567"
	storedIMEI  = "352099001761481"
	stored      = map[string][]string{storedCNIC: {"leak-a", "leak-b"}, storedPhone: {"leak-a"}, storedIMEI: {"leak-b"}}

	absentCNIC  = "42101-1111111-1"
	absentPhone = "0321-7654321"
	absentIMEI  = "49015420323751"
)

// fake is a Khabardar server built on hashing.Key directly: it publishes a
// key, evaluates, serves buckets padded with dummy entries and the catalogue,
// and records every request.
type fake struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	key      *hashing.Key // published in /v1/config
	evalKey  *hashing.Key // evaluates; key unless a test swaps it
	layout   khabardar.Layout
	bits     int // the bucket bits of the layout rotate makes
	maxBatch int
	exposed  map[identifier.ID][]string
	buckets  map[string][]khabardar.Entry
	listings []khabardar.Listing
	cat      *khabardar.Catalogue        // sent beside the listings when set, as a current server does
	fail     map[string]http.HandlerFunc // by route pattern: answers instead of the real handler
	reqs     []request
	batches  []int
}

type request struct {
	method, uri string
	header      http.Header
	body        []byte
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, bits: 16, maxBatch: 16, exposed: map[identifier.ID][]string{}, fail: map[string]http.HandlerFunc{}}
	for raw, ls := range stored {
		f.exposed[mustParse(t, raw)] = ls
	}
	for _, id := range []string{"leak-a", "leak-b", "leak-c"} {
		f.listings = append(f.listings, listing(id))
	}
	f.rotate()
	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			f.mu.Lock()
			f.reqs = append(f.reqs, request{r.Method, r.RequestURI, r.Header.Clone(), body})
			fail := f.fail[pattern]
			f.mu.Unlock()
			if fail != nil {
				fail(w, r)
				return
			}
			h(w, r)
		})
	}
	handle("GET /v1/config", f.config)
	handle("POST /v1/evaluate", f.evaluate)
	handle("GET /v1/buckets/{prefix}", f.bucket)
	handle("GET /v1/listings", f.catalogue)
	handle("GET /v1/listings/{id}", f.catalogue) // must never be asked: see TestRequestsCarryNoIdentifier
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func listing(id string) khabardar.Listing {
	return khabardar.Listing{
		ID: id, Title: "Listing " + id, Source: khabardar.Source{Kind: "whatsapp"},
		FirstSeen: date("2025-01-02"), Status: "active",
		Categories: []khabardar.Category{{Category: "location", PricePKR: 500}, {Category: "cdr", PricePKR: 3500}},
	}
}

func date(s string) khabardar.Date {
	var d khabardar.Date
	if err := d.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return d
}

// rotate makes a new key and re-ingests every exposure under it.
func (f *fake) rotate() {
	f.t.Helper()
	key, err := hashing.GenerateKey()
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.key, f.evalKey = key, key
	f.layout = khabardar.Layout{KeyID: key.ID(), BucketBits: f.bits, SuffixBytes: 8}
	f.buckets = map[string][]khabardar.Entry{}
	for id, ls := range f.exposed {
		e, err := key.Exposure(id, f.layout)
		if err != nil {
			f.t.Fatal(err)
		}
		f.buckets[e.Prefix] = append(f.buckets[e.Prefix], khabardar.Entry{Suffix: e.Suffix, Listings: ls})
	}
}

// setBits re-ingests every exposure under a layout of bits bucket bits.
func (f *fake) setBits(bits int) {
	f.set(func() { f.bits = bits })
	f.rotate()
}

func (f *fake) url() string { return f.srv.URL }

func (f *fake) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// count counts recorded requests whose "METHOD URI" matches re.
func (f *fake) count(re string) int {
	n := 0
	for _, r := range f.requests() {
		if regexp.MustCompile(re).MatchString(r.method + " " + r.uri) {
			n++
		}
	}
	return n
}

// set changes the fake's state under its lock: handlers run on other goroutines.
func (f *fake) set(change func()) {
	f.mu.Lock()
	change()
	f.mu.Unlock()
}

func (f *fake) evalBatches() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batches)
}

func (f *fake) setFail(pattern string, h http.HandlerFunc) {
	f.mu.Lock()
	f.fail[pattern] = h
	f.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (f *fake) config(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, 200, map[string]any{
		"suite": hashing.Suite, "mode": "voprf", "key_id": f.key.ID(),
		"public_key": b64(f.key.PublicKey()), "fingerprint": f.key.Fingerprint(),
		"bucket_bits": f.layout.BucketBits, "suffix_bytes": f.layout.SuffixBytes, "max_batch": f.maxBatch,
	})
}

func (f *fake) evaluate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		KeyID   string   `json:"key_id"`
		Blinded []string `json:"blinded"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiErr(w, 400, "invalid", "not JSON")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.KeyID != f.key.ID() {
		apiErr(w, 409, "key_rotated", "the key has changed; fetch /v1/config again")
		return
	}
	if len(req.Blinded) > f.maxBatch {
		apiErr(w, 400, "invalid", "too many elements")
		return
	}
	f.batches = append(f.batches, len(req.Blinded))
	blinded := make([][]byte, len(req.Blinded))
	for i, s := range req.Blinded {
		var err error
		if blinded[i], err = base64.RawURLEncoding.DecodeString(s); err != nil {
			apiErr(w, 400, "invalid", "not base64url")
			return
		}
	}
	ev, proof, err := f.evalKey.Evaluate(blinded)
	if err != nil {
		apiErr(w, 400, "invalid", "bad element")
		return
	}
	out := make([]string, len(ev))
	for i, e := range ev {
		out[i] = b64(e)
	}
	writeJSON(w, 200, map[string]any{"key_id": f.key.ID(), "evaluated": out, "proof": b64(proof)})
}

func (f *fake) bucket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.PathValue("prefix")
	if !f.layout.ValidPrefix(p) {
		apiErr(w, 400, "invalid", "bad prefix")
		return
	}
	type entry struct {
		Suffix   string   `json:"suffix"`
		Listings []string `json:"listings"`
	}
	entries := []entry{}
	for _, e := range f.buckets[p] {
		entries = append(entries, entry{hex.EncodeToString(e.Suffix), e.Listings})
	}
	// Padding, as the real server pads, and a decoy of another listing.
	for i := range 4 {
		s := make([]byte, f.layout.SuffixBytes)
		rand.Read(s)
		ls := []string{}
		if i == 0 {
			ls = []string{"leak-c"}
		}
		entries = append(entries, entry{hex.EncodeToString(s), ls})
	}
	writeJSON(w, 200, map[string]any{"key_id": f.key.ID(), "prefix": p, "entries": entries})
}

func (f *fake) catalogue(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body := map[string]any{"listings": f.listings}
	if f.cat != nil {
		body["catalogue"] = f.cat
	}
	writeJSON(w, 200, body)
}

func mustParse(t *testing.T, raw string) identifier.ID {
	t.Helper()
	id, err := identifier.Parse(identifier.Unknown, identifier.Raw(raw))
	if err != nil {
		t.Fatalf("parse test identifier: %v", err)
	}
	return id
}

func newClient(t *testing.T, f *fake, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(f.url(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ids(t *testing.T, raws ...string) []identifier.ID {
	out := make([]identifier.ID, len(raws))
	for i, r := range raws {
		out[i] = mustParse(t, r)
	}
	return out
}

func listingIDs(r client.Result) []string {
	var out []string
	for _, l := range r.Listings {
		out = append(out, l.ID)
	}
	return out
}

func TestCheckFoundAndAbsent(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	tests := []struct {
		name, raw string
		kind      identifier.Kind
		listings  []string // nil: not found
	}{
		{"cnic found", storedCNIC, identifier.CNIC, []string{"leak-a", "leak-b"}},
		{"cnic found, digits only", "3520212345671", identifier.CNIC, []string{"leak-a", "leak-b"}},
		{"cnic absent", absentCNIC, identifier.CNIC, nil},
		{"phone found", storedPhone, identifier.Phone, []string{"leak-a"}},
		{"phone found, international", "+92 300 1234567", identifier.Phone, []string{"leak-a"}},
		{"phone absent", absentPhone, identifier.Phone, nil},
		{"imei found", storedIMEI, identifier.IMEI, []string{"leak-b"}},
		{"imei found, as an IMEISV", "35209900176148" + "07", identifier.IMEI, []string{"leak-b"}},
		{"imei absent", absentIMEI, identifier.IMEI, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Check(context.Background(), ids(t, tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			if len(res) != 1 || r.Kind != tt.kind || r.Found != (tt.listings != nil) || !slices.Equal(listingIDs(r), tt.listings) {
				t.Fatalf("got %+v, want kind %v, listings %v", res, tt.kind, tt.listings)
			}
			if r.Found && (r.Listings[0].Title == "" || len(r.Listings[0].Categories) != 2 || r.Listings[0].FirstSeen.String() != "2025-01-02") {
				t.Fatalf("listing details lost: %+v", r.Listings[0])
			}
		})
	}

	t.Run("all at once, index-aligned", func(t *testing.T) {
		var raws []string
		for _, tt := range tests {
			raws = append(raws, tt.raw)
		}
		before := len(f.requests())
		res, err := c.Check(context.Background(), ids(t, raws...))
		if err != nil {
			t.Fatal(err)
		}
		for i, tt := range tests {
			if res[i].Kind != tt.kind || !slices.Equal(listingIDs(res[i]), tt.listings) {
				t.Errorf("result %d (%s): %+v", i, tt.name, res[i])
			}
		}
		// 9 inputs, 6 distinct identifiers: one evaluation, ≤ 6 buckets, the catalogue.
		reqs := f.requests()[before:]
		if b := f.evalBatches(); b[len(b)-1] != 6 {
			t.Errorf("evaluated %v elements, want the 6 distinct identifiers", b)
		}
		var buckets []string
		for _, r := range reqs {
			if strings.HasPrefix(r.uri, "/v1/buckets/") {
				buckets = append(buckets, r.uri)
			}
		}
		if len(buckets) == 0 || len(buckets) > 6 || len(slices.Compact(slices.Sorted(slices.Values(buckets)))) != len(buckets) {
			t.Errorf("bucket requests %v: want each distinct bucket once", buckets)
		}
		if len(reqs) != 1+len(buckets)+1 {
			t.Errorf("%d requests, want one evaluation, %d buckets and the catalogue (config cached)", len(reqs), len(buckets))
		}
	})
}

// TestRequestsCarryNoIdentifier checks, for found and absent identifiers of
// every kind, that nothing sent holds an identifier in any form.
func TestRequestsCarryNoIdentifier(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, client.WithAPIKey("journalist-key"))
	raws := []string{storedCNIC, storedPhone, storedIMEI, absentCNIC, absentPhone, absentIMEI, "+92 300 1234567"}
	if _, err := c.Check(context.Background(), ids(t, raws...)); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) < 4 {
		t.Fatalf("only %d requests recorded", len(reqs))
	}
	// The scan must be able to fail.
	if !containsForm(forms(t, storedPhone), []byte("call 03001234567 now")) {
		t.Fatal("self-check: the scan misses a plain value")
	}
	bucketPath := regexp.MustCompile(`^/v1/buckets/[0-9a-f]{4}$`)
	for _, r := range reqs {
		var all bytes.Buffer
		fmt.Fprintf(&all, "%s %s\n", r.method, r.uri)
		for k, vs := range r.header {
			fmt.Fprintf(&all, "%s: %s\n", k, strings.Join(vs, ","))
		}
		all.Write(r.body)
		for _, raw := range raws {
			for form, needle := range forms(t, raw) {
				if bytes.Contains(all.Bytes(), needle) {
					t.Errorf("%s %s carries the %s form of an identifier", r.method, r.uri, form)
				}
			}
		}
		switch {
		case r.uri == "/v1/config", r.uri == "/v1/listings", bucketPath.MatchString(r.uri):
		case r.uri == "/v1/evaluate":
			var body map[string]json.RawMessage
			json.Unmarshal(r.body, &body)
			if len(body) != 2 || body["key_id"] == nil || body["blinded"] == nil {
				t.Errorf("evaluation body has fields beyond key_id and blinded: %s", r.body)
			}
		default:
			// In particular no /v1/listings/{id}: it would tell which entry matched.
			t.Errorf("unexpected request %s %s", r.method, r.uri)
		}
		if r.header.Get("Authorization") != "Bearer journalist-key" {
			t.Errorf("%s: Authorization %q", r.uri, r.header.Get("Authorization"))
		}
	}
}

// forms returns an identifier as typed, its digits, its canonical form and
// parts, national and international forms, base64 and SHA-1/SHA-256 of each.
func forms(t *testing.T, raw string) map[string][]byte {
	canon := string(mustParse(t, raw).Canonical())
	value := canon[strings.IndexByte(canon, ':')+1:]
	digits := strings.TrimPrefix(value, "+")
	texts := map[string]string{
		"typed": raw, "canonical": canon, "value": value, "digits": digits,
		"typed digits": regexp.MustCompile(`\D`).ReplaceAllString(raw, ""),
	}
	if strings.HasPrefix(canon, "phone:") {
		texts["national"] = "0" + digits[2:]
		texts["significant"] = digits[2:]
	}
	out := map[string][]byte{}
	for name, s := range texts {
		s1, s256 := sha1.Sum([]byte(s)), sha256.Sum256([]byte(s))
		out[name] = []byte(s)
		out["base64("+name+")"] = []byte(base64.RawStdEncoding.EncodeToString([]byte(s)))
		out["base64url("+name+")"] = []byte(b64([]byte(s)))
		out["sha1hex("+name+")"] = []byte(hex.EncodeToString(s1[:]))
		out["sha256hex("+name+")"] = []byte(hex.EncodeToString(s256[:]))
	}
	return out
}

func containsForm(fs map[string][]byte, data []byte) bool {
	for _, n := range fs {
		if bytes.Contains(data, n) {
			return true
		}
	}
	return false
}

func TestBatching(t *testing.T) {
	f := newFake(t)
	f.set(func() { f.maxBatch = 3 })
	c := newClient(t, f)
	raws := []string{storedCNIC, storedPhone, storedIMEI}
	for i := range 5 {
		raws = append(raws, fixture.Phone(1000+i))
	}
	raws = append(raws, storedPhone) // a repeat is evaluated once
	res, err := c.Check(context.Background(), ids(t, raws...))
	if err != nil {
		t.Fatal(err)
	}
	if b := f.evalBatches(); !slices.Equal(b, []int{3, 3, 2}) {
		t.Fatalf("batches %v, want [3 3 2]: 8 distinct identifiers in batches of at most 3", b)
	}
	for i, r := range res {
		want := i < 3 || i == 8
		if r.Found != want {
			t.Errorf("result %d: found %v, want %v", i, r.Found, want)
		}
	}
}

func TestConfigCached(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	for range 3 {
		if _, err := c.Check(context.Background(), ids(t, storedPhone)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.count(`^GET /v1/config$`); n != 1 {
		t.Fatalf("config fetched %d times, want once", n)
	}
	cfg, err := c.Config(context.Background())
	if err != nil || cfg.KeyID != f.key.ID() || cfg.Fingerprint != f.key.Fingerprint() || cfg.MaxBatch != 16 || cfg.Layout.BucketBits != 16 {
		t.Fatalf("Config: %+v, %v", cfg, err)
	}
}

func TestKeyRotated(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	if _, err := c.Check(context.Background(), ids(t, storedPhone)); err != nil {
		t.Fatal(err)
	}
	f.rotate() // the client's cached config now names a stale key

	res, err := c.Check(context.Background(), ids(t, storedPhone, absentPhone))
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Found || res[1].Found {
		t.Fatalf("after rotation: %+v", res)
	}
	if n := f.count(`^GET /v1/config$`); n != 2 {
		t.Errorf("config fetched %d times, want twice (again after key_rotated)", n)
	}
	if n := f.count(`^POST /v1/evaluate$`); n != 3 {
		t.Errorf("%d evaluations, want 3: one, then a stale one and its retry", n)
	}
}

func TestBadProofRejected(t *testing.T) {
	f := newFake(t)
	other, err := hashing.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f.set(func() { f.evalKey = other }) // evaluates with a key it does not publish
	_, err = newClient(t, f).Check(context.Background(), ids(t, storedPhone))
	if !errors.Is(err, client.ErrBadProof) || !errors.Is(err, hashing.ErrBadProof) {
		t.Fatalf("err = %v, want ErrBadProof", err)
	}
	if !strings.Contains(err.Error(), f.key.Fingerprint()) {
		t.Errorf("the error does not name the published key's fingerprint: %v", err)
	}
	if n := f.count(`buckets|listings`); n != 0 {
		t.Fatalf("%d requests after a bad proof", n)
	}
}

// TestErrors covers every way an answer can go wrong.
func TestErrors(t *testing.T) {
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			io.WriteString(w, body)
		}
	}
	apiError := func(status int, code, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { apiErr(w, status, code, msg) }
	}
	var f *fake // set per case before fail functions run
	configWith := func(change func(map[string]any)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			m := map[string]any{
				"suite": hashing.Suite, "mode": "voprf", "key_id": f.key.ID(),
				"public_key": b64(f.key.PublicKey()), "fingerprint": f.key.Fingerprint(),
				"bucket_bits": 16, "suffix_bytes": 8, "max_batch": 16,
			}
			change(m)
			writeJSON(w, 200, m)
		}
	}
	isAPI := func(st int, code, msg string) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Status != st || ae.Code != code || (msg != "" && ae.Message != msg) {
				t.Fatalf("err = %#v, want APIError %d %s %q", err, st, code, msg)
			}
		}
	}
	isMalformed := func(t *testing.T, err error) {
		if !errors.Is(err, client.ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
	}
	rateLimited := func(want time.Duration) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			var rl *client.RateLimitError
			if !errors.As(err, &rl) || rl.Code != "rate_limited" || rl.Status != 429 {
				t.Fatalf("err = %#v, want a RateLimitError", err)
			}
			if d := rl.RetryAfter - want; d < -time.Second || d > time.Second {
				t.Fatalf("RetryAfter %s, want %s", rl.RetryAfter, want)
			}
			isAPI(429, "rate_limited", "")(t, err) // errors.As finds the APIError too
		}
	}
	rateLimit := func(retryAfter string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			apiErr(w, 429, "rate_limited", "too many lookups")
		}
	}
	tests := []struct {
		name    string
		route   string // the route whose answer is replaced
		answer  func() http.HandlerFunc
		check   func(*testing.T, error)
		evalsTo int // if set, how many evaluation requests are expected
	}{
		{"429 with seconds", "POST /v1/evaluate", func() http.HandlerFunc { return rateLimit("7") }, rateLimited(7 * time.Second), 1},
		{"429 with a date", "POST /v1/evaluate", func() http.HandlerFunc {
			return rateLimit(time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat))
		}, rateLimited(90 * time.Second), 0},
		{"429 without Retry-After", "GET /v1/buckets/{prefix}", func() http.HandlerFunc { return rateLimit("") }, rateLimited(0), 0},
		{"401", "POST /v1/evaluate", func() http.HandlerFunc { return apiError(401, "unauthorized", "the API key is not valid") },
			isAPI(401, "unauthorized", "the API key is not valid"), 0},
		{"500 with an error body", "GET /v1/buckets/{prefix}", func() http.HandlerFunc { return apiError(500, "internal", "internal error") },
			isAPI(500, "internal", "internal error"), 0},
		{"502 from a proxy", "GET /v1/config", func() http.HandlerFunc { return status(502, "<html>bad gateway</html>") },
			isAPI(502, "", "Bad Gateway"), 0},
		{"503 on the catalogue", "GET /v1/listings", func() http.HandlerFunc { return apiError(503, "unavailable", "the store cannot be reached") },
			isAPI(503, "unavailable", ""), 0},
		{"message with control characters", "POST /v1/evaluate", func() http.HandlerFunc { return apiError(400, "invalid", "bad\x1b[2J\nthing") },
			isAPI(400, "invalid", "bad?[2J?thing"), 0},
		{"key rotated twice", "POST /v1/evaluate", func() http.HandlerFunc { return apiError(409, "key_rotated", "the key has changed") },
			isAPI(409, wire.CodeKeyRotated, ""), 2},
		{"bucket under another key", "GET /v1/buckets/{prefix}", func() http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"key_id": "0123456789abcdef", "prefix": r.PathValue("prefix"), "entries": []any{}})
			}
		}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "key changed") {
				t.Fatalf("err = %v", err)
			}
		}, 2},
		{"config not JSON", "GET /v1/config", func() http.HandlerFunc { return status(200, "{not json") }, isMalformed, 0},
		{"config wrong suite", "GET /v1/config", func() http.HandlerFunc {
			return configWith(func(m map[string]any) { m["suite"] = "P256-SHA256" })
		}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), `suite "P256-SHA256"`) {
				t.Fatalf("err = %v", err)
			}
		}, 0},
		{"config bad public key", "GET /v1/config", func() http.HandlerFunc {
			return configWith(func(m map[string]any) { m["public_key"] = b64(make([]byte, 32)) })
		}, isMalformed, 0},
		{"config wrong fingerprint", "GET /v1/config", func() http.HandlerFunc {
			return configWith(func(m map[string]any) { m["fingerprint"] = "0000" })
		}, isMalformed, 0},
		{"config bad layout", "GET /v1/config", func() http.HandlerFunc {
			return configWith(func(m map[string]any) { m["bucket_bits"] = 15 })
		}, isMalformed, 0},
		{"config with too many bucket bits", "GET /v1/config", func() http.HandlerFunc {
			return configWith(func(m map[string]any) { m["bucket_bits"] = 32 })
		}, func(t *testing.T, err error) {
			var be *client.BucketBitsError
			if !errors.As(err, &be) || be.Bits != 32 || be.Max != 16 {
				t.Fatalf("err = %#v, want a BucketBitsError for 32 bits", err)
			}
		}, 0},
		{"config zero max_batch", "GET /v1/config", func() http.HandlerFunc {
			return configWith(func(m map[string]any) { m["max_batch"] = 0 })
		}, isMalformed, 0},
		{"evaluate not JSON", "POST /v1/evaluate", func() http.HandlerFunc { return status(200, "<html>") }, isMalformed, 0},
		{"evaluate wrong count", "POST /v1/evaluate", func() http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"key_id": f.key.ID(), "evaluated": []string{}, "proof": ""})
			}
		}, isMalformed, 0},
		{"evaluate bad base64", "POST /v1/evaluate", func() http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"key_id": f.key.ID(), "evaluated": []string{"!!"}, "proof": ""})
			}
		}, isMalformed, 0},
		{"evaluate bad element", "POST /v1/evaluate", func() http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"key_id": f.key.ID(), "evaluated": []string{b64(bytes.Repeat([]byte{0xff}, 32))}, "proof": b64(make([]byte, 64))})
			}
		}, isMalformed, 0},
		{"evaluate bad proof encoding", "POST /v1/evaluate", func() http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				var req struct{ Blinded []string }
				json.NewDecoder(r.Body).Decode(&req)
				bl, _ := base64.RawURLEncoding.DecodeString(req.Blinded[0])
				ev, _, _ := f.key.Evaluate([][]byte{bl})
				writeJSON(w, 200, map[string]any{"key_id": f.key.ID(), "evaluated": []string{b64(ev[0])}, "proof": b64([]byte("short"))})
			}
		}, func(t *testing.T, err error) {
			if !errors.Is(err, client.ErrBadProof) {
				t.Fatalf("err = %v", err)
			}
		}, 0},
		{"bucket not JSON", "GET /v1/buckets/{prefix}", func() http.HandlerFunc { return status(200, "[]") }, isMalformed, 0},
		{"bucket for another prefix", "GET /v1/buckets/{prefix}", func() http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"key_id": f.key.ID(), "prefix": "zzzz", "entries": []any{}})
			}
		}, isMalformed, 0},
		{"bucket short suffix", "GET /v1/buckets/{prefix}", func() http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"key_id": f.key.ID(), "prefix": r.PathValue("prefix"),
					"entries": []any{map[string]any{"suffix": "abcd", "listings": []string{}}}})
			}
		}, isMalformed, 0},
		{"catalogue not JSON", "GET /v1/listings", func() http.HandlerFunc { return status(200, "nope") }, isMalformed, 0},
		{"catalogue bad date", "GET /v1/listings", func() http.HandlerFunc {
			return status(200, `{"listings":[{"id":"x","first_seen":"yesterday"}]}`)
		}, isMalformed, 0},
		{"catalogue listing without id", "GET /v1/listings", func() http.HandlerFunc { return status(200, `{"listings":[{"title":"x"}]}`) }, isMalformed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f = newFake(t)
			f.setFail(tt.route, tt.answer())
			res, err := newClient(t, f).Check(context.Background(), ids(t, storedPhone))
			if err == nil {
				t.Fatalf("no error; results %+v", res)
			}
			if res != nil {
				t.Errorf("results returned with an error: %+v", res)
			}
			tt.check(t, err)
			if tt.evalsTo > 0 {
				if n := f.count(`^POST /v1/evaluate$`); n != tt.evalsTo {
					t.Errorf("%d evaluation requests, want %d", n, tt.evalsTo)
				}
			}
			if strings.Contains(err.Error(), "/v1/buckets/") && !strings.Contains(err.Error(), "{prefix}") {
				t.Errorf("the error names a bucket path: %v", err)
			}
		})
	}
}

// TestBucketBits: the prefix length is the client's decision, not the
// server's. A config asking for more bits than the client accepts is refused
// with a *BucketBitsError before anything is evaluated or fetched; the limit
// is 16 unless an option lowers it, and only WithUnsafeMaxBucketBits raises
// it.
func TestBucketBits(t *testing.T) {
	tests := []struct {
		name    string
		bits    int // what the server publishes
		opts    []client.Option
		refused int // the Max of the BucketBitsError wanted; 0: the check works
	}{
		{"12 bits, default", 12, nil, 0},
		{"16 bits, default", 16, nil, 0},
		{"17 bits, default", 17, nil, 16},
		{"20 bits, default", 20, nil, 16},
		{"24 bits, default", 24, nil, 16},
		{"32 bits, default", 32, nil, 16},
		{"64 bits, default", 64, nil, 16},
		{"16 bits, zero max is the default", 16, []client.Option{client.WithMaxBucketBits(0)}, 0},
		{"20 bits, zero max is the default", 20, []client.Option{client.WithMaxBucketBits(0)}, 16},
		{"12 bits, lowered to 12", 12, []client.Option{client.WithMaxBucketBits(12)}, 0},
		{"16 bits, lowered to 12", 16, []client.Option{client.WithMaxBucketBits(12)}, 12},
		{"16 bits, lowered to 15", 16, []client.Option{client.WithMaxBucketBits(15)}, 15},
		{"20 bits, raised to 20", 20, []client.Option{client.WithUnsafeMaxBucketBits(20)}, 0},
		{"24 bits, raised to 20", 24, []client.Option{client.WithUnsafeMaxBucketBits(20)}, 20},
		{"32 bits, raised to 32", 32, []client.Option{client.WithUnsafeMaxBucketBits(32)}, 0},
		{"20 bits, raised then lowered", 20, []client.Option{client.WithUnsafeMaxBucketBits(24), client.WithMaxBucketBits(16)}, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if tt.bits%4 == 0 && tt.bits <= 32 {
				f.setBits(tt.bits)
			} else {
				// Not a layout any store takes: only the config says it.
				f.setFail("GET /v1/config", func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, 200, map[string]any{
						"suite": hashing.Suite, "mode": "voprf", "key_id": f.key.ID(), "public_key": b64(f.key.PublicKey()),
						"fingerprint": f.key.Fingerprint(), "bucket_bits": tt.bits, "suffix_bytes": 8, "max_batch": 16,
					})
				})
			}
			c := newClient(t, f, tt.opts...)
			res, err := c.Check(context.Background(), ids(t, storedPhone, absentCNIC))
			if tt.refused == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !res[0].Found || res[1].Found {
					t.Fatalf("results %+v", res)
				}
				if n := f.count(`^GET /v1/buckets/[0-9a-f]{` + fmt.Sprint(tt.bits/4) + `}$`); n < 1 || n > 2 {
					t.Fatalf("%d bucket requests of %d bits", n, tt.bits)
				}
				return
			}
			var be *client.BucketBitsError
			if !errors.As(err, &be) || be.Bits != tt.bits || be.Max != tt.refused || be.Server != f.url() || res != nil {
				t.Fatalf("err = %#v, results %v; want a BucketBitsError{Bits: %d, Max: %d}", err, res, tt.bits, tt.refused)
			}
			if errors.Is(err, client.ErrMalformed) {
				t.Error("a refusal is not a malformed answer")
			}
			// Refused before the server is asked anything else.
			if got := f.count(`.`); got != 1 || f.count(`^GET /v1/config$`) != 1 {
				t.Errorf("the server was asked %d things: %v", got, f.requests())
			}
			// The same again: a refused config is not cached.
			if _, err := c.Config(context.Background()); !errors.As(err, &be) {
				t.Errorf("Config: %v", err)
			}
			if n := f.count(`^GET /v1/config$`); n != 2 {
				t.Errorf("%d config requests, want 2: a refused config must not be cached", n)
			}
			// In plain words, with the numbers.
			msg := err.Error()
			for _, want := range []string{fmt.Sprintf("%d-bit bucket numbers", tt.bits), fmt.Sprintf("the %d this client", tt.refused), "nothing was looked up", "mobile numbers share"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the message lacks %q: %s", want, msg)
				}
			}
		})
	}
}

// TestBucketBitsOptions: option values that make no sense, or raise the
// limit without saying so, make New fail.
func TestBucketBitsOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  client.Option
		ok   bool
	}{
		{"lowered to 4", client.WithMaxBucketBits(4), true},
		{"lowered to 16", client.WithMaxBucketBits(16), true},
		{"raised with the lowering option", client.WithMaxBucketBits(17), false},
		{"raised to 32 with the lowering option", client.WithMaxBucketBits(32), false},
		{"negative", client.WithMaxBucketBits(-1), false},
		{"below 4", client.WithMaxBucketBits(3), false},
		{"unsafe 32", client.WithUnsafeMaxBucketBits(32), true},
		{"unsafe 33", client.WithUnsafeMaxBucketBits(33), false},
		{"unsafe 0", client.WithUnsafeMaxBucketBits(0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.New("http://127.0.0.1:1", tt.opt)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

// TestBucketBitsMessage pins the wording people read.
func TestBucketBitsMessage(t *testing.T) {
	tests := []struct {
		bits, max int
		want      string
	}{
		{32, 16, "client: the server at https://k.example asks for 32-bit bucket numbers, more than the 16 this client accepts, so nothing was looked up. " +
			"The bucket number is what the server learns about each value checked: at 16 bits about 6,900 possible mobile numbers share one; " +
			"at 32 bits the bucket number alone can single out the number checked. A server that asks for this is misconfigured, or trying to learn who checks what."},
		{20, 16, "at 16 bits about 6,900 possible mobile numbers share one; at 20 bits about 430 share one."},
		{24, 16, "at 24 bits about 27 share one."},
		{16, 12, "client: the server at https://k.example asks for 16-bit bucket numbers, more than the 12 this client was told to accept, so nothing was looked up. " +
			"At 12 bits about 110,000 possible mobile numbers share a bucket; at 16 bits, about 6,900."},
	}
	for _, tt := range tests {
		err := &client.BucketBitsError{Server: "https://k.example", Bits: tt.bits, Max: tt.max}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%d over %d:\n got %s\nwant %s", tt.bits, tt.max, err, tt.want)
		}
	}
	if got := client.MobileNumbersPerBucket(16); got < 6866 || got > 6867 {
		t.Errorf("MobileNumbersPerBucket(16) = %v", got)
	}
}

func TestNetworkAndContext(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	tests := []struct {
		name  string
		setup func(*fake) (context.Context, []client.Option)
		check func(*testing.T, error)
	}{
		{"server gone", func(f *fake) (context.Context, []client.Option) {
			f.srv.Close()
			return context.Background(), nil
		}, func(t *testing.T, err error) {
			var ae *client.APIError
			if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "/v1/config") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"cancelled", func(f *fake) (context.Context, []client.Option) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, nil
		}, func(t *testing.T, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"deadline while the server thinks", func(f *fake) (context.Context, []client.Option) {
			f.setFail("GET /v1/buckets/{prefix}", slow)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			t.Cleanup(cancel)
			return ctx, nil
		}, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "/v1/buckets/0") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"http client timeout", func(f *fake) (context.Context, []client.Option) {
			f.setFail("POST /v1/evaluate", slow)
			return context.Background(), []client.Option{client.WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond})}
		}, func(t *testing.T, err error) {
			var te interface{ Timeout() bool }
			if !errors.As(err, &te) || !te.Timeout() {
				t.Fatalf("err = %v, want a timeout", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			ctx, opts := tt.setup(f)
			c := newClient(t, f, opts...)
			_, err := c.Check(ctx, ids(t, storedPhone))
			tt.check(t, err)
		})
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name          string
		opts          []client.Option
		auth, agent   string
		wantNoAuthKey bool
	}{
		{"anonymous", nil, "", client.DefaultUserAgent, true},
		{"api key", []client.Option{client.WithAPIKey("k_123")}, "Bearer k_123", client.DefaultUserAgent, false},
		{"user agent", []client.Option{client.WithUserAgent("newsroom-tool/2")}, "", "newsroom-tool/2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if _, err := newClient(t, f, tt.opts...).Check(context.Background(), ids(t, storedCNIC)); err != nil {
				t.Fatal(err)
			}
			for _, r := range f.requests() {
				if _, has := r.header["Authorization"]; has == tt.wantNoAuthKey || r.header.Get("Authorization") != tt.auth {
					t.Errorf("%s: Authorization %q, want %q", r.uri, r.header.Get("Authorization"), tt.auth)
				}
				if r.header.Get("User-Agent") != tt.agent {
					t.Errorf("%s: User-Agent %q", r.uri, r.header.Get("User-Agent"))
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, url string
		opts      []client.Option
		ok        bool
	}{
		{"http", "http://127.0.0.1:8080", nil, true},
		{"https with a path", "https://khabardar.example/api/", nil, true},
		{"no scheme", "khabardar.example", nil, false},
		{"ftp", "ftp://khabardar.example", nil, false},
		{"no host", "http://", nil, false},
		{"query", "https://khabardar.example/?a=b", nil, false},
		{"api key with a newline", "https://khabardar.example", []client.Option{client.WithAPIKey("secret\nx")}, false},
		{"user agent with a newline", "https://khabardar.example", []client.Option{client.WithUserAgent("a\r\nb")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.url, tt.opts...)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error repeats the API key: %v", err)
			}
			if c != nil && strings.Contains(fmt.Sprintf("%v %+v %#v %s", c, c, c, c), "secret") {
				t.Fatal("printing the client shows the API key")
			}
		})
	}
	c, _ := client.New("http://127.0.0.1:1", client.WithAPIKey("secret-key"))
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "secret-key") {
		t.Fatalf("printing the client shows the API key: %s", s)
	}
}

// TestBasePath: a server under a path prefix is asked under it.
func TestBasePath(t *testing.T) {
	f := newFake(t)
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path)
		mu.Unlock()
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, "/khabardar")
		r2.RequestURI = ""
		r2.URL.Scheme, r2.URL.Host = "http", strings.TrimPrefix(f.url(), "http://")
		resp, err := http.DefaultTransport.RoundTrip(r2)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	c, err := client.New(proxy.URL + "/khabardar/")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Check(context.Background(), ids(t, storedIMEI))
	if err != nil || !res[0].Found {
		t.Fatalf("%+v %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range seen {
		if !strings.HasPrefix(p, "/khabardar/v1/") {
			t.Errorf("asked %s", p)
		}
	}
}

func TestEdgeCases(t *testing.T) {
	t.Run("no identifiers, no requests", func(t *testing.T) {
		f := newFake(t)
		res, err := newClient(t, f).Check(context.Background(), nil)
		if err != nil || len(res) != 0 || len(f.requests()) != 0 {
			t.Fatalf("%v %v, %d requests", res, err, len(f.requests()))
		}
	})
	t.Run("zero ID", func(t *testing.T) {
		f := newFake(t)
		_, err := newClient(t, f).Check(context.Background(), []identifier.ID{mustParse(t, storedCNIC), {}})
		if err == nil || !strings.Contains(err.Error(), "identifier 1") || len(f.requests()) != 0 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("listing gone from the catalogue", func(t *testing.T) {
		f := newFake(t)
		f.set(func() { f.listings = f.listings[2:] }) // leak-a and leak-b removed since ingest
		res, err := newClient(t, f).Check(context.Background(), ids(t, storedPhone, storedCNIC))
		if err != nil || res[0].Found || res[1].Found {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("dummy and decoy entries never match", func(t *testing.T) {
		f := newFake(t)
		c := newClient(t, f)
		for range 20 {
			res, err := c.Check(context.Background(), ids(t, absentCNIC, absentPhone, absentIMEI))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Found {
					t.Fatalf("an absent identifier matched: %+v", r)
				}
			}
		}
	})
	t.Run("results do not share listings", func(t *testing.T) {
		f := newFake(t)
		res, err := newClient(t, f).Check(context.Background(), ids(t, storedPhone, storedPhone))
		if err != nil {
			t.Fatal(err)
		}
		res[0].Listings[0].Title = "changed"
		if res[1].Listings[0].Title == "changed" {
			t.Fatal("two results share a listing slice")
		}
	})
}

// TestCatalogue: the client takes the server's catalogue, or sums it from
// the listings as khabardar.Summarize does for a server that sends none,
// and every result carries it.
func TestCatalogue(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	f.set(func() {
		f.listings[0].Counts = khabardar.Counts{identifier.Phone: 3}
		f.listings[0].Added = date("2026-12-03")
		f.listings[1].Counts = khabardar.Counts{identifier.CNIC: 5}
		f.listings[1].Fabricated = true
	})
	c := newClient(t, f)
	got, err := c.Catalogue(ctx)
	want := khabardar.Catalogue{Listings: 1, Identifiers: 3, NewestAdded: date("2026-12-03")}
	if err != nil || got != want {
		t.Fatalf("summed: %+v, %v; want %+v", got, err, want)
	}
	sent := khabardar.Catalogue{Listings: 12, Identifiers: 3400, NewestAdded: date("2026-12-01")}
	f.set(func() { f.cat = &sent })
	if got, err := c.Catalogue(ctx); err != nil || got != sent {
		t.Fatalf("sent: %+v, %v", got, err)
	}
	res, err := c.Check(ctx, []identifier.ID{mustParse(t, "0300-7654321")})
	if err != nil || res[0].Catalogue != sent {
		t.Fatalf("a result's catalogue: %+v, %v", res, err)
	}
}
