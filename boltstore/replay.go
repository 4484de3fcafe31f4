package boltstore

import (
	"context"
	"time"

	"github.com/khabardar/khabardar"
	bolt "go.etcd.io/bbolt"
)

// The gateway messages already answered are expiring records (expiry.go):
// sms_seen maps a message's keyed hash to the end of its record, and
// sms_seen_expiry orders them by it for the sweep.
var seenRecords = expiring{[]byte("sms_seen"), []byte("sms_seen_expiry")}

var _ khabardar.ReplayStore = (*Store)(nil)

// FirstSeen records hash for ttl and reports whether it was new. A repeat
// is answered from a read-only transaction, so a flood of replays writes
// nothing; a new hash is checked again and recorded in one write
// transaction, which bbolt runs one at a time: of concurrent calls, one
// records it and the rest find it.
func (s *Store) FirstSeen(ctx context.Context, hash string, ttl time.Duration) (bool, error) {
	if _, err := s.initLayout(); err != nil {
		return false, err
	}
	if err := khabardar.CheckKeyedHash(hash); err != nil {
		return false, err
	}
	if err := khabardar.CheckTTL(ttl); err != nil {
		return false, err
	}
	key := []byte(hash)
	seen := func(tx *bolt.Tx, now time.Time) bool {
		_, exp, ok := seenRecords.get(tx, key)
		return ok && !expired(exp, now)
	}
	var repeat bool
	err := s.view(ctx, "reading the answered messages", func(tx *bolt.Tx) error {
		repeat = seen(tx, timeNow())
		return nil
	})
	if err != nil || repeat {
		return false, err
	}
	err = s.update(ctx, "recording an answered message", func(tx *bolt.Tx) error {
		now := timeNow()
		if repeat = seen(tx, now); repeat {
			return nil
		}
		if err := seenRecords.put(tx, key, nil, now.Add(ttl), now); err != nil {
			return err
		}
		// Every message is recorded, while a language is written at most
		// once a day per sender: sweep the languages here too.
		_, err := prefRecords.sweep(tx, now, sweepMax)
		return err
	})
	return err == nil && !repeat, err
}
