package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/record"
	bolt "go.etcd.io/bbolt"
)

// storedListing is a listing as kept under its ID in the listings bucket:
// its metadata and counts, and the number its records' Refs carry.
type storedListing struct {
	Num uint32 `json:"num"`
	*khabardar.Listing
	// The dates shadow the Listing's so that the file keeps YYYY-MM-DD
	// whatever JSON form khabardar.Date has: today its embedded time.Time's
	// MarshalJSON wins over its MarshalText and writes RFC 3339.
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen,omitempty"`
}

const dateLayout = "2006-01-02"

func (sl *storedListing) marshal() ([]byte, error) {
	sl.FirstSeen, sl.LastSeen = formatDate(sl.Listing.FirstSeen), formatDate(sl.Listing.LastSeen)
	return json.Marshal(sl)
}

func (sl *storedListing) unmarshal(v []byte) (err error) {
	sl.Listing = new(khabardar.Listing)
	if err := json.Unmarshal(v, sl); err != nil {
		return err
	}
	if sl.Listing.FirstSeen, err = parseDate(sl.FirstSeen); err != nil {
		return err
	}
	sl.Listing.LastSeen, err = parseDate(sl.LastSeen)
	return err
}

func formatDate(d khabardar.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.Format(dateLayout)
}

func parseDate(s string) (khabardar.Date, error) {
	if s == "" {
		return khabardar.Date{}, nil
	}
	t, err := time.Parse(dateLayout, s)
	return khabardar.Date{Time: t}, err
}

// getListing reads the listing id: ENOTFOUND if absent.
func getListing(tx *bolt.Tx, id string) (*storedListing, error) {
	v := tx.Bucket(listingsBucket).Get([]byte(id))
	if v == nil {
		return nil, khabardar.Errorf(khabardar.ENOTFOUND, "listing %q not found", id)
	}
	sl := new(storedListing)
	if err := sl.unmarshal(v); err != nil {
		return nil, err
	}
	return sl, nil
}

func putListing(tx *bolt.Tx, sl *storedListing) error {
	v, err := sl.marshal()
	if err != nil {
		return err
	}
	return tx.Bucket(listingsBucket).Put([]byte(sl.ID), v)
}

// PutListing creates a listing, numbering it from the listings bucket's
// sequence, or replaces its metadata keeping its number and counts.
func (s *Store) PutListing(ctx context.Context, l *khabardar.Listing) error {
	if _, err := s.initLayout(); err != nil {
		return err
	}
	if err := l.Validate(); err != nil {
		return err
	}
	meta := *l // the caller's Counts are not ours to store
	var num uint32
	var created bool
	err := s.update(ctx, "saving the listing", func(tx *bolt.Tx) error {
		sl := &storedListing{Listing: &meta}
		created = false
		if old, err := getListing(tx, l.ID); err == nil {
			sl.Num, meta.Counts = old.Num, old.Counts
		} else if khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
			return err
		} else {
			// The bucket's sequence only grows, so a listing removed and
			// created again gets a new number and none of the old records.
			seq, err := tx.Bucket(listingsBucket).NextSequence()
			if err != nil {
				return err
			}
			if seq > record.MaxListingNum {
				return khabardar.Errorf(khabardar.EINTERNAL, "the store has used up its %d listing numbers", record.MaxListingNum)
			}
			sl.Num, meta.Counts, created = uint32(seq), khabardar.Counts{}, true
		}
		num = sl.Num
		return putListing(tx, sl)
	})
	if err != nil || !created {
		return err
	}
	s.namesMu.Lock()
	s.names[num] = l.ID
	s.namesMu.Unlock()
	return nil
}

// Listing returns one listing with its counts.
func (s *Store) Listing(ctx context.Context, id string) (*khabardar.Listing, error) {
	if _, err := s.initLayout(); err != nil {
		return nil, err
	}
	var l *khabardar.Listing
	err := s.view(ctx, "reading the listing", func(tx *bolt.Tx) error {
		sl, err := getListing(tx, id)
		if err != nil {
			return err
		}
		l = sl.Listing
		return nil
	})
	return l, err
}

// Listings returns all listings sorted by ID, the order of bbolt's keys.
func (s *Store) Listings(ctx context.Context) ([]*khabardar.Listing, error) {
	if _, err := s.initLayout(); err != nil {
		return nil, err
	}
	out := []*khabardar.Listing{}
	err := s.view(ctx, "reading the listings", func(tx *bolt.Tx) error {
		return tx.Bucket(listingsBucket).ForEach(func(_, v []byte) error {
			var sl storedListing
			if err := sl.unmarshal(v); err != nil {
				return err
			}
			out = append(out, sl.Listing)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanChunk is how many changed buckets RemoveListing collects before writing
// them, since bbolt cursors do not survive writes.
const scanChunk = 1024

// RemoveListing deletes the listing and its records from every bucket, and
// buckets left empty, in one transaction.
func (s *Store) RemoveListing(ctx context.Context, id string) error {
	layout, err := s.initLayout()
	if err != nil {
		return err
	}
	size := layout.RecordSize()
	var num uint32
	err = s.update(ctx, "removing the listing", func(tx *bolt.Tx) error {
		sl, err := getListing(tx, id)
		if err != nil {
			return err
		}
		num = sl.Num
		if err := tx.Bucket(listingsBucket).Delete([]byte(id)); err != nil {
			return err
		}
		b := tx.Bucket(bucketsBucket)
		type change struct{ key, val []byte }
		c := b.Cursor()
		k, v := c.First()
		for k != nil {
			if err := ctx.Err(); err != nil {
				return err // rolls back: the listing stays whole
			}
			var changes []change
			for ; k != nil && len(changes) < scanChunk; k, v = c.Next() {
				if kept, dropped := record.DropListing(v, size, num); dropped.Total() > 0 {
					changes = append(changes, change{bytes.Clone(k), kept})
				}
			}
			next := bytes.Clone(k) // first key not yet scanned, nil at the end
			for _, ch := range changes {
				if len(ch.val) == 0 {
					err = b.Delete(ch.key)
				} else {
					err = b.Put(ch.key, ch.val)
				}
				if err != nil {
					return err
				}
			}
			if next != nil {
				k, v = c.Seek(next)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.namesMu.Lock()
	delete(s.names, num)
	s.namesMu.Unlock()
	return nil
}

// Recount recomputes the listing's counts from every bucket's records and
// saves them, in one transaction so that no batch is counted half.
func (s *Store) Recount(ctx context.Context, id string) (khabardar.Counts, error) {
	layout, err := s.initLayout()
	if err != nil {
		return khabardar.Counts{}, err
	}
	size := layout.RecordSize()
	var counts khabardar.Counts
	err = s.update(ctx, "recounting the listing", func(tx *bolt.Tx) error {
		sl, err := getListing(tx, id)
		if err != nil {
			return err
		}
		all := map[uint32]*khabardar.Counts{}
		c := tx.Bucket(bucketsBucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			record.Count(v, size, all)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if c := all[sl.Num]; c != nil {
			counts = *c
		}
		sl.Counts = counts
		return putListing(tx, sl)
	})
	return counts, err
}
