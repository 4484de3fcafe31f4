// Package boltstore implements khabardar.Store in one bbolt file, for a
// single server that needs no Redis.
//
// # Why bbolt
//
// Each bucket prefix is one key whose value is the bucket's sorted records
// (package internal/record), so ingest is a read-modify-write of every
// bucket a batch touches; bbolt does that work in the committing goroutine,
// reads a bucket straight from its mmap, and is one file. The measurements
// against pebble that chose it are in docs/design.md, "The embedded store".
//
// # Space
//
// bbolt copies every page a transaction changes and can reuse the old copies
// only after the commit. A 50,000-identifier batch touches about half of the
// 65,536 buckets and so nearly every leaf page: the file ends an ingest at
// about twice its live data (38 B/id at 1M). Close therefore compacts the
// file into a new one (bbolt.Compact, pages packed full) when at least half of
// it is free, which takes about 0.4 µs per stored identifier once.
//
// # Concurrency
//
// One process owns the data directory: Open takes an exclusive lock on a lock
// file in it, held until Close, so the compaction's rename cannot race another
// process opening the old file. Writers are serialized by bbolt; readers run
// beside them on consistent snapshots.
package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/record"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Names of the files in the data directory.
const (
	FileName    = "khabardar.db"
	lockName    = "khabardar.lock"
	compactName = FileName + ".compact" // a compaction in progress, or killed
)

// Top-level bbolt buckets.
var (
	metaBucket     = []byte("meta")     // layoutKey → the layout as JSON
	listingsBucket = []byte("listings") // listing ID → storedListing JSON; its sequence numbers listings
	bucketsBucket  = []byte("buckets")  // hex prefix → sorted concatenated records
	// apikeys and apikey_hashes (apikey.go), sms_prefs and
	// sms_prefs_expiry (prefs.go), sms_seen and sms_seen_expiry (replay.go)
	// are created by their first write.

	layoutKey = []byte("layout")
	// formatKey holds the record format (package internal/record) as
	// decimal; a store with a layout and no format is format 1.
	formatKey = []byte("format")
	// migrateKey holds the last bucket prefix a migration has upgraded:
	// each batch commits it with the batch, so a killed migration resumes
	// after it.
	migrateKey = []byte("migrate_after")
)

// lockTimeout is how long Open waits for another process to let go of the
// data directory: long enough for a Close that is finishing, short enough that
// a second server started by mistake fails at once.
const lockTimeout = time.Second

// compactMinSize is the file size below which Close does not bother to compact.
// A variable so that tests can exercise compaction on small files.
var compactMinSize int64 = 8 << 20

var _ khabardar.Store = (*Store)(nil)

// Store is a khabardar.Store kept in a bbolt file. Its methods are safe for
// concurrent use.
type Store struct {
	dir  string
	path string
	lock *os.File // nil where the platform has no lockDir

	// mu is held shared by every operation and exclusively by Close, so
	// that Close never compacts while a write is in flight.
	mu sync.RWMutex
	db *bolt.DB // nil once closed

	layout atomic.Pointer[khabardar.Layout] // set by Init

	// names maps listing numbers to IDs for Bucket. Only this process writes
	// the file, so it stays in step with the listings bucket: it is updated
	// after each commit that adds or removes a listing.
	namesMu sync.RWMutex
	names   map[uint32]string
}

// Open opens the store in dir, creating the directory (0700) and the database
// file (0600) if needed. It fails with EUNAVAILABLE if another process, or
// another Store in this process, has dir open.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, unavailable(fmt.Sprintf("cannot create data directory %s", dir), err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName), lockTimeout)
	if err != nil {
		return nil, lockError(dir, err)
	}
	s, err := open(dir, lock)
	if err != nil {
		if lock != nil {
			lock.Close() // releases the lock
		}
		return nil, err
	}
	return s, nil
}

// initialMmapSize is the address space bbolt maps up front: 1 GiB, some 45
// million identifiers at about 23 bytes each. Below it the map never grows,
// and growing it is costly twice over: bbolt copies every node a write
// transaction holds onto the heap (a tenth of an ingest's allocations
// otherwise), and a remap waits for every read transaction, so a serve busy
// with lookups would stall an ingest through its admin socket. It is address
// space only: on Linux mapping past the end of the file neither grows the
// file nor takes memory.
const initialMmapSize = 1 << 30

func open(dir string, lock *os.File) (*Store, error) {
	// A compaction killed before its rename leaves a partial copy; the
	// original is intact.
	if err := os.Remove(filepath.Join(dir, compactName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, unavailable("cannot remove a stale compaction file", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, InitialMmapSize: initialMmapSize})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, lockError(dir, errLocked)
		}
		return nil, unavailable(fmt.Sprintf("cannot open %s", path), err)
	}
	// Grow the file 1 MiB at a time rather than bbolt's 16 MiB, which would
	// be half of the file of a million identifiers.
	db.AllocSize = 1 << 20
	s := &Store{dir: dir, path: path, lock: lock, db: db, names: map[uint32]string{}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{metaBucket, listingsBucket, bucketsBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return tx.Bucket(listingsBucket).ForEach(func(k, v []byte) error {
			var sl storedListing
			if err := sl.unmarshal(v); err != nil {
				return err
			}
			s.names[sl.Num] = string(k)
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, unavailable(fmt.Sprintf("cannot read %s", path), err)
	}
	return s, nil
}

var errLocked = errors.New("locked")

// ErrLocked matches (errors.Is) the error Open returns when another process
// holds the data directory: a caller that can reach that process another
// way (the admin socket) tries that instead.
var ErrLocked = errors.New("boltstore: data directory in use by another process")

// lockedError is an EUNAVAILABLE *khabardar.Error that is also ErrLocked.
type lockedError struct{ err *khabardar.Error }

func (e lockedError) Error() string   { return e.err.Error() }
func (e lockedError) Unwrap() []error { return []error{e.err, ErrLocked} }

func lockError(dir string, err error) error {
	if errors.Is(err, errLocked) {
		return lockedError{khabardar.Errorf(khabardar.EUNAVAILABLE,
			"data directory %s is in use by another khabardar process; stop it or use another data directory", dir)}
	}
	return unavailable(fmt.Sprintf("cannot lock data directory %s", dir), err)
}

// Init binds an empty store to layout or checks the layout it was bound to.
func (s *Store) Init(ctx context.Context, layout khabardar.Layout) error {
	if err := layout.Validate(); err != nil {
		return err
	}
	err := s.update(ctx, "saving the layout", func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if v := meta.Get(layoutKey); v != nil {
			var stored khabardar.Layout
			if err := json.Unmarshal(v, &stored); err != nil {
				return err
			}
			if err := layout.CheckStored(stored); err != nil {
				return err
			}
			return record.CheckFormat(storedFormat(meta))
		}
		v, err := json.Marshal(layout)
		if err != nil {
			return err
		}
		if err := meta.Put(formatKey, []byte(strconv.Itoa(record.Format))); err != nil {
			return err
		}
		return meta.Put(layoutKey, v)
	})
	if err != nil {
		return err
	}
	s.layout.Store(&layout)
	return s.expireAtInit(ctx)
}

// Ping reports EUNAVAILABLE once the store is closed.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, "checking the store", func(*bolt.Tx) error { return nil })
}

// Close compacts the file if at least half of it is free, then closes it and
// releases the data directory. Closing a closed store does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	db := s.db
	s.db = nil
	var errs []error
	if s.lock != nil && worthCompacting(db) {
		// On failure the original file is kept as it is, so the error is
		// reported but nothing is lost.
		if err := compact(db, s.dir); err != nil {
			errs = append(errs, internal("compacting the data file", err))
		}
	}
	if err := db.Close(); err != nil {
		errs = append(errs, internal("closing the data file", err))
	}
	if s.lock != nil {
		if err := s.lock.Close(); err != nil {
			errs = append(errs, internal("releasing the data directory lock", err))
		}
	}
	return errors.Join(errs...)
}

// worthCompacting reports whether at least half of a big enough file is free
// pages or unused tail.
func worthCompacting(db *bolt.DB) bool {
	fi, err := os.Stat(db.Path())
	if err != nil || fi.Size() < compactMinSize {
		return false
	}
	var live int64
	if err := db.View(func(tx *bolt.Tx) error {
		live = tx.Size() - int64(db.Stats().FreeAlloc)
		return nil
	}); err != nil {
		return false
	}
	return live <= fi.Size()/2
}

// compact copies db into a new file with full pages and renames it over db's
// file. db stays open (and its file locked) until the caller closes it.
func compact(db *bolt.DB, dir string) (err error) {
	tmp := filepath.Join(dir, compactName)
	// No fsync per commit: the file is synced once, before the rename.
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockTimeout, NoSync: true})
	if err != nil {
		return err
	}
	dst.AllocSize = db.AllocSize
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	// Commit every 64 MiB so that memory stays bounded for big stores.
	if err := bolt.Compact(dst, db, 64<<20); err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, db.Path()); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync() // make the rename durable
}

// view runs fn in a read transaction and maps bbolt's errors.
func (s *Store) view(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	return s.run(ctx, op, false, fn)
}

// update runs fn in a write transaction and maps bbolt's errors.
func (s *Store) update(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	return s.run(ctx, op, true, fn)
}

func (s *Store) run(ctx context.Context, op string, write bool, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return khabardar.Errorf(khabardar.EUNAVAILABLE, "the data store is closed")
	}
	var err error
	if write {
		err = s.db.Update(fn)
	} else {
		err = s.db.View(fn)
	}
	return dbError(op, err)
}

// initLayout returns the layout set by Init.
func (s *Store) initLayout() (khabardar.Layout, error) {
	l := s.layout.Load()
	if l == nil {
		return khabardar.Layout{}, khabardar.Errorf(khabardar.EINTERNAL, "the data store was used before Init")
	}
	return *l, nil
}

// dbError passes on our own and context errors and turns the rest, bbolt's,
// into EUNAVAILABLE or EINTERNAL. The message names the operation only; the
// cause stays in the chain for logs.
func dbError(op string, err error) error {
	var kerr *khabardar.Error
	switch {
	case err == nil, errors.As(err, &kerr),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return unavailable("the data store is closed", err)
	}
	return internal(op, err)
}

func internal(op string, err error) error {
	return fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EINTERNAL, "data store: %s failed", op), err)
}

func unavailable(msg string, err error) error {
	return fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EUNAVAILABLE, "data store: %s", msg), err)
}
