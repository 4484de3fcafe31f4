// Package client checks identifiers against a Khabardar server without
// sending them.
//
// For each identifier, Check blinds its canonical form (RFC 9497 VOPRF),
// asks the server to evaluate the blinded element, verifies the server's
// proof against the public key published at /v1/config, unblinds the
// output, fetches the bucket named by the output's prefix and looks for the
// output's suffix in it locally. All the server ever receives is blinded
// elements (random to it), bucket prefixes, the key id and, when one is
// configured, the API key.
//
// The bucket prefix is what the server learns about each identifier, so its
// length is not left to the server: a config asking for more than
// DefaultMaxBucketBits (16) is refused with a *BucketBitsError before
// anything is evaluated. WithMaxBucketBits lowers the limit and
// WithUnsafeMaxBucketBits raises it. Prefixes of several identifiers checked
// from one address can still be joined: see README, "The privacy model".
//
// Listing details come from the whole catalogue (GET /v1/listings), fetched
// on every check whatever matched: asking for the matched listings one by one
// would tell the server which entry of the bucket matched, and with it the
// identifier's full hash, which the key holder can reverse by enumeration.
package client

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/wire"
)

// Defaults. The timeouts bound every request of the default HTTP client; a
// caller's context can shorten them.
const (
	DefaultTimeout   = 30 * time.Second // one whole request, body included
	DefaultUserAgent = "khabardar-go-client/1"

	headerTimeout = 20 * time.Second // connected, request sent, waiting for the status line
	configTTL     = 5 * time.Minute  // the server's Cache-Control max-age for /v1/config
	maxBody       = 16 << 20         // a bucket of 24,000 entries at 12 bucket bits is about 1.2 MB
)

// DefaultMaxBucketBits is the most bucket bits a client accepts unless told
// otherwise (wire.DefaultMaxBucketBits, which the website accepts too): a
// 16-bit prefix is shared by about MobileNumbers / 65,536 ≈ 6,900 possible
// mobile numbers. Every 4 bits more divides that by 16.
const DefaultMaxBucketBits = wire.DefaultMaxBucketBits

// MobileNumbers is about how many Pakistani mobile numbers are possible: the
// set a bucket prefix narrows a mobile number down from.
const MobileNumbers = 4.5e8

// MobileNumbersPerBucket is how many possible mobile numbers share one bucket
// at bits bucket bits: the anonymity set of a mobile number checked.
func MobileNumbersPerBucket(bits int) float64 {
	return MobileNumbers / float64(uint64(1)<<bits)
}

// Listing is a sale listing as the server describes it.
type Listing = khabardar.Listing

// Result is the outcome for one identifier. It never holds the identifier,
// in any form: only its kind.
type Result struct {
	Kind     identifier.Kind
	Found    bool      // the identifier appears in at least one listing not shown to be fabricated
	Listings []Listing // every listing it appears in, fabricated ones included, sorted by ID
	// Catalogue is what it was checked against. With Catalogue.Empty() a
	// "not found" tells nothing: no listing could have matched.
	Catalogue Catalogue
}

// Catalogue sums up the server's listings: see khabardar.Catalogue.
type Catalogue = khabardar.Catalogue

// Config is the server's published configuration, checked.
type Config struct {
	Suite       string
	Mode        string
	KeyID       string
	PublicKey   []byte // the VOPRF public key every evaluation is verified against
	Fingerprint string // hashing.Fingerprint of PublicKey, for people to compare
	Layout      khabardar.Layout
	MaxBatch    int // most elements per evaluation request

	voprf   *hashing.Client
	fetched time.Time
}

// Client talks to one Khabardar server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	http      *http.Client
	apiKey    string
	userAgent string
	now       func() time.Time
	maxBits   int   // the most bucket bits accepted; 0 is DefaultMaxBucketBits, never "any"
	optErr    error // an option's invalid value, reported by New

	mu  sync.Mutex
	cfg *Config
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with h, whose timeouts
// then apply instead of the defaults.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithAPIKey sends key as "Authorization: Bearer KEY" with every request.
// An API key raises the server's rate limits and batch size.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithUserAgent sets the User-Agent header (default DefaultUserAgent).
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithMaxBucketBits lowers the most bucket bits the client accepts from a
// server, to n from 4 to DefaultMaxBucketBits; 0 keeps the default. Fewer
// bits mean larger buckets: more values hide in each. New fails for n above
// the default: raising the limit takes WithUnsafeMaxBucketBits.
func WithMaxBucketBits(n int) Option {
	return func(c *Client) {
		switch {
		case n == 0:
			c.maxBits = DefaultMaxBucketBits
		case n > DefaultMaxBucketBits:
			c.optErr = fmt.Errorf("client: WithMaxBucketBits(%d) would accept buckets shared by fewer than %s possible mobile numbers; raising the limit above %d takes WithUnsafeMaxBucketBits",
				n, About(MobileNumbersPerBucket(DefaultMaxBucketBits)), DefaultMaxBucketBits)
		case n < 4:
			c.optErr = fmt.Errorf("client: the most bucket bits accepted must be from 4 to %d, not %d", DefaultMaxBucketBits, n)
		default:
			c.maxBits = n
		}
	}
}

// WithUnsafeMaxBucketBits lets the client accept up to n bucket bits, n from
// 4 to 32, above DefaultMaxBucketBits included. It costs anonymity: at 20
// bits about 430 possible mobile numbers share a bucket, at 24 about 27, at
// 32 the prefix alone can name the number. For a server one runs oneself.
func WithUnsafeMaxBucketBits(n int) Option {
	return func(c *Client) {
		if n < 4 || n > 32 {
			c.optErr = fmt.Errorf("client: the most bucket bits accepted must be from 4 to 32, not %d", n)
			return
		}
		c.maxBits = n
	}
}

// maxBucketBits is the most bucket bits c accepts.
func (c *Client) maxBucketBits() int {
	if c.maxBits == 0 {
		return DefaultMaxBucketBits
	}
	return c.maxBits
}

// New returns a client for the server at baseURL, an http or https URL with
// an optional path prefix, e.g. "https://khabardar.pk" or
// "http://127.0.0.1:8080/khabardar".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: the server address must be an http or https URL such as https://khabardar.example, not %q", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: the server address %s must not have a query or fragment", u.Redacted())
	}
	c := &Client{base: u, userAgent: DefaultUserAgent, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.optErr != nil {
		return nil, c.optErr
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = headerTimeout
		c.http = &http.Client{Timeout: DefaultTimeout, Transport: t}
	}
	// Checked here, not at the first request, and without repeating the key.
	if !validHeader(c.apiKey) {
		return nil, errors.New("client: the API key contains spaces or control characters")
	}
	if !validHeader(c.userAgent) {
		return nil, errors.New("client: the User-Agent contains control characters")
	}
	return c, nil
}

func validHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return false
		}
	}
	return v == "" || v[0] != ' ' && v[len(v)-1] != ' '
}

// String names the server, never the API key.
func (c *Client) String() string { return "client.Client{" + c.base.Redacted() + "}" }

// GoString is String, so %#v does not print the API key either.
func (c *Client) GoString() string { return c.String() }

// Config returns the server's configuration, fetched from /v1/config and
// cached for five minutes, or until the server reports a rotated key.
func (c *Client) Config(ctx context.Context) (*Config, error) {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	if cfg != nil && c.now().Sub(cfg.fetched) < configTTL {
		return cfg, nil
	}
	cfg, err := c.fetchConfig(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.cfg = cfg
	c.mu.Unlock()
	return cfg, nil
}

func (c *Client) forgetConfig(stale *Config) {
	c.mu.Lock()
	if c.cfg == stale {
		c.cfg = nil
	}
	c.mu.Unlock()
}

// Routes as errors name them: openapi.yaml's patterns, never a request's
// path (which may hold a bucket prefix).
var (
	routeConfig   = wire.OpenAPIPath(wire.RouteConfig)
	routeEvaluate = wire.OpenAPIPath(wire.RouteEvaluate)
	routeBucket   = wire.OpenAPIPath(wire.RouteBucket)
	routeListings = wire.OpenAPIPath(wire.RouteListings)
)

func (c *Client) fetchConfig(ctx context.Context) (*Config, error) {
	var body wire.Config
	if err := c.do(ctx, http.MethodGet, routeConfig, wire.RouteConfig, nil, &body); err != nil {
		return nil, err
	}
	if body.Suite != hashing.Suite || body.Mode != wire.ModeVOPRF {
		return nil, fmt.Errorf("client: the server uses suite %q in mode %q; this client speaks only %s in mode voprf",
			clean(body.Suite, 40), clean(body.Mode, 20), hashing.Suite)
	}
	// Before any other check, so that a server asking for too many bits is
	// told so in plain words whatever else is wrong with its config.
	if max := c.maxBucketBits(); body.BucketBits > max {
		return nil, &BucketBitsError{Server: c.base.Redacted(), Bits: body.BucketBits, Max: max}
	}
	if body.KeyID == "" || len(body.KeyID) > wire.MaxKeyIDLen || clean(body.KeyID, wire.MaxKeyIDLen) != body.KeyID {
		return nil, malformed(routeConfig, "key_id is missing or not printable")
	}
	pub, err := base64.RawURLEncoding.DecodeString(body.PublicKey)
	if err != nil {
		return nil, malformed(routeConfig, "public_key is not base64url")
	}
	v, err := hashing.NewClient(pub)
	if err != nil {
		return nil, malformed(routeConfig, "public_key is not a %s public key", hashing.Suite)
	}
	// The fingerprint shown to people must be the key the proofs are checked
	// against, so it is computed here; a server that disagrees is broken.
	fp := hashing.Fingerprint(pub)
	if body.Fingerprint != fp {
		return nil, malformed(routeConfig, "fingerprint does not match public_key")
	}
	layout := khabardar.Layout{KeyID: body.KeyID, BucketBits: body.BucketBits, SuffixBytes: body.SuffixBytes}
	if err := layout.Validate(); err != nil {
		return nil, malformed(routeConfig, "%s", khabardar.ErrorMessage(err))
	}
	if body.MaxBatch < 1 {
		return nil, malformed(routeConfig, "max_batch is %d", body.MaxBatch)
	}
	return &Config{
		Suite: body.Suite, Mode: body.Mode, KeyID: body.KeyID, PublicKey: pub, Fingerprint: fp,
		Layout: layout, MaxBatch: body.MaxBatch, voprf: v, fetched: c.now(),
	}, nil
}

// Check looks each identifier up and returns one Result per identifier, in
// order. It fails as a whole: on error no result is returned.
//
// Errors: *BucketBitsError when the server asks for longer bucket prefixes
// than the client accepts (nothing is evaluated then), *RateLimitError
// (429), *APIError for other error answers (a rotated key is retried once
// first), ErrBadProof wrapped when the server's proof
// does not verify, ErrMalformed wrapped for answers that break the API, the
// context's error on cancellation, and network errors. None of them holds an
// identifier or a bucket prefix.
func (c *Client) Check(ctx context.Context, ids []identifier.ID) ([]Result, error) {
	// Equal identifiers are evaluated once.
	var distinct []identifier.ID
	pos := make(map[identifier.ID]int, len(ids))
	for i, id := range ids {
		if id.IsZero() {
			return nil, fmt.Errorf("client: identifier %d is the zero ID", i)
		}
		if _, ok := pos[id]; !ok {
			pos[id] = len(distinct)
			distinct = append(distinct, id)
		}
	}
	results := make([]Result, len(ids))
	if len(distinct) == 0 {
		return results, nil
	}
	var found [][]Listing
	var cat Catalogue
	for attempt := 0; ; attempt++ {
		cfg, err := c.Config(ctx)
		if err != nil {
			return nil, err
		}
		found, cat, err = c.check(ctx, cfg, distinct)
		if err == nil {
			break
		}
		if attempt > 0 || !keyRotated(err) {
			return nil, err
		}
		c.forgetConfig(cfg)
	}
	for i, id := range ids {
		ls := found[pos[id]]
		// A fabricated listing's "data" is made up: being in it exposes
		// nobody, so it does not make an identifier found.
		genuine := slices.ContainsFunc(ls, func(l Listing) bool { return !l.Fabricated })
		results[i] = Result{Kind: id.Kind(), Found: genuine, Listings: slices.Clone(ls), Catalogue: cat}
	}
	return results, nil
}

func keyRotated(err error) bool {
	var ae *APIError
	return errors.Is(err, errStaleKey) || errors.As(err, &ae) && ae.Code == wire.CodeKeyRotated
}

// split is one identifier's VOPRF output as the store keys it.
type split struct {
	prefix string
	suffix []byte
}

// check does one pass under one config: evaluate, fetch buckets and the
// catalogue, match. It returns each identifier's listings.
func (c *Client) check(ctx context.Context, cfg *Config, ids []identifier.ID) ([][]Listing, Catalogue, error) {
	splits := make([]split, 0, len(ids))
	for chunk := range slices.Chunk(ids, cfg.MaxBatch) {
		outputs, err := c.evaluate(ctx, cfg, chunk)
		if err != nil {
			return nil, Catalogue{}, err
		}
		for _, y := range outputs {
			p, s := hashing.Split(y, cfg.Layout)
			splits = append(splits, split{p, s})
		}
	}

	// Each bucket once, in sorted order rather than the order of the input.
	var prefixes []string
	for _, s := range splits {
		prefixes = append(prefixes, s.prefix)
	}
	slices.Sort(prefixes)
	buckets := map[string][]entry{}
	for _, p := range slices.Compact(prefixes) {
		b, err := c.bucket(ctx, cfg, p)
		if err != nil {
			return nil, Catalogue{}, err
		}
		buckets[p] = b
	}

	// Fetched whatever matched: see the package comment.
	catalogue, cat, err := c.listings(ctx)
	if err != nil {
		return nil, Catalogue{}, err
	}

	out := make([][]Listing, len(ids))
	for i, s := range splits {
		for _, id := range match(buckets[s.prefix], s.suffix) {
			// A listing missing from the catalogue was removed since the
			// bucket was read: it no longer holds the identifier.
			if l, ok := catalogue[id]; ok {
				out[i] = append(out[i], l)
			}
		}
	}
	return out, cat, nil
}

// match returns the sorted listing IDs of the entries whose suffix is
// suffix. It compares every entry in constant time, so how long it takes
// says nothing of where (or whether) the suffix is.
func match(entries []entry, suffix []byte) []string {
	var ids []string
	for _, e := range entries {
		if subtle.ConstantTimeCompare(e.suffix, suffix) == 1 {
			ids = append(ids, e.listings...)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// evaluate blinds a batch, has the server evaluate it, verifies the proof
// and returns the VOPRF outputs.
func (c *Client) evaluate(ctx context.Context, cfg *Config, ids []identifier.ID) ([][]byte, error) {
	b, err := cfg.voprf.Blind(ids)
	if err != nil {
		return nil, fmt.Errorf("client: blind: %w", err)
	}
	req := wire.EvaluateRequest{KeyID: cfg.KeyID, Blinded: make([]string, len(b.Elements))}
	for i, e := range b.Elements {
		req.Blinded[i] = base64.RawURLEncoding.EncodeToString(e)
	}
	var resp wire.EvaluateResponse
	if err := c.do(ctx, http.MethodPost, routeEvaluate, wire.RouteEvaluate, req, &resp); err != nil {
		return nil, err
	}
	if resp.KeyID != cfg.KeyID {
		return nil, errStaleKey
	}
	if len(resp.Evaluated) != len(ids) {
		return nil, malformed(routeEvaluate, "%d evaluated elements for %d blinded", len(resp.Evaluated), len(ids))
	}
	evaluated := make([][]byte, len(ids))
	for i, e := range resp.Evaluated {
		if evaluated[i], err = base64.RawURLEncoding.DecodeString(e); err != nil {
			return nil, malformed(routeEvaluate, "evaluated[%d] is not base64url", i)
		}
	}
	proof, err := base64.RawURLEncoding.DecodeString(resp.Proof)
	if err != nil {
		return nil, malformed(routeEvaluate, "proof is not base64url")
	}
	outputs, err := cfg.voprf.Finalize(b, evaluated, proof)
	switch {
	case errors.Is(err, hashing.ErrBadProof):
		return nil, fmt.Errorf("client: %s did not prove that it evaluated with its published key %s (fingerprint %s); its answers cannot be trusted: %w",
			c.base.Redacted(), cfg.KeyID, cfg.Fingerprint, err)
	case errors.Is(err, hashing.ErrBadElement):
		return nil, malformed(routeEvaluate, "%v", err)
	case err != nil:
		return nil, fmt.Errorf("client: finalize: %w", err)
	}
	return outputs, nil
}

// entry is one decoded bucket entry.
type entry struct {
	suffix   []byte
	listings []string
}

func (c *Client) bucket(ctx context.Context, cfg *Config, prefix string) ([]entry, error) {
	var resp wire.Bucket
	if err := c.do(ctx, http.MethodGet, routeBucket, wire.BucketPath(prefix), nil, &resp); err != nil {
		return nil, err
	}
	if resp.KeyID != cfg.KeyID {
		return nil, errStaleKey
	}
	if resp.Prefix != prefix {
		return nil, malformed(routeBucket, "the answer is for another bucket")
	}
	entries := make([]entry, len(resp.Entries))
	for i, e := range resp.Entries {
		s, err := hex.DecodeString(e.Suffix)
		if err != nil || len(s) != cfg.Layout.SuffixBytes {
			return nil, malformed(routeBucket, "entries[%d].suffix is not %d bytes in hex", i, cfg.Layout.SuffixBytes)
		}
		entries[i] = entry{suffix: s, listings: e.Listings}
	}
	return entries, nil
}

// listings fetches the whole catalogue, by ID.
// Listings returns the server's whole listing catalogue, sorted by ID. It
// says nothing about any identifier: Check fetches it whatever matched.
func (c *Client) Listings(ctx context.Context) ([]Listing, error) {
	m, _, err := c.listings(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Listing, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Listing) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Catalogue returns what a check is made against: how many listings and
// identifiers, and the newest listing's date. With Empty() true every check
// answers nothing, and a client must say so rather than "not found".
func (c *Client) Catalogue(ctx context.Context) (Catalogue, error) {
	_, cat, err := c.listings(ctx)
	return cat, err
}

func (c *Client) listings(ctx context.Context) (map[string]Listing, Catalogue, error) {
	var resp wire.Listings
	if err := c.do(ctx, http.MethodGet, routeListings, wire.RouteListings, nil, &resp); err != nil {
		return nil, Catalogue{}, err
	}
	m := make(map[string]Listing, len(resp.Listings))
	for i, l := range resp.Listings {
		if l == nil || l.ID == "" {
			return nil, Catalogue{}, malformed(routeListings, "listings[%d] has no id", i)
		}
		m[l.ID] = *l
	}
	if resp.Catalogue != nil {
		return m, *resp.Catalogue, nil
	}
	// A server from before the catalogue field: the same sum, made here.
	return m, khabardar.Summarize(resp.Listings), nil
}

// do sends one request for path, under the server's base URL, and decodes a
// 200 answer's JSON into out. Errors name the route pattern, never the path:
// a path may hold a bucket prefix.
func (c *Client) do(ctx context.Context, method, route, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.JoinPath(path).String(), body)
	if err != nil {
		return fmt.Errorf("client: %s: %w", route, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.netError(ctx, method, route, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return c.netError(ctx, method, route, err)
	}
	if len(data) > maxBody {
		return malformed(route, "the answer is larger than %d MiB", maxBody>>20)
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(route, resp, data, c.now())
	}
	if err := decodeJSON(data, out); err != nil {
		return malformed(route, "%v", err)
	}
	return nil
}

// netError rewrites a transport error without its URL, which may hold a
// bucket prefix. A cancelled or expired context is returned as such, so
// errors.Is(err, context.Canceled) works.
func (c *Client) netError(ctx context.Context, method, route string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("client: %s %s: %w", method, route, cerr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("client: %s %s at %s: %w", method, route, c.base.Redacted(), err)
}

func decodeJSON(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return errors.New("the answer is not JSON")
		}
		return err
	}
	return nil
}
