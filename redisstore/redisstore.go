// Package redisstore is the khabardar.Store on Redis (a single server now;
// written against redis.UniversalClient so that Redis Cluster fits).
//
// # Keys
//
// Every key starts with khb:. Listing keys share the hash tag {m}, so they
// sit in one cluster slot and the scripts that change several of them are
// atomic; each bucket's two keys share the tag {<prefix>}.
//
//	khb:{m}:layout      string  the Layout as JSON, written by the first Init
//	khb:{m}:format      string  the record format (internal/record), decimal,
//	                            written with the layout; absent beside one: 1
//	khb:{m}:migrating   string  a migration (migrate.go) began; its markers,
//	khb:v:{<prefix>}    string  one per bucket upgraded, go once it ends
//	khb:{m}:seq         string  counter of listing numbers; a number is never reused
//	khb:{m}:ids         set     IDs of all listings
//	khb:{m}:nums        hash    listing number (decimal) → listing ID
//	khb:{m}:l:<id>      hash    meta: listing JSON without counts; num: its number;
//	                            a field per kind, named as the kind (cnic, phone,
//	                            imei, …): its count of that kind, 0 if absent
//	khb:{m}:removing    set     numbers of removed listings whose records are
//	                            still being swept from the buckets
//	khb:{m}:ak:<id>     hash    an API key: name, hash (hex), rate, max_batch,
//	                            created, revoked (see apikey.go)
//	khb:{m}:akh:<hash>  string  hex keyed hash of an API key's secret → its ID
//	khb:{m}:akids       set     IDs of all API keys
//	khb:b:{<prefix>}    string  the bucket's records, suffix‖Ref, each
//	                            Layout.RecordSize bytes, in no order
//	khb:n:{<prefix>}    hash    3-byte Ref → how many of the bucket's records
//	                            have that Ref
//	khb:{m}:prefs-expire string "1" once every khb:p: key has a TTL (prefs.go)
//	khb:p:<hash>        string  an SMS sender's reply language, "en" or "ur",
//	                            by the keyed hash of the sender, with a TTL of
//	                            the retention from their last message (prefs.go)
//	khb:r:<hash>        string  "1" for a gateway message already answered, by
//	                            the keyed hash of its ID, for 24 h (replay.go)
//
// The count hashes let Recount and RemoveListing find a listing's buckets,
// and count its records, without reading the records. They stay
// listpack-encoded (compact) while a bucket holds at most
// hash-max-listpack-entries distinct Refs (128 by default); with many
// listings, raise that setting (e.g. to 512) on the server.
//
// # Consistency
//
// Each bucket changes atomically in one script. A listing's counts are
// updated after its buckets, in another slot, so a writer that dies in
// between leaves them short: Recount recomputes them from the count hashes,
// and ingest calls it last. RemoveListing deletes the listing's keys first,
// so Bucket stops naming it at once in this process (within nameMaxAge in
// others), then sweeps its records; a sweep cut short is finished by the
// next RemoveListing call. An AddExposures that loses a race with a removal
// takes its records out again and returns ENOTFOUND.
//
// # Memory
//
// About 24 bytes of used_memory per identifier with the default layout
// (TestBig measures it; docs/benchmarks.md has the breakdown).
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/record"
	"github.com/khabardar/khabardar/internal/redisurl"
	"github.com/redis/go-redis/v9"
)

const (
	keyLayout   = "khb:{m}:layout"
	keySeq      = "khb:{m}:seq"
	keyIDs      = "khb:{m}:ids"
	keyNums     = "khb:{m}:nums"
	keyRemoving = "khb:{m}:removing"
	listingKey0 = "khb:{m}:l:"
	countsMatch = "khb:n:*"
)

func listingKey(id string) string    { return listingKey0 + id }
func bucketKey(prefix string) string { return "khb:b:{" + prefix + "}" }
func countKey(prefix string) string  { return "khb:n:{" + prefix + "}" }

// Tuning.
const (
	// chunkSize is how many bucket scripts go in one pipeline.
	chunkSize = 1000
	// pipelines is how many pipelines one call keeps in flight, so that
	// Redis runs scripts while the client encodes the next chunk.
	pipelines = 4
	// scanCount is the COUNT hint of SCAN over the count hashes.
	scanCount = 1000
	// nameMaxAge is how long a cached number→ID map serves Bucket; then it is
	// reloaded, so a listing removed by another process stops being named.
	nameMaxAge = 5 * time.Second
	// nameMinAge is how long Bucket waits between reloads prompted by a
	// number it does not know (a new listing, or one being removed).
	nameMinAge = time.Second
)

// Store is a khabardar.Store on Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	layout atomic.Pointer[khabardar.Layout]

	namesMu  sync.Mutex // serialises reloads
	names    atomic.Pointer[nameMap]
	namesGen atomic.Uint64 // bumped when this process creates or removes a listing
}

var _ khabardar.Store = (*Store)(nil)

// testHookBeforeBuckets, if set, runs after AddExposures has looked up the
// listing number and before it writes the buckets.
var testHookBeforeBuckets func()

// nameMap maps listing numbers to IDs, as loaded at a time.
type nameMap struct {
	ids    map[uint32]string
	loaded time.Time
	gen    uint64 // Store.namesGen before loading
}

// Open returns a store on the Redis at url: redis://[user:password@]host:port/db
// or rediss://… for one server, redis-cluster://host:port[,host:port…] or
// rediss-cluster://… for a Redis Cluster (see internal/redisurl). It does
// not connect: Ping or Init does.
func Open(ctx context.Context, url string) (*Store, error) { return openURL(url, false) }

// OpenServing is Open for a server answering requests: Redis commands fail
// within about a second when Redis stops answering (internal/redisurl), so
// requests get a quick 503 rather than waiting. Not for ingest, whose
// batches take longer.
func OpenServing(ctx context.Context, url string) (*Store, error) { return openURL(url, true) }

func openURL(url string, failFast bool) (*Store, error) {
	rdb, err := redisurl.Client(url, failFast)
	if err != nil {
		return nil, khabardar.Errorf(khabardar.EINVALID, "%s", err.Error()) // names no part of the URL
	}
	return newStore(rdb), nil
}

func newStore(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb} }

// Init binds an empty store to layout or checks that it has that layout.
func (s *Store) Init(ctx context.Context, layout khabardar.Layout) error {
	if err := layout.Validate(); err != nil {
		return err
	}
	want, err := json.Marshal(layout)
	if err != nil {
		return fail("init", err)
	}
	// A new store gets its layout and format together (one slot, {m}); a
	// store with a layout and no format was written in format 1.
	if err := s.rdb.MSetNX(ctx, keyLayout, want, keyFormat, record.Format).Err(); err != nil {
		return fail("init", err)
	}
	have, err := s.storedLayout(ctx)
	if err != nil {
		return err
	}
	if err := layout.CheckStored(have); err != nil {
		return err
	}
	f, err := s.RecordFormat(ctx)
	if err != nil {
		return err
	}
	if err := record.CheckFormat(f); err != nil {
		return err
	}
	// Saves a NOSCRIPT round trip on the first calls; one is handled anyway.
	for _, sc := range allScripts {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return fail("init: load scripts", err)
		}
	}
	if err := s.expireOldPrefs(ctx); err != nil {
		return fail("init: expire old sms preferences", err)
	}
	s.layout.Store(&layout)
	return nil
}

// storedLayout reads the layout the store was bound to.
func (s *Store) storedLayout(ctx context.Context) (khabardar.Layout, error) {
	var have khabardar.Layout
	raw, err := s.rdb.Get(ctx, keyLayout).Bytes()
	if err != nil {
		return have, fail("read the stored layout", err)
	}
	if err := json.Unmarshal(raw, &have); err != nil {
		return have, fail("read the stored layout", err)
	}
	return have, nil
}

func (s *Store) getLayout() (khabardar.Layout, error) {
	l := s.layout.Load()
	if l == nil {
		return khabardar.Layout{}, khabardar.Errorf(khabardar.EINTERNAL, "the store was used before Init")
	}
	return *l, nil
}

// PutListing creates a listing or replaces its metadata.
func (s *Store) PutListing(ctx context.Context, l *khabardar.Listing) error {
	if err := l.Validate(); err != nil {
		return err
	}
	meta := *l
	meta.Counts = khabardar.Counts{} // kept in their own fields
	raw, err := json.Marshal(&meta)
	if err != nil {
		return fail("put listing", err)
	}
	num, err := putScript.Run(ctx, s.rdb, []string{listingKey(l.ID), keyIDs, keyNums, keySeq}, l.ID, raw, record.MaxListingNum).Int64()
	if err != nil {
		return fail("put listing", err)
	}
	if num < 0 {
		return khabardar.Errorf(khabardar.EINTERNAL, "the store has used all %d listing numbers", record.MaxListingNum)
	}
	if num > 0 {
		s.namesGen.Add(1) // a new number: let Bucket name it at once
	}
	return nil
}

// Listing returns one listing with its counts.
func (s *Store) Listing(ctx context.Context, id string) (*khabardar.Listing, error) {
	vals, err := s.rdb.HMGet(ctx, listingKey(id), listingFields...).Result()
	if err != nil {
		return nil, fail("listing", err)
	}
	l, err := decodeListing(vals)
	if err != nil {
		return nil, fail("listing", err)
	}
	if l == nil {
		return nil, khabardar.Errorf(khabardar.ENOTFOUND, "no listing %q", id)
	}
	return l, nil
}

// listingFields are the fields of a listing's hash that Listing reads: its
// metadata, then its count of each kind, in a field named as the kind.
var listingFields = func() []string {
	f := []string{"meta"}
	for _, k := range identifier.Kinds {
		f = append(f, k.String())
	}
	return f
}()

// decodeListing builds a listing from HMGET listingFields; nil if the
// listing does not exist.
func decodeListing(vals []any) (*khabardar.Listing, error) {
	meta, ok := vals[0].(string)
	if !ok {
		return nil, nil
	}
	var l khabardar.Listing
	if err := json.Unmarshal([]byte(meta), &l); err != nil {
		return nil, err
	}
	for i, k := range identifier.Kinds {
		n, err := parseCount(vals[1+i])
		if err != nil {
			return nil, err
		}
		l.Counts.Add(k, n)
	}
	return &l, nil
}

func parseCount(v any) (int64, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case string:
		return strconv.ParseInt(v, 10, 64)
	case int64:
		return v, nil
	}
	return 0, fmt.Errorf("count of type %T", v)
}

// Listings returns all listings sorted by ID.
func (s *Store) Listings(ctx context.Context) ([]*khabardar.Listing, error) {
	ids, err := s.rdb.SMembers(ctx, keyIDs).Result()
	if err != nil {
		return nil, fail("listings", err)
	}
	slices.Sort(ids)
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, listingKey(id), listingFields...)
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fail("listings", err)
		}
	}
	out := make([]*khabardar.Listing, 0, len(ids))
	for _, cmd := range cmds {
		l, err := decodeListing(cmd.Val())
		if err != nil {
			return nil, fail("listings", err)
		}
		if l != nil { // nil: removed since SMEMBERS
			out = append(out, l)
		}
	}
	return out, nil
}

// number returns the listing's number, ENOTFOUND if it does not exist.
func (s *Store) number(ctx context.Context, op, id string) (uint32, error) {
	n, err := s.rdb.HGet(ctx, listingKey(id), "num").Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, khabardar.Errorf(khabardar.ENOTFOUND, "no listing %q", id)
	}
	if err != nil {
		return 0, fail(op, err)
	}
	if n == 0 || n > record.MaxListingNum {
		return 0, fail(op, fmt.Errorf("listing number %d out of range", n))
	}
	return uint32(n), nil
}

// refs returns the Refs of listing number num, one per kind, as count-hash
// fields.
func refs(num uint32) []string {
	out := make([]string, len(identifier.Kinds))
	for i, k := range identifier.Kinds {
		out[i] = refField(record.MakeRef(num, k))
	}
	return out
}

func refField(r record.Ref) string { return string([]byte{byte(r >> 16), byte(r >> 8), byte(r)}) }

func fieldRef(f string) record.Ref {
	if len(f) != khabardar.RefBytes {
		return 0
	}
	return record.Ref(uint32(f[0])<<16 | uint32(f[1])<<8 | uint32(f[2]))
}

// AddExposures records the batch under the listing.
func (s *Store) AddExposures(ctx context.Context, listingID string, batch []khabardar.Exposure) (khabardar.Counts, error) {
	layout, err := s.getLayout()
	if err != nil {
		return khabardar.Counts{}, err
	}
	// All of the batch is checked before any of it is stored.
	if err := layout.CheckBatch(batch); err != nil {
		return khabardar.Counts{}, err
	}
	num, err := s.number(ctx, "add exposures", listingID)
	if err != nil || len(batch) == 0 {
		return khabardar.Counts{}, err
	}

	size := layout.RecordSize()
	byPrefix := map[string][]byte{}
	for _, e := range batch {
		byPrefix[e.Prefix] = record.Append(byPrefix[e.Prefix], e.Suffix, record.MakeRef(num, e.Kind))
	}
	calls := make([]call, 0, len(byPrefix))
	for p, recs := range byPrefix {
		calls = append(calls, call{
			keys: []string{bucketKey(p), countKey(p)},
			args: []any{size, record.Sort(recs, size)},
		})
	}
	if testHookBeforeBuckets != nil {
		testHookBeforeBuckets()
	}
	replies, err := s.evalAll(ctx, addScript, calls)
	var added khabardar.Counts
	for _, r := range replies {
		if r == nil {
			continue // failed
		}
		n, perr := addedCounts(r)
		if perr != nil && err == nil {
			err = perr
		}
		added = added.Plus(n)
	}
	if err != nil {
		// Count what was stored, so a retry (which finds it present) does not
		// leave the counts short until Recount. Best effort: the connection
		// may be what failed.
		if added.Total() > 0 {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			s.saveCounts(ctx, listingID, num, "incr", added)
			cancel()
		}
		return khabardar.Counts{}, fail("add exposures", err)
	}
	if added.Total() == 0 {
		return added, nil
	}
	ok, err := s.saveCounts(ctx, listingID, num, "incr", added)
	if err != nil {
		return khabardar.Counts{}, fail("add exposures", err)
	}
	if !ok {
		// The listing was removed while we wrote, and its sweep may have
		// passed these buckets: take our records out again.
		for i := range calls {
			calls[i].args = append([]any{size}, toAny(refs(num))...)
		}
		if _, err := s.evalAll(ctx, dropScript, calls); err != nil {
			return khabardar.Counts{}, fail("add exposures: undo", err)
		}
		return khabardar.Counts{}, khabardar.Errorf(khabardar.ENOTFOUND, "listing %q was removed while adding", listingID)
	}
	return added, nil
}

// addedCounts sums addScript's {ref, n, ...} reply by kind.
func addedCounts(reply any) (khabardar.Counts, error) {
	var c khabardar.Counts
	vals, ok := reply.([]any)
	if !ok || len(vals)%2 != 0 {
		return c, fmt.Errorf("add script replied %T", reply)
	}
	for i := 0; i < len(vals); i += 2 {
		f, _ := vals[i].(string)
		n, ok := vals[i+1].(int64)
		if len(f) != khabardar.RefBytes || !ok {
			return c, fmt.Errorf("add script replied %T, %T", vals[i], vals[i+1])
		}
		c.Add(fieldRef(f).Kind(), n)
	}
	return c, nil
}

// saveCounts adds (mode "incr") or sets (mode "set") the listing's counts,
// if it still has number num; false if it does not.
func (s *Store) saveCounts(ctx context.Context, id string, num uint32, mode string, c khabardar.Counts) (bool, error) {
	args := []any{num, mode}
	for _, k := range identifier.Kinds {
		args = append(args, k.String(), c[k])
	}
	ok, err := countsScript.Run(ctx, s.rdb, []string{listingKey(id)}, args...).Int64()
	return ok == 1, err
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// call is one script call on one bucket.
type call struct {
	keys []string
	args []any
}

// evalAll runs script once per call, in pipelines of chunkSize calls with up
// to pipelines in flight, and returns each call's reply (nil where it
// failed) and the first error.
func (s *Store) evalAll(ctx context.Context, script *redis.Script, calls []call) ([]any, error) {
	replies := make([]any, len(calls))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		slots    = make(chan struct{}, pipelines)
	)
	for lo := 0; lo < len(calls); lo += chunkSize {
		hi := min(lo+chunkSize, len(calls))
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := s.evalChunk(ctx, script, calls[lo:hi], replies[lo:hi]); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return replies, firstErr
}

// evalChunk runs one pipeline of EVALSHA calls. Calls that find the script
// missing from the server's cache (a restart, a failover, SCRIPT FLUSH) are
// run again after loading it.
func (s *Store) evalChunk(ctx context.Context, script *redis.Script, calls []call, replies []any) error {
	todo := make([]int, len(calls))
	for i := range todo {
		todo[i] = i
	}
	var firstErr error
	for attempt := 0; len(todo) > 0; attempt++ {
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(todo))
		for j, i := range todo {
			cmds[j] = pipe.EvalSha(ctx, script.Hash(), calls[i].keys, calls[i].args...)
		}
		_, _ = pipe.Exec(ctx) // errors are read per command
		var again []int
		for j, cmd := range cmds {
			switch err := cmd.Err(); {
			case err == nil:
				replies[todo[j]] = cmd.Val()
			case attempt == 0 && redis.HasErrorPrefix(err, "NOSCRIPT"):
				again = append(again, todo[j])
			case firstErr == nil:
				firstErr = err
			}
		}
		if len(again) > 0 {
			if err := script.Load(ctx, s.rdb).Err(); err != nil {
				return err
			}
		}
		todo = again
	}
	return firstErr
}

// eachCountPage calls fn with each SCAN page of count-hash keys, on every
// master of a cluster, passing the client that holds them. fn may run
// concurrently for different masters.
func (s *Store) eachCountPage(ctx context.Context, fn func(ctx context.Context, c redis.UniversalClient, keys []string) error) error {
	return s.eachKeyPage(ctx, countsMatch, fn)
}

// eachKeyPage calls fn with each SCAN page of the keys matching match, on
// every master of a cluster, as eachCountPage does.
func (s *Store) eachKeyPage(ctx context.Context, match string, fn func(ctx context.Context, c redis.UniversalClient, keys []string) error) error {
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, match, scanCount).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := fn(ctx, c, keys); err != nil {
					return err
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return scan(ctx, m) })
	}
	return scan(ctx, s.rdb)
}

// Recount recomputes the listing's counts from the count hashes.
func (s *Store) Recount(ctx context.Context, listingID string) (khabardar.Counts, error) {
	num, err := s.number(ctx, "recount", listingID)
	if err != nil {
		return khabardar.Counts{}, err
	}
	fields := refs(num)
	var (
		mu    sync.Mutex
		total khabardar.Counts
	)
	err = s.eachCountPage(ctx, func(ctx context.Context, c redis.UniversalClient, keys []string) error {
		cmds, err := hmgetAll(ctx, c, keys, fields)
		if err != nil {
			return err
		}
		var page khabardar.Counts
		for _, cmd := range cmds {
			for i, v := range cmd.Val() {
				n, err := parseCount(v)
				if err != nil {
					return err
				}
				page.Add(identifier.Kinds[i], n)
			}
		}
		mu.Lock()
		total = total.Plus(page)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return khabardar.Counts{}, fail("recount", err)
	}
	ok, err := s.saveCounts(ctx, listingID, num, "set", total)
	if err != nil {
		return khabardar.Counts{}, fail("recount", err)
	}
	if !ok {
		return khabardar.Counts{}, khabardar.Errorf(khabardar.ENOTFOUND, "listing %q was removed while counting", listingID)
	}
	return total, nil
}

// RemoveListing deletes the listing, then sweeps its records out of the
// buckets, along with those of any earlier removal whose sweep was cut short.
func (s *Store) RemoveListing(ctx context.Context, id string) error {
	layout, err := s.getLayout()
	if err != nil {
		return err
	}
	err = removeScript.Run(ctx, s.rdb, []string{listingKey(id), keyIDs, keyNums, keyRemoving}, id).Err()
	var absent error
	switch {
	case errors.Is(err, redis.Nil):
		absent = khabardar.Errorf(khabardar.ENOTFOUND, "no listing %q", id)
	case err != nil:
		return fail("remove listing", err)
	default:
		s.namesGen.Add(1) // stop naming it here at once
	}
	pending, err := s.rdb.SMembers(ctx, keyRemoving).Result()
	if err != nil {
		return fail("remove listing", err)
	}
	if len(pending) > 0 {
		if err := s.sweep(ctx, layout, pending); err != nil {
			return fail("remove listing: sweep", err)
		}
	}
	return absent
}

// sweep removes the records of the removed listing numbers pending (decimal)
// from every bucket and then forgets them.
func (s *Store) sweep(ctx context.Context, layout khabardar.Layout, pending []string) error {
	var fields []string
	for _, p := range pending {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n > record.MaxListingNum {
			return fmt.Errorf("removing listing number %q", p)
		}
		fields = append(fields, refs(uint32(n))...)
	}
	dropArgs := append([]any{layout.RecordSize()}, toAny(fields)...)
	err := s.eachCountPage(ctx, func(ctx context.Context, c redis.UniversalClient, keys []string) error {
		cmds, err := hmgetAll(ctx, c, keys, fields)
		if err != nil {
			return err
		}
		var calls []call
		for i, cmd := range cmds {
			if slices.ContainsFunc(cmd.Val(), func(v any) bool { return v != nil }) {
				p := keys[i][len("khb:n:{") : len(keys[i])-1]
				calls = append(calls, call{keys: []string{bucketKey(p), countKey(p)}, args: dropArgs})
			}
		}
		_, err = s.evalAll(ctx, dropScript, calls)
		return err
	})
	if err != nil {
		return err
	}
	return s.rdb.SRem(ctx, keyRemoving, toAny(pending)...).Err()
}

// Bucket returns the entries under prefix.
func (s *Store) Bucket(ctx context.Context, prefix string) ([]khabardar.Entry, error) {
	layout, err := s.getLayout()
	if err != nil {
		return nil, err
	}
	if !layout.ValidPrefix(prefix) {
		return nil, khabardar.Errorf(khabardar.EINVALID, "a bucket prefix is %d lowercase hex characters", layout.PrefixLen())
	}
	val, err := s.rdb.Get(ctx, bucketKey(prefix)).Bytes()
	if errors.Is(err, redis.Nil) {
		return []khabardar.Entry{}, nil
	}
	if err != nil {
		return nil, fail("bucket", err)
	}
	size := layout.RecordSize()
	names, err := s.nameMap(ctx, false)
	if err != nil {
		return nil, err
	}
	for i := 0; i+size <= len(val); i += size {
		if _, ok := names.ids[record.RefAt(val[i:i+size]).Listing()]; !ok {
			if names, err = s.nameMap(ctx, true); err != nil {
				return nil, err
			}
			break
		}
	}
	return record.Entries(val, size, func(num uint32) (string, bool) {
		id, ok := names.ids[num]
		return id, ok
	}), nil
}

// nameMap returns the cached number→ID map, reloaded if it is older than
// nameMaxAge, or if missing (a number was not in it) and it is older than
// nameMinAge.
func (s *Store) nameMap(ctx context.Context, missing bool) (*nameMap, error) {
	fresh := func(m *nameMap, missing bool) bool {
		if m == nil || m.gen != s.namesGen.Load() {
			return false
		}
		age := time.Since(m.loaded)
		return age < nameMaxAge && !(missing && age >= nameMinAge)
	}
	if m := s.names.Load(); fresh(m, missing) {
		return m, nil
	}
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if m := s.names.Load(); fresh(m, false) && time.Since(m.loaded) < nameMinAge {
		return m, nil // another caller has just reloaded it
	}
	gen, loaded := s.namesGen.Load(), time.Now()
	all, err := s.rdb.HGetAll(ctx, keyNums).Result()
	if err != nil {
		return nil, fail("bucket: listing names", err)
	}
	m := &nameMap{ids: make(map[uint32]string, len(all)), loaded: loaded, gen: gen}
	for k, id := range all {
		n, err := strconv.ParseUint(k, 10, 32)
		if err != nil {
			return nil, fail("bucket: listing names", fmt.Errorf("listing number %q", k))
		}
		m.ids[uint32(n)] = id
	}
	s.names.Store(m)
	return m, nil
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return fail("ping", s.rdb.Ping(ctx).Err()) }

// Close closes the client.
func (s *Store) Close() error { return s.rdb.Close() }

// fail returns err (nil for nil) as the error of operation op: an
// EUNAVAILABLE *khabardar.Error if Redis could not be reached or cannot
// serve now, otherwise an internal error. Neither message holds a value;
// the Redis error is wrapped for logs.
func fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var ke *khabardar.Error
	if errors.As(err, &ke) {
		return err
	}
	err = fmt.Errorf("redisstore: %s: %w", op, err)
	if unavailable(err) {
		return fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EUNAVAILABLE, "the Redis store cannot be reached"), err)
	}
	return err
}

func unavailable(err error) bool {
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted),
		redis.IsLoadingError(err), redis.IsClusterDownError(err), redis.IsTryAgainError(err),
		redis.IsMasterDownError(err), redis.IsReadOnlyError(err), redis.IsMaxClientsError(err),
		redis.IsOOMError(err), redis.HasErrorPrefix(err, "BUSY"):
		return true
	}
	return false
}

// hmgetAll reads the same fields of many count hashes in one pipeline.
func hmgetAll(ctx context.Context, c redis.UniversalClient, keys []string, fields []string) ([]*redis.SliceCmd, error) {
	pipe := c.Pipeline()
	cmds := make([]*redis.SliceCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HMGet(ctx, k, fields...)
	}
	_, err := pipe.Exec(ctx)
	return cmds, err
}
