package khabardar

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/khabardar/khabardar/identifier"
)

// A bucket's value is a concatenation of fixed-size records, one per
// (exposure, listing) pair: the suffix, then a 3-byte big-endian Ref. One value
// per bucket, rather than one key per identifier, keeps per-identifier
// overhead to the record itself (Layout.RecordSize bytes).
const RefBytes = 3

// MaxListingNum is the largest listing number a Ref can hold.
const MaxListingNum = 1<<22 - 1

// Ref packs a listing's number (assigned by the store, never reused) and the
// kind of the identifier, so counts by kind can be recomputed from records.
type Ref uint32

// MakeRef returns the Ref of listing number num for an identifier of kind k.
func MakeRef(num uint32, k identifier.Kind) Ref { return Ref(num<<2 | uint32(k)&3) }

// Listing returns the listing number.
func (r Ref) Listing() uint32 { return uint32(r) >> 2 }

// Kind returns the identifier kind.
func (r Ref) Kind() identifier.Kind { return identifier.Kind(r & 3) }

// AppendRecord appends the record (suffix, r) to dst.
func AppendRecord(dst, suffix []byte, r Ref) []byte {
	dst = append(dst, suffix...)
	return append(dst, byte(r>>16), byte(r>>8), byte(r))
}

// RecordRef returns the Ref at the end of a record.
func RecordRef(rec []byte) Ref {
	n := len(rec)
	return Ref(uint32(rec[n-3])<<16 | uint32(binary.BigEndian.Uint16(rec[n-2:])))
}

// SortRecords sorts the records in b and removes duplicates, in place.
func SortRecords(b []byte, size int) []byte {
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

// MergeRecords merges add into cur, both sorted without duplicates, and
// returns the merged value and the records of add that cur did not have.
func MergeRecords(cur, add []byte, size int) (merged, added []byte) {
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
func DropListing(cur []byte, size int, num uint32) ([]byte, Counts) {
	var dropped Counts
	out := make([]byte, 0, len(cur))
	for i := 0; i+size <= len(cur); i += size {
		rec := cur[i : i+size]
		if r := RecordRef(rec); r.Listing() == num {
			dropped.Add(r.Kind(), 1)
			continue
		}
		out = append(out, rec...)
	}
	return out, dropped
}

// CountRecords adds up a bucket's records by listing number and kind.
func CountRecords(val []byte, size int, into map[uint32]*Counts) {
	for i := 0; i+size <= len(val); i += size {
		r := RecordRef(val[i : i+size])
		c := into[r.Listing()]
		if c == nil {
			c = new(Counts)
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
func Entries(val []byte, size int, name func(num uint32) (string, bool)) []Entry {
	n := len(val) / size
	val = slices.Clone(val[:n*size])
	if !recordsSorted(val, size) {
		val = SortRecords(val, size)
		n = len(val) / size
	}
	suffixLen := size - RefBytes
	entries := make([]Entry, 0, n)
	ids := make([]string, 0, n) // never grows: slices of it stay valid
	for i := 0; i < len(val); i += size {
		rec := val[i : i+size]
		id, ok := name(RecordRef(rec).Listing())
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
		entries = append(entries, Entry{Suffix: suffix, Listings: ids[len(ids)-1 : len(ids) : len(ids)]})
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
