package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

// GET /v1/stats: what the catalogue says in aggregate, for the website's
// statistics page and for journalists. It is computed from the listings and
// their counts alone, so it costs one catalogue read and says nothing about
// any person or bucket.
//
// Counts are exposures, (identifier, listing) pairs, as the listings hold
// them: an identifier in two listings counts twice. The store keeps no index
// across listings, and counting distinct identifiers would mean reading
// every bucket; the field names and openapi.yaml say "exposures" so that
// nobody reads them as people.
//
// Fabricated listings are left out of every aggregate (exposures, categories,
// prices, months) and totalled on their own; by_listing lists every listing
// with its flags.

// statsMaxAge is the Cache-Control max-age of /v1/stats: the figures change
// only when operators add, flag or ingest listings.
const statsMaxAge = "public, max-age=300"

// totalsOf is c with its sum.
func totalsOf(c khabardar.Counts) wire.KindTotals {
	return wire.KindTotals{Counts: c}
}

// computeStats aggregates ls, sorted by ID as Store.Listings returns them.
func computeStats(ls []*khabardar.Listing) wire.Stats {
	st := wire.Stats{ByListing: []wire.ListingStats{}, ByCategory: []wire.CategoryStats{}, FirstSeenByMonth: map[string]int64{}}
	byCat := map[string]*wire.CategoryStats{}
	prices := map[string][]int64{}
	for _, l := range ls {
		st.Listings.Total++
		st.ByListing = append(st.ByListing, wire.ListingStats{
			ID: l.ID, Title: l.Title, FirstSeen: l.FirstSeen, Status: l.Status,
			Verified: l.Verified, Fabricated: l.Fabricated, Sensitive: l.Sensitive,
			Exposures: totalsOf(l.Counts),
		})
		if l.Verified {
			st.Listings.Verified++
		}
		if l.Sensitive {
			st.Listings.Sensitive++
		}
		if l.Fabricated {
			st.Listings.Fabricated++
			st.FabricatedExposures.Add(l.Counts)
			continue
		}
		st.Listings.Counted++
		st.Exposures.Add(l.Counts)
		if !l.FirstSeen.IsZero() {
			st.FirstSeenByMonth[l.FirstSeen.Format("2006-01")]++
		}
		for _, c := range l.Categories {
			cs := byCat[c.Category]
			if cs == nil {
				cs = &wire.CategoryStats{Category: c.Category}
				byCat[c.Category] = cs
			}
			cs.Listings++
			cs.Exposures.Add(l.Counts)
			if c.PricePKR > 0 {
				prices[c.Category] = append(prices[c.Category], c.PricePKR)
			}
		}
	}
	for _, name := range khabardar.CategoryNames { // a fixed order, not the map's
		cs := byCat[name]
		if cs == nil {
			continue
		}
		cs.PricePKR = summarise(prices[name])
		st.ByCategory = append(st.ByCategory, *cs)
	}
	return st
}

// summarise returns the minimum, median and maximum of ps; nil for none.
func summarise(ps []int64) *wire.PriceStats {
	if len(ps) == 0 {
		return nil
	}
	slices.Sort(ps)
	n := len(ps)
	median := float64(ps[n/2])
	if n%2 == 0 {
		median = (float64(ps[n/2-1]) + float64(ps[n/2])) / 2
	}
	return &wire.PriceStats{Listings: n, Min: ps[0], Median: median, Max: ps[n-1]}
}

// stats serves computeStats of the catalogue, charged as a listing request,
// with a strong ETag of the body so that a revisit costs a 304.
func (s *Server) stats(c *fiber.Ctx) error {
	who, err := s.caller(c)
	if err != nil {
		return err
	}
	if err := s.charge(c, ratelimit.Listing, who, 1); err != nil {
		return err
	}
	ls, err := s.cfg.Store.Listings(c.UserContext())
	if err != nil {
		return err
	}
	body, err := json.Marshal(computeStats(ls))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, statsMaxAge)
	if etagMatches(c.Request().Header.Peek(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}
