// Package wire is the public API's wire protocol: what travels between
// browser/CLI and server. It holds the request and response bodies, the
// error codes (stable strings clients match on) and the error body, the
// route paths, and the limits of the public API. It imports no HTTP
// framework: the server (package api), the Go client (client), the load
// generator (loadgen) and the website's generated constants
// (frontend/src/wire.gen.js, written by frontend/gen) all take the protocol
// from here. api/openapi.yaml describes the same protocol for people; the
// api tests hold it to this package.
//
// Bodies that carry the catalogue's domain types (listings, their counts,
// the catalogue summary) name the root package's types, whose JSON forms are
// theirs.
package wire

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/khabardar/khabardar"
)

// Route paths, in fiber's syntax: a parameter is ":name". OpenAPIPath
// writes one as openapi.yaml does ("{name}"); BucketPath and ListingPath
// build a request's path.
const (
	RouteHealthz  = "/healthz"
	RouteReadyz   = "/readyz"
	RouteConfig   = "/v1/config"
	RouteOpenAPI  = "/v1/openapi.yaml"
	RouteEvaluate = "/v1/evaluate"
	RouteBucket   = "/v1/buckets/:prefix"
	RouteListings = "/v1/listings"
	RouteListing  = "/v1/listings/:id"
	RouteStats    = "/v1/stats"
	// The WhatsApp Cloud API's webhook (served only when configured).
	RouteWhatsApp = "/v1/whatsapp"
	// Alerts from the website (served only when the server sends SMS).
	RouteAlertCode      = "/v1/alerts/code"
	RouteAlertSubscribe = "/v1/alerts/subscribe"
	// The SMS gateways' webhooks (served only when configured): SMSPath
	// of each gateway's name; these two are today's.
	RouteSMSTwilio = "/v1/sms/twilio"
	RouteSMSKannel = "/v1/sms/kannel"
)

// SMSPath is the path of the webhook of the SMS gateway with the given name.
func SMSPath(gateway string) string { return "/v1/sms/" + gateway }

// Routes lists every route path above.
var Routes = []string{
	RouteHealthz, RouteReadyz, RouteConfig, RouteOpenAPI, RouteEvaluate, RouteBucket,
	RouteListings, RouteListing, RouteStats, RouteSMSTwilio, RouteSMSKannel,
	RouteAlertCode, RouteAlertSubscribe, RouteWhatsApp,
}

// BucketPath is the path of the bucket under prefix (RouteBucket).
func BucketPath(prefix string) string { return fill(RouteBucket, "prefix", prefix) }

// ListingPath is the path of the listing with the given ID (RouteListing).
func ListingPath(id string) string { return fill(RouteListing, "id", id) }

func fill(route, param, value string) string {
	return strings.Replace(route, ":"+param, value, 1)
}

// OpenAPIPath writes a route's parameters as openapi.yaml does:
// "/v1/buckets/:prefix" becomes "/v1/buckets/{prefix}". Error messages name
// routes this way, never by a request's path (which may hold a bucket
// prefix).
func OpenAPIPath(route string) string {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}

// ModeVOPRF is Config.Mode: verifiable OPRF (RFC 9497), the only mode.
const ModeVOPRF = "voprf"

// Config is the body of GET /v1/config.
type Config struct {
	Suite       string `json:"suite"`
	Mode        string `json:"mode"`
	KeyID       string `json:"key_id"`
	PublicKey   string `json:"public_key"` // base64url, no padding
	Fingerprint string `json:"fingerprint"`
	BucketBits  int    `json:"bucket_bits"`
	SuffixBytes int    `json:"suffix_bytes"`
	MaxBatch    int    `json:"max_batch"` // the most elements this caller may evaluate at once
	// Alerts says the website may offer alerts (RouteAlertCode,
	// RouteAlertSubscribe): the server sends SMS.
	Alerts bool `json:"alerts,omitempty"`
}

// AlertPerson is who an alert request is for: their mobile number as
// typed, and their language (en or ur).
type AlertPerson struct {
	Number string `json:"number"`
	Lang   string `json:"lang"`
}

// AlertCodeRequest is the body of POST /v1/alerts/code: send a
// confirmation code by SMS to the person's number, in their language.
type AlertCodeRequest struct {
	AlertPerson
}

// AlertCodeResponse answers it: the code went out and is good for
// ExpiresIn seconds.
type AlertCodeResponse struct {
	Sent      bool `json:"sent"`
	ExpiresIn int  `json:"expires_in"`
}

// AlertWatch is an identifier to watch, as the browser holds its VOPRF
// output after a check: the bucket prefix and the suffix in hex, and its
// kind's name.
type AlertWatch struct {
	Prefix string `json:"prefix"`
	Suffix string `json:"suffix"`
	Kind   string `json:"kind"`
}

// AlertSubscribeRequest is the body of POST /v1/alerts/subscribe.
type AlertSubscribeRequest struct {
	AlertPerson
	Code    string       `json:"code"`
	Watches []AlertWatch `json:"watches"`
}

// AlertSubscribeResponse answers it: how many identifiers the number now
// watches.
type AlertSubscribeResponse struct {
	Watching int `json:"watching"`
}

// EvaluateRequest is the body of POST /v1/evaluate. Elements are 32 bytes
// in base64url without padding.
type EvaluateRequest struct {
	KeyID   string   `json:"key_id"`
	Blinded []string `json:"blinded"`
}

// EvaluateResponse answers an EvaluateRequest: one evaluated element per
// blinded one, in order, under one DLEQ proof.
type EvaluateResponse struct {
	KeyID     string   `json:"key_id"`
	Evaluated []string `json:"evaluated"`
	Proof     string   `json:"proof"`
}

// Bucket is the body of GET /v1/buckets/{prefix}: the entries under the
// prefix, real and dummy, sorted by suffix, and a padding string of '0's
// that brings every bucket to the same size.
type Bucket struct {
	KeyID   string        `json:"key_id"`
	Prefix  string        `json:"prefix"`
	Entries []BucketEntry `json:"entries"`
	Padding string        `json:"padding"`
}

// BucketEntry is one suffix (hex) and the IDs of the listings that hold it
// ([] for a dummy, never null).
type BucketEntry struct {
	Suffix   string   `json:"suffix"`
	Listings []string `json:"listings"`
}

// Listings is the body of GET /v1/listings: the whole catalogue, sorted by
// ID, and its summary. Catalogue is nil only from a server older than the
// field.
type Listings struct {
	Catalogue *khabardar.Catalogue `json:"catalogue"`
	Listings  []*khabardar.Listing `json:"listings"`
}

// Listing is the body of GET /v1/listings/{id}.
type Listing = khabardar.Listing

// Health is the body of GET /healthz ("ok") and GET /readyz ("ready").
type Health struct {
	Status string `json:"status"`
}

// Stats is the body of GET /v1/stats: the catalogue in aggregate. Counts
// are exposures, (identifier, listing) pairs; fabricated listings are left
// out of every aggregate and totalled on their own.
type Stats struct {
	Exposures           KindTotals       `json:"exposures"`
	FabricatedExposures KindTotals       `json:"fabricated_exposures"`
	Listings            ListingTotals    `json:"listings"`
	ByListing           []ListingStats   `json:"by_listing"`
	ByCategory          []CategoryStats  `json:"by_category"`
	FirstSeenByMonth    map[string]int64 `json:"first_seen_by_month"`
}

// KindTotals is khabardar.Counts with their sum: a key per kind, named as
// the kind ({"cnic":…,"phone":…,"imei":…,"passport":…}), then "total".
type KindTotals struct{ khabardar.Counts }

// Add adds c to k.
func (k *KindTotals) Add(c khabardar.Counts) { k.Counts = k.Counts.Plus(c) }

// MarshalJSON implements json.Marshaler.
func (k KindTotals) MarshalJSON() ([]byte, error) {
	b := append(k.Counts.AppendJSON(nil), `,"total":`...)
	return append(strconv.AppendInt(b, k.Total(), 10), '}'), nil
}

// UnmarshalJSON implements json.Unmarshaler: the kinds' counts (a key this
// build does not know is ignored), and a total that must be their sum.
func (k *KindTotals) UnmarshalJSON(b []byte) error {
	var t struct {
		Total *int64 `json:"total"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	if err := k.Counts.UnmarshalJSON(b); err != nil {
		return err
	}
	if t.Total == nil || *t.Total != k.Total() {
		return errors.New("wire: kind totals: total is not the sum of the kinds")
	}
	return nil
}

// ListingTotals counts listings: all of them, those counted in the
// aggregates (not fabricated), and those with each flag.
type ListingTotals struct {
	Total      int `json:"total"`
	Counted    int `json:"counted"`
	Verified   int `json:"verified"`
	Fabricated int `json:"fabricated"`
	Sensitive  int `json:"sensitive"`
}

// ListingStats is one listing of Stats.ByListing.
type ListingStats struct {
	ID         string         `json:"id"`
	Title      string         `json:"title"`
	FirstSeen  khabardar.Date `json:"first_seen"`
	Status     string         `json:"status"`
	Verified   bool           `json:"verified"`
	Fabricated bool           `json:"fabricated"`
	Sensitive  bool           `json:"sensitive"`
	Exposures  KindTotals     `json:"exposures"`
}

// CategoryStats is one category across the listings that offer it.
type CategoryStats struct {
	Category  string      `json:"category"`
	Listings  int         `json:"listings"`  // listings offering it
	Exposures KindTotals  `json:"exposures"` // what those listings hold, whatever they offer for it
	PricePKR  *PriceStats `json:"price_pkr"` // null when none of them gave a price
}

// PriceStats summarises the prices asked for a category. A price of 0 is
// "no price given" and is left out.
type PriceStats struct {
	Listings int     `json:"listings"` // how many prices these are of
	Min      int64   `json:"min"`
	Median   float64 `json:"median"` // of an even number of prices, the mean of the middle two
	Max      int64   `json:"max"`
}
