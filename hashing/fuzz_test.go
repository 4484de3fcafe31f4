package hashing

import (
	"bytes"
	"testing"
)

// FuzzEvaluate feeds arbitrary bytes as blinded elements: Evaluate must
// reject what is not a valid non-identity element and never panic.
func FuzzEvaluate(f *testing.F) {
	k, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(make([]byte, 32), 1)
	f.Add(bytes.Repeat([]byte{0xff}, 32), 1)
	f.Add(k.PublicKey(), 3)
	f.Add([]byte{1, 2, 3}, 0)
	f.Fuzz(func(t *testing.T, element []byte, copies int) {
		batch := make([][]byte, max(copies%20, -copies%20))
		for i := range batch {
			batch[i] = element
		}
		ev, proof, err := k.Evaluate(batch)
		if err != nil {
			return
		}
		if len(ev) != len(batch) || len(proof) != ProofSize {
			t.Fatalf("%d elements and a %d-byte proof for a batch of %d", len(ev), len(proof), len(batch))
		}
	})
}
