package sms

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/logtest"
	"github.com/khabardar/khabardar/ratelimit"
)

// testSite is the longest site address replies allow, as configured.
const testSite = longestSite

// testKey is one server key for the whole test binary: generating one
// derives a VOPRF key, which is cheap, but a shared one keeps runs alike.
var testKey = func() *hashing.Key {
	k, err := hashing.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
}()

// env is a Service on a real store with real hashing.
type env struct {
	t       testing.TB
	svc     *Service
	cfg     Config
	store   khabardar.Store
	dir     string // the embedded store's directory; "" on Redis
	logs    *logtest.Buffer
	limiter *ratelimit.Limiter
}

// generous limits, so that tests not about limits never meet them.
var generous = ratelimit.Config{SMSSender: "100000-H", SMSGateway: "1000000-H"}

// newEnv builds a Service on an embedded store in a temporary directory;
// edit may change its config (store included) before New.
func newEnv(t testing.TB, rc ratelimit.Config, edit ...func(*Config)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, dir: dir}
	e.init(st, rc, edit...)
	return e
}

// init binds store to the test layout and builds the Service on it.
func (e *env) init(st khabardar.Store, rc ratelimit.Config, edit ...func(*Config)) {
	e.t.Helper()
	layout := khabardar.Layout{KeyID: testKey.ID(), BucketBits: 16, SuffixBytes: 8}
	if err := st.Init(context.Background(), layout); err != nil {
		e.t.Fatal(err)
	}
	lim, err := ratelimit.New(rc, testKey.Keyed("ip"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.logs = &logtest.Buffer{}
	e.cfg = Config{
		Store: st, Key: testKey, Layout: layout, Limiter: lim, SiteURL: testSite,
		Log: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range edit {
		f(&e.cfg)
	}
	if e.svc, err = New(e.cfg); err != nil {
		e.t.Fatal(err)
	}
	e.store, e.limiter = st, lim
}

// listing returns a valid listing offering categories.
func listing(id string, categories ...string) *khabardar.Listing {
	l := &khabardar.Listing{
		ID: id, Title: "Listing " + id, Source: khabardar.Source{Kind: "whatsapp"},
		FirstSeen: khabardar.Date{Time: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}, Status: "active",
	}
	for _, c := range categories {
		l.Categories = append(l.Categories, khabardar.Category{Category: c, PricePKR: 500})
	}
	return l
}

// ingest stores the identifiers in listing l (creating or replacing it) the
// way ingest does: hashing.Key.Exposure, then AddExposures.
func (e *env) ingest(l *khabardar.Listing, ids ...identifier.ID) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.store.PutListing(ctx, l); err != nil {
		e.t.Fatal(err)
	}
	batch := make([]khabardar.Exposure, len(ids))
	for i, id := range ids {
		x, err := testKey.Exposure(id, e.cfg.Layout)
		if err != nil {
			e.t.Fatal(err)
		}
		batch[i] = x
	}
	if _, err := e.store.AddExposures(ctx, l.ID, batch); err != nil {
		e.t.Fatal(err)
	}
}

// send handles a message through the twilio gateway.
func (e *env) send(from, body string) (Reply, error) {
	e.t.Helper()
	return e.svc.Handle(context.Background(), Message{Gateway: "twilio", From: from, Body: body})
}

// mustSend handles a message and fails the test on an error.
func (e *env) mustSend(from, body string) Reply {
	e.t.Helper()
	r, err := e.send(from, body)
	if err != nil {
		e.t.Fatalf("Handle: %v", err)
	}
	return r
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := khabardar.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// notFound is the reply in t to an identifier of kind k in none of the
// store's listings as they are now: the empty-catalogue reply if none can
// answer "found".
func (e *env) notFound(t *texts, k identifier.Kind) string {
	e.t.Helper()
	ls, err := e.store.Listings(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	cat := khabardar.Summarize(ls)
	if cat.Empty() {
		return t.noListings(SiteAddress(testSite))
	}
	return t.notFoundText(k, cat, SiteAddress(testSite))
}
