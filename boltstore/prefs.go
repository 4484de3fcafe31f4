package boltstore

import (
	"bytes"
	"context"
	"time"

	"github.com/khabardar/khabardar"
	bolt "go.etcd.io/bbolt"
)

// SMS preferences are expiring records (expiry.go): sms_prefs maps a
// sender's keyed hash (hex, as given) to the expiry of their choice and
// the language, sms_prefs_expiry orders them by expiry for the sweep.
var (
	smsPrefsBucket = []byte("sms_prefs")
	prefRecords    = expiring{smsPrefsBucket, []byte("sms_prefs_expiry")}
)

var _ khabardar.PrefStore = (*Store)(nil)

// SMSLanguage returns the language the sender chose and keeps it for retain.
// The read is a read-only transaction; the choice is written again only
// when that gains more than retain/365 (a day in a year), so that most
// messages cost no disk write and do not wait behind an ingest's.
func (s *Store) SMSLanguage(ctx context.Context, senderHash string, retain time.Duration) (string, error) {
	if err := s.checkPref(senderHash, retain); err != nil {
		return "", err
	}
	key := []byte(senderHash)
	var (
		lang  []byte
		renew bool
	)
	read := func(tx *bolt.Tx, now time.Time) error {
		v, exp, ok := prefRecords.get(tx, key)
		if !ok || expired(exp, now) {
			return khabardar.Errorf(khabardar.ENOTFOUND, "no sms language chosen")
		}
		lang, renew = v, exp.IsZero() || now.Add(retain).Sub(exp) > retain/365
		return nil
	}
	err := s.view(ctx, "reading the sms preferences", func(tx *bolt.Tx) error { return read(tx, timeNow()) })
	if err != nil || !renew {
		return string(lang), err
	}
	err = s.update(ctx, "renewing the sms preferences", func(tx *bolt.Tx) error {
		now := timeNow()
		if err := read(tx, now); err != nil {
			return err
		}
		return prefRecords.put(tx, key, lang, now.Add(retain), now)
	})
	return string(lang), err
}

// SetSMSLanguage records the sender's choice for retain.
func (s *Store) SetSMSLanguage(ctx context.Context, senderHash, lang string, retain time.Duration) error {
	if err := s.checkPref(senderHash, retain); err != nil {
		return err
	}
	if err := khabardar.CheckSMSLanguage(lang); err != nil {
		return err
	}
	return s.update(ctx, "saving the sms preferences", func(tx *bolt.Tx) error {
		now := timeNow()
		return prefRecords.put(tx, []byte(senderHash), []byte(lang), now.Add(retain), now)
	})
}

func (s *Store) checkPref(senderHash string, retain time.Duration) error {
	if _, err := s.initLayout(); err != nil {
		return err
	}
	if err := khabardar.CheckSenderHash(senderHash); err != nil {
		return err
	}
	return khabardar.CheckTTL(retain)
}

// oldPrefs returns the senders whose choice was stored before choices
// expired: a bare language, with no expiry.
func oldPrefs(tx *bolt.Tx) [][]byte {
	b := tx.Bucket(smsPrefsBucket)
	if b == nil {
		return nil
	}
	var keys [][]byte
	b.ForEach(func(k, v []byte) error {
		if len(v) < expiryLen {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	return keys
}
