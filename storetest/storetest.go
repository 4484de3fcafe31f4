// Package storetest is the contract every khabardar.Store passes. An adapter's
// tests call Run with a constructor that returns a fresh, empty store.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// Layout is the layout the suite binds stores to.
var Layout = khabardar.Layout{KeyID: "test-key", BucketBits: 16, SuffixBytes: 8}

// Run runs the contract. newStore returns a fresh, empty, not yet Init'ed
// store; the suite closes it.
func Run(t *testing.T, newStore func(t *testing.T) khabardar.Store) {
	open := func(t *testing.T) khabardar.Store {
		t.Helper()
		s := newStore(t)
		t.Cleanup(func() { s.Close() })
		if err := s.Init(context.Background(), Layout); err != nil {
			t.Fatalf("Init: %v", err)
		}
		return s
	}
	t.Run("Init", func(t *testing.T) { testInit(t, newStore) })
	t.Run("Listings", func(t *testing.T) { testListings(t, open(t)) })
	t.Run("ListingFlags", func(t *testing.T) { testListingFlags(t, open(t)) })
	t.Run("AddExposures", func(t *testing.T) { testAddExposures(t, open(t)) })
	t.Run("Bucket", func(t *testing.T) { testBucket(t, open(t)) })
	t.Run("RemoveListing", func(t *testing.T) { testRemove(t, open(t)) })
	t.Run("Recount", func(t *testing.T) { testRecount(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("APIKeys", func(t *testing.T) { testAPIKeys(t, open(t)) })
	t.Run("Prefs", func(t *testing.T) { testPrefs(t, newStore, open(t)) })
	t.Run("Replay", func(t *testing.T) { testReplay(t, newStore, open(t)) })
	t.Run("Alerts", func(t *testing.T) { testAlerts(t, open(t)) })
	t.Run("AlertCodes", func(t *testing.T) { testAlertCodes(t, open(t)) })
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// NewListing returns a valid listing with the given ID.
func NewListing(id string) *khabardar.Listing {
	first, _ := time.Parse("2006-01-02", "2025-10-01")
	return &khabardar.Listing{
		ID:         id,
		Title:      "Listing " + id,
		Source:     khabardar.Source{Kind: "website", URL: "https://example.org/" + id},
		FirstSeen:  khabardar.Date{Time: first},
		Status:     "active",
		Categories: []khabardar.Category{{Category: "location", PricePKR: 500}, {Category: "cdr", PricePKR: 3500}},
	}
}

// Exposure returns an exposure in bucket prefix with a suffix made from n.
func Exposure(prefix string, n int, k identifier.Kind) khabardar.Exposure {
	suffix := make([]byte, Layout.SuffixBytes)
	copy(suffix, fmt.Sprintf("%08d", n))
	return khabardar.Exposure{Prefix: prefix, Suffix: suffix, Kind: k}
}

// RandomExposures returns n exposures spread over random buckets.
func RandomExposures(n int, k identifier.Kind) []khabardar.Exposure {
	out := make([]khabardar.Exposure, n)
	for i := range out {
		b := make([]byte, Layout.BucketBits/8+Layout.SuffixBytes)
		rand.Read(b)
		out[i] = khabardar.Exposure{Prefix: hex.EncodeToString(b[:Layout.BucketBits/8]), Suffix: b[Layout.BucketBits/8:], Kind: k}
	}
	return out
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := khabardar.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

func mustPut(t *testing.T, s khabardar.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.PutListing(context.Background(), NewListing(id)); err != nil {
			t.Fatalf("PutListing(%s): %v", id, err)
		}
	}
}

func mustAdd(t *testing.T, s khabardar.Store, id string, batch []khabardar.Exposure) khabardar.Counts {
	t.Helper()
	c, err := s.AddExposures(context.Background(), id, batch)
	if err != nil {
		t.Fatalf("AddExposures(%s): %v", id, err)
	}
	return c
}

func counts(t *testing.T, s khabardar.Store, id string) khabardar.Counts {
	t.Helper()
	l, err := s.Listing(context.Background(), id)
	if err != nil {
		t.Fatalf("Listing(%s): %v", id, err)
	}
	return l.Counts
}

func testInit(t *testing.T, newStore func(t *testing.T) khabardar.Store) {
	ctx := context.Background()
	s := newStore(t)
	defer s.Close()
	tests := []struct {
		name   string
		layout khabardar.Layout
		code   string
	}{
		{"invalid bucket bits", khabardar.Layout{KeyID: "k", BucketBits: 10, SuffixBytes: 8}, khabardar.EINVALID},
		{"suffix too short", khabardar.Layout{KeyID: "k", BucketBits: 16, SuffixBytes: 4}, khabardar.EINVALID},
		{"empty key id", khabardar.Layout{BucketBits: 16, SuffixBytes: 8}, khabardar.EINVALID},
		{"binds empty store", Layout, ""},
		{"same layout again", Layout, ""},
		{"other key", khabardar.Layout{KeyID: "other", BucketBits: 16, SuffixBytes: 8}, khabardar.ELAYOUTMISMATCH},
		{"other bucket bits", khabardar.Layout{KeyID: Layout.KeyID, BucketBits: 20, SuffixBytes: 8}, khabardar.ELAYOUTMISMATCH},
		{"other suffix bytes", khabardar.Layout{KeyID: Layout.KeyID, BucketBits: 16, SuffixBytes: 12}, khabardar.ELAYOUTMISMATCH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, "Init", s.Init(ctx, tt.layout), tt.code)
		})
	}
}

func testListings(t *testing.T, s khabardar.Store) {
	ctx := context.Background()
	_, err := s.Listing(ctx, "absent")
	wantCode(t, "Listing(absent)", err, khabardar.ENOTFOUND)
	wantCode(t, "RemoveListing(absent)", s.RemoveListing(ctx, "absent"), khabardar.ENOTFOUND)

	bad := NewListing("bad")
	bad.Status = "sold"
	wantCode(t, "PutListing(invalid)", s.PutListing(ctx, bad), khabardar.EINVALID)

	mustPut(t, s, "zeta", "alpha", "mid")
	got, err := s.Listings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range got {
		ids = append(ids, l.ID)
	}
	if !slices.Equal(ids, []string{"alpha", "mid", "zeta"}) {
		t.Fatalf("Listings order %v", ids)
	}

	// Metadata round-trips, and an update keeps counts.
	mustAdd(t, s, "alpha", []khabardar.Exposure{Exposure("00aa", 1, identifier.Phone)})
	upd := NewListing("alpha")
	upd.Title = "Updated title"
	upd.Verified = true
	upd.References = []string{"https://news.example/story"}
	if err := s.PutListing(ctx, upd); err != nil {
		t.Fatal(err)
	}
	l, err := s.Listing(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if l.Title != "Updated title" || !l.Verified || len(l.References) != 1 || len(l.Categories) != 2 ||
		l.Categories[1].PricePKR != 3500 || l.FirstSeen.String() != "2025-10-01" || l.Source.URL == "" {
		t.Fatalf("listing did not round-trip: %+v", l)
	}
	if l.Counts != (khabardar.Counts{identifier.Phone: 1}) {
		t.Fatalf("update lost counts: %+v", l.Counts)
	}
}

// testListingFlags: every combination of flags a listing may have is kept,
// through Listing and Listings, and an update clears a flag as it sets one
// (an operator un-flagging a listing must not find the flag stuck).
func testListingFlags(t *testing.T, s khabardar.Store) {
	ctx := context.Background()
	mustPut(t, s, "flagged")
	mustAdd(t, s, "flagged", []khabardar.Exposure{Exposure("00ab", 1, identifier.CNIC)})
	tests := []struct {
		name                            string
		verified, fabricated, sensitive bool
	}{
		{"fabricated and sensitive", false, true, true},
		{"verified", true, false, false},
		{"sensitive only", false, false, true},
		{"fabricated only", false, true, false},
		{"none", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewListing("flagged")
			l.Verified, l.Fabricated, l.Sensitive = tt.verified, tt.fabricated, tt.sensitive
			if err := s.PutListing(ctx, l); err != nil {
				t.Fatal(err)
			}
			one, err := s.Listing(ctx, "flagged")
			if err != nil {
				t.Fatal(err)
			}
			all, err := s.Listings(ctx)
			if err != nil || len(all) != 1 {
				t.Fatalf("Listings: %v, %d listings", err, len(all))
			}
			for what, got := range map[string]*khabardar.Listing{"Listing": one, "Listings": all[0]} {
				if got.Verified != tt.verified || got.Fabricated != tt.fabricated || got.Sensitive != tt.sensitive {
					t.Errorf("%s: verified %v, fabricated %v, sensitive %v", what, got.Verified, got.Fabricated, got.Sensitive)
				}
				if got.Counts != (khabardar.Counts{identifier.CNIC: 1}) {
					t.Errorf("%s: flagging changed the counts: %+v", what, got.Counts)
				}
			}
		})
	}
	both := NewListing("flagged")
	both.Verified, both.Fabricated = true, true
	wantCode(t, "PutListing(verified and fabricated)", s.PutListing(ctx, both), khabardar.EINVALID)
}

func testAddExposures(t *testing.T, s khabardar.Store) {
	ctx := context.Background()
	mustPut(t, s, "l1")
	_, err := s.AddExposures(ctx, "absent", []khabardar.Exposure{Exposure("0000", 1, identifier.CNIC)})
	wantCode(t, "AddExposures(absent)", err, khabardar.ENOTFOUND)

	malformed := []struct {
		name string
		e    khabardar.Exposure
	}{
		{"short prefix", khabardar.Exposure{Prefix: "00a", Suffix: make([]byte, 8), Kind: identifier.CNIC}},
		{"uppercase prefix", khabardar.Exposure{Prefix: "00AA", Suffix: make([]byte, 8), Kind: identifier.CNIC}},
		{"short suffix", khabardar.Exposure{Prefix: "00aa", Suffix: make([]byte, 7), Kind: identifier.CNIC}},
		{"unknown kind", khabardar.Exposure{Prefix: "00aa", Suffix: make([]byte, 8), Kind: identifier.Unknown}},
	}
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddExposures(ctx, "l1", []khabardar.Exposure{Exposure("0001", 9, identifier.CNIC), tt.e})
			wantCode(t, "AddExposures", err, khabardar.EINVALID)
		})
	}
	if c := counts(t, s, "l1"); c.Total() != 0 {
		t.Fatalf("a rejected batch was partly stored: %+v", c)
	}

	batch := []khabardar.Exposure{
		Exposure("00aa", 1, identifier.CNIC),
		Exposure("00aa", 2, identifier.Phone),
		Exposure("00aa", 2, identifier.Phone), // duplicate within the batch
		Exposure("ffff", 3, identifier.IMEI),
	}
	if got, want := mustAdd(t, s, "l1", batch), (khabardar.Counts{identifier.CNIC: 1, identifier.Phone: 1, identifier.IMEI: 1}); got != want {
		t.Fatalf("added %+v, want %+v", got, want)
	}
	// Re-running the same batch is idempotent.
	if got := mustAdd(t, s, "l1", batch); got.Total() != 0 {
		t.Fatalf("re-run added %+v", got)
	}
	more := append(RandomExposures(5000, identifier.Phone), batch...)
	if got := mustAdd(t, s, "l1", more); got != (khabardar.Counts{identifier.Phone: 5000}) {
		t.Fatalf("added %+v, want 5000 phones", got)
	}
	if got := counts(t, s, "l1"); got != (khabardar.Counts{identifier.CNIC: 1, identifier.Phone: 5001, identifier.IMEI: 1}) {
		t.Fatalf("stored counts %+v", got)
	}
	if _, err := s.AddExposures(ctx, "l1", nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

func testBucket(t *testing.T, s khabardar.Store) {
	ctx := context.Background()
	mustPut(t, s, "b-one", "a-two")
	mustAdd(t, s, "b-one", []khabardar.Exposure{Exposure("1234", 2, identifier.Phone), Exposure("1234", 1, identifier.CNIC), Exposure("1235", 1, identifier.CNIC)})
	mustAdd(t, s, "a-two", []khabardar.Exposure{Exposure("1234", 1, identifier.CNIC)})

	tests := []struct {
		name   string
		prefix string
		want   []khabardar.Entry
		code   string
	}{
		{"two entries, one in two listings", "1234", []khabardar.Entry{
			{Suffix: Exposure("", 1, 0).Suffix, Listings: []string{"a-two", "b-one"}},
			{Suffix: Exposure("", 2, 0).Suffix, Listings: []string{"b-one"}},
		}, ""},
		{"neighbouring bucket", "1235", []khabardar.Entry{{Suffix: Exposure("", 1, 0).Suffix, Listings: []string{"b-one"}}}, ""},
		{"empty bucket", "abcd", []khabardar.Entry{}, ""},
		{"too short", "123", nil, khabardar.EINVALID},
		{"too long", "12345", nil, khabardar.EINVALID},
		{"uppercase", "ABCD", nil, khabardar.EINVALID},
		{"not hex", "12g4", nil, khabardar.EINVALID},
		{"key injection", "{12}", nil, khabardar.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Bucket(ctx, tt.prefix)
			wantCode(t, "Bucket", err, tt.code)
			if tt.code != "" {
				return
			}
			if got == nil {
				t.Fatal("Bucket returned nil, want an empty slice")
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("Bucket(%s) = %v, want %v", tt.prefix, got, tt.want)
			}
		})
	}
}

func testRemove(t *testing.T, s khabardar.Store) {
	ctx := context.Background()
	mustPut(t, s, "keep", "gone")
	shared := Exposure("aaaa", 1, identifier.CNIC)
	mustAdd(t, s, "keep", []khabardar.Exposure{shared})
	many := RandomExposures(2000, identifier.IMEI)
	mustAdd(t, s, "gone", append(many, shared, Exposure("bbbb", 2, identifier.Phone)))

	if err := s.RemoveListing(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Listing(ctx, "gone")
	wantCode(t, "Listing(removed)", err, khabardar.ENOTFOUND)
	all, _ := s.Listings(ctx)
	if len(all) != 1 || all[0].ID != "keep" {
		t.Fatalf("Listings after remove: %v", all)
	}
	got, _ := s.Bucket(ctx, "aaaa")
	if len(got) != 1 || !slices.Equal(got[0].Listings, []string{"keep"}) {
		t.Fatalf("bucket aaaa after remove: %v", got)
	}
	if got, _ := s.Bucket(ctx, "bbbb"); len(got) != 0 {
		t.Fatalf("bucket bbbb after remove: %v", got)
	}
	for _, e := range many[:50] {
		if e.Prefix == "aaaa" || e.Prefix == "bbbb" { // shared with "keep"
			continue
		}
		if got, _ := s.Bucket(ctx, e.Prefix); len(got) != 0 {
			t.Fatalf("bucket %s still holds a removed listing's exposures: %v", e.Prefix, got)
		}
	}
	// The ID can be used again, and starts from nothing.
	mustPut(t, s, "gone")
	if c := counts(t, s, "gone"); c.Total() != 0 {
		t.Fatalf("a re-created listing inherited counts %+v", c)
	}
	if got := mustAdd(t, s, "gone", []khabardar.Exposure{shared}); got[identifier.CNIC] != 1 {
		t.Fatalf("re-created listing: added %+v", got)
	}
	if c := counts(t, s, "keep"); c != (khabardar.Counts{identifier.CNIC: 1}) {
		t.Fatalf("remove changed another listing's counts: %+v", c)
	}
}

func testRecount(t *testing.T, s khabardar.Store) {
	ctx := context.Background()
	mustPut(t, s, "r1", "r2")
	mustAdd(t, s, "r1", RandomExposures(3000, identifier.Phone))
	mustAdd(t, s, "r1", RandomExposures(1000, identifier.CNIC))
	mustAdd(t, s, "r2", RandomExposures(10, identifier.IMEI))
	got, err := s.Recount(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if want := (khabardar.Counts{identifier.Phone: 3000, identifier.CNIC: 1000}); got != want || counts(t, s, "r1") != want {
		t.Fatalf("Recount = %+v, stored %+v, want %+v", got, counts(t, s, "r1"), want)
	}
	_, err = s.Recount(ctx, "absent")
	wantCode(t, "Recount(absent)", err, khabardar.ENOTFOUND)
}

// testConcurrent adds overlapping batches from several goroutines, as
// parallel ingests and replicas do: counts must stay exact.
func testConcurrent(t *testing.T, s khabardar.Store) {
	ctx := context.Background()
	mustPut(t, s, "c1", "c2")
	pool := RandomExposures(4000, identifier.CNIC)
	// Concentrate some in one bucket so writers collide on it.
	for i := 0; i < 400; i++ {
		pool[i] = Exposure("0c0c", i, identifier.CNIC)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			id := []string{"c1", "c2"}[w%2]
			for start := 0; start < len(pool); start += 500 {
				// Each writer takes the pool in another order.
				i := (start + w*500) % len(pool)
				if _, err := s.AddExposures(ctx, id, pool[i:i+500]); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range []string{"c1", "c2"} {
		if c := counts(t, s, id); c != (khabardar.Counts{identifier.CNIC: 4000}) {
			t.Fatalf("%s counts after concurrent adds: %+v", id, c)
		}
	}
	// Random exposures may land in 0c0c too: count what the pool put there.
	want := map[string]bool{}
	for _, e := range pool {
		if e.Prefix == "0c0c" {
			want[string(e.Suffix)] = true
		}
	}
	got, _ := s.Bucket(ctx, "0c0c")
	if len(got) != len(want) {
		t.Fatalf("bucket 0c0c has %d entries, want %d", len(got), len(want))
	}
}
