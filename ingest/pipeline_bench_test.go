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
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/redisstore"
	"github.com/khabardar/khabardar/storetest"
)

// BenchmarkIngest ingests a CSV of KHABARDAR_BENCH_N identifiers (default
// 1,000,000) into each store and reports throughput beside circl's own
// FullEvaluate throughput on the same cores, measured just before and just
// after in the same run, and the stored bytes per identifier (embedded: the
// data directory after Close; Redis: used_memory growth). Run it once:
//
//	go test ./ingest -run '^$' -bench Ingest -benchtime 1x -timeout 30m
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

	dir := b.TempDir()
	var url string
	stores := []struct {
		name  string
		open  func(b *testing.B) khabardar.Store
		bytes func(b *testing.B) int64 // storage in use; called after Close for the embedded store
	}{
		{"embedded",
			func(b *testing.B) khabardar.Store {
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
			before := st.bytes(b)
			circlBefore := hashing.Baseline(100_000)
			b.ResetTimer()
			var sum *ingest.Summary
			for i := 0; i < b.N; i++ {
				sum, err = ingest.Run(ctx, ingest.Config{Store: s, Key: key, Layout: layout, ListingID: "bench"}, []string{file})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			circlAfter := hashing.Baseline(100_000)
			s.Close()
			if sum.ListingCounts.Total() != int64(n) {
				b.Fatalf("stored %d identifiers, want %d", sum.ListingCounts.Total(), n)
			}
			rate := float64(n) / sum.Elapsed.Seconds()
			circl := (circlBefore + circlAfter) / 2
			b.ReportMetric(rate, "ids/s")
			b.ReportMetric(circl, "circl-evals/s")
			b.ReportMetric(100*rate/circl, "%-of-circl")
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
