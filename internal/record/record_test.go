package record

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

func rec(suffix string, num uint32, k identifier.Kind) []byte {
	return Append(nil, []byte(suffix), MakeRef(num, k))
}

func cat(recs ...[]byte) []byte { return bytes.Join(recs, nil) }

func TestRef(t *testing.T) {
	for _, num := range []uint32{0, 1, 1000, MaxListingNum} {
		for _, k := range identifier.Kinds {
			r := RefAt(rec("abcdefgh", num, k))
			if r.Listing() != num || r.Kind() != k {
				t.Fatalf("ref(%d,%v) round-trips to (%d,%v)", num, k, r.Listing(), r.Kind())
			}
		}
	}
}

func TestMergeRecords(t *testing.T) {
	const size = 8 + RefBytes
	a, b, c := rec("aaaaaaaa", 1, identifier.CNIC), rec("bbbbbbbb", 1, identifier.Phone), rec("cccccccc", 2, identifier.IMEI)
	tests := []struct {
		name            string
		cur, add        []byte
		merged, newRecs []byte
	}{
		{"into empty", nil, cat(a, b), cat(a, b), cat(a, b)},
		{"nothing new", cat(a, b), cat(a), cat(a, b), nil},
		{"between", cat(a, c), cat(b), cat(a, b, c), cat(b)},
		{"after", cat(a), cat(b, c), cat(a, b, c), cat(b, c)},
		{"same suffix, other listing", cat(a), cat(rec("aaaaaaaa", 2, identifier.CNIC)), cat(a, rec("aaaaaaaa", 2, identifier.CNIC)), rec("aaaaaaaa", 2, identifier.CNIC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			merged, added := Merge(tt.cur, tt.add, size)
			if !bytes.Equal(merged, tt.merged) || !bytes.Equal(added, tt.newRecs) {
				t.Fatalf("merged %q added %q", merged, added)
			}
		})
	}
	if got := Sort(cat(c, a, c, b, a), size); !bytes.Equal(got, cat(a, b, c)) {
		t.Fatalf("SortRecords: %q", got)
	}
	kept, dropped := DropListing(cat(a, b, c), size, 1)
	if !bytes.Equal(kept, c) || dropped != (khabardar.Counts{identifier.CNIC: 1, identifier.Phone: 1}) {
		t.Fatalf("DropListing: %q %+v", kept, dropped)
	}
}

func TestEntries(t *testing.T) {
	const size = 8 + RefBytes
	names := map[uint32]string{1: "zeta", 2: "alpha"}
	name := func(n uint32) (string, bool) { s, ok := names[n]; return s, ok }
	val := cat(rec("bbbbbbbb", 1, identifier.Phone), rec("aaaaaaaa", 1, identifier.CNIC), rec("aaaaaaaa", 2, identifier.CNIC), rec("cccccccc", 9, identifier.IMEI))
	got := fmt.Sprint(Entries(val, size, name))
	want := "[{[97 97 97 97 97 97 97 97] [alpha zeta]} {[98 98 98 98 98 98 98 98] [zeta]}]"
	if got != want {
		t.Fatalf("Entries = %s, want %s (unknown listing 9 left out)", got, want)
	}
	if e := Entries(nil, size, name); e == nil || len(e) != 0 {
		t.Fatal("empty bucket must be an empty, non-nil slice")
	}
}

// TestSortPacked: the integer sort gives the byte-slice sort's output for
// every record size up to 16, with many duplicates and shared prefixes.
func TestSortPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for size := 1; size <= 17; size++ {
		for _, n := range []int{0, 1, 2, 100, 5000} {
			b := make([]byte, n*size)
			for i := range b {
				b[i] = byte(r.IntN(3)) // few values: duplicates and ties
			}
			want := sortBytes(slices.Clone(b), size)
			if got := Sort(slices.Clone(b), size); !bytes.Equal(got, want) {
				t.Fatalf("size %d, %d records: Sort differs from the byte-slice sort", size, n)
			}
		}
	}
}

// sortBytes is Sort without the packed fast path.
func sortBytes(b []byte, size int) []byte {
	var recs [][]byte
	for i := 0; i < len(b); i += size {
		recs = append(recs, b[i:i+size])
	}
	slices.SortFunc(recs, bytes.Compare)
	return bytes.Join(slices.CompactFunc(recs, bytes.Equal), nil)
}

func BenchmarkSort(b *testing.B) {
	const size = 4 + 8 + RefBytes // prefix, suffix and Ref, as groupBatch sorts them
	src := make([]byte, 100_000*size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	b.Run("packed", func(b *testing.B) {
		for b.Loop() {
			Sort(slices.Clone(src), size)
		}
	})
	b.Run("bytes", func(b *testing.B) {
		for b.Loop() {
			sortBytes(slices.Clone(src), size)
		}
	})
}
