package boltstore

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) khabardar.Store {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// openInit opens dir and binds it to storetest.Layout.
func openInit(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Init(context.Background(), storetest.Layout); err != nil {
		t.Fatal(err)
	}
	return s
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := khabardar.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

func TestPersistence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openInit(t, dir)
	for _, id := range []string{"kept", "dropped"} {
		if err := s.PutListing(ctx, storetest.NewListing(id)); err != nil {
			t.Fatal(err)
		}
	}
	last := storetest.NewListing("kept")
	last.LastSeen = khabardar.Date{Time: last.FirstSeen.AddDate(0, 1, 0)}
	if err := s.PutListing(ctx, last); err != nil {
		t.Fatal(err)
	}
	e := storetest.Exposure("beef", 7, identifier.CNIC)
	if _, err := s.AddExposures(ctx, "kept", []khabardar.Exposure{e}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddExposures(ctx, "dropped", []khabardar.Exposure{e}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveListing(ctx, "dropped"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The layout is bound on disk.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "Init(other key)", s2.Init(ctx, khabardar.Layout{KeyID: "other", BucketBits: 16, SuffixBytes: 8}), khabardar.ELAYOUTMISMATCH)
	s2.Close()

	s3 := openInit(t, dir)
	l, err := s3.Listing(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if l.Counts != (khabardar.Counts{identifier.CNIC: 1}) || l.LastSeen.String() != "2025-11-01" || l.FirstSeen.String() != "2025-10-01" {
		t.Fatalf("after reopen: %+v", l)
	}
	got, err := s3.Bucket(ctx, "beef")
	if err != nil || len(got) != 1 || !slices.Equal(got[0].Listings, []string{"kept"}) {
		t.Fatalf("Bucket after reopen: %v, %v", got, err)
	}
	// A re-created listing gets a number never used before, so the old
	// listing's records (had any survived) could not be attributed to it.
	if err := s3.PutListing(ctx, storetest.NewListing("dropped")); err != nil {
		t.Fatal(err)
	}
	if nums := listingNums(t, s3); nums["dropped"] != 3 || nums["kept"] != 1 {
		t.Fatalf("listing numbers %v, want kept=1 dropped=3", nums)
	}
}

// listingNums reads the stored listing numbers.
func listingNums(t *testing.T, s *Store) map[string]uint32 {
	t.Helper()
	s.namesMu.RLock()
	defer s.namesMu.RUnlock()
	out := map[string]uint32{}
	for num, id := range s.names {
		out[id] = num
	}
	return out
}

func TestLocked(t *testing.T) {
	t.Parallel() // waits out the lock timeout
	dir := t.TempDir()
	openInit(t, dir)
	start := time.Now()
	_, err := Open(dir)
	wantCode(t, "second Open", err, khabardar.EUNAVAILABLE)
	if !strings.Contains(khabardar.ErrorMessage(err), "in use by another khabardar process") {
		t.Fatalf("message %q", khabardar.ErrorMessage(err))
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("%v is not ErrLocked", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

// TestLockedAnotherProcess runs this test binary again as a second process.
func TestLockedAnotherProcess(t *testing.T) {
	if dir := os.Getenv("BOLTSTORE_HELPER_DIR"); dir != "" {
		_, err := Open(dir)
		os.Stdout.WriteString("code=" + khabardar.ErrorCode(err) + " message=" + khabardar.ErrorMessage(err) + "\n")
		return
	}
	t.Parallel() // waits out the lock timeout
	dir := t.TempDir()
	openInit(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockedAnotherProcess$")
	cmd.Env = append(os.Environ(), "BOLTSTORE_HELPER_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "code="+khabardar.EUNAVAILABLE+" message=data directory "+dir+" is in use by another khabardar process") {
		t.Fatalf("helper output:\n%s", out)
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "khabardar")
	openInit(t, dir)
	for path, want := range map[string]os.FileMode{
		dir:                          os.ModeDir | 0o700,
		filepath.Join(dir, FileName): 0o600,
		filepath.Join(dir, lockName): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
}

func TestCompactOnClose(t *testing.T) {
	defer func(old int64) { compactMinSize = old }(compactMinSize)
	compactMinSize = 0
	ctx := context.Background()
	dir := t.TempDir()
	s := openInit(t, dir)
	for _, id := range []string{"gone", "l"} {
		if err := s.PutListing(ctx, storetest.NewListing(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveListing(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	// Batches that each touch most buckets leave most of the file free.
	var all []khabardar.Exposure
	for i := range 4 {
		batch := randomExposures(20_000, uint64(i+1))
		all = append(all, batch...)
		if _, err := s.AddExposures(ctx, "l", batch); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, FileName)
	before := fileSize(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, path)
	if after > before/2 {
		t.Fatalf("file %d bytes before Close, %d after: not compacted", before, after)
	}
	if _, err := os.Stat(filepath.Join(dir, compactName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("compaction file left behind: %v", err)
	}
	s = openInit(t, dir)
	if c, err := s.Recount(ctx, "l"); err != nil || c.Total() != int64(len(all)) {
		t.Fatalf("Recount after compaction = %+v, %v; want %d", c, err, len(all))
	}
	for _, e := range all[:100] {
		got, err := s.Bucket(ctx, e.Prefix)
		if err != nil || !slices.ContainsFunc(got, func(en khabardar.Entry) bool { return string(en.Suffix) == string(e.Suffix) }) {
			t.Fatalf("Bucket after compaction lost an exposure: %v", err)
		}
	}
	// The listing sequence survives the copy: numbers are still not reused.
	if err := s.PutListing(ctx, storetest.NewListing("new")); err != nil {
		t.Fatal(err)
	}
	if nums := listingNums(t, s); nums["l"] != 2 || nums["new"] != 3 {
		t.Fatalf("listing numbers after compaction %v, want l=2 new=3", nums)
	}
}

func TestStaleCompactionFileRemoved(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, compactName)
	if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	openInit(t, dir)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale compaction file kept: %v", err)
	}
}

func TestClosedAndUninitialized(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Bucket(ctx, "0000")
	wantCode(t, "Bucket before Init", err, khabardar.EINTERNAL)
	if err := s.Init(ctx, storetest.Layout); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wantCode(t, "Ping after Close", s.Ping(ctx), khabardar.EUNAVAILABLE)
	_, err = s.AddExposures(ctx, "x", nil)
	wantCode(t, "AddExposures after Close", err, khabardar.EUNAVAILABLE)
}

func TestCanceledContext(t *testing.T) {
	s := openInit(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutListing(ctx, storetest.NewListing("l")); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutListing with a canceled context: %v", err)
	}
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
