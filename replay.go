package khabardar

import (
	"context"
	"time"
)

// ReplayStore remembers which gateway messages were already answered, so
// that a signed webhook request replayed by whoever captured it gets
// silence rather than a second answer (and a second charge to the real
// sender's limit). A message is known by the keyed hash of its gateway ID
// (hashing.Key.Keyed("sms-message").Hex of Twilio's MessageSid, say):
// never the ID itself, which the gateway's logs tie to the sender. Both
// store adapters implement it, like the Store methods only after Init
// (EINTERNAL before); the contract is in storetest.
type ReplayStore interface {
	// FirstSeen records hash for ttl and reports whether it was new: true
	// if it was not recorded or its record had expired, false for a
	// repeat within ttl of the first sighting. A repeat does not extend
	// the record. It is atomic: of any number of concurrent calls with one
	// hash, in this process or another on the same store, exactly one gets
	// true. EINVALID for a hash that is not ValidKeyedHex or a ttl under a
	// millisecond; EUNAVAILABLE when the store cannot be reached, and then
	// nothing is known: the caller must not treat the message as new.
	FirstSeen(ctx context.Context, hash string, ttl time.Duration) (bool, error)
}

// CheckTTL returns the EINVALID error a ReplayStore or PrefStore returns
// for a time to keep a record that is under a millisecond, the resolution
// of Redis expiry.
func CheckTTL(ttl time.Duration) error {
	if ttl < time.Millisecond {
		return Errorf(EINVALID, "the time to keep a record is under a millisecond")
	}
	return nil
}

// CheckKeyedHash returns the EINVALID error a ReplayStore returns for a
// hash that is not ValidKeyedHex. The message does not repeat it.
func CheckKeyedHash(hash string) error {
	if !ValidKeyedHex(hash) {
		return Errorf(EINVALID, "the message hash is not %d lowercase hex characters", KeyedHexLen)
	}
	return nil
}
