// Package record is the stored form of exposures, shared by every store: a
// bucket's value is a concatenation of fixed-size records, one per
// (exposure, listing) pair, each the suffix of the exposure's keyed hash and
// a 3-byte big-endian Ref. One value per bucket, rather than one key per
// identifier, keeps per-identifier overhead to the record itself
// (khabardar.Layout.RecordSize bytes).
//
// # Formats
//
// Format is the version of this layout. A store keeps the version it was
// written in, checks it when opened (CheckFormat) and is brought forward by
// `khabardar migrate` (Upgrade, per bucket value):
//
//	1  Ref = listing number (22 bits) ‖ kind (2 bits): 3 kinds, all used
//	2  Ref = listing number (20 bits) ‖ kind (4 bits): up to 15 kinds
//
// A store that records no format was written before formats were recorded,
// which is format 1.
package record

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// Format is the record format this build writes and reads.
const Format = 2

// RefBytes is the size of a Ref in a record.
const RefBytes = khabardar.RefBytes

// kindBits is the width of a Ref's kind field: identifier.MaxKinds kinds.
const kindBits = 4

// MaxListingNum is the largest listing number a Ref can hold.
const MaxListingNum = 1<<(8*RefBytes-kindBits) - 1

// Ref packs a listing's number (assigned by the store, never reused) and the
// kind of the identifier, so counts by kind can be recomputed from records.
type Ref uint32

// MakeRef returns the Ref of listing number num for an identifier of kind k.
func MakeRef(num uint32, k identifier.Kind) Ref {
	return Ref(num<<kindBits | uint32(k)&(1<<kindBits-1))
}

// Listing returns the listing number.
func (r Ref) Listing() uint32 { return uint32(r) >> kindBits }

// Kind returns the identifier kind.
func (r Ref) Kind() identifier.Kind { return identifier.Kind(r & (1<<kindBits - 1)) }

// CheckFormat returns nil if a store in format have can be used by this
// build, else an error that says what to do: EMIGRATE for an older store
// (run `khabardar migrate`), EINVALID for a newer one (upgrade khabardar).
func CheckFormat(have int) error {
	switch {
	case have == Format:
		return nil
	case have < Format:
		return khabardar.Errorf(khabardar.EMIGRATE, "the store holds records in format %d and this khabardar reads format %d: stop every server using it, back it up, then run: khabardar migrate", have, Format)
	}
	return khabardar.Errorf(khabardar.EINVALID, "the store holds records in format %d, written by a newer khabardar; this one reads format %d: upgrade khabardar", have, Format)
}

// Upgrade rewrites the records of a bucket value in format from to the
// current format, in place, and returns val. Records keep their order:
// the Ref's fields keep theirs. It fails for a listing number the current
// format cannot hold, leaving val as it was.
func Upgrade(val []byte, size, from int) ([]byte, error) {
	if from == Format {
		return val, nil
	}
	if from != 1 {
		return nil, fmt.Errorf("record: no upgrade from format %d", from)
	}
	if size <= RefBytes || len(val)%size != 0 {
		return nil, fmt.Errorf("record: a bucket value of %d bytes is not a whole number of %d-byte records", len(val), size)
	}
	for i := 0; i < len(val); i += size {
		if num := uint32(RefAt(val[i:i+size])) >> 2; num > MaxListingNum {
			return nil, fmt.Errorf("record: listing number %d does not fit format %d", num, Format)
		}
	}
	for i := 0; i < len(val); i += size {
		rec := val[i : i+size]
		old := uint32(RefAt(rec))
		putRef(rec, MakeRef(old>>2, identifier.Kind(old&3)))
	}
	return val, nil
}

// UpgradeRef returns the current form of a Ref written in format from
// (Redis keeps Refs apart from records, as count-hash fields).
func UpgradeRef(r Ref, from int) Ref {
	if from == 1 {
		return MakeRef(uint32(r)>>2, identifier.Kind(r&3))
	}
	return r
}

func putRef(rec []byte, r Ref) {
	n := len(rec)
	rec[n-3], rec[n-2], rec[n-1] = byte(r>>16), byte(r>>8), byte(r)
}

// Append appends the record (suffix, r) to dst.
func Append(dst, suffix []byte, r Ref) []byte {
	dst = append(dst, suffix...)
	return append(dst, byte(r>>16), byte(r>>8), byte(r))
}

// RefAt returns the Ref at the end of a record.
func RefAt(rec []byte) Ref {
	n := len(rec)
	return Ref(uint32(rec[n-3])<<16 | uint32(binary.BigEndian.Uint16(rec[n-2:])))
}

// Sort sorts the records in b and removes duplicates. Records of up to 16
// bytes (the default layout's prefix, suffix and Ref make 15) are sorted as
// pairs of integers, several times faster than as byte slices: ingest sorts
// every batch it stores.
func Sort(b []byte, size int) []byte {
	if size <= 16 {
		return sortPacked(b, size)
	}
	n := len(b) / size
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = b[i*size : (i+1)*size]
	}
	slices.SortFunc(recs, bytes.Compare)
	recs = slices.CompactFunc(recs, bytes.Equal)
	out := make([]byte, 0, len(recs)*size)
	for _, r := range recs {
		out = append(out, r...)
	}
	return out
}

// packed is a record of up to 16 bytes as two big-endian integers, zero
// padded on the right: comparing them compares the records' bytes.
type packed struct{ hi, lo uint64 }

func pack(r []byte) packed {
	var buf [16]byte
	copy(buf[:], r)
	return packed{binary.BigEndian.Uint64(buf[:8]), binary.BigEndian.Uint64(buf[8:])}
}

func (p packed) put(dst []byte) {
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], p.hi)
	binary.BigEndian.PutUint64(buf[8:], p.lo)
	copy(dst, buf[:])
}

func sortPacked(b []byte, size int) []byte {
	keys := make([]packed, len(b)/size)
	for i := range keys {
		keys[i] = pack(b[i*size : (i+1)*size])
	}
	slices.SortFunc(keys, func(x, y packed) int {
		if c := cmp.Compare(x.hi, y.hi); c != 0 {
			return c
		}
		return cmp.Compare(x.lo, y.lo)
	})
	keys = slices.Compact(keys)
	out := make([]byte, len(keys)*size)
	for i, k := range keys {
		k.put(out[i*size : (i+1)*size])
	}
	return out
}

// Merge merges add into cur, both sorted without duplicates, and
// returns the merged value and the records of add that cur did not have.
func Merge(cur, add []byte, size int) (merged, added []byte) {
	merged = make([]byte, 0, len(cur)+len(add))
	for len(cur) > 0 && len(add) > 0 {
		switch c := bytes.Compare(cur[:size], add[:size]); {
		case c < 0:
			merged, cur = append(merged, cur[:size]...), cur[size:]
		case c > 0:
			merged, added = append(merged, add[:size]...), append(added, add[:size]...)
			add = add[size:]
		default:
			merged, cur, add = append(merged, cur[:size]...), cur[size:], add[size:]
		}
	}
	merged = append(merged, cur...)
	merged = append(merged, add...)
	added = append(added, add...)
	return merged, added
}

// DropListing returns the records of cur whose listing is not num, and how
// many were dropped, by kind.
func DropListing(cur []byte, size int, num uint32) ([]byte, khabardar.Counts) {
	var dropped khabardar.Counts
	out := make([]byte, 0, len(cur))
	for i := 0; i+size <= len(cur); i += size {
		rec := cur[i : i+size]
		if r := RefAt(rec); r.Listing() == num {
			dropped.Add(r.Kind(), 1)
			continue
		}
		out = append(out, rec...)
	}
	return out, dropped
}

// Count adds up a bucket's records by listing number and kind.
func Count(val []byte, size int, into map[uint32]*khabardar.Counts) {
	for i := 0; i+size <= len(val); i += size {
		r := RefAt(val[i : i+size])
		c := into[r.Listing()]
		if c == nil {
			c = new(khabardar.Counts)
			into[r.Listing()] = c
		}
		c.Add(r.Kind(), 1)
	}
}

// Entries groups a bucket's records (in any order) into entries sorted by
// suffix. name maps a listing number to its ID; a number it does not know (a
// listing being removed) is left out, and so is a suffix left with none.
//
// It is on the path of every uncached bucket request, so it makes three
// allocations whatever the bucket's size: the entries share one copy of val
// for their suffixes and one array for their listing IDs. Stores keep values
// sorted, so the sort is usually skipped.
func Entries(val []byte, size int, name func(num uint32) (string, bool)) []khabardar.Entry {
	n := len(val) / size
	val = slices.Clone(val[:n*size])
	if !recordsSorted(val, size) {
		val = Sort(val, size)
		n = len(val) / size
	}
	suffixLen := size - RefBytes
	entries := make([]khabardar.Entry, 0, n)
	ids := make([]string, 0, n) // never grows: slices of it stay valid
	for i := 0; i < len(val); i += size {
		rec := val[i : i+size]
		id, ok := name(RefAt(rec).Listing())
		if !ok {
			continue
		}
		suffix := rec[:suffixLen:suffixLen]
		if k := len(entries); k > 0 && bytes.Equal(entries[k-1].Suffix, suffix) {
			// One suffix under two kinds must still list a listing once.
			if l := entries[k-1].Listings; !slices.Contains(l, id) {
				ids = append(ids, id) // the last entry's IDs are the last ones in ids
				entries[k-1].Listings = ids[len(ids)-len(l)-1 : len(ids) : len(ids)]
			}
			continue
		}
		ids = append(ids, id)
		entries = append(entries, khabardar.Entry{Suffix: suffix, Listings: ids[len(ids)-1 : len(ids) : len(ids)]})
	}
	for _, e := range entries {
		if len(e.Listings) > 1 {
			slices.Sort(e.Listings) // records sort by listing number, not ID
		}
	}
	return entries
}

// recordsSorted reports whether val's records are in strictly increasing
// order, as SortRecords leaves them.
func recordsSorted(val []byte, size int) bool {
	for i := size; i+size <= len(val); i += size {
		if bytes.Compare(val[i-size:i], val[i:i+size]) >= 0 {
			return false
		}
	}
	return true
}
