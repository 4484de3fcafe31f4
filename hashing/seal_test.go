package hashing

import (
	"errors"
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

// TestParseBlinded: the first bad element is named by its index, and the
// error is ErrBadElement.
func TestParseBlinded(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	bl, err := c.Blind([]identifier.ID{mustID(t, "35202-1234567-1"), mustID(t, "0300-1234567"), mustID(t, "352099001761481")})
	if err != nil {
		t.Fatal(err)
	}
	good := bl.Elements
	ff := make([]byte, ElementSize)
	for i := range ff {
		ff[i] = 0xff
	}
	tests := []struct {
		name  string
		batch [][]byte
		bad   int // -1: none
	}{
		{"all good", good, -1},
		{"identity third", [][]byte{good[0], good[1], make([]byte, ElementSize)}, 2},
		{"short first", [][]byte{good[0][:31], good[1]}, 0},
		{"not on the group", [][]byte{good[0], ff}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBlinded(tt.batch)
			var bad *BadElementError
			switch {
			case tt.bad < 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.bad < 0:
				if b.Len() != len(tt.batch) {
					t.Fatalf("%d elements", b.Len())
				}
				if _, _, err := k.EvaluateBatch(b); err != nil {
					t.Fatal(err)
				}
			case !errors.As(err, &bad) || bad.Index != tt.bad || !errors.Is(err, ErrBadElement):
				t.Fatalf("error %v, want element %d", err, tt.bad)
			}
		})
	}
}
