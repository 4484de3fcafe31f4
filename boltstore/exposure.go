package boltstore

import (
	"bytes"
	"context"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/record"
	bolt "go.etcd.io/bbolt"
)

// group is one bucket's share of a batch: sorted, deduplicated records.
type group struct {
	prefix []byte
	recs   []byte
}

// AddExposures validates the whole batch, then merges it into the buckets and
// adds what was new to the listing's counts in one transaction, so a batch is
// stored and counted entirely or not at all.
func (s *Store) AddExposures(ctx context.Context, listingID string, batch []khabardar.Exposure) (khabardar.Counts, error) {
	layout, err := s.initLayout()
	if err != nil {
		return khabardar.Counts{}, err
	}
	groups, err := groupBatch(layout, batch)
	if err != nil {
		return khabardar.Counts{}, err
	}
	size := layout.RecordSize()
	var added khabardar.Counts
	err = s.update(ctx, "saving exposures", func(tx *bolt.Tx) error {
		added = khabardar.Counts{} // bbolt does not retry, but stay correct if it did
		sl, err := getListing(tx, listingID)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketsBucket)
		for _, g := range groups {
			setListing(g.recs, size, sl.Num)
			merged, add := record.Merge(b.Get(g.prefix), g.recs, size)
			if len(add) == 0 {
				continue // nothing new: leave the page alone
			}
			for i := 0; i < len(add); i += size {
				added.Add(record.RefAt(add[i:i+size]).Kind(), 1)
			}
			if err := b.Put(g.prefix, merged); err != nil {
				return err
			}
		}
		if added.Total() == 0 {
			return nil
		}
		sl.Counts = sl.Counts.Plus(added)
		return putListing(tx, sl)
	})
	if err != nil {
		return khabardar.Counts{}, err
	}
	return added, nil
}

// groupBatch checks every exposure, then sorts the batch into per-bucket
// groups of sorted, deduplicated records whose Refs carry listing number 0.
// All records of a batch share one listing, so its number does not change
// their order and is filled in inside the transaction (setListing), which
// keeps the sort out of it.
func groupBatch(layout khabardar.Layout, batch []khabardar.Exposure) ([]group, error) {
	plen, size := layout.PrefixLen(), layout.RecordSize()
	if err := layout.CheckBatch(batch); err != nil {
		return nil, err
	}
	if len(batch) == 0 {
		return nil, nil
	}
	// One sort of prefix‖record keys orders the batch by bucket, then by
	// record, and drops duplicates.
	ksize := plen + size
	buf := make([]byte, 0, len(batch)*ksize)
	for _, e := range batch {
		buf = append(buf, e.Prefix...)
		buf = record.Append(buf, e.Suffix, record.MakeRef(0, e.Kind))
	}
	buf = record.Sort(buf, ksize)

	n := len(buf) / ksize
	recs := make([]byte, 0, n*size) // all groups' records, back to back
	var groups []group
	for i := 0; i < len(buf); i += ksize {
		prefix, rec := buf[i:i+plen], buf[i+plen:i+ksize]
		if len(groups) == 0 || !bytes.Equal(groups[len(groups)-1].prefix, prefix) {
			groups = append(groups, group{prefix: prefix, recs: recs[len(recs):]})
		}
		recs = append(recs, rec...) // within capacity: never moves
		g := &groups[len(groups)-1]
		g.recs = g.recs[:len(g.recs)+size]
	}
	return groups, nil
}

// setListing sets the listing number of every record in recs, keeping kinds.
func setListing(recs []byte, size int, num uint32) {
	for i := 0; i < len(recs); i += size {
		rec := recs[i : i+size]
		r := record.MakeRef(num, record.RefAt(rec).Kind())
		rec[size-3], rec[size-2], rec[size-1] = byte(r>>16), byte(r>>8), byte(r)
	}
}

// Bucket returns the entries under prefix, naming listings from the in-memory
// number→ID map; records of a listing being removed are left out.
func (s *Store) Bucket(ctx context.Context, prefix string) ([]khabardar.Entry, error) {
	layout, err := s.initLayout()
	if err != nil {
		return nil, err
	}
	if !layout.ValidPrefix(prefix) {
		return nil, khabardar.Errorf(khabardar.EINVALID, "a bucket prefix is %d lowercase hex characters", layout.PrefixLen())
	}
	var entries []khabardar.Entry
	err = s.view(ctx, "reading the bucket", func(tx *bolt.Tx) error {
		s.namesMu.RLock()
		defer s.namesMu.RUnlock()
		// Entries copies the value before the transaction ends.
		entries = record.Entries(tx.Bucket(bucketsBucket).Get([]byte(prefix)), layout.RecordSize(), func(num uint32) (string, bool) {
			id, ok := s.names[num]
			return id, ok
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return entries, nil
}
