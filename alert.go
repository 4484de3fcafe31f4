package khabardar

import (
	"context"
	"time"

	"github.com/khabardar/khabardar/identifier"
)

// Alerts tell a person when a new listing holds an identifier they watch.
// What is kept of them is the least that lets an SMS reach them: the keyed
// hash of their number (to find them when they send STOP), their number
// sealed with an AEAD under a key of its own (an SMS cannot be sent to a
// hash), their reply language, and each watched identifier in the form
// exposures are stored, its VOPRF output's bucket prefix and suffix.

// MaxWatches is how many identifiers one subscriber may watch by default.
const MaxWatches = 5

// Subscriber is a person who asked for alerts.
type Subscriber struct {
	// ID is hashing.Keyed.Hex of their canonical number under the SMS
	// sender purpose: the same hash their SMS messages are counted by.
	ID string
	// Sealed is their number sealed by the alerts key (package alerts);
	// the store cannot read it.
	Sealed []byte
	// Lang is the language of their alerts, LangEnglish or LangUrdu.
	Lang string
}

// Watch is an identifier a subscriber watches, as exposures are stored.
type Watch struct {
	Prefix string
	Suffix []byte
	Kind   identifier.Kind
}

// Alert is one message waiting to go out: that listing Listing holds an
// identifier of kind Kind that subscriber Subscriber watches.
type Alert struct {
	ID         string // assigned by the store
	Subscriber string
	Listing    string
	Kind       identifier.Kind
	Attempts   int       // sends tried and failed
	NotBefore  time.Time // not sent before: a retry's backoff, or a lease
}

// AlertStats counts what the alert store holds: never who.
type AlertStats struct {
	Subscribers int64 `json:"subscribers"`
	Watches     int64 `json:"watches"`
	Queued      int64 `json:"queued"`
}

// WatchMatcher matches exposures against watches: ingest calls it after
// each batch it stores.
type WatchMatcher interface {
	// MatchWatches queues an alert for each subscriber who watches one of
	// exposures, just added to listing listingID, at most once per
	// subscriber and listing ever (across calls, processes and replicas),
	// and returns how many it queued. EINVALID for exposures that do not
	// fit the layout.
	MatchWatches(ctx context.Context, listingID string, exposures []Exposure) (int, error)
}

// AlertStore keeps subscribers, their watches and the outbox of alerts.
// Both store adapters implement it after Init; the contract is in
// storetest (Alerts).
type AlertStore interface {
	// Watch adds w to subscriber s's watches, creating s or replacing its
	// sealed number and language, and returns how many watches s has. A
	// watch s has already is not added twice. ECONFLICT, with nothing
	// changed, if s already has max watches; EINVALID for an s.ID that is
	// not ValidKeyedHex, an empty Sealed, a Lang that is no language, or a
	// watch that fails the layout.
	Watch(ctx context.Context, s Subscriber, w Watch, max int) (int, error)

	// Subscriber returns subscriber id and how many watches they have.
	// ENOTFOUND if there is none.
	Subscriber(ctx context.Context, id string) (Subscriber, int, error)

	// Unsubscribe deletes subscriber id, every watch of theirs, every
	// alert queued for them, a confirmation code waiting for them and their
	// SMS language (PrefStore: the same keyed hash), and reports whether
	// there was a subscriber. Nothing
	// about them remains, in any key or index; a call cut short is
	// finished by the next call.
	Unsubscribe(ctx context.Context, id string) (bool, error)

	WatchMatcher

	// ClaimAlerts returns up to n queued alerts due at now, leased until
	// now+lease: no other claim returns them before then, unless
	// RetryAlert or AlertSent is called for them.
	ClaimAlerts(ctx context.Context, now time.Time, lease time.Duration, n int) ([]Alert, error)

	// AlertSent removes a sent alert from the outbox. An unknown ID (sent,
	// or its subscriber gone) is not an error.
	AlertSent(ctx context.Context, id string) error

	// RetryAlert counts a failed attempt of alert id and holds it until
	// at. An unknown ID is not an error.
	RetryAlert(ctx context.Context, id string, at time.Time) error

	// AlertStats counts subscribers, watches and queued alerts.
	AlertStats(ctx context.Context) (AlertStats, error)

	// PutAlertCode keeps digest, the keyed hash of a confirmation code sent
	// by SMS to the number whose keyed hash is id, until expires, replacing
	// any earlier one. EINVALID for an id that is not ValidKeyedHex.
	PutAlertCode(ctx context.Context, id string, digest []byte, expires time.Time) error

	// CheckAlertCode reports whether digest is the code kept for id at now,
	// comparing in constant time, and deletes the code when it matches or
	// when maxAttempts have failed. ENOTFOUND if there is none or it
	// expired.
	CheckAlertCode(ctx context.Context, id string, digest []byte, now time.Time, maxAttempts int) (bool, error)
}

// ValidLang reports a reply language.
func ValidLang(lang string) bool { return lang == LangEnglish || lang == LangUrdu }

// CheckWatch is the EINVALID check of AlertStore.Watch's arguments.
func (l Layout) CheckWatch(s Subscriber, w Watch, max int) error {
	switch {
	case !ValidKeyedHex(s.ID):
		return Errorf(EINVALID, "the subscriber is not a keyed hash")
	case len(s.Sealed) == 0 || len(s.Sealed) > 256:
		return Errorf(EINVALID, "the subscriber's sealed number is empty or too long")
	case !ValidLang(s.Lang):
		return Errorf(EINVALID, "the subscriber's language is not en or ur")
	case max < 1:
		return Errorf(EINVALID, "the watch cap must be at least 1")
	}
	return l.CheckBatch([]Exposure{{Prefix: w.Prefix, Suffix: w.Suffix, Kind: w.Kind}})
}
