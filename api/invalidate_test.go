package api

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/storetest"
)

// longCache keeps buckets in the cache for an hour, so that only an
// invalidation can make a test see the store's new entries.
func longCache(c *Config, _ *ratelimit.Config) {
	c.BucketMaxAge, c.BucketCacheTTL = 2*time.Hour, time.Hour
}

// listedIn reports whether any real entry of the bucket at path names a
// listing.
func listedIn(t *testing.T, e *env, path string) bool {
	t.Helper()
	for _, en := range decodeBucket(t, e.get(path)).Entries {
		if len(en.Listings) > 0 {
			return true
		}
	}
	return false
}

// addToStore writes x to listing "shop" in the store behind the server's
// back, as the admin socket does.
func addToStore(t *testing.T, e *env, x khabardar.Exposure) {
	t.Helper()
	ctx := context.Background()
	if err := e.store.PutListing(ctx, storetest.NewListing("shop")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddExposures(ctx, "shop", []khabardar.Exposure{x}); err != nil {
		t.Fatal(err)
	}
}

// TestInvalidateBuckets checks that a bucket cached before an ingest is
// served stale until InvalidateBuckets names it (or all buckets), and then
// fresh at once, whatever its TTL.
func TestInvalidateBuckets(t *testing.T) {
	phone := mustID(t, identifier.Phone, "0300-7654321")
	tests := []struct {
		name       string
		invalidate func(s *Server, prefix string)
		fresh      bool
	}{
		{"no invalidation", func(*Server, string) {}, false},
		{"another prefix", func(s *Server, p string) { s.InvalidateBuckets(otherPrefix(p)) }, false},
		{"its prefix", func(s *Server, p string) { s.InvalidateBuckets(p) }, true},
		{"its prefix among others", func(s *Server, p string) { s.InvalidateBuckets(otherPrefix(p), p) }, true},
		{"all", func(s *Server, _ string) { s.InvalidateBuckets() }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, longCache)
			x, err := e.key.Exposure(phone, e.layout)
			if err != nil {
				t.Fatal(err)
			}
			path := "/v1/buckets/" + x.Prefix
			if listedIn(t, e, path) { // fills the cache
				t.Fatal("listed before ingest")
			}
			addToStore(t, e, x)
			e.clock.advance(time.Minute) // well within the TTL
			tt.invalidate(e.srv, x.Prefix)
			if got := listedIn(t, e, path); got != tt.fresh {
				t.Fatalf("after ingest, listed = %v, want %v", got, tt.fresh)
			}
		})
	}
	t.Run("no cache", func(t *testing.T) {
		e := newEnv(t, func(c *Config, _ *ratelimit.Config) { c.BucketCacheBytes = -1 })
		e.srv.InvalidateBuckets()
		e.srv.InvalidateBuckets("abcd")
		x, _ := e.key.Exposure(phone, e.layout)
		addToStore(t, e, x)
		if !listedIn(t, e, "/v1/buckets/"+x.Prefix) {
			t.Fatal("not listed without a cache")
		}
	})
}

// gatedStore returns each Bucket's entries as read from the store, but
// only once the test lets it: a load in flight across an ingest.
type gatedStore struct {
	khabardar.Store
	mu      sync.Mutex
	read    chan struct{} // closed once a gated Bucket has read the store
	release chan struct{}
}

func (g *gatedStore) gate() (read, release chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.read, g.release = make(chan struct{}), make(chan struct{})
	return g.read, g.release
}

func (g *gatedStore) Bucket(ctx context.Context, prefix string) ([]khabardar.Entry, error) {
	entries, err := g.Store.Bucket(ctx, prefix)
	g.mu.Lock()
	read, release := g.read, g.release
	g.read, g.release = nil, nil
	g.mu.Unlock()
	if read != nil {
		close(read)
		<-release
	}
	return entries, err
}

// TestInvalidateBucketsLoadInFlight checks that a bucket read from the store
// before an ingest but cached after its invalidation is not served after
// it. (The request that began the read may get either view.)
func TestInvalidateBucketsLoadInFlight(t *testing.T) {
	phone := mustID(t, identifier.Phone, "0300-7654321")
	for _, all := range []bool{false, true} {
		name := map[bool]string{false: "its prefix", true: "all"}[all]
		t.Run(name, func(t *testing.T) {
			var gs *gatedStore
			e := newEnv(t, longCache, func(c *Config, _ *ratelimit.Config) {
				gs = &gatedStore{Store: c.Store}
				c.Store = gs
			})
			x, _ := e.key.Exposure(phone, e.layout)
			path := "/v1/buckets/" + x.Prefix
			e.get("/v1/buckets/" + otherPrefix(x.Prefix)) // computes the padding target first
			read, release := gs.gate()
			done := make(chan struct{})
			go func() { defer close(done); e.get(path) }()
			<-read // the load has the old bucket
			addToStore(t, e, x)
			if all {
				e.srv.InvalidateBuckets()
			} else {
				e.srv.InvalidateBuckets(x.Prefix)
			}
			close(release)
			<-done
			if !listedIn(t, e, path) {
				t.Fatal("the load begun before the invalidation was served after it")
			}
		})
	}
}

// TestInvalidateListings checks that the padding target follows the
// listings at the next bucket request, not PaddingRefresh later: a listing
// with a long ID widens every response's room for listing IDs.
func TestInvalidateListings(t *testing.T) {
	e := newEnv(t, longCache, func(c *Config, _ *ratelimit.Config) { c.PaddingRefresh = time.Hour })
	e.get("/v1/buckets/0000")
	before := *e.srv.padding.Load()
	const long = "a-listing-whose-id-is-long-enough-to-widen-every-bucket-response"
	ctx := context.Background()
	if err := e.store.PutListing(ctx, storetest.NewListing(long)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddExposures(ctx, long, []khabardar.Exposure{storetest.Exposure("abcd", 1, identifier.CNIC)}); err != nil {
		t.Fatal(err)
	}
	e.get("/v1/buckets/0000")
	if *e.srv.padding.Load() != before {
		t.Fatal("the padding target changed before PaddingRefresh without InvalidateListings")
	}
	e.srv.InvalidateListings()
	e.get("/v1/buckets/0000")
	if after := *e.srv.padding.Load(); after.bytes <= before.bytes {
		t.Fatalf("padding target %d bytes with a %d-byte listing ID, was %d", after.bytes, len(long), before.bytes)
	}
}

// otherPrefix is a prefix of the same length that is not p.
func otherPrefix(p string) string {
	if p[0] == '0' {
		return "1" + p[1:]
	}
	return "0" + p[1:]
}
