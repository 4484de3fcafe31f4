package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/redis/go-redis/v9"
)

// API key keys, under the {m} tag with the listings so that the scripts that
// change several of them are atomic on Redis Cluster too:
//
//	khb:{m}:ak:<id>          hash    name, hash (hex), rate, max_batch, created,
//	                                 revoked (RFC 3339, absent until revoked)
//	khb:{m}:akh:<hex hash>   string  the ID of the key whose secret has that hash
//	khb:{m}:akids            set     IDs of all keys
const (
	apiKeyKey0     = "khb:{m}:ak:"
	apiKeyHashKey0 = "khb:{m}:akh:"
	keyAPIKeyIDs   = "khb:{m}:akids"
)

func apiKeyKey(id string) string       { return apiKeyKey0 + id }
func apiKeyHashKey(hash []byte) string { return apiKeyHashKey0 + hex.EncodeToString(hash) }

// apiKeyFields are the fields HMGET reads, in decodeAPIKey's order.
var apiKeyFields = []string{"name", "hash", "rate", "max_batch", "created", "revoked"}

var _ khabardar.APIKeyStore = (*Store)(nil)

// putAPIKeyScript creates key hash KEYS[1] (ID ARGV[1], then field, value
// pairs), hash index KEYS[2] → ID and adds the ID to set KEYS[3], unless
// KEYS[1] or KEYS[2] exists. It returns 1, 0 for an existing ID, -1 for an
// existing hash.
var putAPIKeyScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`)

// revokeAPIKeyScript sets field revoked of key hash KEYS[1] to ARGV[1] unless
// it is set. It returns 0 if the key does not exist, else 1.
var revokeAPIKeyScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'revoked', ARGV[1])
return 1
`)

// PutAPIKey stores a new key and its hash index in one script.
func (s *Store) PutAPIKey(ctx context.Context, k *khabardar.APIKey) error {
	if _, err := s.getLayout(); err != nil {
		return err
	}
	if err := k.Validate(); err != nil {
		return err
	}
	args := []any{k.ID,
		"name", k.Name,
		"hash", hex.EncodeToString(k.Hash),
		"rate", k.Rate,
		"max_batch", k.MaxBatch,
		"created", k.Created.UTC().Format(time.RFC3339Nano),
	}
	if k.Revoked != nil {
		args = append(args, "revoked", k.Revoked.UTC().Format(time.RFC3339Nano))
	}
	n, err := putAPIKeyScript.Run(ctx, s.rdb, []string{apiKeyKey(k.ID), apiKeyHashKey(k.Hash), keyAPIKeyIDs}, args...).Int64()
	switch {
	case err != nil:
		return fail("put api key", err)
	case n == 0:
		return khabardar.Errorf(khabardar.ECONFLICT, "api key %s exists", k.ID)
	case n < 0:
		return khabardar.Errorf(khabardar.ECONFLICT, "another api key has the same secret")
	}
	return nil
}

// APIKeyByHash finds a key by the keyed hash of its secret.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*khabardar.APIKey, error) {
	if _, err := s.getLayout(); err != nil {
		return nil, err
	}
	notFound := khabardar.Errorf(khabardar.ENOTFOUND, "no such api key")
	if len(hash) == 0 {
		return nil, notFound
	}
	id, err := s.rdb.Get(ctx, apiKeyHashKey(hash)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, notFound
	}
	if err != nil {
		return nil, fail("api key by hash", err)
	}
	vals, err := s.rdb.HMGet(ctx, apiKeyKey(id), apiKeyFields...).Result()
	if err != nil {
		return nil, fail("api key by hash", err)
	}
	k, err := decodeAPIKey(id, vals)
	if err != nil {
		return nil, fail("api key by hash", err)
	}
	if k == nil {
		return nil, notFound
	}
	return k, nil
}

// decodeAPIKey builds a key from HMGET apiKeyFields; nil if it does not exist.
func decodeAPIKey(id string, vals []any) (*khabardar.APIKey, error) {
	if len(vals) != len(apiKeyFields) {
		return nil, fmt.Errorf("api key %s: %d fields", id, len(vals))
	}
	str := make([]string, len(vals))
	for i, v := range vals {
		str[i], _ = v.(string)
	}
	if str[0] == "" { // no name: no key
		return nil, nil
	}
	k := &khabardar.APIKey{ID: id, Name: str[0], Rate: str[2]}
	var err error
	if k.Hash, err = hex.DecodeString(str[1]); err != nil {
		return nil, fmt.Errorf("api key %s: hash: %w", id, err)
	}
	if k.MaxBatch, err = strconv.Atoi(str[3]); err != nil {
		return nil, fmt.Errorf("api key %s: max_batch: %w", id, err)
	}
	if k.Created, err = time.Parse(time.RFC3339Nano, str[4]); err != nil {
		return nil, fmt.Errorf("api key %s: created: %w", id, err)
	}
	if str[5] != "" {
		t, err := time.Parse(time.RFC3339Nano, str[5])
		if err != nil {
			return nil, fmt.Errorf("api key %s: revoked: %w", id, err)
		}
		k.Revoked = &t
	}
	return k, nil
}

// APIKeys returns every key sorted by ID.
func (s *Store) APIKeys(ctx context.Context) ([]*khabardar.APIKey, error) {
	if _, err := s.getLayout(); err != nil {
		return nil, err
	}
	ids, err := s.rdb.SMembers(ctx, keyAPIKeyIDs).Result()
	if err != nil {
		return nil, fail("api keys", err)
	}
	slices.Sort(ids)
	out := make([]*khabardar.APIKey, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, apiKeyKey(id), apiKeyFields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fail("api keys", err)
	}
	for i, cmd := range cmds {
		k, err := decodeAPIKey(ids[i], cmd.Val())
		if err != nil {
			return nil, fail("api keys", err)
		}
		if k != nil {
			out = append(out, k)
		}
	}
	return out, nil
}

// RevokeAPIKey sets the key's revoked time unless it is set.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	if _, err := s.getLayout(); err != nil {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	n, err := revokeAPIKeyScript.Run(ctx, s.rdb, []string{apiKeyKey(id)}, now).Int64()
	if err != nil {
		return fail("revoke api key", err)
	}
	if n == 0 {
		return khabardar.Errorf(khabardar.ENOTFOUND, "no api key %q", id)
	}
	return nil
}
