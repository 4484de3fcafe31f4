package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ingest"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/redisstore"
	"github.com/khabardar/khabardar/storetest"
)

// BenchmarkIngestWatches measures what matching against watches costs an
// ingest: KHABARDAR_BENCH_N identifiers (default 200,000) ingested into a
// fresh store with no watches and into one holding KHABARDAR_BENCH_WATCHES
// (default 100,000) random watches of 10,000 subscribers, in interleaved
// pairs (none, watches, none, watches, …: KHABARDAR_BENCH_PAIRS, default 3),
// each ingest with matching on. It reports each pair's throughput ratio as
// min/median/max, and the store bytes per watch. Run it once:
//
//	go test ./ingest -run '^$' -bench IngestWatches -benchtime 1x -timeout 60m
func BenchmarkIngestWatches(b *testing.B) {
	env := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	n, watches, pairs := env("KHABARDAR_BENCH_N", 200_000), env("KHABARDAR_BENCH_WATCHES", 100_000), env("KHABARDAR_BENCH_PAIRS", 3)
	file := filepath.Join(b.TempDir(), "leak.csv")
	if _, err := fixture.CSVFile(file, n); err != nil {
		b.Fatal(err)
	}
	key, err := hashing.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	layout := khabardar.Layout{KeyID: key.ID(), BucketBits: 16, SuffixBytes: 8}
	type opened struct {
		s     khabardar.Store
		bytes func() int64
	}
	stores := []struct {
		name string
		open func(b *testing.B) opened
	}{
		{"embedded", func(b *testing.B) opened {
			dir := b.TempDir()
			s, err := boltstore.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			return opened{s, func() int64 { return dirSize(dir) }}
		}},
		{"redis", func(b *testing.B) opened {
			url := redistest.URL(b)
			s, err := redisstore.Open(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			return opened{s, func() int64 { return redistest.UsedMemory(b, url) }}
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			run := func(withWatches bool) (rate, perWatch float64) {
				o := st.open(b)
				defer o.s.Close()
				if err := o.s.Init(ctx, layout); err != nil {
					b.Fatal(err)
				}
				if err := o.s.PutListing(ctx, storetest.NewListing("bench")); err != nil {
					b.Fatal(err)
				}
				before := o.bytes()
				as := o.s.(khabardar.AlertStore)
				if withWatches {
					addWatches(b, as, watches)
					perWatch = float64(o.bytes()-before) / float64(watches)
				}
				sum, err := ingest.Run(ctx, ingest.Config{Store: o.s, Key: key, Layout: layout, ListingID: "bench", Watches: as}, []string{file})
				if err != nil {
					b.Fatal(err)
				}
				if sum.ListingCounts.Total() != int64(n) {
					b.Fatalf("stored %d identifiers, want %d", sum.ListingCounts.Total(), n)
				}
				return float64(n) / sum.Elapsed.Seconds(), perWatch
			}
			var ratios []float64
			var none, with, bytesPerWatch float64
			for range pairs {
				r0, _ := run(false)
				r1, pw := run(true)
				ratios = append(ratios, r1/r0)
				none, with, bytesPerWatch = none+r0, with+r1, pw
			}
			slices.Sort(ratios)
			b.ReportMetric(none/float64(pairs), "ids/s-no-watches")
			b.ReportMetric(with/float64(pairs), "ids/s-with-watches")
			b.ReportMetric(100*ratios[0], "%-min")
			b.ReportMetric(100*ratios[len(ratios)/2], "%-median")
			b.ReportMetric(100*ratios[len(ratios)-1], "%-max")
			b.ReportMetric(bytesPerWatch, "stored-B/watch")
		})
	}
}

// addWatches adds n random watches, ten per subscriber, from a few
// goroutines (each Watch is one store write, as one SMS makes).
func addWatches(b *testing.B, as khabardar.AlertStore, n int) {
	b.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	per := (n + 7) / 8
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			es := storetest.RandomExposures(min(per, n-g*per), identifier.CNIC)
			for i, e := range es {
				id := fmt.Sprintf("%032x", (g*per+i)/10+1)
				sub := khabardar.Subscriber{ID: id, Sealed: []byte("sealed-number-of-a-subscriber-40b"), Lang: "en"}
				if _, err := as.Watch(context.Background(), sub, khabardar.Watch{Prefix: e.Prefix, Suffix: e.Suffix, Kind: e.Kind}, 10); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.Logf("added %d watches in %v", n, time.Since(start).Round(time.Millisecond))
}
