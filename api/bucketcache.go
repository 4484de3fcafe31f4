package api

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/maypok86/otter/v2"

	"github.com/khabardar/khabardar"
)

// bucketView is one bucket's real entries as the bucket cache holds them:
// compact (about 26 bytes an entry with 8-byte suffixes, against some 70 for
// []khabardar.Entry), so that the buckets of a few million identifiers fit
// in the default budget.
type bucketView struct {
	prefix   string
	suffixes []byte   // entry i's suffix is suffixes[i*sb:(i+1)*sb]; sorted
	ends     []uint32 // entry i lists ids[ends[i-1]:ends[i]]
	ids      []string // listing IDs: the store's strings, shared between buckets
	sb       int
	gen      uint64 // Server.bucketGen when the load began

	// padded memoizes what depends on the padding target as well: the
	// target changes when listings' counts move, the entries do not.
	padded atomic.Pointer[paddedView]
}

// paddedView is what a bucket's response adds to its entries under one
// padding target.
type paddedView struct {
	target  *padTarget
	etag    string
	dummies []byte // sorted, distinct from each other and the real suffixes
}

func newBucketView(prefix string, entries []khabardar.Entry, sb int) *bucketView {
	v := &bucketView{prefix: prefix, sb: sb,
		suffixes: make([]byte, 0, len(entries)*sb), ends: make([]uint32, 0, len(entries))}
	n := 0
	for _, e := range entries {
		n += len(e.Listings)
	}
	v.ids = make([]string, 0, n)
	for _, e := range entries {
		v.suffixes = append(v.suffixes, e.Suffix...)
		v.ids = append(v.ids, e.Listings...)
		v.ends = append(v.ends, uint32(len(v.ids)))
	}
	return v
}

func (v *bucketView) suffix(i int) []byte { return v.suffixes[i*v.sb : (i+1)*v.sb] }

func (v *bucketView) listings(i int) []string {
	start := uint32(0)
	if i > 0 {
		start = v.ends[i-1]
	}
	return v.ids[start:v.ends[i]]
}

// weight is the bytes v takes on the heap once padded to entries: its
// slices, and some 360 bytes of structs and cache node (measured with
// BenchmarkBucketParts/cache-size).
func (v *bucketView) weight(entries int) uint32 {
	dummies := max(entries-len(v.ends), 0) * v.sb
	return uint32(360 + len(v.prefix) + len(v.suffixes) + 4*len(v.ends) + 16*len(v.ids) + dummies)
}

// pad returns v's ETag and dummies under target t, computing them the first
// time.
func (v *bucketView) pad(s *Server, t *padTarget) *paddedView {
	if p := v.padded.Load(); p != nil && p.target == t {
		return p
	}
	p := &paddedView{target: t, etag: s.computeETag(v, t)}
	p.dummies = s.dummies(nil, v, max(t.entries, roundUp(len(v.ends), 32))-len(v.ends), new(scratch))
	v.padded.Store(p)
	return p
}

// bucketView returns the bucket under prefix: from the cache when it holds
// it, else from the store (errors are the store's). Concurrent misses of one
// bucket make one store read. A view loaded before the last
// InvalidateBuckets() is not served: it is loaded again.
func (s *Server) bucketView(ctx context.Context, prefix string) (*bucketView, error) {
	if s.buckets == nil {
		return s.loadBucket(ctx, prefix)
	}
	if v, ok := s.buckets.GetIfPresent(prefix); ok {
		if v.gen == s.bucketGen.Load() {
			s.metrics.bucketCache.hit.Inc()
			return v, nil
		}
		s.buckets.Invalidate(prefix)
	}
	s.metrics.bucketCache.miss.Inc()
	for range 3 {
		v, err := s.buckets.Get(ctx, prefix, s.bucketLoader)
		if err != nil || v.gen == s.bucketGen.Load() {
			return v, err
		}
		// Joined a load that began before InvalidateBuckets(), which
		// otter's InvalidateAll does not cancel.
		s.buckets.Invalidate(prefix)
	}
	return s.loadBucket(ctx, prefix) // invalidated all the while: read past the cache
}

func (s *Server) loadBucket(ctx context.Context, prefix string) (*bucketView, error) {
	gen := s.bucketGen.Load() // before the read: a view is never newer than its gen says
	entries, err := s.cfg.Store.Bucket(ctx, prefix)
	if err != nil {
		return nil, err
	}
	v := newBucketView(prefix, entries, s.cfg.Layout.SuffixBytes)
	v.gen = gen
	return v, nil
}

// InvalidateBuckets drops the buckets under prefixes from the bucket cache,
// or with no prefix every bucket, so that the next request for one reads the
// store. A process that writes the store (the admin socket, adminsock) calls
// it after each write, and lookups see an ingest at once instead of after
// BucketCacheTTL. A load in flight is not served afterwards either: otter
// discards it for a prefix, the generation check in bucketView for all.
// Without a cache it does nothing.
func (s *Server) InvalidateBuckets(prefixes ...string) {
	if s.buckets == nil {
		return
	}
	if len(prefixes) == 0 {
		s.bucketGen.Add(1)
		s.buckets.InvalidateAll()
		return
	}
	for _, p := range prefixes {
		s.buckets.Invalidate(p)
	}
}

// InvalidateListings makes the next bucket request recompute the padding
// target from the listings' counts rather than wait for PaddingRefresh, so
// that buckets are padded for the catalogue as it now is. Call it after a
// listing's counts or ID set changed (adminsock's OnListings).
func (s *Server) InvalidateListings() { s.paddingAt.Store(0) }

// newBucketCache returns the cache of bucketViews, or nil if cfg turns it
// off. Entries live BucketCacheTTL after they are read from the store: that
// bounds how long a replica serves a bucket from before an ingest.
func (s *Server) newBucketCache() *otter.Cache[string, *bucketView] {
	cfg := s.cfg
	if cfg.BucketCacheBytes < 0 {
		return nil
	}
	return otter.Must(&otter.Options[string, *bucketView]{
		MaximumWeight: uint64(cfg.BucketCacheBytes),
		Weigher: func(_ string, v *bucketView) uint32 {
			entries := 0
			if t := s.padding.Load(); t != nil {
				entries = t.entries
			}
			return v.weight(entries)
		},
		ExpiryCalculator: otter.ExpiryWriting[string, *bucketView](cfg.BucketCacheTTL),
		Clock:            cfg.clock,
	})
}

// scratch is working memory for bucket responses, pooled.
type scratch struct {
	body []byte
	keys []uint64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}
