package redisstore

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/record"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/internal/redisurl"
	"github.com/khabardar/khabardar/storetest"
	"github.com/redis/go-redis/v9"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) khabardar.Store {
		s, err := Open(context.Background(), redistest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestContractCluster runs the contract on a three-master Redis Cluster:
// every bucket's keys share a hash slot, listing metadata shares {m}, and
// scans visit every master. A cluster is one keyspace, leased for the
// whole test; each subtest's first store finds it flushed (a store opened
// while another is open, as the contract's "before Init" does, shares it).
func TestContractCluster(t *testing.T) {
	u := redistest.ClusterURL(t)
	var live atomic.Int32
	storetest.Run(t, func(t *testing.T) khabardar.Store {
		if live.Add(1) == 1 {
			flushCluster(t, u)
		}
		t.Cleanup(func() { live.Add(-1) })
		s, err := Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func flushCluster(t *testing.T, u string) {
	t.Helper()
	c, err := redisurl.Client(u, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.(*redis.ClusterClient).ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		return m.FlushAll(ctx).Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// open returns an Init'ed store on a keyspace of its own, and its URL.
func open(t *testing.T) (*Store, string) {
	t.Helper()
	u := redistest.URL(t)
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Init(context.Background(), storetest.Layout); err != nil {
		t.Fatal(err)
	}
	return s, u
}

func rawClient(t *testing.T, u string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := khabardar.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// TestIsolation checks that two stores from redistest.URL share nothing.
func TestIsolation(t *testing.T) {
	ctx := context.Background()
	a, _ := open(t)
	b, bURL := open(t)
	if err := a.PutListing(ctx, storetest.NewListing("only-in-a")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddExposures(ctx, "only-in-a", storetest.RandomExposures(10, identifier.CNIC)); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Listings(ctx); err != nil || len(got) != 0 {
		t.Fatalf("the other store has listings %v (%v)", got, err)
	}
	if d := redistest.Dump(t, bURL); len(d) != 3 || d[keyLayout] == nil || d[keyFormat] == nil || d[keyPrefsExpire] == nil {
		t.Fatalf("the other keyspace holds %d keys", len(d))
	}
}

// TestKeys checks the key layout and that nothing but records and counts is
// stored per bucket.
func TestKeys(t *testing.T) {
	ctx := context.Background()
	s, u := open(t)
	if err := s.PutListing(ctx, storetest.NewListing("l1")); err != nil {
		t.Fatal(err)
	}
	e := storetest.Exposure("beef", 7, identifier.Phone)
	if _, err := s.AddExposures(ctx, "l1", []khabardar.Exposure{e}); err != nil {
		t.Fatal(err)
	}
	d := redistest.Dump(t, u)
	for k := range d {
		if !strings.HasPrefix(k, "khb:") {
			t.Errorf("key %q lacks the khb: prefix", k)
		}
	}
	ref := refField(record.MakeRef(1, identifier.Phone))
	if got, want := d["khb:b:{beef}"], append(bytes.Clone(e.Suffix), ref...); !bytes.Equal(got, want) {
		t.Errorf("bucket value %x, want %x", got, want)
	}
	if got := string(d["khb:n:{beef}"]); got != ref+"1" {
		t.Errorf("bucket counts %q", got)
	}
	c := rawClient(t, u)
	if enc := c.ObjectEncoding(ctx, "khb:n:{beef}").Val(); enc != "listpack" {
		t.Errorf("count hash encoding %q, want listpack", enc)
	}
}

// TestFindPath covers addScript's string.find path: a small batch into a
// bucket larger than it, including a candidate that occurs in the bucket
// only across two records.
func TestFindPath(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	if err := s.PutListing(ctx, storetest.NewListing("l1")); err != nil { // number 1
		t.Fatal(err)
	}
	ref := refField(record.MakeRef(1, identifier.CNIC))
	a := []byte("aaaaaaaa")
	b := append([]byte("xyz"), ref...)
	b = append(b, "bb"...) // b[3:6] is the Ref
	// rec's bytes are the last 5 bytes of record a‖ref and the first 6 of
	// record b‖ref: a misaligned match.
	rec := append(append([]byte("aa"), ref...), b[:6]...)
	exp := func(suffix []byte) khabardar.Exposure {
		return khabardar.Exposure{Prefix: "0f0f", Suffix: suffix, Kind: identifier.CNIC}
	}
	big := []khabardar.Exposure{exp(a), exp(b)}
	for i := 0; i < 3*findMax; i++ {
		big = append(big, storetest.Exposure("0f0f", i, identifier.CNIC))
	}
	if got, err := s.AddExposures(ctx, "l1", big); err != nil || got[identifier.CNIC] != int64(len(big)) {
		t.Fatalf("added %+v (%v), want %d", got, err, len(big))
	}
	got, err := s.AddExposures(ctx, "l1", []khabardar.Exposure{exp(rec[:8]), exp(a), storetest.Exposure("0f0f", 5, identifier.CNIC)})
	if err != nil || got[identifier.CNIC] != 1 {
		t.Fatalf("added %+v (%v), want only the misaligned one", got, err)
	}
	entries, err := s.Bucket(ctx, "0f0f")
	if err != nil || len(entries) != len(big)+1 {
		t.Fatalf("bucket has %d entries (%v), want %d", len(entries), err, len(big)+1)
	}
	// And the table path, re-adding more than findMax records.
	if got, err := s.AddExposures(ctx, "l1", big); err != nil || got.Total() != 0 {
		t.Fatalf("re-adding added %+v (%v)", got, err)
	}
}

// TestNoScript checks that a flushed script cache is reloaded.
func TestNoScript(t *testing.T) {
	ctx := context.Background()
	s, u := open(t)
	if err := s.PutListing(ctx, storetest.NewListing("l1")); err != nil {
		t.Fatal(err)
	}
	if err := rawClient(t, u).ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AddExposures(ctx, "l1", storetest.RandomExposures(3000, identifier.IMEI)); err != nil || got[identifier.IMEI] != 3000 {
		t.Fatalf("added %+v (%v)", got, err)
	}
}

// TestRecountRepairs checks that Recount restores counts a dead writer left
// short.
func TestRecountRepairs(t *testing.T) {
	ctx := context.Background()
	s, u := open(t)
	if err := s.PutListing(ctx, storetest.NewListing("l1")); err != nil {
		t.Fatal(err)
	}
	s.AddExposures(ctx, "l1", storetest.RandomExposures(700, identifier.Phone))
	s.AddExposures(ctx, "l1", storetest.RandomExposures(300, identifier.CNIC))
	rawClient(t, u).HSet(ctx, listingKey("l1"), "phone", 5, "cnic", 0)
	if got, err := s.Recount(ctx, "l1"); err != nil || got != (khabardar.Counts{identifier.Phone: 700, identifier.CNIC: 300}) {
		t.Fatalf("Recount = %+v (%v)", got, err)
	}
}

// TestSweepResumes checks that a removal whose sweep was cut short is
// finished by the next RemoveListing call.
func TestSweepResumes(t *testing.T) {
	ctx := context.Background()
	s, u := open(t)
	for _, id := range []string{"keep", "gone"} {
		if err := s.PutListing(ctx, storetest.NewListing(id)); err != nil {
			t.Fatal(err)
		}
	}
	s.AddExposures(ctx, "keep", storetest.RandomExposures(100, identifier.CNIC))
	s.AddExposures(ctx, "gone", storetest.RandomExposures(500, identifier.CNIC))
	// Delete the listing as RemoveListing does, but do not sweep: as if the
	// process died right after.
	c := rawClient(t, u)
	if err := removeScript.Run(ctx, c, []string{listingKey("gone"), keyIDs, keyNums, keyRemoving}, "gone").Err(); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "RemoveListing(gone) again", s.RemoveListing(ctx, "gone"), khabardar.ENOTFOUND)
	if n := c.SCard(ctx, keyRemoving).Val(); n != 0 {
		t.Fatalf("%d removals still pending", n)
	}
	if n := countRecords(t, u, 2); n != 0 {
		t.Fatalf("%d records of the removed listing remain", n)
	}
	if n := countRecords(t, u, 1); n != 100 {
		t.Fatalf("%d records of the kept listing remain, want 100", n)
	}
}

// countRecords counts the stored records of listing number num.
func countRecords(t *testing.T, u string, num uint32) int {
	t.Helper()
	size := storetest.Layout.RecordSize()
	n := 0
	for k, v := range redistest.Dump(t, u) {
		if !strings.HasPrefix(k, "khb:b:") {
			continue
		}
		for i := 0; i+size <= len(v); i += size {
			if record.RefAt(v[i:i+size]).Listing() == num {
				n++
			}
		}
	}
	return n
}

// TestRemoveWhileAdding removes a listing, sweep and all, after AddExposures
// has looked up its number but before it writes the buckets: AddExposures
// must take its records out again.
func TestRemoveWhileAdding(t *testing.T) {
	ctx := context.Background()
	s, u := open(t)
	for _, id := range []string{"keep", "l1"} {
		if err := s.PutListing(ctx, storetest.NewListing(id)); err != nil {
			t.Fatal(err)
		}
	}
	shared := storetest.RandomExposures(300, identifier.CNIC)
	if _, err := s.AddExposures(ctx, "keep", shared); err != nil {
		t.Fatal(err)
	}
	testHookBeforeBuckets = func() {
		testHookBeforeBuckets = nil
		if err := s.RemoveListing(ctx, "l1"); err != nil {
			t.Error(err)
		}
	}
	defer func() { testHookBeforeBuckets = nil }()
	_, err := s.AddExposures(ctx, "l1", append(storetest.RandomExposures(3000, identifier.CNIC), shared...))
	wantCode(t, "AddExposures during RemoveListing", err, khabardar.ENOTFOUND)
	if n := countRecords(t, u, 2); n != 0 {
		t.Fatalf("%d records of the removed listing remain", n)
	}
	if n := countRecords(t, u, 1); n != 300 {
		t.Fatalf("%d records of the kept listing remain, want 300", n)
	}
}

// TestUnavailable checks that an unreachable Redis is EUNAVAILABLE.
func TestUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s, err := Open(context.Background(), "redis://"+addr+"/0?max_retries=-1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wantCode(t, "Ping", s.Ping(ctx), khabardar.EUNAVAILABLE)
	wantCode(t, "Init", s.Init(ctx, storetest.Layout), khabardar.EUNAVAILABLE)
	_, err = s.Listing(ctx, "x")
	wantCode(t, "Listing", err, khabardar.EUNAVAILABLE)
	if msg := khabardar.ErrorMessage(err); strings.Contains(msg, addr) {
		t.Errorf("message %q names the address", msg)
	}
	_, err = Open(context.Background(), "redis://user:secret@[::1")
	wantCode(t, "Open(bad URL)", err, khabardar.EINVALID)
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q quotes the URL", err)
	}
}

// TestBig adds 1,000,000 random exposures in batches of 50,000 and reports
// Redis memory per identifier and write throughput. KHABARDAR_BIG=1 runs it.
func TestBig(t *testing.T) {
	if os.Getenv("KHABARDAR_BIG") != "1" {
		t.Skip("set KHABARDAR_BIG=1 to add a million exposures")
	}
	const total, batch = 1_000_000, 50_000
	ctx := context.Background()
	s, u := open(t)
	if err := s.PutListing(ctx, storetest.NewListing("big")); err != nil {
		t.Fatal(err)
	}
	before := redistest.UsedMemory(t, u)
	var spent time.Duration
	for done := 0; done < total; done += batch {
		b := storetest.RandomExposures(batch, identifier.CNIC)
		start := time.Now()
		got, err := s.AddExposures(ctx, "big", b)
		spent += time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if got[identifier.CNIC] < batch-5 { // random 10-byte collisions are vanishingly rare
			t.Fatalf("added %d of %d", got[identifier.CNIC], batch)
		}
	}
	grown := redistest.UsedMemory(t, u) - before
	t.Logf("used_memory grew %d bytes: %.1f B/identifier (target <= 48)", grown, float64(grown)/total)
	t.Logf("write throughput: %.0f identifiers/s (%v for %d)", total/spent.Seconds(), spent.Round(time.Millisecond), total)

	start := time.Now()
	c, err := s.Recount(ctx, "big")
	if err != nil || c[identifier.CNIC] < total-100 {
		t.Fatalf("Recount = %+v (%v)", c, err)
	}
	t.Logf("Recount took %v", time.Since(start).Round(time.Millisecond))

	// Where the memory goes: MEMORY USAGE of every bucket key (value, key
	// name and dict entry; the main hash table's slots are not included).
	rc := rawClient(t, u)
	var strBytes, hashBytes, strKeys, hashKeys int64
	encodings := map[string]int{}
	for p := 0; p < 1<<storetest.Layout.BucketBits; p += 1000 {
		pipe := rc.Pipeline()
		var cmds []*redis.IntCmd
		var encs []*redis.StringCmd
		for q := p; q < min(p+1000, 1<<storetest.Layout.BucketBits); q++ {
			prefix := fmt.Sprintf("%04x", q)
			cmds = append(cmds, pipe.MemoryUsage(ctx, bucketKey(prefix), 0), pipe.MemoryUsage(ctx, countKey(prefix), 0))
			encs = append(encs, pipe.ObjectEncoding(ctx, countKey(prefix)))
		}
		pipe.Exec(ctx)
		for i, cmd := range cmds {
			if cmd.Err() != nil {
				continue
			}
			if i%2 == 0 {
				strBytes, strKeys = strBytes+cmd.Val(), strKeys+1
			} else {
				hashBytes, hashKeys = hashBytes+cmd.Val(), hashKeys+1
			}
		}
		for _, e := range encs {
			encodings[e.Val()]++
		}
	}
	t.Logf("bucket strings: %d keys, %d bytes (%.1f B/identifier); count hashes: %d keys, %d bytes (%.1f B/identifier), encodings %v",
		strKeys, strBytes, float64(strBytes)/total, hashKeys, hashBytes, float64(hashBytes)/total, encodings)
	if grown > 48*total {
		t.Errorf("%.1f B/identifier, over the 48 B target", float64(grown)/total)
	}
}

// BenchmarkAddExposures adds batches of 10,000 random exposures.
func BenchmarkAddExposures(b *testing.B) {
	ctx := context.Background()
	u := redistest.URL(b)
	s, err := Open(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Init(ctx, storetest.Layout); err != nil {
		b.Fatal(err)
	}
	if err := s.PutListing(ctx, storetest.NewListing("bench")); err != nil {
		b.Fatal(err)
	}
	const n = 10_000
	batches := make([][]khabardar.Exposure, b.N)
	for i := range batches {
		batches[i] = storetest.RandomExposures(n, identifier.Phone)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.AddExposures(ctx, "bench", batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "identifiers/s")
}
