package identifier

import (
	"slices"
	"testing"
)

// TestScanPassports: passport numbers in free text are found after the
// digit runs of the same text, whatever their case or separator; digits
// glued to longer words are not.
func TestScanPassports(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"alone", "AB1234567", []string{"passport:AB1234567"}},
		{"in a chat line", "bhai passport ab-1234567 aur cnic 35202-1234567-1 bhejo",
			[]string{"cnic:3520212345671", "passport:AB1234567"}},
		{"two", "AB1234567, CD 7654321", []string{"passport:AB1234567", "passport:CD7654321"}},
		{"glued to a word", "XAB1234567 AB12345678", nil},
		{"hash-like", "deadbeef1234567", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanAll(t, tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Scan = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestScanStopsInPassports: Scan stops when yield says so, in the second
// pass too.
func TestScanStopsInPassports(t *testing.T) {
	n := 0
	Scan("AB1234567 CD7654321", func(ID, error) bool { n++; return false })
	if n != 1 {
		t.Errorf("yield called %d times after returning false", n)
	}
}
