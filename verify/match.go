package verify

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/khabardar/khabardar/identifier"
)

// Verdicts of Origin.
const (
	OriginNew          = "new"                // in no known listing, with a tight interval
	OriginRepackaged   = "repackaged"         // most of it is in known listings
	OriginPartlyKnown  = "partly_known"       // some of it is
	OriginUndetermined = "undetermined"       // none found, but too few looked up to say it is new
	OriginNotChecked   = "not_checked"        // nothing was looked up (--offline)
	OriginNoListings   = "no_listings_loaded" // the server has no listings: nothing could be found, so nothing was looked up
)

// NoListings is the Origin when the server has no listing to match against:
// every lookup would come back "not found" and say nothing, so none is made
// (each would cost a lookup of the caller's allowance).
func NoListings(distinct int) Origin {
	return Origin{Distinct: distinct, Listings: []ListingShare{}, Verdict: OriginNoListings,
		Summary: "No listings loaded: the server knows of no listing yet, so nothing could be matched and whether the sample is new or repackaged cannot be judged. Nothing was looked up; try again once listings are loaded."}
}

// Thresholds of Origin, on the 95% interval of a share.
const (
	repackagedLo = 0.80 // "most": the interval's lower end at least this
	newHi        = 0.10 // "new": the interval's upper end at most this
)

// Choose returns the sample's distinct identifiers in a random order, at
// most max of them (0: all), and how many distinct ones there are. Looking
// up a random subset keeps each share an unbiased estimate with an honest
// interval, and random order means any prefix of the list is a random
// subset too: a run stopped part way (a rate limit) still measures
// something. The order also hides the file's order from the server. seed 0
// picks a random seed.
func Choose(s *Sample, max int, seed uint64) (ids []identifier.ID, distinct int) {
	seen := make(map[identifier.ID]bool, len(s.IDs))
	for _, id := range s.IDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if seed == 0 {
		seed = rand.Uint64()
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	distinct = len(ids)
	if max > 0 && len(ids) > max {
		ids = ids[:max]
	}
	return ids, distinct
}

// ListingRef names a listing of the server's catalogue.
type ListingRef struct {
	ID    string
	Title string
}

// ListingShare is the part of the looked-up identifiers found in one
// listing, with its 95% Wilson score interval.
type ListingShare struct {
	ID      string     `json:"id"`
	Title   string     `json:"title"`
	Matched int        `json:"matched"`
	Share   float64    `json:"share"`
	CI95    [2]float64 `json:"ci95"`
}

// Origin says where the sample's identifiers are already known.
type Origin struct {
	Verdict   string         `json:"verdict"`
	Summary   string         `json:"summary"` // the verdict and its uncertainty in plain words
	Distinct  int            `json:"distinct"`
	LookedUp  int            `json:"looked_up"`
	Found     int            `json:"found"` // in at least one listing
	FoundCI95 [2]float64     `json:"found_ci95"`
	New       int            `json:"new"` // in none
	NewShare  float64        `json:"new_share"`
	NewCI95   [2]float64     `json:"new_ci95"`
	Listings  []ListingShare `json:"listings"` // every listing of the catalogue, most matched first
}

// Origins turns lookups into shares: found[i] lists the listing IDs the
// i-th looked-up identifier is in (empty: none); catalogue is the server's
// whole catalogue, so listings without a match are reported too (their
// interval bounds how much of the sample they could hold). distinct is how
// many distinct identifiers the sample has, of which len(found) were looked
// up.
func Origins(distinct int, found [][]string, catalogue []ListingRef) Origin {
	m := len(found)
	o := Origin{Distinct: distinct, LookedUp: m, Listings: []ListingShare{}}
	if m == 0 {
		o.Verdict = OriginNotChecked
		o.Summary = "Nothing was looked up."
		return o
	}
	counts := map[string]int{}
	for _, ls := range found {
		if len(ls) == 0 {
			o.New++
			continue
		}
		o.Found++
		seen := map[string]bool{}
		for _, id := range ls {
			if !seen[id] {
				seen[id] = true
				counts[id]++
			}
		}
	}
	titles := map[string]string{}
	for _, l := range catalogue {
		titles[l.ID] = l.Title
		if _, ok := counts[l.ID]; !ok {
			counts[l.ID] = 0
		}
	}
	for id, k := range counts {
		lo, hi := Wilson(k, m)
		o.Listings = append(o.Listings, ListingShare{ID: id, Title: titles[id], Matched: k, Share: share(k, m), CI95: [2]float64{lo, hi}})
	}
	sort.Slice(o.Listings, func(i, j int) bool {
		a, b := o.Listings[i], o.Listings[j]
		return a.Matched > b.Matched || a.Matched == b.Matched && a.ID < b.ID
	})
	lo, hi := Wilson(o.Found, m)
	o.FoundCI95 = [2]float64{lo, hi}
	lo, hi = Wilson(o.New, m)
	o.NewShare, o.NewCI95 = share(o.New, m), [2]float64{lo, hi}
	o.Verdict, o.Summary = originVerdict(o)
	return o
}

// originVerdict states the verdict with its uncertainty in plain words.
func originVerdict(o Origin) (string, string) {
	m := o.LookedUp
	of := fmt.Sprintf("of the %d identifiers looked up", m)
	chosen := ""
	if o.Distinct > m {
		chosen = fmt.Sprintf(" The %d were chosen at random from the sample's %d distinct identifiers.", m, o.Distinct)
	}
	// Said once, after the verdict: the interval is about the seller's data
	// only if the sample is a random part of it.
	const caveat = " Intervals are 95% and assume the sample is a random part of the seller's data; sellers choose their samples, so they describe the sample more surely than the database."
	fLo, fHi := o.FoundCI95[0], o.FoundCI95[1]
	var best ListingShare
	if len(o.Listings) > 0 {
		best = o.Listings[0]
	}
	inListings := 0
	for _, l := range o.Listings {
		if l.Matched > 0 {
			inListings++
		}
	}
	switch {
	case best.Matched > 0 && best.CI95[0] >= repackagedLo:
		return OriginRepackaged, fmt.Sprintf("Repackaged: %d %s (%s) are already in the listing %s, so %s of the seller's data is likely in it. Probably an old listing sold again.%s%s",
			best.Matched, of, pct(best.Share), listingName(best), ci(best.CI95[0], best.CI95[1]), chosen, caveat)
	case fLo >= repackagedLo:
		return OriginRepackaged, fmt.Sprintf("Repackaged: %d %s (%s) are already in %d known listings, so %s of the seller's data is likely known. Probably old listings combined and sold again.%s%s",
			o.Found, of, pct(share(o.Found, m)), inListings, ci(fLo, fHi), chosen, caveat)
	case m > 0 && o.Found == m:
		// Everything looked up is known. A small m leaves the interval wide,
		// but "partly known" would suggest some of it is new when nothing
		// looked up was: say known, and say how sure.
		where := fmt.Sprintf("in %d known listings", inListings)
		if inListings == 1 {
			where = "in the listing " + listingName(best)
		}
		return OriginRepackaged, fmt.Sprintf("Repackaged: all %d identifiers looked up are already %s; none is new. %d are too few to say how much of the seller's data is known (%s), but nothing checked was new. Probably old data sold again.%s%s",
			m, where, m, ci(fLo, fHi), chosen, caveat)
	case fHi <= newHi:
		found := "none"
		if o.Found > 0 {
			found = fmt.Sprintf("only %d", o.Found)
		}
		return OriginNew, fmt.Sprintf("New to Khabardar: %s %s is in any listing it knows, so at most %s of the seller's data is likely known. It may be new data, or from a listing Khabardar has not been given.%s%s",
			found, of, pct(fHi), chosen, caveat)
	case o.Found == 0:
		return OriginUndetermined, fmt.Sprintf("Not found in any known listing, but %d identifiers are too few to call it new: up to %s of the seller's data could still be in known listings. Look up more (an API key allows more lookups).%s%s",
			m, pct(fHi), chosen, caveat)
	}
	return OriginPartlyKnown, fmt.Sprintf("Partly known: %d %s (%s) are in known listings, the most (%d, %s) in %s, so %s of the seller's data is likely known. A mix of old and new data, or a source overlapping an old one.%s%s",
		o.Found, of, pct(share(o.Found, m)), best.Matched, pct(best.Share), listingName(best), ci(fLo, fHi), chosen, caveat)
}

// listingName is a listing's title and id, or its id alone.
func listingName(l ListingShare) string {
	if l.Title != "" && l.Title != l.ID {
		return fmt.Sprintf("%q (%s)", l.Title, l.ID)
	}
	return l.ID
}
