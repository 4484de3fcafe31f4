package boltstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/khabardar/khabardar"
	bolt "go.etcd.io/bbolt"
)

// API keys live in two top-level buckets: apikeys maps a key's ID to its
// storedAPIKey JSON (bbolt keeps keys sorted, so APIKeys lists by ID), and
// apikeyHashes maps the keyed hash of a secret to the ID, so a request's key
// is found with one lookup.
var (
	apiKeysBucket      = []byte("apikeys")
	apiKeyHashesBucket = []byte("apikey_hashes")
)

// storedAPIKey is an API key as kept in the apikeys bucket. It exists because
// khabardar.APIKey keeps its Hash out of JSON.
type storedAPIKey struct {
	*khabardar.APIKey
	Hash []byte `json:"hash"`
}

var _ khabardar.APIKeyStore = (*Store)(nil)

// apiKeyBuckets returns the two API key buckets, creating them in a write
// transaction; in a read transaction they are nil until the first key.
func apiKeyBuckets(tx *bolt.Tx) (byID, byHash *bolt.Bucket, err error) {
	if !tx.Writable() {
		return tx.Bucket(apiKeysBucket), tx.Bucket(apiKeyHashesBucket), nil
	}
	if byID, err = tx.CreateBucketIfNotExists(apiKeysBucket); err != nil {
		return nil, nil, err
	}
	byHash, err = tx.CreateBucketIfNotExists(apiKeyHashesBucket)
	return byID, byHash, err
}

func decodeAPIKey(v []byte) (*khabardar.APIKey, error) {
	sk := storedAPIKey{APIKey: new(khabardar.APIKey)}
	if err := json.Unmarshal(v, &sk); err != nil {
		return nil, err
	}
	sk.APIKey.Hash = sk.Hash
	return sk.APIKey, nil
}

func putAPIKey(b *bolt.Bucket, k *khabardar.APIKey) error {
	v, err := json.Marshal(storedAPIKey{APIKey: k, Hash: k.Hash})
	if err != nil {
		return err
	}
	return b.Put([]byte(k.ID), v)
}

// PutAPIKey stores a new key and its hash index in one transaction.
func (s *Store) PutAPIKey(ctx context.Context, k *khabardar.APIKey) error {
	if _, err := s.initLayout(); err != nil {
		return err
	}
	if err := k.Validate(); err != nil {
		return err
	}
	return s.update(ctx, "saving the api key", func(tx *bolt.Tx) error {
		byID, byHash, err := apiKeyBuckets(tx)
		if err != nil {
			return err
		}
		if byID.Get([]byte(k.ID)) != nil {
			return khabardar.Errorf(khabardar.ECONFLICT, "api key %s exists", k.ID)
		}
		if byHash.Get(k.Hash) != nil {
			return khabardar.Errorf(khabardar.ECONFLICT, "another api key has the same secret")
		}
		if err := putAPIKey(byID, k); err != nil {
			return err
		}
		return byHash.Put(k.Hash, []byte(k.ID))
	})
}

// APIKeyByHash finds a key by the keyed hash of its secret.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*khabardar.APIKey, error) {
	if _, err := s.initLayout(); err != nil {
		return nil, err
	}
	var k *khabardar.APIKey
	err := s.view(ctx, "reading the api key", func(tx *bolt.Tx) error {
		byID, byHash, _ := apiKeyBuckets(tx)
		var v []byte
		if byHash != nil && len(hash) > 0 {
			if id := byHash.Get(hash); id != nil {
				v = byID.Get(id)
			}
		}
		if v == nil {
			return khabardar.Errorf(khabardar.ENOTFOUND, "no such api key")
		}
		var err error
		k, err = decodeAPIKey(v)
		return err
	})
	return k, err
}

// APIKeys returns every key sorted by ID, the order of bbolt's keys.
func (s *Store) APIKeys(ctx context.Context) ([]*khabardar.APIKey, error) {
	if _, err := s.initLayout(); err != nil {
		return nil, err
	}
	out := []*khabardar.APIKey{}
	err := s.view(ctx, "reading the api keys", func(tx *bolt.Tx) error {
		byID, _, _ := apiKeyBuckets(tx)
		if byID == nil {
			return nil
		}
		return byID.ForEach(func(_, v []byte) error {
			k, err := decodeAPIKey(v)
			if err != nil {
				return err
			}
			out = append(out, k)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeAPIKey sets the key's Revoked time, keeping the first one if it is
// already revoked.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	if _, err := s.initLayout(); err != nil {
		return err
	}
	now := time.Now().UTC()
	return s.update(ctx, "revoking the api key", func(tx *bolt.Tx) error {
		byID, _, err := apiKeyBuckets(tx)
		if err != nil {
			return err
		}
		v := byID.Get([]byte(id))
		if v == nil {
			return khabardar.Errorf(khabardar.ENOTFOUND, "no api key %q", id)
		}
		k, err := decodeAPIKey(v)
		if err != nil || k.Revoked != nil {
			return err
		}
		k.Revoked = &now
		return putAPIKey(byID, k)
	})
}
