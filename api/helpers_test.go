package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/logtest"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/storetest"
	"github.com/khabardar/khabardar/wire"
)

// testLayout is the default deployment's layout; the key id is filled in.
var testLayout = khabardar.Layout{BucketBits: 16, SuffixBytes: 8}

// env is a server on a real embedded store in a temporary directory.
type env struct {
	t       testing.TB
	srv     *Server
	store   *boltstore.Store
	key     *hashing.Key
	layout  khabardar.Layout
	logs    *logtest.Buffer
	limiter *ratelimit.Limiter
	clock   *fakeClock // the bucket cache's
	cfg     Config     // what srv was built with
}

// fakeClock is a bucket cache clock that moves only when told.
type fakeClock struct{ now atomic.Int64 }

func (c *fakeClock) NowNano() int64                      { return c.now.Load() }
func (c *fakeClock) Tick(time.Duration) <-chan time.Time { return nil } // no proactive expiry: reads check
func (c *fakeClock) advance(d time.Duration)             { c.now.Add(int64(d)) }

// newEnv builds a server with generous rate limits (so tests that are not
// about limits never meet them); edit changes its config before New.
func newEnv(t testing.TB, edit ...func(*Config, *ratelimit.Config)) *env {
	t.Helper()
	key, err := hashing.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	layout := testLayout
	layout.KeyID = key.ID()
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Init(context.Background(), layout); err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	clock := &fakeClock{}
	clock.now.Store(time.Now().UnixNano())
	cfg := Config{
		Store: st, APIKeys: st, Key: key, Layout: layout, MaxBatch: 16,
		Log:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), // every line, for the privacy scans
		clock: clock,
	}
	rc := ratelimit.Config{Evaluate: "1000000-H", Bucket: "1000000-H", Listing: "1000000-H", GlobalEvaluate: "100000000-D"}
	for _, f := range edit {
		f(&cfg, &rc)
	}
	if cfg.Limiter == nil {
		if cfg.Limiter, err = ratelimit.New(rc, key.Keyed("ip")); err != nil {
			t.Fatal(err)
		}
	}
	return &env{t: t, srv: New(cfg), store: st, key: key, layout: layout, logs: logs, limiter: cfg.Limiter, clock: clock, cfg: cfg}
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   []byte
}

// code is the error code of an error body, "" for any other body.
func (r response) code() string {
	var e wire.ErrorBody
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a request through the fiber app in process.
func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func (e *env) get(path string, header ...string) response {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return e.do(req)
}

func (e *env) post(path, body string, header ...string) response {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

// evaluateBody is a well-formed evaluation request for the env's key.
func (e *env) evaluateBody(elements ...string) string {
	if elements == nil {
		elements = []string{}
	}
	b, _ := json.Marshal(map[string]any{"key_id": e.key.ID(), "blinded": elements})
	return string(b)
}

// blind blinds the identifiers for the env's key and returns the client's
// state and the elements in base64url.
func (e *env) blind(ids ...identifier.ID) (*hashing.Client, *hashing.Blinded, []string) {
	e.t.Helper()
	c, err := hashing.NewClient(e.key.PublicKey())
	if err != nil {
		e.t.Fatal(err)
	}
	bl, err := c.Blind(ids)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(bl.Elements))
	for i, el := range bl.Elements {
		out[i] = base64.RawURLEncoding.EncodeToString(el)
	}
	return c, bl, out
}

// ingest stores the identifiers in listing id (creating it) the way ingest
// does: hashing.Key.Exposure, then AddExposures.
func (e *env) ingest(listing string, ids ...identifier.ID) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.store.Listing(ctx, listing); err != nil {
		if err := e.store.PutListing(ctx, storetest.NewListing(listing)); err != nil {
			e.t.Fatal(err)
		}
	}
	batch := make([]khabardar.Exposure, len(ids))
	for i, id := range ids {
		x, err := e.key.Exposure(id, e.layout)
		if err != nil {
			e.t.Fatal(err)
		}
		batch[i] = x
	}
	if _, err := e.store.AddExposures(ctx, listing, batch); err != nil {
		e.t.Fatal(err)
	}
	e.srv.padding.Store(nil) // recompute the padding target from the new counts
}

// addAPIKey stores an API key with the given secret and returns it.
func (e *env) addAPIKey(id, secret, rate string, maxBatch int, revoked bool) *khabardar.APIKey {
	e.t.Helper()
	k := &khabardar.APIKey{
		ID: id, Name: "holder of " + id, Hash: e.key.Keyed("api-key").Sum([]byte(secret)),
		Rate: rate, MaxBatch: maxBatch, Created: time.Now().UTC().Truncate(time.Second),
	}
	ctx := context.Background()
	if err := e.store.PutAPIKey(ctx, k); err != nil {
		e.t.Fatal(err)
	}
	if revoked {
		if err := e.store.RevokeAPIKey(ctx, id); err != nil {
			e.t.Fatal(err)
		}
	}
	return k
}

func mustID(t testing.TB, kind identifier.Kind, raw string) identifier.ID {
	t.Helper()
	id, err := identifier.Parse(kind, identifier.Raw(raw))
	if err != nil {
		t.Fatalf("parse test identifier %d: %v", kind, err)
	}
	return id
}

// evaluateResponse is a decoded POST /v1/evaluate answer.
type evaluateResponse struct {
	KeyID     string   `json:"key_id"`
	Evaluated []string `json:"evaluated"`
	Proof     string   `json:"proof"`
}

// bucketBody is a decoded bucket response.
type bucketBody struct {
	KeyID   string `json:"key_id"`
	Prefix  string `json:"prefix"`
	Entries []struct {
		Suffix   string   `json:"suffix"`
		Listings []string `json:"listings"`
	} `json:"entries"`
	Padding string `json:"padding"`
}

func decodeBucket(t testing.TB, r response) bucketBody {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("bucket: %d %s", r.status, r.body)
	}
	var b bucketBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("bucket body: %v", err)
	}
	return b
}

// listen serves the env's server on a loopback port until the test ends and
// returns its base URL.
func (e *env) listen() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go e.srv.Serve(ln)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

func readResponse(t testing.TB, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// scrape reads the server's metrics as Prometheus does, from
// MetricsHandler (serve puts it on a listener of its own).
func (e *env) scrape() string {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != 200 {
		e.t.Fatalf("metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

// closedStore is a store that was bound to e's layout and closed: every
// call answers EUNAVAILABLE, as a store that cannot be reached does.
func (e *env) closedStore(t *testing.T) *boltstore.Store {
	t.Helper()
	down, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Init(context.Background(), e.layout); err != nil {
		t.Fatal(err)
	}
	down.Close()
	return down
}

// withSMS is e serving SMS through gateways, remembering answered messages
// in seen, with replies naming the site public.
func (e *env) withSMS(t *testing.T, seen khabardar.ReplayStore, public string, gateways ...sms.Gateway) *env {
	t.Helper()
	svc, err := sms.New(sms.Config{Store: e.store, Seen: seen, Key: e.key, Layout: e.layout, Limiter: e.limiter, SiteURL: public, Log: e.cfg.Log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.SMS, cfg.SMSGateways = svc, gateways
	return &env{t: t, srv: New(cfg), cfg: cfg}
}
