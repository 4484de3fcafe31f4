package khabardar

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/khabardar/khabardar/identifier"
)

// Layout fixes how exposures are keyed. A store is bound to one layout when it
// is first written; opening it with another fails with ELAYOUTMISMATCH,
// because hashes made under another key or split another way never match.
type Layout struct {
	KeyID       string `json:"key_id"`
	BucketBits  int    `json:"bucket_bits"`  // multiple of 4, 4..32
	SuffixBytes int    `json:"suffix_bytes"` // 8..32
}

// Validate reports an EINVALID error for a layout no store accepts.
func (l Layout) Validate() error {
	switch {
	case l.KeyID == "":
		return Errorf(EINVALID, "layout: key id is empty")
	case l.BucketBits < 4 || l.BucketBits > 32 || l.BucketBits%4 != 0:
		return Errorf(EINVALID, "layout: bucket_bits must be a multiple of 4 from 4 to 32, not %d", l.BucketBits)
	case l.SuffixBytes < 8 || l.SuffixBytes > 32:
		return Errorf(EINVALID, "layout: suffix_bytes must be from 8 to 32, not %d", l.SuffixBytes)
	}
	return nil
}

// PrefixLen is the length of a bucket prefix in hex characters.
func (l Layout) PrefixLen() int { return l.BucketBits / 4 }

// RefBytes is the size of the listing reference that ends a stored record
// (package internal/record says what it holds).
const RefBytes = 3

// RecordSize is the size of one stored record: suffix and listing reference.
func (l Layout) RecordSize() int { return l.SuffixBytes + RefBytes }

// ValidPrefix reports whether p is a bucket prefix of this layout: exactly
// PrefixLen lowercase hex characters.
func (l Layout) ValidPrefix(p string) bool {
	if len(p) != l.PrefixLen() {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckBatch returns an EINVALID error naming the first exposure (by index,
// never by value) that does not fit the layout. Stores call it before
// writing any of a batch.
func (l Layout) CheckBatch(batch []Exposure) error {
	for i, e := range batch {
		switch {
		case !l.ValidPrefix(e.Prefix):
			return Errorf(EINVALID, "exposure %d: the bucket prefix is not %d lowercase hex characters", i, l.PrefixLen())
		case len(e.Suffix) != l.SuffixBytes:
			return Errorf(EINVALID, "exposure %d: the suffix is not %d bytes", i, l.SuffixBytes)
		case !e.Kind.Known():
			return Errorf(EINVALID, "exposure %d: the kind is not %s", i, identifier.NameList())
		}
	}
	return nil
}

// CheckStored compares the layout a store was written with to l: nil when
// they agree, else an ELAYOUTMISMATCH error saying both.
func (l Layout) CheckStored(stored Layout) error {
	if stored == l {
		return nil
	}
	return Errorf(ELAYOUTMISMATCH,
		"the store was written with key %s, %d bucket bits and %d suffix bytes, not key %s, %d bucket bits and %d suffix bytes; a store holds one key's hashes",
		stored.KeyID, stored.BucketBits, stored.SuffixBytes, l.KeyID, l.BucketBits, l.SuffixBytes)
}

// Exposure is one identifier seen in a listing, as stored: the bucket prefix
// and suffix of its VOPRF output and its kind. Nothing else about the person.
type Exposure struct {
	Prefix string // hex, Layout.PrefixLen characters
	Suffix []byte // Layout.SuffixBytes bytes
	Kind   identifier.Kind
}

// Entry is one suffix in a bucket and the listings it appears in.
type Entry struct {
	Suffix   []byte
	Listings []string // listing IDs, sorted
}

// Counts holds identifier counts indexed by kind: c[identifier.CNIC]. Its
// JSON is an object keyed by the kinds' names, every known kind present
// ({"cnic":1,"phone":0,"imei":2}), so a new kind is a new key.
type Counts [identifier.MaxKinds]int64

// Add adds n to the count of kind k.
func (c *Counts) Add(k identifier.Kind, n int64) {
	if int(k) < len(c) {
		c[k] += n
	}
}

// Get returns the count of kind k.
func (c Counts) Get(k identifier.Kind) int64 {
	if int(k) < len(c) {
		return c[k]
	}
	return 0
}

// Total is the sum over all kinds.
func (c Counts) Total() int64 {
	var t int64
	for _, n := range c {
		t += n
	}
	return t
}

// Plus returns c + d.
func (c Counts) Plus(d Counts) Counts {
	for k := range c {
		c[k] += d[k]
	}
	return c
}

// AppendJSON appends c as a JSON object without its closing brace, so that
// a caller can add fields (such as a total) after the kinds.
func (c Counts) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, k := range identifier.Kinds {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, k.String()...)
		dst = append(dst, '"', ':')
		dst = strconv.AppendInt(dst, c[k], 10)
	}
	return dst
}

// MarshalJSON implements json.Marshaler.
func (c Counts) MarshalJSON() ([]byte, error) { return append(c.AppendJSON(nil), '}'), nil }

// UnmarshalJSON implements json.Unmarshaler. A key that names no kind this
// build knows is ignored: a newer server may count a kind a client lacks.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = Counts{}
	for name, n := range m {
		if k, err := identifier.ParseKind(name); err == nil && k != identifier.Unknown {
			c[k] = n
		}
	}
	return nil
}

// Migrator is implemented by stores that can bring stored records to the
// format this build reads (package internal/record). It is used before
// Init, which refuses an older store with EMIGRATE, and while no server
// uses the store.
type Migrator interface {
	// RecordFormat returns the record format the store holds: 0 for a store
	// never initialised, 1 for one written before formats were recorded.
	RecordFormat(ctx context.Context) (int, error)

	// Migrate upgrades every record to the current format and returns the
	// format it found. It works in batches that each commit with their
	// progress, so a migration killed at any point resumes when Migrate is
	// called again, and one that finished does nothing. progress, if set,
	// is called after each batch with the buckets upgraded so far and an
	// estimate of all there are. EINVALID for a store newer than this build.
	Migrate(ctx context.Context, progress func(done, total int64)) (from int, err error)
}

// Store keeps listings and their exposures. Every implementation passes the
// contract suite in package storetest. Methods return *Error values with the
// codes named below; any other error is an EINTERNAL or EUNAVAILABLE fault.
type Store interface {
	// Init binds an empty store to layout, or checks that a used store has
	// that layout: ELAYOUTMISMATCH if not, EINVALID for an invalid layout.
	// Every other method may be called only after Init (EINTERNAL before).
	Init(ctx context.Context, layout Layout) error

	// PutListing creates a listing or replaces its metadata, keeping its
	// exposures and counts. EINVALID if the listing fails Validate.
	PutListing(ctx context.Context, l *Listing) error

	// Listing returns one listing with its counts. ENOTFOUND if absent.
	Listing(ctx context.Context, id string) (*Listing, error)

	// Listings returns all listings with their counts, sorted by ID.
	Listings(ctx context.Context) ([]*Listing, error)

	// RemoveListing removes a listing and every reference to it from the
	// exposures. ENOTFOUND if absent.
	RemoveListing(ctx context.Context, id string) error

	// AddExposures records that each exposure appears in the listing and
	// returns how many were new to it, by kind. Adding an exposure the
	// listing already has changes nothing, so re-running a file is
	// idempotent. The listing's counts include the batch once this returns.
	// ENOTFOUND for an unknown listing, EINVALID for a malformed exposure
	// (the message names no value).
	AddExposures(ctx context.Context, listingID string, batch []Exposure) (Counts, error)

	// Recount recomputes a listing's counts from its stored exposures,
	// saves and returns them. Ingest calls it last, so that counts are
	// exact even after an earlier run was killed. ENOTFOUND if absent.
	Recount(ctx context.Context, listingID string) (Counts, error)

	// Bucket returns the entries under a prefix, sorted by suffix, each with
	// the IDs of the listings it appears in. An empty bucket is an empty
	// slice. EINVALID for a prefix that is not Layout.ValidPrefix.
	Bucket(ctx context.Context, prefix string) ([]Entry, error)

	// Ping reports whether the store can be reached (EUNAVAILABLE if not).
	Ping(ctx context.Context) error

	// Close releases the store.
	Close() error

	APIKeyStore
}
