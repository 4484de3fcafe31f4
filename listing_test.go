package khabardar

import (
	"encoding/json"
	"github.com/khabardar/khabardar/identifier"
	"strings"
	"testing"
)

func TestDateJSON(t *testing.T) {
	var l Listing
	if err := json.Unmarshal([]byte(`{"first_seen":"2025-10-01","last_seen":""}`), &l); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(l)
	if !strings.Contains(string(b), `"first_seen":"2025-10-01","last_seen":""`) {
		t.Fatalf("dates: %s", b)
	}
}

func TestDecodeListings(t *testing.T) {
	good := "id: a\ntitle: T\nsource: {kind: other}\nfirst_seen: 2025-01-01\nstatus: unknown\ncategories: [{category: other, price_pkr: 0}]\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"good", good, ""},
		{"two documents", good + "---\n" + strings.Replace(good, "id: a", "id: b", 1), ""},
		{"empty file", "", "no listing"},
		{"unknown field", good + "colour: red\n", "unknown field colour"},
		{"counts are not settable", good + "counts: {cnic: 5}\n", "unknown field counts"},
		{"duplicate category", strings.Replace(good, "[{category: other, price_pkr: 0}]", "[{category: cdr}, {category: cdr}]", 1), "categories[1].category"},
		{"no categories", strings.Replace(good, "categories: [{category: other, price_pkr: 0}]", "categories: []", 1), "categories"},
		{"missing title", strings.Replace(good, "title: T", "title: ' '", 1), "title"},
		{"missing first_seen", strings.Replace(good, "first_seen: 2025-01-01\n", "", 1), "first_seen"},
		{"flags", good + "verified: false\nfabricated: true\nsensitive: true\n", ""},
		{"verified and fabricated", good + "verified: true\nfabricated: true\n", "fabricated: a listing cannot be both verified and fabricated"},
		{"flag not a boolean", good + "sensitive: maybe\n", "maybe"},
		{"source url not http", strings.Replace(good, "{kind: other}", "{kind: other, url: \"ftp://x\"}", 1), "source.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeListings(strings.NewReader(tt.yaml))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			case err != nil && ErrorCode(err) != EINVALID:
				t.Fatalf("code %s", ErrorCode(err))
			}
		})
	}
}

// TestListingFlags: the flags read from YAML, write to JSON under the same
// names, and survive EncodeListing.
func TestListingFlags(t *testing.T) {
	src := "id: a\ntitle: T\nsource: {kind: other}\nfirst_seen: 2025-01-01\nstatus: unknown\nfabricated: true\nsensitive: true\ncategories: [{category: other}]\n"
	ls, err := DecodeListings(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	l := ls[0]
	if l.Verified || !l.Fabricated || !l.Sensitive {
		t.Fatalf("flags %v %v %v", l.Verified, l.Fabricated, l.Sensitive)
	}
	b, _ := json.Marshal(l)
	if !strings.Contains(string(b), `"verified":false,"fabricated":true,"sensitive":true`) {
		t.Fatalf("JSON: %s", b)
	}
	y, err := EncodeListing(l)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeListings(strings.NewReader(string(y)))
	if err != nil || !again[0].Fabricated || !again[0].Sensitive {
		t.Fatalf("EncodeListing round trip: %v\n%s", err, y)
	}
}

func TestSummarize(t *testing.T) {
	day := func(s string) Date {
		var d Date
		if err := d.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	l := func(id string, n int64, fabricated bool, first, last, added string) *Listing {
		return &Listing{ID: id, Counts: Counts{identifier.Phone: n}, Fabricated: fabricated, FirstSeen: day(first), LastSeen: day(last), Added: day(added)}
	}
	tests := []struct {
		name  string
		ls    []*Listing
		want  Catalogue
		empty bool
	}{
		{"none", nil, Catalogue{}, true},
		{"only empty and fabricated", []*Listing{l("a", 0, false, "2025-01-01", "", "2026-12-01"), l("b", 9, true, "2025-01-01", "", "2026-12-02")}, Catalogue{}, true},
		{"newest added wins", []*Listing{l("a", 2, false, "2025-01-01", "", "2026-11-01"), l("b", 3, false, "2025-01-01", "", "2026-12-03")},
			Catalogue{Listings: 2, Identifiers: 5, NewestAdded: day("2026-12-03")}, false},
		{"before added existed: last seen, else first seen", []*Listing{l("a", 1, false, "2025-01-01", "2025-09-28", ""), l("b", 1, false, "2025-10-02", "", "")},
			Catalogue{Listings: 2, Identifiers: 2, NewestAdded: day("2025-10-02")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.ls)
			if got.Listings != tt.want.Listings || got.Identifiers != tt.want.Identifiers || got.NewestAdded.String() != tt.want.NewestAdded.String() || got.Empty() != tt.empty {
				t.Errorf("Summarize = %+v (empty %v), want %+v", got, got.Empty(), tt.want)
			}
		})
	}
}
