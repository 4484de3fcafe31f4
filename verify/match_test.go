package verify

import (
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/fixture"
)

// world is a seller's database and Khabardar's listings, with the truth
// known: which listings hold each identifier.
type world struct {
	seller []string            // the seller's whole data, as typed
	in     map[string][]string // canonical form → listings holding it
}

// newWorld makes a seller database of n realistic identifiers, of which the
// first shares[l]·n (in a random order) are in listing l.
func newWorld(seed uint64, n int, shares map[string]float64) world {
	r := fixture.NewRand(seed)
	w := world{in: map[string][]string{}}
	seen := map[string]bool{}
	for len(w.seller) < n {
		var v string
		switch r.IntN(3) {
		case 0:
			v = fixture.RealisticCNIC(r)
		case 1:
			v = fixture.RealisticPhone(r)
		default:
			v = fixture.RealisticIMEI(r)
		}
		if c := canon(v); !seen[c] {
			seen[c] = true
			w.seller = append(w.seller, v)
		}
	}
	for l, sh := range shares {
		perm := r.Perm(n)
		for _, i := range perm[:int(sh*float64(n)+0.5)] {
			c := canon(w.seller[i])
			w.in[c] = append(w.in[c], l)
		}
	}
	return w
}

func canon(v string) string {
	id, err := identifier.Parse(identifier.Unknown, identifier.Raw(v))
	if err != nil {
		panic("fixture value does not parse")
	}
	return string(id.Canonical())
}

// sample draws m of the seller's identifiers at random, as a seller's
// sample would be (if sellers were fair).
func (w world) sample(seed uint64, m int) *Sample {
	r := fixture.NewRand(seed)
	perm := r.Perm(len(w.seller))
	var vals []string
	for _, i := range perm[:m] {
		vals = append(vals, w.seller[i])
	}
	return sampleOf(vals...)
}

// lookup plays the server: for each identifier, its listings.
func (w world) lookup(ids []identifier.ID) [][]string {
	out := make([][]string, len(ids))
	for i, id := range ids {
		out[i] = w.in[string(id.Canonical())]
	}
	return out
}

var catalogue = []ListingRef{{"old-shop", "Old shop"}, {"other", "Other listing"}, {"unrelated", "Unrelated"}}

// TestOrigins: samples drawn from a seller whose data is wholly, partly or
// not at all in known listings get the right verdict, and every measured
// share's interval holds the true share.
func TestOrigins(t *testing.T) {
	tests := []struct {
		name      string
		shares    map[string]float64
		m, max    int
		verdict   string
		trueShare map[string]float64 // by listing; "" is "in none"
	}{
		{"wholly from one listing", map[string]float64{"old-shop": 1}, 400, 0, OriginRepackaged, map[string]float64{"old-shop": 1, "": 0, "unrelated": 0}},
		{"40% from one listing, 60% new", map[string]float64{"old-shop": 0.4}, 500, 0, OriginPartlyKnown, map[string]float64{"old-shop": 0.4, "": 0.6}},
		{"40% known, subsampled lookups", map[string]float64{"old-shop": 0.4}, 2000, 300, OriginPartlyKnown, map[string]float64{"old-shop": 0.4, "": 0.6}},
		{"new", nil, 500, 0, OriginNew, map[string]float64{"": 1, "old-shop": 0}},
		{"new, but too few looked up", nil, 12, 0, OriginUndetermined, map[string]float64{"": 1}},
		{"all of a few found: known, not partly", map[string]float64{"old-shop": 1}, 6, 0, OriginRepackaged, map[string]float64{"old-shop": 1, "": 0}},
		{"combined from two listings", map[string]float64{"old-shop": 0.7, "other": 0.7}, 500, 0, OriginRepackaged, map[string]float64{"": 0.09}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(uint64(10+i), 20_000, tt.shares)
			s := w.sample(uint64(20+i), tt.m)
			ids, distinct := Choose(s, tt.max, uint64(30+i))
			o := Origins(distinct, w.lookup(ids), catalogue)
			if o.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %s", o.Verdict, tt.verdict, o.Summary)
			}
			if want := min(tt.m, max(tt.max, 0)); tt.max > 0 && o.LookedUp != want || tt.max == 0 && o.LookedUp != tt.m {
				t.Errorf("looked up %d", o.LookedUp)
			}
			// The true share of the seller's data (approximately: the world
			// was built with rounding to whole identifiers).
			for l, p := range tt.trueShare {
				ci, got := o.NewCI95, o.NewShare
				if l != "" {
					ls := find(o.Listings, l)
					if ls == nil {
						t.Fatalf("listing %s not reported", l)
					}
					ci, got = ls.CI95, ls.Share
				}
				if p < ci[0] || p > ci[1] {
					t.Errorf("%q: true share %.3f outside the measured %.3f's interval [%.3f, %.3f]", l, p, got, ci[0], ci[1])
				}
			}
			if len(o.Listings) != len(catalogue) {
				t.Errorf("%d listings reported, want the whole catalogue of %d", len(o.Listings), len(catalogue))
			}
			for i := 1; i < len(o.Listings); i++ {
				if o.Listings[i].Matched > o.Listings[i-1].Matched {
					t.Error("listings are not sorted by matches")
				}
			}
			if !strings.Contains(o.Summary, "95%") {
				t.Errorf("the summary does not state its confidence: %s", o.Summary)
			}
		})
	}
}

// TestOriginsCoverage: over many samples of one seller, the interval around
// the measured share holds the true share about 95% of the time, lookups
// subsampled or not.
func TestOriginsCoverage(t *testing.T) {
	w := newWorld(99, 10_000, map[string]float64{"old-shop": 0.3})
	for _, max := range []int{0, 150} {
		covered, trials := 0, 200
		for i := range trials {
			s := w.sample(uint64(1000+i), 400)
			ids, distinct := Choose(s, max, uint64(5000+i))
			o := Origins(distinct, w.lookup(ids), catalogue)
			if ls := find(o.Listings, "old-shop"); ls.CI95[0] <= 0.3 && 0.3 <= ls.CI95[1] {
				covered++
			}
		}
		// Sampling 400 of 10,000 without replacement is a little tighter
		// than the binomial the interval assumes: coverage at or above 95%.
		if rate := float64(covered) / float64(trials); rate < 0.91 {
			t.Errorf("max %d: coverage %.3f, want about 0.95 or more", max, rate)
		}
	}
}

func TestChoose(t *testing.T) {
	s := sampleOf(append(realistic(1, 50, 50, 0), realistic(1, 10, 0, 0)...)...) // 10 repeats
	all, distinct := Choose(s, 0, 1)
	if distinct != 100 || len(all) != 100 {
		t.Fatalf("distinct %d, chosen %d", distinct, len(all))
	}
	some, distinct := Choose(s, 30, 1)
	if distinct != 100 || len(some) != 30 {
		t.Fatalf("distinct %d, chosen %d", distinct, len(some))
	}
	again, _ := Choose(s, 30, 1)
	other, _ := Choose(s, 30, 2)
	same := func(a, b []identifier.ID) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	if !same(some, again) || same(some, other) {
		t.Error("a seed does not fix the choice, or two seeds chose alike")
	}
	if same(all[:30], s.IDs[:30]) {
		t.Error("the lookup order is the file's order")
	}
}

func TestOriginsNothingLookedUp(t *testing.T) {
	o := Origins(10, nil, catalogue)
	if o.Verdict != OriginNotChecked || o.Listings == nil {
		t.Fatalf("%+v", o)
	}
}

func find(ls []ListingShare, id string) *ListingShare {
	for i := range ls {
		if ls[i].ID == id {
			return &ls[i]
		}
	}
	return nil
}
