package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/record"
)

var _ khabardar.Migrator = (*Store)(nil)

// Keys of a migration. Each bucket is upgraded by one script with its count
// hash and a marker in its slot, so a migration killed at any point resumes
// by skipping marked buckets; the markers go once the format is written.
const (
	keyFormat    = "khb:{m}:format"    // the record format, decimal; absent beside a layout: 1
	keyMigrating = "khb:{m}:migrating" // a migration began and its markers may remain
	bucketsMatch = "khb:b:*"
	markerMatch  = "khb:v:*"
)

func markerKey(prefix string) string { return "khb:v:{" + prefix + "}" }

// prefixOfKey returns the hash tag of a bucket, count or marker key.
func prefixOfKey(key string) (string, bool) {
	i, j := strings.IndexByte(key, '{'), strings.LastIndexByte(key, '}')
	if i < 0 || j <= i {
		return "", false
	}
	return key[i+1 : j], true
}

// upgradeScript brings bucket KEYS[1] and its count hash KEYS[2], with
// ARGV[1]-byte records, from format 1 to format 2 (a Ref's kind from 2 to 4
// bits: package internal/record), unless marker KEYS[3] says it was done.
// Every listing number is checked before anything is written: a script
// that fails half-way keeps its writes.
var upgradeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local size = tonumber(ARGV[1])
local function up(ref)
  local r = string.byte(ref, 1) * 65536 + string.byte(ref, 2) * 256 + string.byte(ref, 3)
  local num, kind = math.floor(r / 4), r % 4
  if num > 1048575 then return nil end
  local n = num * 16 + kind
  return string.char(math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end
local val = redis.call('GET', KEYS[1]) or ''
local counts = redis.call('HGETALL', KEYS[2])
local recs, fields = {}, {}
for i = 1, #val - size + 1, size do
  local rec = string.sub(val, i, i + size - 1)
  local ref = up(string.sub(rec, -3))
  if not ref then return redis.error_reply('a listing number does not fit record format 2') end
  recs[#recs + 1] = string.sub(rec, 1, size - 3) .. ref
end
for i = 1, #counts, 2 do
  local ref = up(counts[i])
  if #counts[i] ~= 3 or not ref then return redis.error_reply('a count field is no format 1 Ref') end
  fields[#fields + 1] = ref
  fields[#fields + 1] = counts[i + 1]
end
if #recs > 0 then redis.call('SET', KEYS[1], table.concat(recs)) end
if #fields > 0 then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], unpack(fields))
end
redis.call('SET', KEYS[3], '1')
return 1
`)

// RecordFormat returns the record format of the stored records.
func (s *Store) RecordFormat(ctx context.Context) (int, error) {
	vals, err := s.rdb.MGet(ctx, keyLayout, keyFormat).Result()
	if err != nil {
		return 0, fail("record format", err)
	}
	return formatOf(vals[0], vals[1]), nil
}

// formatOf reads MGET layout format: 0 with no layout, 1 with no format.
func formatOf(layout, format any) int {
	if layout == nil {
		return 0
	}
	f, ok := format.(string)
	if !ok {
		return 1
	}
	n, err := strconv.Atoi(f)
	if err != nil {
		return -1
	}
	return n
}

// Migrate upgrades every bucket (SCAN on every master), then writes the
// format, then removes the markers.
func (s *Store) Migrate(ctx context.Context, progress func(done, total int64)) (int, error) {
	from, err := s.RecordFormat(ctx)
	switch {
	case err != nil:
		return 0, err
	case from == 0:
		return 0, nil
	case from == record.Format:
		return from, s.dropMarkers(ctx) // a migration killed while cleaning up
	case from < 0 || from > record.Format:
		return from, record.CheckFormat(max(from, record.Format+1))
	}
	layout, err := s.storedLayout(ctx)
	if err != nil {
		return from, err
	}
	if err := s.rdb.Set(ctx, keyMigrating, "1", 0).Err(); err != nil {
		return from, fail("migrate", err)
	}
	var total, done atomic.Int64
	err = s.eachKeyPage(ctx, bucketsMatch, func(_ context.Context, _ redis.UniversalClient, keys []string) error {
		total.Add(int64(len(keys)))
		return nil
	})
	if err != nil {
		return from, fail("migrate: count buckets", err)
	}
	size := strconv.Itoa(layout.RecordSize())
	if err := upgradeScript.Load(ctx, s.rdb).Err(); err != nil { // on every master: the pipelines below use its SHA
		return from, fail("migrate: load script", err)
	}
	for _, match := range []string{bucketsMatch, countsMatch} { // a count hash whose bucket is gone, too
		err = s.eachKeyPage(ctx, match, func(ctx context.Context, c redis.UniversalClient, keys []string) error {
			pipe := c.Pipeline()
			for _, k := range keys {
				p, ok := prefixOfKey(k)
				if !ok {
					continue
				}
				upgradeScript.EvalSha(ctx, pipe, []string{bucketKey(p), countKey(p), markerKey(p)}, size)
			}
			if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			if match == bucketsMatch {
				d := done.Add(int64(len(keys)))
				if progress != nil {
					progress(d, max(d, total.Load()))
				}
			}
			return nil
		})
		if err != nil {
			return from, fail("migrate", err)
		}
	}
	if err := s.rdb.Set(ctx, keyFormat, strconv.Itoa(record.Format), 0).Err(); err != nil {
		return from, fail("migrate", err)
	}
	return from, s.dropMarkers(ctx)
}

// dropMarkers deletes the markers of a finished migration, then the key
// that says there may be some.
func (s *Store) dropMarkers(ctx context.Context) error {
	n, err := s.rdb.Exists(ctx, keyMigrating).Result()
	if err != nil || n == 0 {
		return fail("migrate: clean up", err)
	}
	err = s.eachKeyPage(ctx, markerMatch, func(ctx context.Context, c redis.UniversalClient, keys []string) error {
		pipe := c.Pipeline()
		for _, k := range keys { // one key a command: markers are in many slots
			pipe.Del(ctx, k)
		}
		_, err := pipe.Exec(ctx)
		return err
	})
	if err == nil {
		err = s.rdb.Del(ctx, keyMigrating).Err()
	}
	return fail("migrate: clean up", err)
}
