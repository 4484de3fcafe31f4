package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/storetest"
	"github.com/khabardar/khabardar/wire"
)

// statsListing is a valid listing first seen on first, offering the given
// categories at the given prices, holding counts.
func statsListing(id, first string, counts khabardar.Counts, prices map[string]int64) *khabardar.Listing {
	t, err := time.Parse("2006-01-02", first)
	if err != nil {
		panic(err)
	}
	l := &khabardar.Listing{ID: id, Title: "Listing " + id, Source: khabardar.Source{Kind: "website"},
		FirstSeen: khabardar.Date{Time: t}, Status: "active", Counts: counts}
	for _, c := range khabardar.CategoryNames { // a fixed order
		if p, ok := prices[c]; ok {
			l.Categories = append(l.Categories, khabardar.Category{Category: c, PricePKR: p})
		}
	}
	return l
}

func fabricated(l *khabardar.Listing) *khabardar.Listing { l.Fabricated = true; return l }
func verified(l *khabardar.Listing) *khabardar.Listing   { l.Verified = true; return l }
func sensitive(l *khabardar.Listing) *khabardar.Listing  { l.Sensitive = true; return l }

// TestComputeStats covers the aggregates: empty catalogues, fabricated
// listings left out, medians of odd and even counts, prices of 0 left out.
func TestComputeStats(t *testing.T) {
	type cat struct {
		name      string
		listings  int
		exposures int64 // total
		priced    int
		min, max  int64
		median    float64
	}
	tests := []struct {
		name       string
		listings   []*khabardar.Listing
		exposures  wire.KindTotals
		fabricated wire.KindTotals
		totals     wire.ListingTotals
		categories []cat
		months     map[string]int64
	}{
		{name: "empty store", months: map[string]int64{}},
		{
			name:      "one listing",
			listings:  []*khabardar.Listing{statsListing("a", "2024-10-06", khabardar.Counts{identifier.CNIC: 2, identifier.Phone: 3, identifier.IMEI: 1}, map[string]int64{"location": 500, "cdr": 3500})},
			exposures: totals(2, 3, 1, 6),
			totals:    wire.ListingTotals{Total: 1, Counted: 1},
			categories: []cat{
				{"location", 1, 6, 1, 500, 500, 500},
				{"cdr", 1, 6, 1, 3500, 3500, 3500},
			},
			months: map[string]int64{"2024-10": 1},
		},
		{
			name: "fabricated listings are left out and totalled apart",
			listings: []*khabardar.Listing{
				verified(statsListing("real", "2024-10-06", khabardar.Counts{identifier.Phone: 10}, map[string]int64{"location": 500})),
				fabricated(statsListing("fake", "2025-01-01", khabardar.Counts{identifier.CNIC: 7, identifier.Phone: 100}, map[string]int64{"location": 99, "bank": 40000})),
				sensitive(fabricated(statsListing("fake-too", "2025-01-20", khabardar.Counts{identifier.IMEI: 5}, map[string]int64{"imei": 1}))),
			},
			exposures:  totals(0, 10, 0, 10),
			fabricated: totals(7, 100, 5, 112),
			totals:     wire.ListingTotals{Total: 3, Counted: 1, Verified: 1, Fabricated: 2, Sensitive: 1},
			categories: []cat{{"location", 1, 10, 1, 500, 500, 500}},
			months:     map[string]int64{"2024-10": 1},
		},
		{
			name: "odd count: the middle price",
			listings: []*khabardar.Listing{
				statsListing("a", "2024-10-06", khabardar.Counts{identifier.Phone: 1}, map[string]int64{"cdr": 3500}),
				statsListing("b", "2024-10-20", khabardar.Counts{identifier.Phone: 2}, map[string]int64{"cdr": 9000}),
				statsListing("c", "2025-02-01", khabardar.Counts{identifier.CNIC: 4}, map[string]int64{"cdr": 1000}),
			},
			exposures:  totals(4, 3, 0, 7),
			totals:     wire.ListingTotals{Total: 3, Counted: 3},
			categories: []cat{{"cdr", 3, 7, 3, 1000, 9000, 3500}},
			months:     map[string]int64{"2024-10": 2, "2025-02": 1},
		},
		{
			name: "even count: the mean of the middle two, and 0 is no price",
			listings: []*khabardar.Listing{
				statsListing("a", "2024-10-06", khabardar.Counts{identifier.Phone: 1}, map[string]int64{"travel": 5000, "other": 0}),
				statsListing("b", "2024-11-06", khabardar.Counts{identifier.Phone: 1}, map[string]int64{"travel": 2000}),
				statsListing("c", "2024-12-06", khabardar.Counts{identifier.Phone: 1}, map[string]int64{"travel": 0}),
				statsListing("d", "2025-01-06", khabardar.Counts{identifier.Phone: 1}, map[string]int64{"travel": 3001}),
				statsListing("e", "2025-02-06", khabardar.Counts{identifier.Phone: 1}, map[string]int64{"travel": 25000}),
			},
			exposures: totals(0, 5, 0, 5),
			totals:    wire.ListingTotals{Total: 5, Counted: 5},
			categories: []cat{
				{"travel", 5, 5, 4, 2000, 25000, 4000.5},
				{"other", 1, 1, 0, 0, 0, 0},
			},
			months: map[string]int64{"2024-10": 1, "2024-11": 1, "2024-12": 1, "2025-01": 1, "2025-02": 1},
		},
		{
			name:       "an identifier in two listings counts twice",
			listings:   []*khabardar.Listing{statsListing("a", "2024-10-06", khabardar.Counts{identifier.CNIC: 1}, map[string]int64{"cnic_copy": 1000}), statsListing("b", "2024-10-07", khabardar.Counts{identifier.CNIC: 1}, map[string]int64{"cnic_copy": 1000})},
			exposures:  totals(2, 0, 0, 2),
			totals:     wire.ListingTotals{Total: 2, Counted: 2},
			categories: []cat{{"cnic_copy", 2, 2, 2, 1000, 1000, 1000}},
			months:     map[string]int64{"2024-10": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := computeStats(tt.listings)
			if st.Exposures != tt.exposures || st.FabricatedExposures != tt.fabricated || st.Listings != tt.totals {
				t.Errorf("exposures %+v, fabricated %+v, listings %+v; want %+v, %+v, %+v",
					st.Exposures, st.FabricatedExposures, st.Listings, tt.exposures, tt.fabricated, tt.totals)
			}
			if len(st.ByListing) != len(tt.listings) {
				t.Fatalf("%d listings in by_listing, want %d", len(st.ByListing), len(tt.listings))
			}
			for i, l := range tt.listings {
				b := st.ByListing[i]
				if b.ID != l.ID || b.Title != l.Title || b.Exposures != totalsOf(l.Counts) ||
					b.Verified != l.Verified || b.Fabricated != l.Fabricated || b.Sensitive != l.Sensitive {
					t.Errorf("by_listing[%d] = %+v for %+v", i, b, l)
				}
			}
			if len(st.ByCategory) != len(tt.categories) {
				t.Fatalf("categories %+v, want %+v", st.ByCategory, tt.categories)
			}
			for i, w := range tt.categories {
				g := st.ByCategory[i]
				if g.Category != w.name || g.Listings != w.listings || g.Exposures.Total() != w.exposures {
					t.Errorf("by_category[%d] = %+v, want %+v", i, g, w)
				}
				switch {
				case w.priced == 0 && g.PricePKR != nil:
					t.Errorf("%s: prices %+v, want none", w.name, *g.PricePKR)
				case w.priced > 0 && (g.PricePKR == nil || *g.PricePKR != wire.PriceStats{Listings: w.priced, Min: w.min, Median: w.median, Max: w.max}):
					t.Errorf("%s: prices %+v, want %d from %d to %d, median %v", w.name, g.PricePKR, w.priced, w.min, w.max, w.median)
				}
			}
			if len(st.FirstSeenByMonth) != len(tt.months) {
				t.Errorf("months %v, want %v", st.FirstSeenByMonth, tt.months)
			}
			for m, n := range tt.months {
				if st.FirstSeenByMonth[m] != n {
					t.Errorf("months %v, want %v", st.FirstSeenByMonth, tt.months)
				}
			}
		})
	}
}

// TestStatsEndpoint: the served body, its JSON shape (empty lists and maps
// are [] and {}, never null), caching with ETag and 304, and the listing
// rate limit.
func TestStatsEndpoint(t *testing.T) {
	e := newEnv(t, func(_ *Config, rc *ratelimit.Config) { rc.Listing = "4-H" })

	r := e.get("/v1/stats")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("empty store: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	const empty = `{"exposures":{"cnic":0,"phone":0,"imei":0,"passport":0,"total":0},"fabricated_exposures":{"cnic":0,"phone":0,"imei":0,"passport":0,"total":0},` +
		`"listings":{"total":0,"counted":0,"verified":0,"fabricated":0,"sensitive":0},"by_listing":[],"by_category":[],"first_seen_by_month":{}}`
	if string(r.body) != empty {
		t.Errorf("empty store:\n%s\nwant\n%s", r.body, empty)
	}
	emptyTag := r.header.Get("ETag")

	e.ingest("shop", mustID(t, identifier.Phone, "0300-1234567"), mustID(t, identifier.CNIC, "35202-1234567-1"))
	e.ingest("fake", mustID(t, identifier.Phone, "0300-1234567"))
	fake, _ := e.store.Listing(context.Background(), "fake")
	fake.Fabricated = true
	if err := e.store.PutListing(context.Background(), fake); err != nil {
		t.Fatal(err)
	}
	r = e.get("/v1/stats")
	var st wire.Stats
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if r.status != 200 || dec.Decode(&st) != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if st.Exposures != (totals(1, 1, 0, 2)) || st.FabricatedExposures != (totals(0, 1, 0, 1)) {
		t.Errorf("exposures %+v, fabricated %+v", st.Exposures, st.FabricatedExposures)
	}
	if len(st.ByListing) != 2 || st.ByListing[0].ID != "fake" || !st.ByListing[0].Fabricated || st.ByListing[1].FirstSeen.String() != "2025-10-01" {
		t.Errorf("by_listing %+v", st.ByListing)
	}
	if !strings.Contains(string(r.body), `"price_pkr":{"listings":1,"min":500,"median":500,"max":500}`) {
		t.Errorf("prices: %s", r.body)
	}
	etag := r.header.Get("ETag")
	if r.header.Get("Cache-Control") != "public, max-age=300" || len(etag) != 34 || etag == emptyTag {
		t.Errorf("Cache-Control %q, ETag %q (empty store's %q)", r.header.Get("Cache-Control"), etag, emptyTag)
	}
	if r.header.Get("X-RateLimit-Limit") != "4" {
		t.Errorf("X-RateLimit-Limit %q: not charged as a listing request", r.header.Get("X-RateLimit-Limit"))
	}

	tests := []struct {
		name, inm string
		status    int
	}{
		{"current ETag", etag, 304},
		{"stale ETag", emptyTag, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get("/v1/stats", "If-None-Match", tt.inm)
			if r.status != tt.status || r.header.Get("ETag") != etag || r.header.Get("Cache-Control") != "public, max-age=300" {
				t.Fatalf("%d, ETag %q, Cache-Control %q; want %d", r.status, r.header.Get("ETag"), r.header.Get("Cache-Control"), tt.status)
			}
			if tt.status == 304 && len(r.body) != 0 {
				t.Errorf("304 with a body")
			}
		})
	}
	// Four listing requests an hour: the fifth, to either route, is refused.
	if r := e.get("/v1/stats"); r.status != 429 || r.code() != wire.CodeRateLimited {
		t.Fatalf("over the listing limit: %d %s", r.status, r.body)
	}
	if r := e.get("/v1/listings"); r.status != 429 {
		t.Fatalf("/v1/listings after 4 stats requests: %d", r.status)
	}
}

// TestListingsCatalogue: /v1/listings says what a check is made against,
// at once after a change: empty, a listing with no identifiers yet, loaded,
// shown to be fabricated.
func TestListingsCatalogue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	catalogue := func() khabardar.Catalogue {
		t.Helper()
		r := e.get("/v1/listings")
		var body struct {
			Catalogue *khabardar.Catalogue `json:"catalogue"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &body) != nil || body.Catalogue == nil {
			t.Fatalf("GET /v1/listings: %d %s", r.status, r.body)
		}
		// An empty catalogue is not cached: the first ingest shows at once.
		if want := map[bool]string{true: "no-cache", false: "public, max-age=60"}[body.Catalogue.Empty()]; r.header.Get("Cache-Control") != want {
			t.Errorf("Cache-Control %q with %+v, want %q", r.header.Get("Cache-Control"), *body.Catalogue, want)
		}
		return *body.Catalogue
	}
	if c := catalogue(); !c.Empty() || c.Identifiers != 0 || !c.NewestAdded.IsZero() {
		t.Errorf("a fresh server: %+v", c)
	}
	l := storetest.NewListing("shop")
	l.Added = khabardar.Date{Time: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	if err := e.store.PutListing(ctx, l); err != nil {
		t.Fatal(err)
	}
	if c := catalogue(); !c.Empty() {
		t.Errorf("a listing with no identifiers yet: %+v", c)
	}
	e.ingest("shop", mustID(t, identifier.Phone, "0300-7654321"), mustID(t, identifier.CNIC, "35202-7654321-3"))
	if c := catalogue(); c.Listings != 1 || c.Identifiers != 2 || c.NewestAdded.String() != "2026-12-03" {
		t.Errorf("after an ingest: %+v", c)
	}
	l, _ = e.store.Listing(ctx, "shop")
	l.Fabricated = true
	if err := e.store.PutListing(ctx, l); err != nil {
		t.Fatal(err)
	}
	if c := catalogue(); !c.Empty() {
		t.Errorf("only a fabricated listing: %+v", c)
	}
}

// totals builds the kind totals of cnic, phone and imei counts; total is
// what the test expects their sum to be, checked here so a table row cannot
// disagree with itself.
func totals(cnic, phone, imei, total int64) wire.KindTotals {
	k := wire.KindTotals{Counts: khabardar.Counts{identifier.CNIC: cnic, identifier.Phone: phone, identifier.IMEI: imei}}
	if k.Total() != total {
		panic("a test's totals do not add up")
	}
	return k
}
