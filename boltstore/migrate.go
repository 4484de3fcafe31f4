package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/record"
)

var _ khabardar.Migrator = (*Store)(nil)

// migrateBatch is how many buckets one migration transaction upgrades: a
// transaction is atomic, so a kill loses at most one batch's work, and a
// small one keeps each commit's copied pages few.
var migrateBatch = 1024 // a variable so that tests can make batches small

// storedFormat is the record format in meta: 1 when only the layout is there.
func storedFormat(meta *bolt.Bucket) int {
	v := meta.Get(formatKey)
	if v == nil {
		if meta.Get(layoutKey) == nil {
			return 0
		}
		return 1
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return -1 // CheckFormat and Migrate refuse it as unknown
	}
	return n
}

// RecordFormat returns the record format of the stored records.
func (s *Store) RecordFormat(ctx context.Context) (int, error) {
	var f int
	err := s.view(ctx, "reading the record format", func(tx *bolt.Tx) error {
		f = storedFormat(tx.Bucket(metaBucket))
		return nil
	})
	return f, err
}

// Migrate upgrades the records in batches of migrateBatch buckets, in key
// order; each transaction stores the last prefix it upgraded with its
// records, and the format once the last batch is done.
func (s *Store) Migrate(ctx context.Context, progress func(done, total int64)) (int, error) {
	from, err := s.RecordFormat(ctx)
	switch {
	case err != nil:
		return 0, err
	case from == 0 || from == record.Format:
		return from, nil
	case from < 0 || from > record.Format:
		return from, record.CheckFormat(max(from, record.Format+1))
	}
	var total, done int64
	err = s.view(ctx, "counting buckets", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketsBucket)
		total = int64(b.Stats().KeyN)
		if after := tx.Bucket(metaBucket).Get(migrateKey); after != nil {
			c := b.Cursor()
			for k, _ := c.First(); k != nil && bytes.Compare(k, after) <= 0; k, _ = c.Next() {
				done++
			}
		}
		return nil
	})
	if err != nil {
		return from, err
	}
	for finished := false; !finished; {
		var n int64
		err := s.update(ctx, "migrating records", func(tx *bolt.Tx) error {
			meta := tx.Bucket(metaBucket)
			var layout khabardar.Layout
			if err := json.Unmarshal(meta.Get(layoutKey), &layout); err != nil {
				return err
			}
			size := layout.RecordSize()
			b := tx.Bucket(bucketsBucket)
			c := b.Cursor()
			k, v := c.First()
			if after := meta.Get(migrateKey); after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			type kv struct{ k, v []byte }
			var batch []kv
			for ; k != nil && len(batch) < migrateBatch; k, v = c.Next() {
				up, err := record.Upgrade(bytes.Clone(v), size, from)
				if err != nil {
					return err
				}
				batch = append(batch, kv{bytes.Clone(k), up})
			}
			for _, e := range batch { // after the cursor is done: Put moves it
				if err := b.Put(e.k, e.v); err != nil {
					return err
				}
			}
			n = int64(len(batch))
			if k == nil { // every bucket upgraded
				finished = true
				if err := meta.Delete(migrateKey); err != nil {
					return err
				}
				return meta.Put(formatKey, []byte(strconv.Itoa(record.Format)))
			}
			return meta.Put(migrateKey, batch[len(batch)-1].k)
		})
		if err != nil {
			return from, err
		}
		if done += n; progress != nil {
			progress(done, total)
		}
	}
	return from, nil
}
