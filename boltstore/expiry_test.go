package boltstore

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/storetest"
	bolt "go.etcd.io/bbolt"
)

// fakeClock sets timeNow to a clock the test moves, until the test ends.
func fakeClock(t *testing.T) *time.Time {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	timeNow = func() time.Time { return now }
	t.Cleanup(func() { timeNow = time.Now })
	return &now
}

// count returns how many keys each of the named buckets holds.
func count(t *testing.T, s *Store, names ...[]byte) []int {
	t.Helper()
	n := make([]int, len(names))
	err := s.view(context.Background(), "test", func(tx *bolt.Tx) error {
		for i, name := range names {
			if b := tx.Bucket(name); b != nil {
				n[i] = b.Stats().KeyN
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestExpirySweep checks that expired records leave the file, not only
// the answers: each write deletes up to sweepMax of them, and Init all.
func TestExpirySweep(t *testing.T) {
	ctx := context.Background()
	now := fakeClock(t)
	dir := t.TempDir()
	s := openInit(t, dir)
	const day = 24 * time.Hour
	const n = 100 // over sweepMax
	for i := range n {
		if first, err := s.FirstSeen(ctx, storetest.MessageHash(i), day); err != nil || !first {
			t.Fatalf("FirstSeen = %v, %v", first, err)
		}
		if err := s.SetSMSLanguage(ctx, storetest.SenderHash(i), khabardar.LangUrdu, 365*day); err != nil {
			t.Fatal(err)
		}
	}
	want := func(what string, got []int, want ...int) {
		t.Helper()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: %v records, want %v", what, got, want)
			}
		}
	}
	all := func() []int {
		return count(t, s, seenRecords.byKey, seenRecords.byTime, prefRecords.byKey, prefRecords.byTime)
	}
	want("written", all(), n, n, n, n)

	// A day on, the messages are forgotten: new again when asked, though
	// still on disk until swept.
	*now = now.Add(day)
	if first, err := s.FirstSeen(ctx, storetest.MessageHash(0), day); err != nil || !first {
		t.Fatalf("FirstSeen a day later = %v, %v; want true", first, err)
	}
	// That write replaced its own expired record and swept sweepMax of
	// the other 99.
	want("after one write", all(), n-sweepMax, n-sweepMax, n, n)
	if _, err := s.FirstSeen(ctx, storetest.MessageHash(n), day); err != nil {
		t.Fatal(err)
	}
	want("after two writes", all(), 2, 2, n, n)

	// A year on, a sender who sent nothing is forgotten; one who did is
	// kept. Reopening sweeps everything expired at once.
	*now = now.Add(200 * day)
	if _, err := s.SMSLanguage(ctx, storetest.SenderHash(7), 365*day); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(165*day + time.Second)
	if _, err := s.SMSLanguage(ctx, storetest.SenderHash(8), 365*day); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
		t.Fatalf("a choice a year old: %v, want not found", err)
	}
	want("after a read", all(), 2, 2, n, n)
	// Recording a message sweeps expired languages too, sweepMax of the
	// 99, and its own expired records.
	if _, err := s.FirstSeen(ctx, storetest.MessageHash(n+1), day); err != nil {
		t.Fatal(err)
	}
	want("after a message", all(), 1, 1, n-sweepMax, n-sweepMax)
	*now = now.Add(2 * day)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openInit(t, dir)
	want("reopened", all(), 0, 0, 1, 1)
	if lang, err := s.SMSLanguage(ctx, storetest.SenderHash(7), 365*day); err != nil || lang != khabardar.LangUrdu {
		t.Fatalf("the active sender's choice: %q, %v", lang, err)
	}
}

// TestPrefRenewal checks that reading a choice renews it only when that
// gains more than retain/365, so most reads write nothing.
func TestPrefRenewal(t *testing.T) {
	ctx := context.Background()
	now := fakeClock(t)
	s := openInit(t, t.TempDir())
	const year = 365 * 24 * time.Hour
	h := storetest.SenderHash(1)
	if err := s.SetSMSLanguage(ctx, h, khabardar.LangEnglish, year); err != nil {
		t.Fatal(err)
	}
	expiry := func() time.Time {
		var exp time.Time
		s.view(ctx, "test", func(tx *bolt.Tx) error {
			_, exp, _ = prefRecords.get(tx, []byte(h))
			return nil
		})
		return exp
	}
	set := *now
	for _, step := range []struct {
		after time.Duration
		want  time.Time // the expiry after a read at set+after
	}{
		{time.Hour, set.Add(year)},                     // under a day gained: no write
		{23 * time.Hour, set.Add(year)},                // still under
		{25 * time.Hour, set.Add(year + 25*time.Hour)}, // over a day: renewed
		{26 * time.Hour, set.Add(year + 25*time.Hour)},
	} {
		*now = set.Add(step.after)
		if _, err := s.SMSLanguage(ctx, h, year); err != nil {
			t.Fatal(err)
		}
		if got := expiry(); !got.Equal(step.want) {
			t.Fatalf("after a read at +%v the choice expires at %v, want %v", step.after, got, step.want)
		}
	}
}

// TestOldPrefs checks that a language stored before choices expired (the
// value alone) is kept, and given SMSPrefRetention from the first Init.
func TestOldPrefs(t *testing.T) {
	ctx := context.Background()
	now := fakeClock(t)
	dir := t.TempDir()
	s := openInit(t, dir)
	old := storetest.SenderHash(9)
	err := s.update(ctx, "test", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(smsPrefsBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(old), []byte(khabardar.LangUrdu))
	})
	if err != nil {
		t.Fatal(err)
	}
	// Read before any Init has migrated it: still there.
	if lang, err := s.SMSLanguage(ctx, old, time.Hour); err != nil || lang != khabardar.LangUrdu {
		t.Fatalf("an old choice: %q, %v", lang, err)
	}
	// Put it back as an old one, and reopen.
	s.update(ctx, "test", func(tx *bolt.Tx) error {
		return tx.Bucket(smsPrefsBucket).Put([]byte(old), []byte(khabardar.LangUrdu))
	})
	s.Close()
	s = openInit(t, dir)
	var v []byte
	s.view(ctx, "test", func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket(smsPrefsBucket).Get([]byte(old)))
		return nil
	})
	if len(v) != expiryLen+2 || !decodeExpiry(v).Equal(now.Add(khabardar.SMSPrefRetention)) || string(v[expiryLen:]) != "ur" {
		t.Fatalf("after Init the old choice is stored as %x", v)
	}
	*now = now.Add(khabardar.SMSPrefRetention)
	if _, err := s.SMSLanguage(ctx, old, time.Hour); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
		t.Fatalf("an old choice a year after Init: %v, want not found", err)
	}
}
