package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/wire"
)

// TestHandEncoders holds the zero-allocation encoders of evaluate and bucket
// responses to encoding/json: for each value, the hand encoder's bytes must
// be exactly those json.Marshal writes for the same wire type.
func TestHandEncoders(t *testing.T) {
	el := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	b64 := base64.RawURLEncoding.EncodeToString
	t.Run("evaluate", func(t *testing.T) {
		tests := []struct {
			name      string
			keyID     string
			evaluated [][]byte
			proof     []byte
		}{
			{"none", "0123456789abcdef", nil, el(7)},
			{"one", "0123456789abcdef", [][]byte{el(1)}, bytes.Repeat([]byte{0xfe}, 64)},
			{"several", "fedcba9876543210", [][]byte{el(0), el(0xff), el(0x3e), el(0x3f)}, el(9)},
			{"empty key id and proof", "", [][]byte{el(2)}, nil},
			{"unicode key id", "clé-🔑-\u2028<&>\"\\\n\x01", [][]byte{el(3)}, el(4)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := wire.EvaluateResponse{KeyID: tt.keyID, Evaluated: []string{}, Proof: b64(tt.proof)}
				for _, e := range tt.evaluated {
					v.Evaluated = append(v.Evaluated, b64(e))
				}
				want, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				if got := appendEvaluateResponse(nil, tt.keyID, tt.evaluated, tt.proof); !bytes.Equal(got, want) {
					t.Errorf("hand encoder\n%s\nencoding/json\n%s", got, want)
				}
			})
		}
	})

	t.Run("bucket", func(t *testing.T) {
		tests := []struct {
			name    string
			keyID   string
			prefix  string
			entries []wire.BucketEntry
			pad     int
		}{
			{"no entries", "0123456789abcdef", "3fa9", nil, 0},
			{"no entries, padded", "0123456789abcdef", "3fa9", nil, 1500},
			{"dummy", "0123456789abcdef", "0000", []wire.BucketEntry{{Suffix: "00112233445566ff", Listings: nil}}, 3},
			{"real and dummy", "0123456789abcdef", "ffff", []wire.BucketEntry{
				{Suffix: "0011223344556677", Listings: []string{"shop-2024"}},
				{Suffix: "8899aabbccddeeff", Listings: nil},
				{Suffix: "8899aabbccddef00", Listings: []string{"a", "b-c", "z9"}},
			}, 600},
			{"longer suffix", "0123456789abcdef", "a", []wire.BucketEntry{{Suffix: strings.Repeat("ab", 32), Listings: []string{"x"}}}, 1},
			{"unicode listing ids", "0123456789abcdef", "3fa9", []wire.BucketEntry{
				{Suffix: "0011223344556677", Listings: []string{"دکان", "🔑", "café", "\u2028\u2029", "<&>", "\"\\/", "\n\r\t\b\f\x00\x1f\x7f", "\xff\xfe bad utf-8"}},
			}, 7},
			{"unicode key id and prefix", "ک-🔑", "ü", []wire.BucketEntry{{Suffix: "0011223344556677", Listings: []string{""}}}, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := wire.Bucket{KeyID: tt.keyID, Prefix: tt.prefix, Entries: []wire.BucketEntry{}, Padding: strings.Repeat("0", tt.pad)}
				got := appendBucketHead(nil, tt.keyID, tt.prefix)
				for i, e := range tt.entries {
					suffix, err := hex.DecodeString(e.Suffix)
					if err != nil {
						t.Fatal(err)
					}
					if i > 0 {
						got = append(got, ',')
					}
					got = appendEntry(got, suffix, e.Listings)
					if e.Listings == nil {
						e.Listings = []string{} // a dummy's listings are [], never null
					}
					v.Entries = append(v.Entries, e)
				}
				got = appendBucketTail(got, tt.pad)
				want, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("hand encoder\n%s\nencoding/json\n%s", got, want)
				}
			})
		}
	})

	// A whole rendered bucket, real entries among the dummies: decoded and
	// marshalled again, it must be the same bytes.
	t.Run("rendered bucket", func(t *testing.T) {
		e := newEnv(t)
		e.ingest("shop", mustID(t, identifier.Phone, "0300-1234567"), mustID(t, identifier.CNIC, "35202-1234567-1"))
		e.ingest("market-2", mustID(t, identifier.Phone, "0300-1234567"))
		ctx := context.Background()
		target, err := e.srv.paddingTarget(ctx)
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.key.Exposure(mustID(t, identifier.Phone, "0300-1234567"), e.layout)
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range []string{x.Prefix, "0000"} {
			v, err := e.srv.loadBucket(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			body := e.srv.renderBucket(nil, v, v.pad(e.srv, target))
			var b wire.Bucket
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatal(err)
			}
			if len(b.Entries) < 1 || b.Prefix != prefix || b.KeyID != e.key.ID() {
				t.Fatalf("bucket %+v", b)
			}
			again, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, again) {
				t.Errorf("rendered\n%s\nencoding/json\n%s", body, again)
			}
		}
	})
}

// TestBodiesUnchanged: the bodies that fiber.Map used to write (its keys
// sorted) are the same bytes from wire's types.
func TestBodiesUnchanged(t *testing.T) {
	for _, tt := range []struct {
		name   string
		ingest bool
	}{{"empty catalogue", false}, {"listings", true}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.ingest {
				e.ingest("shop", mustID(t, identifier.Phone, "0300-1234567"))
				e.ingest("market-2", mustID(t, identifier.CNIC, "35202-1234567-1"))
			}
			ls, err := e.store.Listings(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(map[string]any{"listings": ls, "catalogue": khabardar.Summarize(ls)})
			if r := e.get(wire.RouteListings); r.status != 200 || !bytes.Equal(r.body, want) {
				t.Errorf("%d\n%s\nwant\n%s", r.status, r.body, want)
			}
		})
	}
	e := newEnv(t)
	for path, want := range map[string]string{wire.RouteHealthz: `{"status":"ok"}`, wire.RouteReadyz: `{"status":"ready"}`} {
		if r := e.get(path); r.status != 200 || string(r.body) != want {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}
