package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/ingest"
	"github.com/khabardar/khabardar/internal/cpuclock"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/redisstore"
	"github.com/khabardar/khabardar/storetest"
)

// BenchmarkIngest ingests a CSV of KHABARDAR_BENCH_N identifiers (default
// 1,000,000) into a fresh store of each kind per run and reports throughput,
// this process's CPU per identifier (for Redis, redis-server's own CPU is
// not in it), and the stored bytes per identifier (embedded: the data
// directory after Close; Redis: used_memory growth). Its baseline, the
// direct evaluation alone (hashing's BenchmarkHash), runs in separate
// processes interleaved with it: `go run ./bench ingest`.
//
//	go test ./ingest -run '^$' -bench 'Ingest$' -benchtime 1x -timeout 30m
func BenchmarkIngest(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("KHABARDAR_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	file := filepath.Join(b.TempDir(), "leak.csv")
	if _, err := fixture.CSVFile(file, n); err != nil {
		b.Fatal(err)
	}
	key, err := hashing.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	layout := khabardar.Layout{KeyID: key.ID(), BucketBits: 16, SuffixBytes: 8}

	var dir, url string
	stores := []struct {
		name  string
		open  func(b *testing.B) khabardar.Store
		bytes func(b *testing.B) int64 // storage in use; called after Close for the embedded store
	}{
		{"embedded",
			func(b *testing.B) khabardar.Store {
				dir = b.TempDir() // fresh per run, so -count N never re-ingests into the last run's store
				s, err := boltstore.Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				return s
			},
			func(b *testing.B) int64 { return dirSize(dir) }},
		{"redis",
			func(b *testing.B) khabardar.Store {
				url = redistest.URL(b)
				s, err := redisstore.Open(context.Background(), url)
				if err != nil {
					b.Fatal(err)
				}
				return s
			},
			func(b *testing.B) int64 { return redistest.UsedMemory(b, url) }},
	}

	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			s := st.open(b)
			if err := s.Init(ctx, layout); err != nil {
				b.Fatal(err)
			}
			if err := s.PutListing(ctx, storetest.NewListing("bench")); err != nil {
				b.Fatal(err)
			}
			// Redis's used_memory starts well above zero, so it is measured
			// before and after. The embedded store's file is measured once,
			// whole, after Close: while open, bbolt has grown it a step
			// ahead (1 MiB), which a difference would subtract.
			var before int64
			if st.name == "redis" {
				before = st.bytes(b)
			}
			b.ResetTimer()
			cpu0 := cpuclock.Self()
			var sum *ingest.Summary
			for i := 0; i < b.N; i++ {
				sum, err = ingest.Run(ctx, ingest.Config{Store: s, Key: key, Layout: layout, ListingID: "bench"}, []string{file})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := cpuclock.Self() - cpu0
			s.Close()
			if sum.ListingCounts.Total() != int64(n) {
				b.Fatalf("stored %d identifiers, want %d", sum.ListingCounts.Total(), n)
			}
			b.ReportMetric(float64(n)/sum.Elapsed.Seconds(), "ids/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/id")
			b.ReportMetric(float64(st.bytes(b)-before)/float64(n), "stored-B/id")
		})
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
