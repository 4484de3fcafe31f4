package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	"github.com/khabardar/khabardar"
	bolt "go.etcd.io/bbolt"
)

// timeNow is the clock of expiring records; tests move it.
var timeNow = time.Now

// expiring is a pair of top-level buckets whose records expire: byKey maps
// a key to its expiry (8 bytes, big-endian Unix nanoseconds) followed by
// its value, and byTime maps expiry‖key to nothing, so that the expired
// records are the first ones in byTime and a sweep reads no other. Both are
// created by the first write.
type expiring struct{ byKey, byTime []byte }

// sweepMax bounds the expired records one write deletes. Each write adds at
// most one record and records of one kind share a lifetime, so they expire
// in the order they were written and the sweep keeps up; a long backlog
// (after the server was stopped for a while) is cleared by Init.
const sweepMax = 64

const expiryLen = 8

// expired reports whether a record with expiry exp is gone at now. A
// record from before records expired (a language stored by an older
// version) has the zero expiry and is live until Init gives it one.
func expired(exp, now time.Time) bool { return !exp.IsZero() && !exp.After(now) }

// get returns key's value and expiry, copied out of the transaction, and
// whether the key is stored at all (expired or not).
func (e expiring) get(tx *bolt.Tx, key []byte) (val []byte, exp time.Time, ok bool) {
	b := tx.Bucket(e.byKey)
	if b == nil {
		return nil, time.Time{}, false
	}
	v := b.Get(key)
	if v == nil {
		return nil, time.Time{}, false
	}
	if len(v) < expiryLen { // an old record: the value alone
		return bytes.Clone(v), time.Time{}, true
	}
	return bytes.Clone(v[expiryLen:]), decodeExpiry(v), true
}

// put stores key's value until exp, replacing any earlier record of key
// and its place in byTime, then sweeps what expired by now.
func (e expiring) put(tx *bolt.Tx, key, val []byte, exp, now time.Time) error {
	byKey, err := tx.CreateBucketIfNotExists(e.byKey)
	if err != nil {
		return err
	}
	byTime, err := tx.CreateBucketIfNotExists(e.byTime)
	if err != nil {
		return err
	}
	if old := byKey.Get(key); len(old) >= expiryLen {
		if err := byTime.Delete(timeKey(old[:expiryLen], key)); err != nil {
			return err
		}
	}
	v := make([]byte, expiryLen, expiryLen+len(val))
	binary.BigEndian.PutUint64(v, uint64(exp.UnixNano()))
	if err := byKey.Put(key, append(v, val...)); err != nil {
		return err
	}
	if err := byTime.Put(timeKey(v[:expiryLen], key), nil); err != nil {
		return err
	}
	_, err = e.sweep(tx, now, sweepMax)
	return err
}

// del deletes key's record and its place in byTime, if it has one.
func (e expiring) del(tx *bolt.Tx, key []byte) error {
	byKey, byTime := tx.Bucket(e.byKey), tx.Bucket(e.byTime)
	if byKey == nil {
		return nil
	}
	if old := byKey.Get(key); len(old) >= expiryLen && byTime != nil {
		if err := byTime.Delete(timeKey(old[:expiryLen], key)); err != nil {
			return err
		}
	}
	return byKey.Delete(key)
}

// sweep deletes up to max records (all if max <= 0) that expired by now
// and returns how many it deleted.
func (e expiring) sweep(tx *bolt.Tx, now time.Time, max int) (int, error) {
	byKey, byTime := tx.Bucket(e.byKey), tx.Bucket(e.byTime)
	if byKey == nil || byTime == nil {
		return 0, nil
	}
	// Collected first: deleting under a bbolt cursor can skip the next key.
	var due [][]byte
	c := byTime.Cursor()
	for k, _ := c.First(); k != nil && (max <= 0 || len(due) < max); k, _ = c.Next() {
		if len(k) < expiryLen || !expired(decodeExpiry(k), now) {
			break
		}
		due = append(due, bytes.Clone(k))
	}
	for _, k := range due {
		key := k[expiryLen:]
		// The record is deleted only if this is still its expiry; put
		// keeps the two in step, so it always is.
		if v := byKey.Get(key); len(v) >= expiryLen && bytes.Equal(v[:expiryLen], k[:expiryLen]) {
			if err := byKey.Delete(key); err != nil {
				return 0, err
			}
		}
		if err := byTime.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// due reports whether a sweep at now would delete anything.
func (e expiring) due(tx *bolt.Tx, now time.Time) bool {
	b := tx.Bucket(e.byTime)
	if b == nil {
		return false
	}
	k, _ := b.Cursor().First()
	return k != nil && len(k) >= expiryLen && expired(decodeExpiry(k), now)
}

func timeKey(expiry, key []byte) []byte {
	return append(append(make([]byte, 0, expiryLen+len(key)), expiry...), key...)
}

func decodeExpiry(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:expiryLen])))
}

// expireAtInit runs when the store is bound to its layout: it deletes every
// expired SMS record, however many accumulated while the server was
// stopped, and gives each language choice stored before choices expired
// (a bare "en" or "ur") SMSPrefRetention from now. A store with nothing to
// do is only read.
func (s *Store) expireAtInit(ctx context.Context) error {
	now := timeNow()
	var work bool
	err := s.view(ctx, "reading the sms records", func(tx *bolt.Tx) error {
		work = seenRecords.due(tx, now) || prefRecords.due(tx, now) || len(oldPrefs(tx)) > 0
		return nil
	})
	if err != nil || !work {
		return err
	}
	return s.update(ctx, "expiring the sms records", func(tx *bolt.Tx) error {
		for _, e := range []expiring{seenRecords, prefRecords} {
			if _, err := e.sweep(tx, now, 0); err != nil {
				return err
			}
		}
		for _, key := range oldPrefs(tx) {
			lang, _, _ := prefRecords.get(tx, key)
			if err := prefRecords.put(tx, key, lang, now.Add(khabardar.SMSPrefRetention), now); err != nil {
				return err
			}
		}
		return nil
	})
}
