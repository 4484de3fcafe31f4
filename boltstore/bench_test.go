package boltstore

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/storetest"
)

// randomExposures returns n exposures of random kinds in random buckets of
// storetest.Layout, the same for the same seed. (storetest.RandomExposures
// reads crypto/rand per exposure, too slow for a million.)
func randomExposures(n int, seed uint64) []khabardar.Exposure {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	r := rand.NewChaCha8(s)
	pb := storetest.Layout.BucketBits / 8
	raw := make([]byte, n*(pb+storetest.Layout.SuffixBytes))
	r.Read(raw)
	out := make([]khabardar.Exposure, n)
	for i := range out {
		b := raw[i*(pb+storetest.Layout.SuffixBytes):][:pb+storetest.Layout.SuffixBytes]
		out[i] = khabardar.Exposure{
			Prefix: hex.EncodeToString(b[:pb]),
			Suffix: b[pb:],
			Kind:   identifier.Kinds[r.Uint64()%3],
		}
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const batchSize = 50_000

// BenchmarkAddExposures adds 50,000-exposure batches of random identifiers to
// one listing, the store growing as it goes.
func BenchmarkAddExposures(b *testing.B) {
	ctx := context.Background()
	s := openInit(b, b.TempDir())
	if err := s.PutListing(ctx, storetest.NewListing("bench")); err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	seed := uint64(0)
	for b.Loop() {
		b.StopTimer()
		seed++
		batch := randomExposures(batchSize, seed)
		c0 := cpuTime()
		b.StartTimer()
		if _, err := s.AddExposures(ctx, "bench", batch); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchSize), "ns/id")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batchSize), "cpu-ns/id")
}

// ingestMillion ingests 1,000,000 random exposures into a new store in dir in
// 50,000-exposure batches and closes it. It returns the file's size before
// Close (the ingest's high-water mark) and after, and the CPU time spent
// (every thread, Close's compaction included).
func ingestMillion(tb testing.TB, dir string) (before, after int64, cpu time.Duration) {
	const n = 1_000_000
	ctx := context.Background()
	var batches [][]khabardar.Exposure
	for i := range n / batchSize {
		batches = append(batches, randomExposures(batchSize, uint64(i+1)))
	}
	c0 := cpuTime()
	s, err := Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Init(ctx, storetest.Layout); err != nil {
		tb.Fatal(err)
	}
	if err := s.PutListing(ctx, storetest.NewListing("big")); err != nil {
		tb.Fatal(err)
	}
	for _, batch := range batches {
		if _, err := s.AddExposures(ctx, "big", batch); err != nil {
			tb.Fatal(err)
		}
	}
	before = fileSize(tb, filepath.Join(dir, FileName))
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	cpu = cpuTime() - c0
	return before, fileSize(tb, filepath.Join(dir, FileName)), cpu
}

// BenchmarkIngestMillion reports the on-disk size per identifier after
// Close (disk-B/id), before it (peak-B/id), and the CPU per identifier.
func BenchmarkIngestMillion(b *testing.B) {
	for b.Loop() {
		before, after, cpu := ingestMillion(b, b.TempDir())
		b.ReportMetric(float64(after)/1e6, "disk-B/id")
		b.ReportMetric(float64(before)/1e6, "peak-B/id")
		b.ReportMetric(float64(cpu.Nanoseconds())/1e6, "cpu-ns/id")
	}
}

// TestIngestMillion checks the disk and CPU budget at a million identifiers.
// It takes a few seconds, so it runs only with KHABARDAR_BIG=1.
func TestIngestMillion(t *testing.T) {
	if testing.Short() || os.Getenv("KHABARDAR_BIG") != "1" {
		t.Skip("set KHABARDAR_BIG=1 to ingest a million identifiers")
	}
	before, after, cpu := ingestMillion(t, t.TempDir())
	t.Logf("file %.1f B/id before Close, %.1f B/id after; %.2f µs CPU/id", float64(before)/1e6, float64(after)/1e6, cpu.Seconds())
	if after > 32e6 {
		t.Errorf("%.1f B/id on disk, budget 32", float64(after)/1e6)
	}
}

// BenchmarkBucketMillion reads random buckets of a store holding a million
// identifiers (about 15 records a bucket).
func BenchmarkBucketMillion(b *testing.B) {
	dir := b.TempDir()
	ingestMillion(b, dir)
	s := openInit(b, dir)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	prefixes := make([]string, 4096)
	for i := range prefixes {
		prefixes[i] = hex.EncodeToString([]byte{byte(r.Uint32()), byte(r.Uint32())})
	}
	i := 0
	for b.Loop() {
		if _, err := s.Bucket(ctx, prefixes[i%len(prefixes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
