package hashing

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

func mustID(t testing.TB, s string) identifier.ID {
	t.Helper()
	id, err := identifier.Parse(identifier.Unknown, identifier.Raw(s))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestObliviousRoundTrip: what a browser computes through blind, evaluate and
// finalize equals what ingest stores with Hash.
func TestObliviousRoundTrip(t *testing.T) {
	k, _ := GenerateKey()
	c, err := NewClient(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	ids := []identifier.ID{mustID(t, "35202-1234567-1"), mustID(t, "0300-1234567"), mustID(t, "352099001761481")}
	b, err := c.Blind(ids)
	if err != nil {
		t.Fatal(err)
	}
	ev, proof, err := k.Evaluate(b.Elements)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Finalize(b, ev, proof)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		y, _ := k.Hash(id)
		if !bytes.Equal(out[i], y) || len(y) != OutputSize {
			t.Fatalf("input %d: oblivious output differs from Hash", i)
		}
	}

	t.Run("tampered proof", func(t *testing.T) {
		bad := bytes.Clone(proof)
		bad[5] ^= 1
		if _, err := c.Finalize(b, ev, bad); !errors.Is(err, ErrBadProof) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("another key", func(t *testing.T) {
		other, _ := GenerateKey()
		ev2, proof2, _ := other.Evaluate(b.Elements)
		if _, err := c.Finalize(b, ev2, proof2); !errors.Is(err, ErrBadProof) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestEvaluateRejects(t *testing.T) {
	k, _ := GenerateKey()
	c, _ := NewClient(k.PublicKey())
	good, _ := c.Blind([]identifier.ID{mustID(t, "35202-1234567-1")})
	tests := []struct {
		name  string
		batch [][]byte
	}{
		{"empty batch", nil},
		{"short element", [][]byte{make([]byte, 31)}},
		{"identity", [][]byte{make([]byte, 32)}},
		{"not canonical", [][]byte{bytes.Repeat([]byte{0xff}, 32)}},
		{"good then bad", [][]byte{good.Elements[0], bytes.Repeat([]byte{0xff}, 32)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := k.Evaluate(tt.batch); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestSplit(t *testing.T) {
	y, _ := hex.DecodeString("0123456789abcdef" + "fedcba9876543210" + "00112233445566778899aabbccddeeff" + "00112233445566778899aabbccddeeff0011223344556677")
	tests := []struct {
		name       string
		bits, size int
		prefix     string
		suffix     string
	}{
		{"16 bits, 8 bytes", 16, 8, "0123", "456789abcdeffedc"},
		{"20 bits: suffix starts mid-byte", 20, 8, "01234", "56789abcdeffedcb"},
		{"4 bits", 4, 8, "0", "123456789abcdeff"},
		{"32 bits, 12 bytes", 32, 12, "01234567", "89abcdeffedcba9876543210"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s := Split(y, khabardar.Layout{KeyID: "k", BucketBits: tt.bits, SuffixBytes: tt.size})
			if p != tt.prefix || hex.EncodeToString(s) != tt.suffix {
				t.Fatalf("Split = %s %x, want %s %s", p, s, tt.prefix, tt.suffix)
			}
		})
	}
}
