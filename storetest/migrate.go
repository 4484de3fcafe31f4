package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/redisurl"
)

// The format 1 writer, kept here so that migrations are tested on what the
// code before formats wrote: a Ref was the listing number (22 bits) then the
// kind (2 bits). Nothing but tests writes format 1.

// DowngradeRef returns the format 1 form of a current (format 2) Ref, whose
// kind had 4 bits.
func DowngradeRef(r uint32) uint32 { return (r>>4)<<2 | r&3 }

// Downgrade rewrites a bucket value's records, in place, from the current
// format to format 1.
func Downgrade(val []byte, size int) []byte {
	for i := 0; i+size <= len(val); i += size {
		rec := val[i : i+size]
		n := len(rec)
		r := DowngradeRef(uint32(rec[n-3])<<16 | uint32(rec[n-2])<<8 | uint32(rec[n-1]))
		rec[n-3], rec[n-2], rec[n-1] = byte(r>>16), byte(r>>8), byte(r)
	}
	return val
}

// MigrationWant is what a store holds before a migration, which it must
// hold again after it.
type MigrationWant struct {
	Buckets map[string][]khabardar.Entry
	Counts  map[string]khabardar.Counts
}

// FillForMigration adds three listings with exposures of each kind format 1 knew across
// many buckets (some shared between listings, one listing removed so that
// listing numbers have gaps) and returns what the store then answers.
func FillForMigration(t *testing.T, s khabardar.Store) MigrationWant {
	t.Helper()
	ctx := context.Background()
	mustPut(t, s, "m1", "m2", "gone", "m3")
	var all []khabardar.Exposure
	// The kinds format 1 could hold: its Refs had 2 bits for one.
	for i, k := range []identifier.Kind{identifier.CNIC, identifier.Phone, identifier.IMEI} {
		batch := RandomExposures(700, k)
		all = append(all, batch...)
		mustAdd(t, s, "m1", batch)
		mustAdd(t, s, "gone", batch[:50])
		mustAdd(t, s, []string{"m2", "m3", "m3"}[i%3], batch[:100+i])
	}
	if err := s.RemoveListing(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	return ReadForMigration(t, s, all)
}

// ReadForMigration reads every bucket of exposures and every listing's
// counts.
func ReadForMigration(t *testing.T, s khabardar.Store, exposures []khabardar.Exposure) MigrationWant {
	t.Helper()
	ctx := context.Background()
	w := MigrationWant{Buckets: map[string][]khabardar.Entry{}, Counts: map[string]khabardar.Counts{}}
	for _, e := range exposures {
		if _, ok := w.Buckets[e.Prefix]; ok {
			continue
		}
		entries, err := s.Bucket(ctx, e.Prefix)
		if err != nil {
			t.Fatalf("Bucket: %v", err)
		}
		w.Buckets[e.Prefix] = entries
	}
	ls, err := s.Listings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		w.Counts[l.ID] = l.Counts
	}
	return w
}

// CheckMigrated checks that s answers as it did before the migration: the
// same entries in every bucket, the same counts stored and recounted.
func CheckMigrated(t *testing.T, s khabardar.Store, want MigrationWant) {
	t.Helper()
	ctx := context.Background()
	for p, entries := range want.Buckets {
		got, err := s.Bucket(ctx, p)
		if err != nil {
			t.Fatalf("Bucket after migration: %v", err)
		}
		if !reflect.DeepEqual(got, entries) {
			t.Fatalf("bucket %s after migration: %d entries, want %d (or their listings differ)", p, len(got), len(entries))
		}
	}
	for id, c := range want.Counts {
		l, err := s.Listing(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if l.Counts != c {
			t.Errorf("listing %s: counts %v after migration, want %v", id, l.Counts, c)
		}
		rc, err := s.Recount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rc != c {
			t.Errorf("listing %s: recounted %v after migration, want %v", id, rc, c)
		}
	}
}

// DowngradeBolt turns the closed bbolt store file at path into what the
// code before record formats wrote: format 1 records, no format key.
func DowngradeBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		var layout khabardar.Layout
		if err := json.Unmarshal(meta.Get([]byte("layout")), &layout); err != nil {
			return err
		}
		b := tx.Bucket([]byte("buckets"))
		var keys, vals [][]byte
		b.ForEach(func(k, v []byte) error {
			keys, vals = append(keys, bytes.Clone(k)), append(vals, Downgrade(bytes.Clone(v), layout.RecordSize()))
			return nil
		})
		for i := range keys {
			if err := b.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return meta.Delete([]byte("format"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// DowngradeRedis turns the store at Redis URL u into what the code before
// record formats wrote: format 1 Refs in the bucket strings and count-hash
// fields, and no format key.
func DowngradeRedis(t *testing.T, u string) {
	t.Helper()
	c, err := redisurl.Client(u, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var layout khabardar.Layout
	raw, err := c.Get(ctx, "khb:{m}:layout").Bytes()
	if err == nil {
		err = json.Unmarshal(raw, &layout)
	}
	if err != nil {
		t.Fatal(err)
	}
	size := layout.RecordSize()
	each := func(ctx context.Context, m redis.Cmdable) error {
		for _, match := range []string{"khb:b:*", "khb:n:*"} {
			iter := m.Scan(ctx, 0, match, 1000).Iterator()
			for iter.Next(ctx) {
				k := iter.Val()
				if match == "khb:b:*" {
					v, err := m.Get(ctx, k).Bytes()
					if err != nil {
						return err
					}
					if err := m.Set(ctx, k, Downgrade(v, size), 0).Err(); err != nil {
						return err
					}
					continue
				}
				h, err := m.HGetAll(ctx, k).Result()
				if err != nil {
					return err
				}
				var args []any
				for f, n := range h {
					r := DowngradeRef(uint32(f[0])<<16 | uint32(f[1])<<8 | uint32(f[2]))
					args = append(args, string([]byte{byte(r >> 16), byte(r >> 8), byte(r)}), n)
				}
				if err := m.Del(ctx, k).Err(); err != nil {
					return err
				}
				if len(args) > 0 {
					if err := m.HSet(ctx, k, args...).Err(); err != nil {
						return err
					}
				}
			}
			if err := iter.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return each(ctx, m) })
	} else {
		err = each(ctx, c)
	}
	if err == nil {
		err = c.Del(ctx, "khb:{m}:format").Err()
	}
	if err != nil {
		t.Fatal(err)
	}
}
