package khabardar

import (
	"context"
	"time"
)

// The languages of SMS replies.
const (
	LangEnglish = "en"
	LangUrdu    = "ur"
)

// KeyedHexLen is the length of hashing.Keyed.Hex: 16 bytes in lowercase hex.
const KeyedHexLen = 32

// ValidKeyedHex reports whether s has the form of hashing.Keyed.Hex. Stores
// and limiters that key records by a person check it, so that a raw phone
// number passed by mistake is refused rather than stored.
func ValidKeyedHex(s string) bool {
	if len(s) != KeyedHexLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// SMSPrefRetention is how long an SMS sender's language choice is kept
// after their last message: a year. Every message the service answers
// reads the choice and so keeps it another year; a sender who sends
// nothing for a year is forgotten.
const SMSPrefRetention = 365 * 24 * time.Hour

// PrefStore keeps what an SMS sender chose, keyed by the keyed hash of the
// sender's number (hashing.Key.Keyed("sms-sender").Hex): never the number.
// Both store adapters implement it, like the Store methods only after Init;
// the contract is in storetest.
//
// A stored preference does say that the holder of a hash has used the SMS
// channel in the last retain; telling whose number that is needs the server
// key. So a choice is kept only for retain after the sender's last message
// (SMSPrefRetention in production): each call names retain, and a store
// forgets a choice once retain has passed without a call for its sender.
// A store may skip renewing a choice that still has all but retain/365 of
// retain to run (a day in a year), to save writes.
type PrefStore interface {
	// SMSLanguage returns the reply language the sender chose, LangEnglish
	// or LangUrdu, and keeps the choice for retain from now: the service
	// reads it for every message it answers, so reading is what counts as
	// the sender being active. ENOTFOUND if they never chose one or the
	// choice has expired, EINVALID for a senderHash that is not
	// ValidKeyedHex or a retain under a millisecond (CheckTTL).
	SMSLanguage(ctx context.Context, senderHash string, retain time.Duration) (string, error)

	// SetSMSLanguage records the sender's choice for retain from now,
	// replacing any earlier one. EINVALID for a lang other than LangEnglish
	// or LangUrdu, a senderHash that is not ValidKeyedHex or a retain under
	// a millisecond.
	SetSMSLanguage(ctx context.Context, senderHash, lang string, retain time.Duration) error
}

// CheckSenderHash returns the EINVALID error a PrefStore returns for a
// sender hash that is not ValidKeyedHex. The message does not repeat it.
func CheckSenderHash(senderHash string) error {
	if !ValidKeyedHex(senderHash) {
		return Errorf(EINVALID, "sms preferences: the sender hash is not %d lowercase hex characters", KeyedHexLen)
	}
	return nil
}

// CheckSMSLanguage returns the EINVALID error a PrefStore returns for a
// language other than LangEnglish and LangUrdu.
func CheckSMSLanguage(lang string) error {
	if lang != LangEnglish && lang != LangUrdu {
		return Errorf(EINVALID, "sms preferences: the language is not %s or %s", LangEnglish, LangUrdu)
	}
	return nil
}
