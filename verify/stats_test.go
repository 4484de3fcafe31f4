package verify

import (
	"math"
	"testing"
)

// TestWilson checks the interval against published values: Newcombe (1998),
// "Two-sided confidence intervals for the single proportion", Statistics in
// Medicine 17:857–872, Table I, method 3 (Wilson score without continuity
// correction), for his four examples; and hand-computed ends, where the
// formula reduces to n/(n+z²) and z²/(n+z²) (z = 1.959964, z² = 3.841459).
func TestWilson(t *testing.T) {
	tests := []struct {
		name   string
		k, n   int
		lo, hi float64
	}{
		{"Newcombe (a) 81/263", 81, 263, 0.2553, 0.3662},
		{"Newcombe (b) 15/148", 15, 148, 0.0624, 0.1605},
		{"Newcombe (c) 0/20", 0, 20, 0, 0.1611},
		{"Newcombe (d) 1/29", 1, 29, 0.0061, 0.1718},
		{"none of 10: z²/(10+z²)", 0, 10, 0, 0.2775},
		{"half of 100", 50, 100, 0.4038, 0.5962},
		{"all of 20: 20/(20+z²)", 20, 20, 0.8389, 1},
		{"none of 1000", 0, 1000, 0, 0.0038},
		{"40% of 500", 200, 500, 0.3580, 0.4435},
		{"no trials says nothing", 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := Wilson(tt.k, tt.n)
			if math.Abs(lo-tt.lo) > 5e-5 || math.Abs(hi-tt.hi) > 5e-5 {
				t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
			}
			if tt.k == 0 && lo != 0 || tt.k == tt.n && tt.n > 0 && hi != 1 {
				t.Errorf("an end is not exact: [%v, %v]", lo, hi)
			}
		})
	}
}

// TestWilsonCoverage: over many binomial draws with a known p, the interval
// holds p about 95% of the time (Wilson's coverage is close to nominal for
// these n; Newcombe's Table II). Seeded: the same draws every run.
func TestWilsonCoverage(t *testing.T) {
	r := newTestRand(7)
	for _, c := range []struct {
		n int
		p float64
	}{{50, 0.4}, {200, 0.1}, {1000, 0.03}, {100, 0.9}} {
		const trials = 2000
		covered := 0
		for range trials {
			k := 0
			for range c.n {
				if r.Float64() < c.p {
					k++
				}
			}
			if lo, hi := Wilson(k, c.n); lo <= c.p && c.p <= hi {
				covered++
			}
		}
		if rate := float64(covered) / trials; rate < 0.92 || rate > 0.98 {
			t.Errorf("n=%d p=%v: coverage %.3f, want about 0.95", c.n, c.p, rate)
		}
	}
}

// TestChiSquareP checks the upper tail against the standard table of χ²
// critical values (e.g. NIST/SEMATECH e-Handbook of Statistical Methods,
// §1.3.6.7.4): at these points the tail is exactly 0.05, 0.01 or 0.001 to
// the table's precision.
func TestChiSquareP(t *testing.T) {
	tests := []struct {
		name string
		x    float64
		df   int
		p    float64
	}{
		{"df 1, 5%", 3.841, 1, 0.05},
		{"df 1, 0.1%", 10.828, 1, 0.001},
		{"df 3, 5%", 7.815, 3, 0.05},
		{"df 4, 5%", 9.488, 4, 0.05},
		{"df 4, 0.1%", 18.467, 4, 0.001},
		{"df 6, 1%", 16.812, 6, 0.01},
		{"df 9, 1%", 21.666, 9, 0.01},
		{"df 36, 1%", 58.619, 36, 0.01},
		{"df 2: exp(-x/2)", 10, 2, math.Exp(-5)},
		{"zero statistic", 0, 5, 1},
		{"no degrees of freedom", 12, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chiSquareP(tt.x, tt.df); math.Abs(got-tt.p) > tt.p*0.002+1e-12 {
				t.Errorf("chiSquareP(%v, %d) = %.6g, want %.6g", tt.x, tt.df, got, tt.p)
			}
		})
	}
	if p := chiSquareP(2000, 4); p < 0 || p > 1e-100 {
		t.Errorf("far tail: %g", p)
	}
}

func TestChiSquareFit(t *testing.T) {
	tests := []struct {
		name     string
		observed []int
		probs    []float64
		stat     float64
		df       int
	}{
		{"perfect fit", []int{50, 30, 20}, []float64{5, 3, 2}, 0, 2},
		{"a fair die", []int{10, 10, 10, 10, 10, 10}, []float64{1, 1, 1, 1, 1, 1}, 0, 5},
		// expected 40, 40, 20: (50-40)²/40 + (30-40)²/40 + 0
		{"off", []int{50, 30, 20}, []float64{2, 2, 1}, 5, 2},
		// expected 90, 6, 2, 2: 2 and 2 pool to 4, below 5, so join the 6 → cells 90, 10
		{"small cells pooled", []int{88, 6, 3, 3}, []float64{90, 6, 2, 2}, (88.0-90)*(88-90)/90 + (12.0-10)*(12-10)/10, 1},
		{"nothing observed", []int{0, 0}, []float64{1, 1}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chiSquareFit(tt.observed, tt.probs)
			if math.Abs(got.stat-tt.stat) > 1e-9 || got.df != tt.df {
				t.Errorf("χ² = %v on %d df, want %v on %d", got.stat, got.df, tt.stat, tt.df)
			}
		})
	}
}
