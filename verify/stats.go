package verify

import (
	"math"
	"sort"
)

// z95 is the two-sided 95% standard normal quantile, Φ⁻¹(0.975).
const z95 = 1.959963984540054

// Wilson returns the 95% Wilson score interval for k successes in n trials
// (E. B. Wilson, "Probable inference, the law of succession, and statistical
// inference", JASA 22 (1927) 209–212; method 3 of R. G. Newcombe, "Two-sided
// confidence intervals for the single proportion", Statistics in Medicine 17
// (1998) 857–872). Unlike the textbook p ± z·√(p(1−p)/n) it stays inside
// [0, 1] and does not collapse to a point at k = 0 or k = n, which is exactly
// where a sample found in no listing, or wholly in one, lands. n = 0 says
// nothing: [0, 1].
func Wilson(k, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	k = min(max(k, 0), n)
	nf, p, z2 := float64(n), float64(k)/float64(n), z95*z95
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	lo, hi = math.Max(0, center-half), math.Min(1, center+half)
	if k == 0 {
		lo = 0 // exact: rounding must not leave 1e-17
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

// chiSquare is a Pearson goodness-of-fit test's outcome.
type chiSquare struct {
	stat  float64
	df    int
	p     float64 // upper tail; 1 when df is 0 (nothing to test)
	cells int     // after pooling
}

// chiSquareFit tests observed counts against expected probabilities (which
// need not sum to 1: they are normalised over the cells given). Cells whose
// expected count is below 5 are pooled into one cell, which joins the
// smallest other cell if it is still below 5 (Cochran's rule for the χ²
// approximation). Cells with a zero probability must be left out.
func chiSquareFit(observed []int, probs []float64) chiSquare {
	n, total := 0, 0.0
	for i := range observed {
		n += observed[i]
		total += probs[i]
	}
	if n == 0 || total <= 0 {
		return chiSquare{p: 1}
	}
	type cell struct{ o, e float64 }
	cells := make([]cell, len(observed))
	for i := range observed {
		cells[i] = cell{float64(observed[i]), float64(n) * probs[i] / total}
	}
	sort.SliceStable(cells, func(i, j int) bool { return cells[i].e < cells[j].e })
	var pooled cell
	for len(cells) > 0 && cells[0].e < 5 {
		pooled.o += cells[0].o
		pooled.e += cells[0].e
		cells = cells[1:]
	}
	switch {
	case pooled.e >= 5 || len(cells) == 0 && pooled.e > 0:
		cells = append(cells, pooled)
	case pooled.e > 0: // still small: join the smallest cell left
		cells[0].o += pooled.o
		cells[0].e += pooled.e
	}
	if len(cells) < 2 {
		return chiSquare{p: 1, cells: len(cells)}
	}
	stat := 0.0
	for _, c := range cells {
		d := c.o - c.e
		stat += d * d / c.e
	}
	df := len(cells) - 1
	return chiSquare{stat: stat, df: df, p: chiSquareP(stat, df), cells: len(cells)}
}

// chiSquareP is the upper tail P(X ≥ x) of a χ² distribution with df degrees
// of freedom: the regularised upper incomplete gamma function Q(df/2, x/2).
func chiSquareP(x float64, df int) float64 {
	if df <= 0 {
		return 1
	}
	if x <= 0 {
		return 1
	}
	return gammaQ(float64(df)/2, x/2)
}

// gammaQ is the regularised upper incomplete gamma function Q(a, x), by its
// series below a+1 and its continued fraction above (Numerical Recipes, 3rd
// ed., §6.2): both converge fast where they are used.
func gammaQ(a, x float64) float64 {
	const (
		eps   = 1e-15
		tiny  = 1e-300
		iters = 1000
	)
	lg, _ := math.Lgamma(a)
	prefix := math.Exp(-x + a*math.Log(x) - lg)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < iters; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*eps {
				break
			}
		}
		return math.Max(0, 1-sum*prefix)
	}
	// Modified Lentz's method for the continued fraction.
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < iters; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return math.Min(1, prefix*h)
}

// share is k/n, 0 when n is 0.
func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}
