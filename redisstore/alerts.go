package redisstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

var _ khabardar.AlertStore = (*Store)(nil)

// Alert keys. What is about subscribers shares the hash tag {a}, one slot,
// so the scripts that change several of those keys are atomic; the index
// from a watched record to its watchers lives beside the record's bucket,
// in the bucket's slot:
//
//	khb:{a}:s:<id>     hash    a subscriber: sealed (their sealed number), lang
//	khb:{a}:sw:<id>    set     their watches, "<prefix>:<hex suffix>:<kind>"
//	khb:{a}:ss:<id>    set     listing IDs they were alerted of: each once
//	khb:{a}:sq:<id>    set     alert IDs queued for them
//	khb:{a}:subs       set     every subscriber ID
//	khb:{a}:nw         string  how many watches there are
//	khb:{a}:seq        string  counter of alert IDs
//	khb:{a}:q          zset    queued alert IDs by the time (Unix ms) they may go
//	khb:{a}:alerts     hash    alert ID → "<subscriber>|<listing>|<kind>|<attempts>"
//	khb:{a}:gone       set     index entries "<prefix>:<hex suffix>:<id>" of removed
//	                           subscribers still to be swept from the buckets' slots
//	khb:w:{<prefix>}   hash    record suffix → its watchers, "<id><kind byte>" each
const (
	keySubs   = "khb:{a}:subs"
	keyNW     = "khb:{a}:nw"
	keyASeq   = "khb:{a}:seq"
	keyQueue  = "khb:{a}:q"
	keyAlerts = "khb:{a}:alerts"
	keyGone   = "khb:{a}:gone"
)

func subKey(id string) string        { return "khb:{a}:s:" + id }
func subWatchesKey(id string) string { return "khb:{a}:sw:" + id }
func subSentKey(id string) string    { return "khb:{a}:ss:" + id }
func subQueuedKey(id string) string  { return "khb:{a}:sq:" + id }
func watchIndexKey(prefix string) string {
	return "khb:w:{" + prefix + "}"
}

// watchScript records watch ARGV[3] of subscriber KEYS[1] (sealed ARGV[1],
// language ARGV[2]) unless they have ARGV[4] already: it returns their
// number of watches, or -1 with nothing changed.
var watchScript = redis.NewScript(`
local n = redis.call('SCARD', KEYS[2])
if redis.call('SISMEMBER', KEYS[2], ARGV[3]) == 0 then
  if n >= tonumber(ARGV[4]) then return -1 end
  redis.call('SADD', KEYS[2], ARGV[3])
  redis.call('INCR', KEYS[4])
  n = n + 1
end
redis.call('HSET', KEYS[1], 'sealed', ARGV[1], 'lang', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[5])
return n
`)

// indexAddScript adds watcher ARGV[2] (an ID and a kind byte) of suffix
// ARGV[1] to index KEYS[1], once.
var indexAddScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1]) or ''
for i = 1, #v, #ARGV[2] do
  if string.sub(v, i, i + #ARGV[2] - 2) == string.sub(ARGV[2], 1, -2) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], v .. ARGV[2])
return 1
`)

// indexDelScript removes subscriber ARGV[2] from the watchers of suffix
// ARGV[1] in index KEYS[1]; entries are ARGV[3] bytes long.
var indexDelScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local size, keep = tonumber(ARGV[3]), {}
for i = 1, #v, size do
  local e = string.sub(v, i, i + size - 1)
  if string.sub(e, 1, #ARGV[2]) ~= ARGV[2] then keep[#keep + 1] = e end
end
if #keep == 0 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], table.concat(keep)) end
return 1
`)

// enqueueScript queues an alert of listing ARGV[2] (kind ARGV[3]) for
// subscriber ARGV[1], due at ARGV[4], if the subscriber KEYS[1] exists and
// was never alerted of that listing (set KEYS[2]). KEYS: s, ss, seq, q,
// alerts, sq.
var enqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SADD', KEYS[2], ARGV[2]) == 0 then return 0 end
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[5], id, ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3] .. '|0')
redis.call('ZADD', KEYS[4], ARGV[4], id)
redis.call('SADD', KEYS[6], id)
return 1
`)

// claimScript leases up to ARGV[3] alerts of queue KEYS[1] due at ARGV[1]
// until ARGV[2], and returns {id, value, due, ...}.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i = 1, #ids, 2 do
  local v = redis.call('HGET', KEYS[2], ids[i])
  if v then
    redis.call('ZADD', KEYS[1], ARGV[2], ids[i])
    out[#out + 1] = ids[i]
    out[#out + 1] = v
    out[#out + 1] = ids[i + 1]
  else
    redis.call('ZREM', KEYS[1], ids[i])
  end
end
return out
`)

// retryScript holds alert ARGV[1] until ARGV[2] and counts an attempt.
var retryScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[2], ARGV[1])
if not v then return 0 end
local head, n = string.match(v, '^(.*|)(%d+)$')
redis.call('HSET', KEYS[2], ARGV[1], head .. (tonumber(n) + 1))
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`)

// unsubscribeScript deletes subscriber ARGV[1]: KEYS s, sw, ss, sq, q,
// alerts, subs, nw, gone. Their watches move to gone, to be swept from the
// index; it returns whether the subscriber existed.
var unsubscribeScript = redis.NewScript(`
local found = redis.call('DEL', KEYS[1])
local ws = redis.call('SMEMBERS', KEYS[2])
for _, w in ipairs(ws) do redis.call('SADD', KEYS[9], w .. ':' .. ARGV[1]) end
if #ws > 0 then redis.call('DECRBY', KEYS[8], #ws) end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  redis.call('ZREM', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('SREM', KEYS[7], ARGV[1])
return found
`)

func watchMember(w khabardar.Watch) string {
	return w.Prefix + ":" + hex.EncodeToString(w.Suffix) + ":" + strconv.Itoa(int(w.Kind))
}

// Watch records the watch in {a}, then in the index beside its bucket. A
// call cut in between leaves a watch that matches nothing until it is
// asked for again, which adds the index entry (it is idempotent).
func (s *Store) Watch(ctx context.Context, sub khabardar.Subscriber, w khabardar.Watch, max int) (int, error) {
	layout, err := s.getLayout()
	if err != nil {
		return 0, err
	}
	if err := layout.CheckWatch(sub, w, max); err != nil {
		return 0, err
	}
	n, err := watchScript.Run(ctx, s.rdb, []string{subKey(sub.ID), subWatchesKey(sub.ID), keySubs, keyNW},
		sub.Sealed, sub.Lang, watchMember(w), max, sub.ID).Int()
	if err != nil {
		return 0, fail("watch", err)
	}
	if n < 0 {
		return 0, khabardar.Errorf(khabardar.ECONFLICT, "the subscriber already watches %d identifiers", max)
	}
	entry := sub.ID + string([]byte{byte(w.Kind)})
	if err := indexAddScript.Run(ctx, s.rdb, []string{watchIndexKey(w.Prefix)}, w.Suffix, entry).Err(); err != nil {
		return 0, fail("watch: index", err)
	}
	return n, nil
}

// Subscriber reads a subscriber and counts their watches.
func (s *Store) Subscriber(ctx context.Context, id string) (khabardar.Subscriber, int, error) {
	if !khabardar.ValidKeyedHex(id) {
		return khabardar.Subscriber{}, 0, khabardar.Errorf(khabardar.EINVALID, "the subscriber is not a keyed hash")
	}
	pipe := s.rdb.Pipeline()
	vals := pipe.HMGet(ctx, subKey(id), "sealed", "lang")
	n := pipe.SCard(ctx, subWatchesKey(id))
	if _, err := pipe.Exec(ctx); err != nil {
		return khabardar.Subscriber{}, 0, fail("subscriber", err)
	}
	v := vals.Val()
	sealed, ok1 := v[0].(string)
	lang, ok2 := v[1].(string)
	if !ok1 || !ok2 {
		return khabardar.Subscriber{}, 0, khabardar.Errorf(khabardar.ENOTFOUND, "no such subscriber")
	}
	return khabardar.Subscriber{ID: id, Sealed: []byte(sealed), Lang: lang}, int(n.Val()), nil
}

// Unsubscribe deletes the subscriber in {a}, then sweeps their index
// entries, and any left by an earlier call cut short.
func (s *Store) Unsubscribe(ctx context.Context, id string) (bool, error) {
	if !khabardar.ValidKeyedHex(id) {
		return false, khabardar.Errorf(khabardar.EINVALID, "the subscriber is not a keyed hash")
	}
	found, err := unsubscribeScript.Run(ctx, s.rdb, []string{subKey(id), subWatchesKey(id), subSentKey(id), subQueuedKey(id),
		keyQueue, keyAlerts, keySubs, keyNW, keyGone}, id).Int()
	if err != nil {
		return false, fail("unsubscribe", err)
	}
	// Its code, and the sender's SMS language (the same keyed hash):
	// STOP forgets everything.
	if err := s.rdb.Del(ctx, codeKey(id)).Err(); err != nil {
		return false, fail("unsubscribe", err)
	}
	if err := s.rdb.Del(ctx, prefKey(id)).Err(); err != nil {
		return false, fail("unsubscribe", err)
	}
	return found == 1, s.sweepGone(ctx)
}

// sweepGone removes the index entries of removed subscribers.
func (s *Store) sweepGone(ctx context.Context) error {
	gone, err := s.rdb.SMembers(ctx, keyGone).Result()
	if err != nil {
		return fail("unsubscribe: sweep", err)
	}
	for _, g := range gone {
		parts := strings.Split(g, ":") // prefix, hex suffix, kind, id
		if len(parts) != 4 {
			s.rdb.SRem(ctx, keyGone, g)
			continue
		}
		suffix, err := hex.DecodeString(parts[1])
		if err != nil {
			s.rdb.SRem(ctx, keyGone, g)
			continue
		}
		if err := indexDelScript.Run(ctx, s.rdb, []string{watchIndexKey(parts[0])}, suffix, parts[3], khabardar.KeyedHexLen+1).Err(); err != nil {
			return fail("unsubscribe: sweep", err)
		}
		if err := s.rdb.SRem(ctx, keyGone, g).Err(); err != nil {
			return fail("unsubscribe: sweep", err)
		}
	}
	return nil
}

// MatchWatches reads the index for every exposure in one pipeline, then
// queues an alert per watcher and listing.
func (s *Store) MatchWatches(ctx context.Context, listingID string, exposures []khabardar.Exposure) (int, error) {
	layout, err := s.getLayout()
	if err != nil {
		return 0, err
	}
	if err := layout.CheckBatch(exposures); err != nil {
		return 0, err
	}
	if len(exposures) == 0 {
		return 0, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(exposures))
	for i, e := range exposures {
		cmds[i] = pipe.HGet(ctx, watchIndexKey(e.Prefix), string(e.Suffix))
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return 0, fail("match watches", err)
	}
	kinds := map[string]identifier.Kind{} // watcher → the first kind matched
	var order []string
	const size = khabardar.KeyedHexLen + 1
	for _, c := range cmds {
		v, err := c.Result()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return 0, fail("match watches", err)
		}
		for i := 0; i+size <= len(v); i += size {
			id := v[i : i+khabardar.KeyedHexLen]
			if _, ok := kinds[id]; !ok {
				kinds[id] = identifier.Kind(v[i+khabardar.KeyedHexLen])
				order = append(order, id)
			}
		}
	}
	queued := 0
	now := time.Now().UnixMilli()
	for _, id := range order {
		n, err := enqueueScript.Run(ctx, s.rdb, []string{subKey(id), subSentKey(id), keyASeq, keyQueue, keyAlerts, subQueuedKey(id)},
			id, listingID, int(kinds[id]), now).Int()
		if err != nil {
			return queued, fail("queue an alert", err)
		}
		queued += n
	}
	return queued, nil
}

// ClaimAlerts leases due alerts in one script.
func (s *Store) ClaimAlerts(ctx context.Context, now time.Time, lease time.Duration, n int) ([]khabardar.Alert, error) {
	if n < 1 || lease <= 0 {
		return nil, khabardar.Errorf(khabardar.EINVALID, "a claim needs n ≥ 1 and a lease")
	}
	vals, err := claimScript.Run(ctx, s.rdb, []string{keyQueue, keyAlerts}, now.UnixMilli(), now.Add(lease).UnixMilli(), n).StringSlice()
	if err != nil {
		return nil, fail("claim alerts", err)
	}
	out := make([]khabardar.Alert, 0, len(vals)/3)
	for i := 0; i+2 < len(vals); i += 3 {
		parts := strings.Split(vals[i+1], "|")
		if len(parts) != 4 {
			return nil, fail("claim alerts", fmt.Errorf("alert %s is malformed", vals[i]))
		}
		kind, _ := strconv.Atoi(parts[2])
		attempts, _ := strconv.Atoi(parts[3])
		due, _ := strconv.ParseFloat(vals[i+2], 64)
		out = append(out, khabardar.Alert{ID: vals[i], Subscriber: parts[0], Listing: parts[1], Kind: identifier.Kind(kind),
			Attempts: attempts, NotBefore: time.UnixMilli(int64(due))})
	}
	return out, nil
}

func validAlertID(id string) bool {
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil
}

// AlertSent removes the alert from the queue and the alerts hash.
func (s *Store) AlertSent(ctx context.Context, id string) error {
	if !validAlertID(id) {
		return khabardar.Errorf(khabardar.EINVALID, "not an alert ID")
	}
	pipe := s.rdb.TxPipeline()
	pipe.ZRem(ctx, keyQueue, id)
	pipe.HDel(ctx, keyAlerts, id)
	_, err := pipe.Exec(ctx)
	return fail("alert sent", err)
}

// RetryAlert holds the alert until at and counts the attempt.
func (s *Store) RetryAlert(ctx context.Context, id string, at time.Time) error {
	if !validAlertID(id) {
		return khabardar.Errorf(khabardar.EINVALID, "not an alert ID")
	}
	return fail("retry alert", retryScript.Run(ctx, s.rdb, []string{keyQueue, keyAlerts}, id, at.UnixMilli()).Err())
}

// AlertStats reads the counters.
func (s *Store) AlertStats(ctx context.Context) (khabardar.AlertStats, error) {
	pipe := s.rdb.Pipeline()
	subs := pipe.SCard(ctx, keySubs)
	nw := pipe.Get(ctx, keyNW)
	q := pipe.ZCard(ctx, keyQueue)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return khabardar.AlertStats{}, fail("alert stats", err)
	}
	w, _ := nw.Int64()
	return khabardar.AlertStats{Subscribers: subs.Val(), Watches: w, Queued: q.Val()}, nil
}

// khb:{a}:c:<id>  hash  a confirmation code: d (the digest), a (failed
// attempts); it expires with the code.
func codeKey(id string) string { return "khb:{a}:c:" + id }

// checkCodeScript compares digest ARGV[1] with code KEYS[1] byte for byte
// without stopping early, counts the attempt, and deletes the code when it
// matches or after ARGV[2] attempts: 1 match, 0 no match, -1 no code.
var checkCodeScript = redis.NewScript(`
local d = redis.call('HGET', KEYS[1], 'd')
if not d then return -1 end
local same = 0
if #d == #ARGV[1] then
  same = 1
  for i = 1, #d do
    if string.byte(d, i) ~= string.byte(ARGV[1], i) then same = 0 end
  end
end
local n = redis.call('HINCRBY', KEYS[1], 'a', 1)
if same == 1 or n >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) end
return same
`)

// PutAlertCode keeps the digest with Redis's own expiry.
func (s *Store) PutAlertCode(ctx context.Context, id string, digest []byte, expires time.Time) error {
	if !khabardar.ValidKeyedHex(id) || len(digest) == 0 {
		return khabardar.Errorf(khabardar.EINVALID, "a code needs a keyed hash and a digest")
	}
	pipe := s.rdb.TxPipeline()
	pipe.Del(ctx, codeKey(id))
	pipe.HSet(ctx, codeKey(id), "d", digest)
	pipe.PExpireAt(ctx, codeKey(id), expires)
	_, err := pipe.Exec(ctx)
	return fail("keep a code", err)
}

// CheckAlertCode checks and counts in one script. The expiry is Redis's:
// now only bounds what this process believes.
func (s *Store) CheckAlertCode(ctx context.Context, id string, digest []byte, now time.Time, maxAttempts int) (bool, error) {
	if !khabardar.ValidKeyedHex(id) || maxAttempts < 1 {
		return false, khabardar.Errorf(khabardar.EINVALID, "a check needs a keyed hash and attempts")
	}
	n, err := checkCodeScript.Run(ctx, s.rdb, []string{codeKey(id)}, digest, maxAttempts).Int()
	switch {
	case err != nil:
		return false, fail("check a code", err)
	case n < 0:
		return false, khabardar.Errorf(khabardar.ENOTFOUND, "no code, or it expired")
	}
	return n == 1, nil
}
