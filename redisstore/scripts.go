package redisstore

import (
	"strconv"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts. Each touches keys of one hash slot only: a bucket's two
// keys, or the {m} metadata keys, so each runs atomically on Redis Cluster
// too. Records are binary strings compared only for equality (table keys,
// string.find): Lua's < follows the server's LC_COLLATE, not byte order.

// findMax is the most new records addScript looks up in a bucket with
// string.find (a memchr/memcmp scan in C) before it builds a Lua table of
// the bucket's records instead. Measured on Redis 7.0 with 4,000-record
// buckets: the table costs about 0.2 µs per stored record, a scan 2–3 ns per
// stored record per new one, so they break even near 100 new records
// whatever the bucket's size.
const findMax = 64

// addScript appends the records of ARGV[2] (sorted, distinct, each ARGV[1]
// bytes) that bucket KEYS[1] lacks, adds their count per Ref to hash KEYS[2],
// and returns the new records' count per Ref as {ref, n, ref, n, ...}.
// SET replaces the value whole: APPEND would leave it in a buffer grown
// ahead of need.
var addScript = redis.NewScript(`
local size = tonumber(ARGV[1])
local add = ARGV[2]
local cur = redis.call('GET', KEYS[1])
local added, val = {}, add
if not cur then -- a new bucket: every record is new
  for i = size - 2, #add, size do
    local ref = string.sub(add, i, i + 2)
    added[ref] = (added[ref] or 0) + 1
  end
else
  local fresh, n = {}, 0
  local have
  if #add / size > ` + strconv.Itoa(findMax) + ` then
    have = {}
    for i = 1, #cur, size do have[string.sub(cur, i, i + size - 1)] = true end
  end
  for i = 1, #add, size do
    local rec = string.sub(add, i, i + size - 1)
    local found
    if have then
      found = have[rec]
    else
      found = string.find(cur, rec, 1, true)
      while found and (found - 1) % size ~= 0 do -- a match across two records
        found = string.find(cur, rec, found + 1, true)
      end
    end
    if not found then
      n = n + 1
      fresh[n] = rec
      local ref = string.sub(rec, -3)
      added[ref] = (added[ref] or 0) + 1
    end
  end
  if n == 0 then return {} end
  val = cur .. table.concat(fresh)
end
redis.call('SET', KEYS[1], val)
local out = {}
for ref, c in pairs(added) do
  redis.call('HINCRBY', KEYS[2], ref, c)
  out[#out + 1] = ref
  out[#out + 1] = c
end
return out
`)

// dropScript removes from bucket KEYS[1] (records of ARGV[1] bytes) every
// record whose Ref is one of ARGV[2:], and those Refs from count hash KEYS[2],
// deleting a key left empty. It returns how many records it removed.
var dropScript = redis.NewScript(`
local size = tonumber(ARGV[1])
local drop = {}
for i = 2, #ARGV do drop[ARGV[i]] = true end
local cur = redis.call('GET', KEYS[1]) or ''
local keep, n, dropped = {}, 0, 0
for i = 1, #cur, size do
  if drop[string.sub(cur, i + size - 3, i + size - 1)] then
    dropped = dropped + 1
  else
    n = n + 1
    keep[n] = string.sub(cur, i, i + size - 1)
  end
end
if n == 0 then
  redis.call('DEL', KEYS[1])
elseif dropped > 0 then
  redis.call('SET', KEYS[1], table.concat(keep))
end
redis.call('HDEL', KEYS[2], unpack(ARGV, 2))
return dropped
`)

// putScript creates listing KEYS[1] (ID ARGV[1], metadata ARGV[2]) with the
// next number from counter KEYS[4], adding it to ID set KEYS[2] and
// number→ID hash KEYS[3]; or, if it exists, replaces its metadata only. It
// returns the new number, 0 for an update, -1 when numbers above ARGV[3]
// would be needed.
var putScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'num') == 1 then
  redis.call('HSET', KEYS[1], 'meta', ARGV[2])
  return 0
end
local num = redis.call('INCR', KEYS[4])
if num > tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], 'meta', ARGV[2], 'num', num)
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], num, ARGV[1])
return num
`)

// removeScript deletes listing KEYS[1] (ID ARGV[1]) from ID set KEYS[2] and
// number→ID hash KEYS[3], and adds its number to set KEYS[4] of numbers whose
// records are still to be swept. It returns the number, or nil if absent.
var removeScript = redis.NewScript(`
local num = redis.call('HGET', KEYS[1], 'num')
if not num then return false end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], num)
redis.call('SADD', KEYS[4], num)
return tonumber(num)
`)

// countsScript adds (ARGV[2] == 'incr') or sets (otherwise) the counts of
// listing KEYS[1], given as field, count pairs in ARGV[3..] (a field per
// kind, named as the kind: countArgs), if it still has number ARGV[1]. It
// returns 1, or 0 if the listing was removed (and perhaps re-created)
// meanwhile, so no count is written to a dead listing. A missing field
// counts 0, so a kind added later needs no migration of listings.
var countsScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'num') ~= ARGV[1] then return 0 end
local op = 'HSET'
if ARGV[2] == 'incr' then op = 'HINCRBY' end
for i = 3, #ARGV, 2 do
  redis.call(op, KEYS[1], ARGV[i], ARGV[i + 1])
end
return 1
`)

var allScripts = []*redis.Script{addScript, dropScript, putScript, removeScript, countsScript, putAPIKeyScript, revokeAPIKeyScript,
	watchScript, indexAddScript, indexDelScript, enqueueScript, claimScript, retryScript, unsubscribeScript, checkCodeScript}
