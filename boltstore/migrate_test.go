package boltstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/record"
	"github.com/khabardar/khabardar/storetest"
)

// TestMigrate upgrades a format 1 store in batches, stopping after the
// first batch (each batch is one transaction, so a kill can stop it only
// between batches), then resuming: every bucket and count is as before.
func TestMigrate(t *testing.T) {
	defer func(n int) { migrateBatch = n }(migrateBatch)
	migrateBatch = 100
	dir := t.TempDir()
	s := openInit(t, dir)
	want := storetest.FillForMigration(t, s)
	s.Close()
	storetest.DowngradeBolt(t, filepath.Join(dir, FileName))

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	err = s.Init(ctx, storetest.Layout)
	wantCode(t, "Init on a format 1 store", err, khabardar.EMIGRATE)
	if !strings.Contains(err.Error(), "khabardar migrate") {
		t.Errorf("the error does not say what to run: %v", err)
	}
	if f, _ := s.RecordFormat(ctx); f != 1 {
		t.Fatalf("RecordFormat %d, want 1", f)
	}

	stop := errors.New("stop")
	cctx, cancel := context.WithCancel(ctx)
	var batches int
	_, err = s.Migrate(cctx, func(done, total int64) {
		if batches++; batches == 2 {
			cancel() // the third batch never starts
		}
		if total < int64(len(want.Buckets)) {
			t.Errorf("progress total %d, want at least %d", total, len(want.Buckets))
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted migration: %v, want context.Canceled (%v)", err, stop)
	}
	wantCode(t, "Init half-way through", s.Init(ctx, storetest.Layout), khabardar.EMIGRATE)

	var last, total int64
	from, err := s.Migrate(ctx, func(d, tot int64) { last, total = d, tot })
	if err != nil || from != 1 {
		t.Fatalf("resumed migration: from %d, %v", from, err)
	}
	if last != total || total < int64(len(want.Buckets)) {
		t.Errorf("progress ended at %d of %d", last, total)
	}
	if err := s.Init(ctx, storetest.Layout); err != nil {
		t.Fatalf("Init after migration: %v", err)
	}
	storetest.CheckMigrated(t, s, want)
	if from, err := s.Migrate(ctx, nil); from != record.Format || err != nil {
		t.Errorf("a second migration: from %d, %v; want nothing to do", from, err)
	}
}

// TestNewerFormatRefused: a store written by a newer khabardar is refused,
// by Init and by Migrate, with an error that says to upgrade.
func TestNewerFormatRefused(t *testing.T) {
	dir := t.TempDir()
	s := openInit(t, dir)
	s.Close()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(metaBucket).Put(formatKey, []byte("99")) })
	db.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Init(context.Background(), storetest.Layout)
	wantCode(t, "Init", err, khabardar.EINVALID)
	if !strings.Contains(err.Error(), "newer khabardar") {
		t.Errorf("error %v does not say the store is newer", err)
	}
	_, err = s.Migrate(context.Background(), nil)
	wantCode(t, "Migrate", err, khabardar.EINVALID)
}
