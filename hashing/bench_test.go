package hashing

import (
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

// BenchmarkCirclFullEvaluate is the raw limit: circl's own direct evaluation,
// on all cores. Compare BenchmarkHash and the ingest benchmark against it.
func BenchmarkCirclFullEvaluate(b *testing.B) {
	k, _ := GenerateKey()
	b.RunParallel(func(pb *testing.PB) {
		in := []byte("phone:+923001234567")
		for pb.Next() {
			if _, err := k.server.FullEvaluate(in); err != nil {
				b.Error(err)
			}
		}
	})
}

func BenchmarkHash(b *testing.B) {
	k, _ := GenerateKey()
	id := mustID(b, "0300-1234567")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.Hash(id); err != nil {
				b.Error(err)
			}
		}
	})
}

func BenchmarkEvaluateBatch(b *testing.B) {
	k, _ := GenerateKey()
	c, _ := NewClient(k.PublicKey())
	ids := make([]identifier.ID, 16)
	for i := range ids {
		ids[i] = mustID(b, "0300-1234567")
	}
	bl, _ := c.Blind(ids)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := k.Evaluate(bl.Elements); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "elements/s")
}
