package boltstore

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

var _ khabardar.AlertStore = (*Store)(nil)

// Alerts are kept in five buckets, created by the first write:
//
//	alert_subs     subscriber ID → {sealed, lang}
//	alert_watches  subscriber ID ‖ 0 ‖ prefix ‖ 0 ‖ suffix → kind: a subscriber's watches
//	alert_index    prefix ‖ 0 ‖ suffix ‖ subscriber ID → kind: who watches a record
//	alert_sent     subscriber ID ‖ 0 ‖ listing ID → nothing: alerts queued once
//	alert_outbox   alert number (8 bytes, big-endian) → storedAlert
//
// Subscriber IDs are keyed hashes in hex (ValidKeyedHex), so 0 separates.
var (
	alertSubsBucket    = []byte("alert_subs")
	alertWatchesBucket = []byte("alert_watches")
	alertIndexBucket   = []byte("alert_index")
	alertSentBucket    = []byte("alert_sent")
	alertOutboxBucket  = []byte("alert_outbox")
)

type storedSub struct {
	Sealed []byte `json:"sealed"`
	Lang   string `json:"lang"`
}

type storedAlert struct {
	Subscriber string          `json:"s"`
	Listing    string          `json:"l"`
	Kind       identifier.Kind `json:"k"`
	Attempts   int             `json:"a,omitempty"`
	NotBefore  int64           `json:"t"` // Unix milliseconds
}

func alertBuckets(tx *bolt.Tx) (subs, watches, index, sent, outbox *bolt.Bucket, err error) {
	bs := make([]*bolt.Bucket, 5)
	for i, name := range [][]byte{alertSubsBucket, alertWatchesBucket, alertIndexBucket, alertSentBucket, alertOutboxBucket} {
		if tx.Writable() {
			if bs[i], err = tx.CreateBucketIfNotExists(name); err != nil {
				return
			}
		} else if bs[i] = tx.Bucket(name); bs[i] == nil {
			return nil, nil, nil, nil, nil, nil // nothing written yet
		}
	}
	return bs[0], bs[1], bs[2], bs[3], bs[4], nil
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, []byte{0}) }

// Watch adds a watch in one transaction: the subscriber, the watch and its
// index entry.
func (s *Store) Watch(ctx context.Context, sub khabardar.Subscriber, w khabardar.Watch, max int) (int, error) {
	layout, err := s.initLayout()
	if err != nil {
		return 0, err
	}
	if err := layout.CheckWatch(sub, w, max); err != nil {
		return 0, err
	}
	n := 0
	err = s.update(ctx, "adding a watch", func(tx *bolt.Tx) error {
		subs, watches, index, _, _, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		id := []byte(sub.ID)
		wkey := cat(id, []byte(w.Prefix), w.Suffix)
		n = countPrefix(watches, append(id, 0))
		if watches.Get(wkey) == nil {
			if n >= max {
				return khabardar.Errorf(khabardar.ECONFLICT, "the subscriber already watches %d identifiers", n)
			}
			if err := watches.Put(wkey, []byte{byte(w.Kind)}); err != nil {
				return err
			}
			if err := index.Put(append(cat([]byte(w.Prefix), w.Suffix), id...), []byte{byte(w.Kind)}); err != nil {
				return err
			}
			n++
		}
		v, err := json.Marshal(storedSub{Sealed: sub.Sealed, Lang: sub.Lang})
		if err != nil {
			return err
		}
		return subs.Put(id, v)
	})
	return n, err
}

func countPrefix(b *bolt.Bucket, prefix []byte) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// Subscriber returns a subscriber and their number of watches.
func (s *Store) Subscriber(ctx context.Context, id string) (khabardar.Subscriber, int, error) {
	var (
		sub khabardar.Subscriber
		n   int
	)
	if !khabardar.ValidKeyedHex(id) {
		return sub, 0, khabardar.Errorf(khabardar.EINVALID, "the subscriber is not a keyed hash")
	}
	err := s.view(ctx, "reading a subscriber", func(tx *bolt.Tx) error {
		subs, watches, _, _, _, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		var v []byte
		if subs != nil {
			v = subs.Get([]byte(id))
		}
		if v == nil {
			return khabardar.Errorf(khabardar.ENOTFOUND, "no such subscriber")
		}
		var ss storedSub
		if err := json.Unmarshal(v, &ss); err != nil {
			return err
		}
		sub = khabardar.Subscriber{ID: id, Sealed: ss.Sealed, Lang: ss.Lang}
		n = countPrefix(watches, append([]byte(id), 0))
		return nil
	})
	return sub, n, err
}

// Unsubscribe deletes everything about a subscriber in one transaction.
func (s *Store) Unsubscribe(ctx context.Context, id string) (bool, error) {
	if !khabardar.ValidKeyedHex(id) {
		return false, khabardar.Errorf(khabardar.EINVALID, "the subscriber is not a keyed hash")
	}
	found := false
	err := s.update(ctx, "removing a subscriber", func(tx *bolt.Tx) error {
		subs, watches, index, sent, outbox, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		bid := []byte(id)
		found = subs.Get(bid) != nil
		if err := subs.Delete(bid); err != nil {
			return err
		}
		if codes := tx.Bucket(alertCodesBucket); codes != nil {
			if err := codes.Delete(bid); err != nil {
				return err
			}
		}
		// The sender's SMS language is theirs too (the same keyed hash):
		// STOP forgets everything.
		if err := prefRecords.del(tx, bid); err != nil {
			return err
		}
		p := append(bid, 0)
		var dead [][]byte
		c := watches.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			dead = append(dead, bytes.Clone(k))
		}
		for _, k := range dead {
			rest := k[len(p):] // prefix ‖ 0 ‖ suffix
			if err := index.Delete(append(bytes.Clone(rest), bid...)); err != nil {
				return err
			}
			if err := watches.Delete(k); err != nil {
				return err
			}
		}
		if err := deletePrefix(sent, p); err != nil {
			return err
		}
		var queued [][]byte
		err = outbox.ForEach(func(k, v []byte) error {
			var a storedAlert
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if a.Subscriber == id {
				queued = append(queued, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range queued {
			if err := outbox.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return found, err
}

func deletePrefix(b *bolt.Bucket, p []byte) error {
	var dead [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		dead = append(dead, bytes.Clone(k))
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// MatchWatches looks each exposure up in the index and queues, in the same
// transaction, one alert per subscriber not yet alerted of the listing.
func (s *Store) MatchWatches(ctx context.Context, listingID string, exposures []khabardar.Exposure) (int, error) {
	layout, err := s.initLayout()
	if err != nil {
		return 0, err
	}
	if err := layout.CheckBatch(exposures); err != nil {
		return 0, err
	}
	// A read first: most batches match nothing, and need no write.
	type match struct {
		sub  string
		kind identifier.Kind
	}
	var matches []match
	err = s.view(ctx, "matching watches", func(tx *bolt.Tx) error {
		_, _, index, _, _, err := alertBuckets(tx)
		if err != nil || index == nil {
			return err
		}
		c := index.Cursor()
		for _, e := range exposures {
			p := cat([]byte(e.Prefix), e.Suffix)
			for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(k) == len(p)+khabardar.KeyedHexLen; k, v = c.Next() {
				matches = append(matches, match{string(k[len(p):]), identifier.Kind(v[0])})
			}
		}
		return nil
	})
	if err != nil || len(matches) == 0 {
		return 0, err
	}
	queued := 0
	err = s.update(ctx, "queueing alerts", func(tx *bolt.Tx) error {
		queued = 0
		subs, _, _, sent, outbox, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		now := timeNow().UnixMilli()
		for _, m := range matches {
			key := cat([]byte(m.sub), []byte(listingID))
			if subs.Get([]byte(m.sub)) == nil || sent.Get(key) != nil {
				continue
			}
			if err := sent.Put(key, []byte{1}); err != nil {
				return err
			}
			seq, err := outbox.NextSequence()
			if err != nil {
				return err
			}
			v, err := json.Marshal(storedAlert{Subscriber: m.sub, Listing: listingID, Kind: m.kind, NotBefore: now})
			if err != nil {
				return err
			}
			if err := outbox.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
				return err
			}
			queued++
		}
		return nil
	})
	return queued, err
}

// ClaimAlerts leases due alerts by moving their NotBefore to the lease's end.
func (s *Store) ClaimAlerts(ctx context.Context, now time.Time, lease time.Duration, n int) ([]khabardar.Alert, error) {
	if n < 1 || lease <= 0 {
		return nil, khabardar.Errorf(khabardar.EINVALID, "a claim needs n ≥ 1 and a lease")
	}
	var out []khabardar.Alert
	err := s.update(ctx, "claiming alerts", func(tx *bolt.Tx) error {
		out = out[:0]
		_, _, _, _, outbox, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		type kv struct {
			k []byte
			a storedAlert
		}
		var due []kv
		err = outbox.ForEach(func(k, v []byte) error {
			var a storedAlert
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if a.NotBefore <= now.UnixMilli() && len(due) < n {
				due = append(due, kv{bytes.Clone(k), a})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, d := range due {
			a := d.a
			out = append(out, khabardar.Alert{ID: strconv.FormatUint(binary.BigEndian.Uint64(d.k), 10), Subscriber: a.Subscriber,
				Listing: a.Listing, Kind: a.Kind, Attempts: a.Attempts, NotBefore: time.UnixMilli(a.NotBefore)})
			a.NotBefore = now.Add(lease).UnixMilli()
			v, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := outbox.Put(d.k, v); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func alertKey(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, false
	}
	return binary.BigEndian.AppendUint64(nil, n), true
}

// AlertSent deletes a sent alert.
func (s *Store) AlertSent(ctx context.Context, id string) error {
	k, ok := alertKey(id)
	if !ok {
		return khabardar.Errorf(khabardar.EINVALID, "not an alert ID")
	}
	return s.update(ctx, "marking an alert sent", func(tx *bolt.Tx) error {
		_, _, _, _, outbox, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		return outbox.Delete(k)
	})
}

// RetryAlert holds an alert until at and counts the attempt.
func (s *Store) RetryAlert(ctx context.Context, id string, at time.Time) error {
	k, ok := alertKey(id)
	if !ok {
		return khabardar.Errorf(khabardar.EINVALID, "not an alert ID")
	}
	return s.update(ctx, "retrying an alert", func(tx *bolt.Tx) error {
		_, _, _, _, outbox, err := alertBuckets(tx)
		if err != nil {
			return err
		}
		v := outbox.Get(k)
		if v == nil {
			return nil
		}
		var a storedAlert
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		a.Attempts++
		a.NotBefore = at.UnixMilli()
		nv, err := json.Marshal(a)
		if err != nil {
			return err
		}
		return outbox.Put(k, nv)
	})
}

// AlertStats counts the alert buckets' keys.
func (s *Store) AlertStats(ctx context.Context) (khabardar.AlertStats, error) {
	var st khabardar.AlertStats
	err := s.view(ctx, "counting alerts", func(tx *bolt.Tx) error {
		subs, watches, _, _, outbox, err := alertBuckets(tx)
		if err != nil || subs == nil {
			return err
		}
		st.Subscribers = int64(subs.Stats().KeyN)
		st.Watches = int64(watches.Stats().KeyN)
		st.Queued = int64(outbox.Stats().KeyN)
		return nil
	})
	return st, err
}

// alert_codes: subscriber ID → storedCode. Codes live minutes; one expired
// is deleted when it is next checked or replaced.
var alertCodesBucket = []byte("alert_codes")

type storedCode struct {
	Digest   []byte `json:"d"`
	Expires  int64  `json:"e"` // Unix milliseconds
	Attempts int    `json:"a,omitempty"`
}

// PutAlertCode keeps a code's digest for id.
func (s *Store) PutAlertCode(ctx context.Context, id string, digest []byte, expires time.Time) error {
	if !khabardar.ValidKeyedHex(id) || len(digest) == 0 {
		return khabardar.Errorf(khabardar.EINVALID, "a code needs a keyed hash and a digest")
	}
	v, err := json.Marshal(storedCode{Digest: digest, Expires: expires.UnixMilli()})
	if err != nil {
		return err
	}
	return s.update(ctx, "keeping a code", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(alertCodesBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), v)
	})
}

// CheckAlertCode checks and counts an attempt in one transaction.
func (s *Store) CheckAlertCode(ctx context.Context, id string, digest []byte, now time.Time, maxAttempts int) (bool, error) {
	if !khabardar.ValidKeyedHex(id) || maxAttempts < 1 {
		return false, khabardar.Errorf(khabardar.EINVALID, "a check needs a keyed hash and attempts")
	}
	ok, missing := false, false
	err := s.update(ctx, "checking a code", func(tx *bolt.Tx) error {
		ok, missing = false, false
		b, err := tx.CreateBucketIfNotExists(alertCodesBucket)
		if err != nil {
			return err
		}
		v := b.Get([]byte(id))
		if v == nil {
			missing = true
			return nil
		}
		var c storedCode
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		if now.UnixMilli() >= c.Expires {
			missing = true // and gone: the deletion commits
			return b.Delete([]byte(id))
		}
		ok = subtle.ConstantTimeCompare(c.Digest, digest) == 1
		c.Attempts++
		if ok || c.Attempts >= maxAttempts {
			return b.Delete([]byte(id))
		}
		nv, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), nv)
	})
	if err == nil && missing {
		return false, khabardar.Errorf(khabardar.ENOTFOUND, "no code, or it expired")
	}
	return ok, err
}
