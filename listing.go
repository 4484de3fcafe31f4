package khabardar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Listing describes one place where Pakistani citizens' data is offered for
// sale. It holds no identifier: exposures reference it by ID.
//
// Verified, Fabricated and Sensitive are flags, like Have I Been Pwned's
// breach flags, set by operators. Verified: Khabardar has confirmed the
// data is real (a test purchase, a sample checked with the people in it).
// Fabricated: shown to be fake (e.g. by a verify run): its entries are no
// evidence that anyone's data is sold, so the website shows them as
// fabricated and never counts them as found, and /v1/stats leaves them out
// of every total. A listing cannot be both. Sensitive: being in the listing
// says something harmful about a person beyond the data sold (a clinic's
// patients, a helpline's callers, members of a community); the website says
// so beside a match, so that a screenshot is shared with care.
type Listing struct {
	ID         string     `yaml:"id" json:"id"`
	Title      string     `yaml:"title" json:"title"`
	Source     Source     `yaml:"source" json:"source"`
	FirstSeen  Date       `yaml:"first_seen" json:"first_seen"`
	LastSeen   Date       `yaml:"last_seen" json:"last_seen"`
	Status     string     `yaml:"status" json:"status"`
	Verified   bool       `yaml:"verified" json:"verified"`
	Fabricated bool       `yaml:"fabricated" json:"fabricated"`
	Sensitive  bool       `yaml:"sensitive" json:"sensitive"`
	Categories []Category `yaml:"categories" json:"categories"`
	References []string   `yaml:"references" json:"references"`

	// Counts is kept by the store; a YAML file cannot set it.
	Counts Counts `yaml:"-" json:"counts"`
	// Added is the day the listing was first added to this Khabardar (set
	// by 'listings add', kept on update; not in YAML): what "newest added"
	// means to a citizen told "not found".
	Added Date `yaml:"-" json:"added"`
}

// Catalogue sums up what a lookup is checked against, so that "not found"
// can say against what, and an empty catalogue is never mistaken for an
// all-clear.
type Catalogue struct {
	// Listings counts the listings that can answer "found": not shown to be
	// fabricated, and holding at least one identifier.
	Listings int `json:"listings"`
	// Identifiers sums their identifier counts (one in two listings counts
	// twice).
	Identifiers int64 `json:"identifiers"`
	// NewestAdded is the latest Added date among them ("" when there are
	// none; a listing stored before Added existed counts with its last_seen,
	// or its first_seen).
	NewestAdded Date `json:"newest_added"`
}

// Empty reports whether no listing can answer "found": a check against it
// tells nothing.
func (c Catalogue) Empty() bool { return c.Listings == 0 }

// Summarize returns the catalogue of ls.
func Summarize(ls []*Listing) Catalogue {
	var c Catalogue
	for _, l := range ls {
		if l.Fabricated || l.Counts.Total() == 0 {
			continue
		}
		c.Listings++
		c.Identifiers += l.Counts.Total()
		d := l.Added
		if d.IsZero() {
			d = l.LastSeen
		}
		if d.IsZero() {
			d = l.FirstSeen // required: every stored listing has one
		}
		if d.After(c.NewestAdded.Time) {
			c.NewestAdded = Date{Time: d.Time}
		}
	}
	return c
}

// Source says where a listing was found.
type Source struct {
	Kind        string `yaml:"kind" json:"kind"`
	URL         string `yaml:"url" json:"url,omitempty"`
	Description string `yaml:"description" json:"description,omitempty"`
}

// Category is one kind of data offered and the price asked for it.
type Category struct {
	Category string `yaml:"category" json:"category"`
	PricePKR int64  `yaml:"price_pkr" json:"price_pkr"`
}

// The allowed values of the enumerated listing fields.
var (
	SourceKinds   = []string{"website", "whatsapp", "telegram", "social", "other"}
	Statuses      = []string{"active", "taken_down", "unknown"}
	CategoryNames = []string{"location", "cdr", "travel", "imei", "cnic_copy", "sim_ownership", "family_tree", "bank", "other"}
)

var listingIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$|^[a-z0-9]$`)

// ValidListingID reports whether id is a listing ID: 1 to 64 lowercase
// letters, digits and inner dashes. The API answers anything else "not
// found" without asking the store.
func ValidListingID(id string) bool { return listingIDPattern.MatchString(id) }

// Date is a calendar date written YYYY-MM-DD.
type Date struct {
	time.Time
	// bad keeps text that is not a date, so that Validate, which knows the
	// field's name, reports it: decoders do not tell an unmarshaler its field.
	bad string
}

const dateLayout = "2006-01-02"

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(dateLayout)
}

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// MarshalJSON writes "YYYY-MM-DD", or "" for no date. Without it the
// embedded time.Time's MarshalJSON would win and write a timestamp.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD" or "".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("must be a date written YYYY-MM-DD")
	}
	return d.UnmarshalText([]byte(s))
}

// UnmarshalText reads YYYY-MM-DD; empty is no date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	t, err := time.Parse(dateLayout, string(b))
	if err != nil {
		return fmt.Errorf("%q is not a date written YYYY-MM-DD", b)
	}
	d.Time = t
	return nil
}

// UnmarshalYAML reads YYYY-MM-DD, which YAML would otherwise take for a
// timestamp. Anything else is kept for Validate to report with its field.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || d.UnmarshalText([]byte(n.Value)) != nil {
		*d = Date{bad: n.Value}
		if d.bad == "" {
			d.bad = "a " + map[yaml.Kind]string{yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}[n.Kind]
		}
	}
	return nil
}

// Validate checks every field and returns an EINVALID error naming the first
// field that is wrong.
func (l *Listing) Validate() error {
	bad := func(field, format string, args ...any) error {
		return Errorf(EINVALID, "listing %q: %s: %s", l.ID, field, fmt.Sprintf(format, args...))
	}
	if !listingIDPattern.MatchString(l.ID) {
		return Errorf(EINVALID, "listing: id: %q must be 1 to 64 lowercase letters, digits and inner dashes", l.ID)
	}
	if strings.TrimSpace(l.Title) == "" {
		return bad("title", "is required")
	}
	if len(l.Title) > 200 {
		return bad("title", "is longer than 200 bytes")
	}
	if !oneOf(l.Source.Kind, SourceKinds) {
		return bad("source.kind", "%q is not one of %s", l.Source.Kind, strings.Join(SourceKinds, "|"))
	}
	if l.Source.URL != "" && !isWebURL(l.Source.URL) {
		return bad("source.url", "%q is not an http or https URL", l.Source.URL)
	}
	if len(l.Source.Description) > 2000 {
		return bad("source.description", "is longer than 2000 bytes")
	}
	for field, d := range map[string]Date{"first_seen": l.FirstSeen, "last_seen": l.LastSeen} {
		if d.bad != "" {
			return bad(field, "%q is not a date written YYYY-MM-DD", d.bad)
		}
	}
	if l.FirstSeen.IsZero() {
		return bad("first_seen", "is required")
	}
	if !l.LastSeen.IsZero() && l.LastSeen.Before(l.FirstSeen.Time) {
		return bad("last_seen", "%s is before first_seen %s", l.LastSeen, l.FirstSeen)
	}
	if !oneOf(l.Status, Statuses) {
		return bad("status", "%q is not one of %s", l.Status, strings.Join(Statuses, "|"))
	}
	if l.Verified && l.Fabricated {
		return bad("fabricated", "a listing cannot be both verified and fabricated")
	}
	if len(l.Categories) == 0 {
		return bad("categories", "at least one category is required")
	}
	seen := map[string]bool{}
	for i, c := range l.Categories {
		field := fmt.Sprintf("categories[%d]", i)
		if !oneOf(c.Category, CategoryNames) {
			return bad(field+".category", "%q is not one of %s", c.Category, strings.Join(CategoryNames, "|"))
		}
		if seen[c.Category] {
			return bad(field+".category", "%q is listed twice", c.Category)
		}
		seen[c.Category] = true
		if c.PricePKR < 0 || c.PricePKR > 100_000_000 {
			return bad(field+".price_pkr", "%d is not a price from 0 to 100000000", c.PricePKR)
		}
	}
	for i, r := range l.References {
		if !isWebURL(r) {
			return bad(fmt.Sprintf("references[%d]", i), "%q is not an http or https URL", r)
		}
	}
	return nil
}

// DecodeListings reads one or more YAML documents, each a listing, rejecting
// unknown fields and bad values with an EINVALID error naming the field.
func DecodeListings(r io.Reader) ([]*Listing, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var out []*Listing
	for {
		var l Listing
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, Errorf(EINVALID, "listing document %d: %s", len(out)+1, yamlMessage(err))
		}
		if err := l.Validate(); err != nil {
			return nil, err
		}
		out = append(out, &l)
	}
	if len(out) == 0 {
		return nil, Errorf(EINVALID, "no listing in the file")
	}
	return out, nil
}

// yamlMessage rewrites yaml.v3's messages, which name Go types, to name the
// YAML field instead.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	for _, t := range []string{"khabardar.Listing", "khabardar.Source", "khabardar.Category"} {
		msg = strings.ReplaceAll(msg, " in type "+t, "")
	}
	msg = strings.ReplaceAll(msg, "field ", "unknown field ")
	msg = strings.ReplaceAll(msg, " not found", "")
	return msg
}

func oneOf(s string, allowed []string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// EncodeListing writes a listing as YAML, the form `listings add` reads.
func EncodeListing(l *Listing) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(l); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
