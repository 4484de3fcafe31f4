package hashing

import (
	"testing"
	"time"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/cpuclock"
)

// BenchmarkCirclFullEvaluate is circl's own direct evaluation on all cores:
// the reference BenchmarkHash (the fast path ingest uses) is compared with.
func BenchmarkCirclFullEvaluate(b *testing.B) {
	k, _ := GenerateKey()
	cpu0 := cpuclock.Self()
	b.RunParallel(func(pb *testing.PB) {
		in := []byte("phone:+923001234567")
		for pb.Next() {
			if _, err := k.server.FullEvaluate(in); err != nil {
				b.Error(err)
			}
		}
	})
	reportCPU(b, cpu0)
}

// BenchmarkHash is Key.Hash on all cores: ingest's raw limit, which the
// bench harness pairs with BenchmarkIngest (`go run ./bench ingest`).
func BenchmarkHash(b *testing.B) {
	k, _ := GenerateKey()
	id := mustID(b, "0300-1234567")
	cpu0 := cpuclock.Self()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.Hash(id); err != nil {
				b.Error(err)
			}
		}
	})
	reportCPU(b, cpu0)
}

// reportCPU reports this process's CPU per operation since cpu0.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64((cpuclock.Self()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
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
