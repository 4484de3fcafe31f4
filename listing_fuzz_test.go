package khabardar

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecodeListings: no panic; whatever decodes is valid, and encoding it
// and decoding again gives the same listing.
func FuzzDecodeListings(f *testing.F) {
	f.Add("id: a\ntitle: T\nsource: {kind: other}\nfirst_seen: 2025-01-01\nstatus: unknown\ncategories: [{category: other, price_pkr: 0}]\n")
	f.Add("id: a\n---\nid: b\n")
	f.Add("first_seen: [1, 2]\nlast_seen: {a: b}\n")
	f.Add("{{{")
	f.Fuzz(func(t *testing.T, doc string) {
		ls, err := DecodeListings(strings.NewReader(doc))
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error code %s: %v", ErrorCode(err), err)
			}
			return
		}
		for _, l := range ls {
			if err := l.Validate(); err != nil {
				t.Fatalf("decoded an invalid listing: %v", err)
			}
			enc, err := EncodeListing(l)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeListings(bytes.NewReader(enc))
			if err != nil || len(again) != 1 {
				t.Fatalf("re-decoding %q: %v", enc, err)
			}
			a, _ := EncodeListing(again[0])
			if !bytes.Equal(a, enc) {
				t.Fatalf("round trip changed the listing:\n%s\n%s", enc, a)
			}
		}
	})
}
