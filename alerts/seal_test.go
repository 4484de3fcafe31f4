package alerts

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

func TestSealer(t *testing.T) {
	secret := []byte(strings.Repeat("k", MinSecretLen))
	s, err := NewSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	number, err := identifier.Parse(identifier.Phone, "0300-1234567")
	if err != nil {
		t.Fatal(err)
	}
	const alice, bob = "000000000000000000000000000000a1", "000000000000000000000000000000b2"
	sealed := s.Seal(alice, number)
	if bytes.Contains(sealed, []byte("3001234567")) {
		t.Fatal("the sealed number holds the number")
	}
	if again := s.Seal(alice, number); bytes.Equal(again, sealed) {
		t.Error("two seals of one number are equal: the nonce is not random")
	}
	got, err := s.Open(alice, sealed)
	if err != nil || got != number {
		t.Fatalf("Open: %v", err)
	}
	other, _ := NewSealer([]byte(strings.Repeat("x", MinSecretLen)))
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)-1] ^= 1
	for _, tt := range []struct {
		name   string
		s      *Sealer
		id     string
		sealed []byte
	}{
		{"another subscriber", s, bob, sealed},
		{"another secret", other, alice, sealed},
		{"damaged", s, alice, damaged},
		{"short", s, alice, sealed[:10]},
		{"empty", s, alice, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.s.Open(tt.id, tt.sealed); !errors.Is(err, ErrSealed) {
				t.Errorf("Open: %v, want ErrSealed", err)
			}
		})
	}
	if _, err := NewSealer(secret[:31]); !errors.Is(err, ErrSecret) {
		t.Errorf("a 31-byte secret: %v", err)
	}
}

// FuzzOpen: whatever is stored as a sealed number, Open either fails with
// ErrSealed or returns a mobile number, and never panics.
func FuzzOpen(f *testing.F) {
	s, _ := NewSealer([]byte(strings.Repeat("k", MinSecretLen)))
	number, _ := identifier.Parse(identifier.Phone, "0300-1234567")
	const id = "000000000000000000000000000000a1"
	f.Add(s.Seal(id, number))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, 40))
	f.Fuzz(func(t *testing.T, sealed []byte) {
		got, err := s.Open(id, sealed)
		if err != nil && !errors.Is(err, ErrSealed) {
			t.Fatalf("error %v is not ErrSealed", err)
		}
		if err == nil && got.Kind() != identifier.Phone {
			t.Fatal("opened a number that is no phone")
		}
	})
}
