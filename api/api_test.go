package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
	"gopkg.in/yaml.v3"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/storetest"
	"github.com/khabardar/khabardar/wire"
)

// lookup runs the whole client protocol for ids against e, as the website
// and the CLI do: config, blind, evaluate, verify and finalize, split, fetch
// the bucket, find the suffix. It returns the listings each id is in.
func (e *env) lookup(t *testing.T, ids ...identifier.ID) [][]string {
	t.Helper()
	var cfg wire.Config
	if r := e.get("/v1/config"); r.status != 200 || json.Unmarshal(r.body, &cfg) != nil {
		t.Fatalf("config: %d %s", r.status, r.body)
	}
	pub, err := base64.RawURLEncoding.DecodeString(cfg.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	client, err := hashing.NewClient(pub)
	if err != nil {
		t.Fatal(err)
	}
	bl, err := client.Blind(ids)
	if err != nil {
		t.Fatal(err)
	}
	els := make([]string, len(bl.Elements))
	for i, el := range bl.Elements {
		els[i] = base64.RawURLEncoding.EncodeToString(el)
	}
	b, _ := json.Marshal(map[string]any{"key_id": cfg.KeyID, "blinded": els})
	r := e.post("/v1/evaluate", string(b))
	var ev evaluateResponse
	if r.status != 200 || json.Unmarshal(r.body, &ev) != nil {
		t.Fatalf("evaluate: %d %s", r.status, r.body)
	}
	if ev.KeyID != cfg.KeyID || len(ev.Evaluated) != len(ids) {
		t.Fatalf("evaluate answered %d elements under key %s", len(ev.Evaluated), ev.KeyID)
	}
	evaluated := make([][]byte, len(ev.Evaluated))
	for i, s := range ev.Evaluated {
		if evaluated[i], err = base64.RawURLEncoding.DecodeString(s); err != nil {
			t.Fatal(err)
		}
	}
	proof, err := base64.RawURLEncoding.DecodeString(ev.Proof)
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := client.Finalize(bl, evaluated, proof)
	if err != nil {
		t.Fatalf("the proof does not verify: %v", err)
	}
	layout := khabardar.Layout{KeyID: cfg.KeyID, BucketBits: cfg.BucketBits, SuffixBytes: cfg.SuffixBytes}
	found := make([][]string, len(ids))
	for i, y := range outputs {
		prefix, suffix := hashing.Split(y, layout)
		bucket := decodeBucket(t, e.get("/v1/buckets/"+prefix))
		for _, en := range bucket.Entries {
			if en.Suffix == hex.EncodeToString(suffix) {
				found[i] = en.Listings
			}
		}
	}
	return found
}

// TestEvaluateRoundTrip ingests identifiers the way ingest does and finds
// them, and only them, through the API with hashing's client.
func TestEvaluateRoundTrip(t *testing.T) {
	e := newEnv(t)
	phone := mustID(t, identifier.Phone, "0300-1234567")
	cnic := mustID(t, identifier.CNIC, "35202-1234567-1")
	imei := mustID(t, identifier.IMEI, "490154203237518")
	other := mustID(t, identifier.Phone, "0321-7654321")
	e.ingest("shop-a", phone, cnic)
	e.ingest("shop-b", phone, imei)

	got := e.lookup(t, phone, cnic, imei, other)
	want := [][]string{{"shop-a", "shop-b"}, {"shop-a"}, {"shop-b"}, nil}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("identifier %d: in %v, want %v", i, got[i], want[i])
		}
	}

	// The evaluation agrees with the output ingest stored, element by element.
	c, bl, els := e.blind(phone)
	r := e.post("/v1/evaluate", e.evaluateBody(els...))
	var ev evaluateResponse
	json.Unmarshal(r.body, &ev)
	evaluated, _ := base64.RawURLEncoding.DecodeString(ev.Evaluated[0])
	proof, _ := base64.RawURLEncoding.DecodeString(ev.Proof)
	out, err := c.Finalize(bl, [][]byte{evaluated}, proof)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := e.key.Exposure(phone, e.layout)
	if prefix, suffix := hashing.Split(out[0], e.layout); prefix != stored.Prefix || !slices.Equal(suffix, stored.Suffix) {
		t.Fatal("the evaluated output splits differently from the stored exposure")
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("evaluate is cacheable: %q", r.header.Get("Cache-Control"))
	}

	// A full anonymous batch is one request and one proof.
	ids := make([]identifier.ID, 16)
	for i := range ids {
		ids[i] = mustID(t, identifier.Phone, fmt.Sprintf("0301-%07d", i))
	}
	e.ingest("shop-c", ids[3], ids[15])
	got = e.lookup(t, ids...)
	for i := range ids {
		if in := got[i] != nil; in != (i == 3 || i == 15) {
			t.Errorf("batch identifier %d: found %v", i, got[i])
		}
	}
}

// TestBucketPadding checks that buckets with different numbers of real
// entries give the same entry count and the same byte length, that dummies
// sort among the real entries, and that a bucket's bytes are stable.
func TestBucketPadding(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store.PutListing(ctx, storetest.NewListing("a-rather-long-listing-id-to-weigh-in-bytes")); err != nil {
		t.Fatal(err)
	}
	// Real counts 0, 1, 7 and 20 in four buckets. The suffixes are random,
	// as VOPRF outputs are: storetest.Exposure's ASCII-digit suffixes all
	// sort below about three quarters of the random dummies, so the 20 real
	// entries of 3333 would sit together at the start in 1 run of 20.
	var batch []khabardar.Exposure
	for i, p := range []string{"1111", "2222", "3333"} {
		n := []int{1, 7, 20}[i]
		for j, x := range storetest.RandomExposures(n, identifier.Kinds[0]) {
			x.Prefix, x.Kind = p, identifier.Kinds[j%3]
			batch = append(batch, x)
		}
	}
	if _, err := e.store.AddExposures(ctx, "a-rather-long-listing-id-to-weigh-in-bytes", batch); err != nil {
		t.Fatal(err)
	}
	e.srv.padding.Store(nil)

	var size, count int
	for _, p := range []string{"0000", "1111", "2222", "3333"} {
		r := e.get("/v1/buckets/" + p)
		b := decodeBucket(t, r)
		real := 0
		for i, en := range b.Entries {
			if len(en.Listings) > 0 {
				real++
			}
			if i > 0 && en.Suffix <= b.Entries[i-1].Suffix {
				t.Fatalf("bucket %s: entries not sorted by suffix at %d", p, i)
			}
			if len(en.Suffix) != 2*e.layout.SuffixBytes {
				t.Fatalf("bucket %s: suffix of %d hex digits", p, len(en.Suffix))
			}
		}
		if want := map[string]int{"0000": 0, "1111": 1, "2222": 7, "3333": 20}[p]; real != want {
			t.Fatalf("bucket %s: %d real entries, want %d", p, real, want)
		}
		if size == 0 {
			size, count = len(r.body), len(b.Entries)
		}
		if len(r.body) != size || len(b.Entries) != count {
			t.Errorf("bucket %s: %d entries in %d bytes; bucket 0000: %d in %d", p, len(b.Entries), len(r.body), count, size)
		}
		if len(r.body)%512 != 0 {
			t.Errorf("bucket %s: %d bytes, not a multiple of 512", p, len(r.body))
		}
		if p == "3333" {
			// Dummies interleave: the real entries are not all at one end
			// (by chance with probability 2/C(32,12) ≈ 10⁻⁸).
			first, last := -1, -1
			for i, en := range b.Entries {
				if len(en.Listings) > 0 {
					if first < 0 {
						first = i
					}
					last = i
				}
			}
			if first == 0 && last == real-1 || first == len(b.Entries)-real {
				t.Errorf("bucket 3333: real entries are contiguous at an end (%d..%d of %d)", first, last, len(b.Entries))
			}
		}
		if again := e.get("/v1/buckets/" + p); string(again.body) != string(r.body) {
			t.Errorf("bucket %s: two fetches differ", p)
		}
	}
	if count != 32 {
		t.Errorf("an almost empty store pads to %d entries, want 32", count)
	}

	// A bucket over the target holds all its entries, padded to the next
	// multiple of 32 and 512 bytes.
	batch = batch[:0]
	for j := range 40 {
		batch = append(batch, storetest.Exposure("4444", j*104729+3, identifier.Phone))
	}
	e.ingestExposures("a-rather-long-listing-id-to-weigh-in-bytes", batch)
	b := decodeBucket(t, e.get("/v1/buckets/4444"))
	if len(b.Entries) != 64 {
		t.Errorf("a bucket of 40 real entries has %d entries, want 64", len(b.Entries))
	}
}

// ingestExposures adds batch to the store and lets the padding target and
// the bucket cache's TTL run out, so that responses show it.
func (e *env) ingestExposures(listing string, batch []khabardar.Exposure) {
	e.t.Helper()
	if _, err := e.store.AddExposures(context.Background(), listing, batch); err != nil {
		e.t.Fatal(err)
	}
	e.srv.padding.Store(nil)
	e.clock.advance(e.srv.cfg.BucketCacheTTL)
}

// TestBucketCache checks that a replica serves a bucket from its cache for
// BucketCacheTTL after reading it, and the store's new entries after that;
// and that without the cache every request reads the store.
func TestBucketCache(t *testing.T) {
	phone := mustID(t, identifier.Phone, "0300-7654321")
	listed := func(e *env, path string) bool {
		t.Helper()
		b := decodeBucket(t, e.get(path))
		for _, en := range b.Entries {
			if len(en.Listings) > 0 {
				return true
			}
		}
		return false
	}
	add := func(e *env) {
		t.Helper()
		x, err := e.key.Exposure(phone, e.layout)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := e.store.PutListing(ctx, storetest.NewListing("shop")); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.AddExposures(ctx, "shop", []khabardar.Exposure{x}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("cached", func(t *testing.T) {
		e := newEnv(t)
		x, _ := e.key.Exposure(phone, e.layout)
		path := "/v1/buckets/" + x.Prefix
		if listed(e, path) {
			t.Fatal("listed before ingest")
		}
		add(e)
		e.clock.advance(e.srv.cfg.BucketCacheTTL - time.Second)
		if listed(e, path) {
			t.Fatal("a bucket read within its TTL came from the store, not the cache")
		}
		if body := e.scrape(); !strings.Contains(body, `khabardar_bucket_cache_requests_total{result="hit"} 1`) {
			t.Errorf("metrics do not count the hit:\n%s", body)
		}
		e.clock.advance(2 * time.Second)
		if !listed(e, path) {
			t.Fatal("the bucket's new entry is not served after the TTL")
		}
	})
	t.Run("off", func(t *testing.T) {
		e := newEnv(t, func(c *Config, _ *ratelimit.Config) { c.BucketCacheBytes = -1 })
		x, _ := e.key.Exposure(phone, e.layout)
		path := "/v1/buckets/" + x.Prefix
		if listed(e, path) {
			t.Fatal("listed before ingest")
		}
		add(e)
		if !listed(e, path) {
			t.Fatal("without a cache, the bucket's new entry is not served at once")
		}
	})
	t.Run("TTL capped by max-age", func(t *testing.T) {
		e := newEnv(t, func(c *Config, _ *ratelimit.Config) {
			c.BucketMaxAge, c.BucketCacheTTL = 30*time.Second, time.Hour
		})
		if e.srv.cfg.BucketCacheTTL != 30*time.Second {
			t.Errorf("TTL %v with max-age 30s", e.srv.cfg.BucketCacheTTL)
		}
	})
}

// TestPaddingTarget checks the rule's arithmetic on deployment sizes.
func TestPaddingTarget(t *testing.T) {
	e := newEnv(t)
	listing := func(id string, n int64) *khabardar.Listing {
		return &khabardar.Listing{ID: id, Counts: khabardar.Counts{identifier.Phone: n}}
	}
	tests := []struct {
		name    string
		ls      []*khabardar.Listing
		entries int
	}{
		{"empty", nil, 32},
		{"1 M identifiers", []*khabardar.Listing{listing("big", 1_000_000)}, 64},    // μ≈15.3: 15.3+23.4+8 = 46.7
		{"10 M identifiers", []*khabardar.Listing{listing("big", 10_000_000)}, 256}, // μ≈152.6: 152.6+74.1+8 = 234.7
		{"10 M in two listings", []*khabardar.Listing{listing("a", 5e6), listing("b", 5e6)}, 256},
		{"100 M identifiers", []*khabardar.Listing{listing("big", 100_000_000)}, 1792}, // μ≈1525.9: +234.4+8 = 1768.3
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt := e.srv.computeTarget(tt.ls)
			if pt.entries != tt.entries {
				t.Errorf("P = %d, want %d", pt.entries, tt.entries)
			}
			if pt.bytes%512 != 0 || pt.bytes < e.srv.bucketSize(pt.entries) {
				t.Errorf("T = %d for P = %d (%d bytes unpadded)", pt.bytes, pt.entries, e.srv.bucketSize(pt.entries))
			}
			w := 0
			for _, l := range tt.ls {
				w = max(w, len(l.ID)+3)
			}
			if slack := pt.bytes - e.srv.bucketSize(pt.entries); slack < pt.entries*w || slack >= pt.entries*w+512 {
				t.Errorf("T leaves %d bytes for listing IDs, want %d to %d", slack, pt.entries*w, pt.entries*w+511)
			}
		})
	}
}

// TestBucketETag checks caching: a strong ETag, 304 on If-None-Match, and a
// new ETag when the bucket changes.
func TestBucketETag(t *testing.T) {
	e := newEnv(t)
	phone := mustID(t, identifier.Phone, "0300-1234567")
	x, _ := e.key.Exposure(phone, e.layout)
	path := "/v1/buckets/" + x.Prefix

	r := e.get(path)
	etag := r.header.Get("ETag")
	if r.status != 200 || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("%d, ETag %q", r.status, etag)
	}
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		nm := e.get(path, "If-None-Match", inm)
		if nm.status != 304 || len(nm.body) != 0 || nm.header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d, %d bytes, ETag %q", inm, nm.status, len(nm.body), nm.header.Get("ETag"))
		}
	}
	if r := e.get(path, "If-None-Match", `"other"`); r.status != 200 {
		t.Errorf("a stale ETag: %d", r.status)
	}
	// Another replica (or a restart) with the same key and data answers
	// the same bytes under the same ETag.
	other, err := New(e.cfg).App().Test(httptest.NewRequest("GET", path, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	if o := readResponse(t, other); o.header.Get("ETag") != etag || string(o.body) != string(r.body) {
		t.Errorf("a second server answers ETag %s, body equal: %v", o.header.Get("ETag"), string(o.body) == string(r.body))
	}

	e.ingest("shop", phone)
	r2 := e.get(path)
	if r2.header.Get("ETag") == etag {
		t.Fatal("the ETag did not change with the bucket")
	}
	if r := e.get(path, "If-None-Match", etag); r.status != 200 {
		t.Fatalf("the old ETag still matches: %d", r.status)
	}
}

// TestRateLimits checks the headers, 429 with Retry-After, charging by
// element, and that an unreachable limiter fails closed.
func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) {
		rc.Evaluate, rc.Bucket, rc.Listing = "5-H", "2-H", "1-H"
	})
	_, _, els := e.blind(mustID(t, identifier.Phone, "0300-1234567"), mustID(t, identifier.Phone, "0300-1234568"), mustID(t, identifier.Phone, "0300-1234569"))

	r := e.post("/v1/evaluate", e.evaluateBody(els...))
	if r.status != 200 || r.header.Get("X-RateLimit-Limit") != "5" || r.header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("first batch of 3: %d, limit %s, remaining %s", r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
	}
	reset, err := strconv.ParseInt(r.header.Get("X-RateLimit-Reset"), 10, 64)
	if now := time.Now().Unix(); err != nil || reset <= now || reset > now+3600+1 {
		t.Fatalf("X-RateLimit-Reset %q is not a unix time within the hour", r.header.Get("X-RateLimit-Reset"))
	}
	r = e.post("/v1/evaluate", e.evaluateBody(els...))
	if r.status != 429 || r.code() != wire.CodeRateLimited {
		t.Fatalf("second batch of 3 of a 5-element limit: %d %s", r.status, r.body)
	}
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 3601 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if !strings.Contains(string(r.body), "retry after "+strconv.Itoa(ra)+" seconds") {
		t.Errorf("the message does not say when to retry: %s", r.body)
	}
	if r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("remaining %q after a refusal", r.header.Get("X-RateLimit-Remaining"))
	}

	for i, want := range []int{200, 200, 429} {
		if r := e.get("/v1/buckets/abcd"); r.status != want {
			t.Fatalf("bucket request %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := e.get("/v1/listings"); r.status != 200 {
		t.Fatal(r.status)
	}
	if r := e.get("/v1/listings/nope"); r.status != 429 {
		t.Fatalf("second listing request of a 1-request limit: %d", r.status)
	}
	// Unlimited routes stay open.
	for _, p := range []string{"/v1/config", "/healthz", "/v1/openapi.yaml"} {
		if r := e.get(p); r.status != 200 || r.header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("%s: %d, X-RateLimit-Limit %q", p, r.status, r.header.Get("X-RateLimit-Limit"))
		}
	}
	metrics := e.scrape()
	for _, want := range []string{
		`khabardar_rate_limited_total{class="evaluate",scope="client"} 1`,
		`khabardar_rate_limited_total{class="bucket",scope="client"} 1`,
		`khabardar_rate_limited_total{class="listing",scope="client"} 1`,
		`khabardar_evaluated_elements_total 3`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestLimiterDown: a limiter whose Redis is gone refuses with 503, never
// serves unlimited.
func TestLimiterDown(t *testing.T) {
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) {
		rc.Redis = rdb
	})
	_, _, els := e.blind(mustID(t, identifier.Phone, "0300-1234567"))
	if r := e.post("/v1/evaluate", e.evaluateBody(els...)); r.status != 200 {
		t.Fatalf("with Redis up: %d %s", r.status, r.body)
	}
	rdb.Close()
	for _, r := range []response{e.post("/v1/evaluate", e.evaluateBody(els...)), e.get("/v1/buckets/abcd"), e.get("/v1/listings")} {
		if r.status != 503 || r.code() != khabardar.EUNAVAILABLE {
			t.Errorf("with the limiter down: %d %s", r.status, r.body)
		}
	}
	if r := e.post("/v1/evaluate", `{}`); r.status != 400 {
		t.Errorf("a malformed request with the limiter down: %d, want 400 (validation comes first)", r.status)
	}
}

// TestAPIKeys checks that a key's own max batch and rate apply, and that a
// revoked key is refused rather than served as anonymous.
func TestAPIKeys(t *testing.T) {
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) {
		rc.Evaluate = "20-H"
	})
	e.addAPIKey("ak_journalist", "journalist-secret-0123456789", "100-H", 40, false)
	e.addAPIKey("ak_gone", "gone-secret-0123456789", "100-H", 40, true)
	ids := make([]identifier.ID, 30)
	for i := range ids {
		ids[i] = mustID(t, identifier.Phone, fmt.Sprintf("0302-%07d", i))
	}
	_, _, els := e.blind(ids...)
	body := e.evaluateBody(els...)

	if r := e.post("/v1/evaluate", body); r.status != 413 && r.code() != wire.CodeBatchTooLarge {
		t.Fatalf("30 elements anonymously: %d %s", r.status, r.body)
	}
	r := e.post("/v1/evaluate", body, "Authorization", "Bearer journalist-secret-0123456789")
	if r.status != 200 || r.header.Get("X-RateLimit-Limit") != "100" || r.header.Get("X-RateLimit-Remaining") != "70" {
		t.Fatalf("30 elements with a key: %d, limit %s remaining %s: %s", r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"), r.body)
	}
	_, _, many := e.blind(append(ids, ids[:11]...)...)
	if r := e.post("/v1/evaluate", e.evaluateBody(many...), "Authorization", "Bearer journalist-secret-0123456789"); r.code() != wire.CodeBatchTooLarge {
		t.Fatalf("41 elements with a max batch of 40: %d %s", r.status, r.body)
	}
	if r := e.post("/v1/evaluate", body, "Authorization", "Bearer gone-secret-0123456789"); r.status != 401 || !strings.Contains(string(r.body), "revoked") {
		t.Fatalf("a revoked key: %d %s", r.status, r.body)
	}
	// Anonymous quota is the client's own, untouched by the key's use.
	if r := e.post("/v1/evaluate", e.evaluateBody(els[:1]...)); r.header.Get("X-RateLimit-Remaining") != "19" {
		t.Fatalf("anonymous after keyed use: %d, remaining %s", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
	// Without a key store every key is refused.
	e2 := newEnv(t, func(c *Config, rc *ratelimit.Config) { c.APIKeys = nil })
	if r := e2.get("/v1/listings", "Authorization", "Bearer journalist-secret-0123456789"); r.status != 401 {
		t.Fatalf("no key store: %d", r.status)
	}
}

// TestNothingFromRequestsLogged sends requests carrying identifiers' blinded
// elements, bucket prefixes, client addresses and API keys, valid and not,
// and scans the logs and the metrics for every one of them.
func TestNothingFromRequestsLogged(t *testing.T) {
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) {
		rc.Bucket = "2-H"
	})
	base := e.listen()
	phone := mustID(t, identifier.Phone, "0321-7654321")
	e.ingest("shop", phone)
	const secret = "journalist-secret-9f8e7d6c5b4a"
	e.addAPIKey("ak_press", secret, "100-H", 16, false)
	_, _, els := e.blind(phone, mustID(t, identifier.CNIC, "42101-9876543-1"))
	x, _ := e.key.Exposure(phone, e.layout)
	prefixes := []string{x.Prefix, "beef", "c0de", "BEEF", "fade0"}
	ip := "203.0.113.77"

	send := func(method, path, body string, header ...string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readResponse(t, resp)
	}
	send("POST", "/v1/evaluate", e.evaluateBody(els...))
	send("POST", "/v1/evaluate", e.evaluateBody(els...), "Authorization", "Bearer "+secret)
	send("POST", "/v1/evaluate", e.evaluateBody(els[0], "not-an-element-"+els[1][:20]))
	send("POST", "/v1/evaluate", `{"key_id":"`+e.key.ID()+`","blinded":["`+els[0]+`"],"`+els[1]+`":1}`)
	send("POST", "/v1/evaluate", `{"key_id":"`+els[1]+`","blinded":["`+els[0]+`"]}`)
	send("POST", "/v1/evaluate", `{"key_id":"`+els[1]+`"`)
	send("POST", "/v1/evaluate", e.evaluateBody(els...), "Authorization", "Bearer wrong-"+secret)
	for _, p := range prefixes {
		send("GET", "/v1/buckets/"+p, "")
		send("GET", "/v1/buckets/"+p, "", "Authorization", "Bearer "+secret)
	}
	send("GET", "/v1/listings/"+x.Prefix, "")
	send("GET", "/v2/"+x.Prefix, "")
	send("DELETE", "/v1/buckets/"+x.Prefix, "")
	m := e.scrape()

	logs := e.logs.String()
	if !strings.Contains(logs, `"route":"/v1/buckets/:prefix"`) || !strings.Contains(logs, `"status":429`) {
		t.Fatalf("the logs lack the requests:\n%s", logs)
	}
	secrets := map[string]string{
		"client address": ip, "api key": secret, "key hash": hex.EncodeToString(e.key.Keyed("api-key").Sum([]byte(secret))),
		"suffix": hex.EncodeToString(x.Suffix), "canonical": string(phone.Canonical()), "digits": "3217654321",
	}
	for i, el := range els {
		secrets[fmt.Sprintf("blinded %d", i)] = el
		secrets[fmt.Sprintf("blinded %d head", i)] = el[:12]
	}
	for _, p := range prefixes {
		secrets["prefix "+p] = p
		secrets["path "+p] = "/" + p
	}
	for what, s := range secrets {
		for name, text := range map[string]string{"logs": logs, "metrics": m} {
			if strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
				t.Errorf("the %s hold the %s %q", name, what, s)
			}
		}
	}
}

// TestMetrics checks the request metrics by route pattern.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.get("/v1/buckets/abcd")
	e.get("/v1/buckets/zz")
	e.get("/nowhere")
	m := e.scrape()
	for _, want := range []string{
		`khabardar_http_requests_total{method="GET",route="/v1/buckets/:prefix",status="200"} 1`,
		`khabardar_http_requests_total{method="GET",route="/v1/buckets/:prefix",status="400"} 1`,
		`khabardar_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`khabardar_http_request_duration_seconds_bucket{route="/v1/buckets/:prefix",le="+Inf"} 2`,
		`khabardar_bucket_padding_entries 32`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Two servers in one process have registries of their own.
	if m2 := newEnv(t).scrape(); strings.Contains(m2, `route="/v1/buckets/:prefix"`) {
		t.Error("a second server shares the first one's metrics")
	}
}

// TestOpenAPI checks that the served contract parses, lists every route and
// every error code of statusOf.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t)
	r := e.get("/v1/openapi.yaml")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI    string                    `yaml:"openapi"`
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string `yaml:"enum"`
								} `yaml:"code"`
							} `yaml:"properties"`
						} `yaml:"error"`
					} `yaml:"properties"`
				} `yaml:"Error"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	// With the SMS webhooks on, so that their routes are checked too.
	svc, err := sms.New(sms.Config{Store: e.store, Key: e.key, Layout: e.layout, Limiter: e.limiter, SiteURL: "khabardar.pk"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.SMS, cfg.SMSGateways = svc, []sms.Gateway{&sms.Twilio{AuthToken: "t", PublicURL: "https://khabardar.pk"}, &sms.Kannel{Secret: "s"}}
	for _, route := range New(cfg).App().GetRoutes(true) {
		if route.Method == "HEAD" || route.Path == "/" {
			continue
		}
		path := wire.OpenAPIPath(route.Path)
		if _, ok := doc.Paths[path][strings.ToLower(route.Method)]; !ok {
			t.Errorf("openapi.yaml lacks %s %s", route.Method, path)
		}
		if !slices.Contains(wire.Routes, route.Path) {
			t.Errorf("the server serves %s, which package wire does not list", route.Path)
		}
	}
	// Package wire, openapi.yaml and the server agree on the routes and on
	// the error codes.
	for _, route := range wire.Routes {
		if _, ok := doc.Paths[wire.OpenAPIPath(route)]; !ok {
			t.Errorf("openapi.yaml lacks wire's route %s", wire.OpenAPIPath(route))
		}
	}
	for path := range doc.Paths {
		if !slices.ContainsFunc(wire.Routes, func(r string) bool { return wire.OpenAPIPath(r) == path }) {
			t.Errorf("openapi.yaml's path %s is not a route of package wire", path)
		}
	}
	codes := doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum
	for code := range statusOf {
		if !slices.Contains(codes, code) {
			t.Errorf("openapi.yaml's error codes lack %s", code)
		}
		if !slices.Contains(wire.Codes, code) {
			t.Errorf("statusOf maps %s, which package wire does not list", code)
		}
	}
	for _, code := range wire.Codes {
		if _, ok := statusOf[code]; !ok {
			t.Errorf("wire's error code %s has no status in statusOf", code)
		}
	}
	for _, code := range codes {
		if !slices.Contains(wire.Codes, code) {
			t.Errorf("openapi.yaml's error code %s is not in package wire", code)
		}
	}
}

// TestReadyz: 503 when the store is closed.
func TestReadyz(t *testing.T) {
	e := newEnv(t)
	if r := e.get("/readyz"); r.status != 200 {
		t.Fatal(r.status)
	}
	e.store.Close()
	if r := e.get("/readyz"); r.status != 503 || r.code() != khabardar.EUNAVAILABLE {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestConfigAndListings checks the unchanged read endpoints.
func TestConfigAndListings(t *testing.T) {
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) { c.MaxBatch = 8 })
	e.ingest("shop", mustID(t, identifier.Phone, "0300-1234567"), mustID(t, identifier.CNIC, "35202-1234567-1"))
	var cfg map[string]any
	json.Unmarshal(e.get("/v1/config").body, &cfg)
	for k, v := range map[string]any{"suite": "ristretto255-SHA512", "mode": "voprf", "key_id": e.key.ID(),
		"public_key": base64.RawURLEncoding.EncodeToString(e.key.PublicKey()), "fingerprint": e.key.Fingerprint(),
		"bucket_bits": 16.0, "suffix_bytes": 8.0, "max_batch": 8.0} {
		if cfg[k] != v {
			t.Errorf("config %s = %v, want %v", k, cfg[k], v)
		}
	}
	r := e.get("/v1/listings/shop")
	var l khabardar.Listing
	if r.status != 200 || json.Unmarshal(r.body, &l) != nil || l.Counts != (khabardar.Counts{identifier.CNIC: 1, identifier.Phone: 1}) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := e.get("/v1/listings/absent"); r.status != 404 || strings.Contains(string(r.body), "absent") {
		t.Fatalf("absent listing: %d %s", r.status, r.body)
	}
	for _, h := range []string{"Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if r.header.Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
	if r := e.do(httptest.NewRequest("HEAD", "/v1/config", nil)); r.status != 200 {
		t.Errorf("HEAD /v1/config: %d", r.status)
	}
}

// TestMethodOfOutlivesRequest: methodOf's result keys the metrics' series
// map and labels, so it must not point into the request's buffer, which
// fasthttp reuses (a load test crashed the server's sync.Map this way).
func TestMethodOfOutlivesRequest(t *testing.T) {
	e := newEnv(t)
	var rc fasthttp.RequestCtx
	rc.Request.Header.SetMethod("GET")
	c := e.srv.App().AcquireCtx(&rc)
	defer e.srv.App().ReleaseCtx(c)
	m := methodOf(c)
	rc.Request.Header.SetMethod("PUT") // same length: rewritten in place
	if m != "GET" {
		t.Fatalf("methodOf's result changed with the request buffer: %q", m)
	}
}

// TestScopeWords: every scope the limiter refuses with has its own metric
// label and words; an unknown one is "other", never the raw value.
func TestScopeWords(t *testing.T) {
	for _, tc := range []struct{ scope, label, text string }{
		{ratelimit.ScopeClient, "client", "this client's"},
		{ratelimit.ScopeNetwork, "network", "this network's"},
		{ratelimit.ScopeKey, "key", "this API key's"},
		{ratelimit.ScopeGlobal, "global", "the service's daily"},
		{"sender", "other", "this client's"},
	} {
		t.Run(tc.scope, func(t *testing.T) {
			if got := scopeLabel(tc.scope); got != tc.label {
				t.Errorf("scopeLabel = %q, want %q", got, tc.label)
			}
			if got := scopeText(tc.scope); got != tc.text {
				t.Errorf("scopeText = %q, want %q", got, tc.text)
			}
		})
	}
}
