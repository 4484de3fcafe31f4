package wire_test

import (
	"slices"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/wire"
)

func TestPaths(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"bucket", wire.BucketPath("3fa9"), "/v1/buckets/3fa9"},
		{"bucket empty", wire.BucketPath(""), "/v1/buckets/"},
		{"listing", wire.ListingPath("shop-2024"), "/v1/listings/shop-2024"},
		{"openapi bucket", wire.OpenAPIPath(wire.RouteBucket), "/v1/buckets/{prefix}"},
		{"openapi listing", wire.OpenAPIPath(wire.RouteListing), "/v1/listings/{id}"},
		{"openapi no params", wire.OpenAPIPath(wire.RouteConfig), "/v1/config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestListsComplete(t *testing.T) {
	if len(wire.Codes) != len(slices.Compact(slices.Sorted(slices.Values(wire.Codes)))) {
		t.Error("wire.Codes has duplicates")
	}
	if len(wire.Routes) != len(slices.Compact(slices.Sorted(slices.Values(wire.Routes)))) {
		t.Error("wire.Routes has duplicates")
	}
	for _, r := range wire.Routes {
		if r == "" || r[0] != '/' {
			t.Errorf("route %q does not start with /", r)
		}
	}
}

// TestLayoutBounds holds the published layout limits to
// khabardar.Layout.Validate, which is where a server's layout is checked.
func TestLayoutBounds(t *testing.T) {
	valid := func(bits, suffix int) bool {
		return khabardar.Layout{KeyID: "k", BucketBits: bits, SuffixBytes: suffix}.Validate() == nil
	}
	tests := []struct {
		name         string
		bits, suffix int
		ok           bool
	}{
		{"least", wire.MinBucketBits, wire.MinSuffixBytes, true},
		{"most", wire.MaxBucketBits, wire.MaxSuffixBytes, true},
		{"bits under", wire.MinBucketBits - wire.BitsPerHexDigit, wire.MinSuffixBytes, false},
		{"bits over", wire.MaxBucketBits + wire.BitsPerHexDigit, wire.MinSuffixBytes, false},
		{"bits off step", wire.MinBucketBits + wire.BitsPerHexDigit/2, wire.MinSuffixBytes, false},
		{"suffix under", wire.MinBucketBits, wire.MinSuffixBytes - 1, false},
		{"suffix over", wire.MinBucketBits, wire.MaxSuffixBytes + 1, false},
		{"client default", wire.DefaultMaxBucketBits, wire.MinSuffixBytes, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := valid(tt.bits, tt.suffix); got != tt.ok {
				t.Errorf("Layout{%d bits, %d bytes}.Validate() ok = %v, want %v", tt.bits, tt.suffix, got, tt.ok)
			}
		})
	}
	if got := (khabardar.Layout{BucketBits: 16}).PrefixLen(); got != 16/wire.BitsPerHexDigit {
		t.Errorf("PrefixLen %d", got)
	}
}
