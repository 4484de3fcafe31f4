package khabardar

import (
	"context"
	"time"
)

// APIKey lets a journalist or partner exceed the anonymous rate limits and
// batch size. The secret is shown once when the key is created; the store
// keeps only Hash, a keyed hash of it.
type APIKey struct {
	ID       string     `json:"id"`   // public handle for list and revoke, e.g. "ak_1a2b3c4d"
	Name     string     `json:"name"` // who holds it
	Hash     []byte     `json:"-"`    // hashing.Key.Keyed("api-key") of the secret
	Rate     string     `json:"rate"` // evaluations allowed, in ulule/limiter's format, e.g. "10000-H"
	MaxBatch int        `json:"max_batch"`
	Created  time.Time  `json:"created"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

// Validate reports an EINVALID error for a key with a missing field.
func (k *APIKey) Validate() error {
	switch {
	case k == nil:
		return Errorf(EINVALID, "api key: nil")
	case k.ID == "":
		return Errorf(EINVALID, "api key: the id is empty")
	case k.Name == "":
		return Errorf(EINVALID, "api key %s: the name is empty", k.ID)
	case len(k.Hash) == 0:
		return Errorf(EINVALID, "api key %s: the hash is empty", k.ID)
	case k.Rate == "":
		return Errorf(EINVALID, "api key %s: the rate is empty", k.ID)
	case k.MaxBatch <= 0:
		return Errorf(EINVALID, "api key %s: max batch must be positive, not %d", k.ID, k.MaxBatch)
	case k.Created.IsZero():
		return Errorf(EINVALID, "api key %s: the creation time is missing", k.ID)
	}
	return nil
}

// APIKeyStore keeps API keys. Both store adapters implement it; the contract
// is in storetest.
type APIKeyStore interface {
	// PutAPIKey stores a new key. ECONFLICT if its ID or hash exists,
	// EINVALID if a field is missing.
	PutAPIKey(ctx context.Context, k *APIKey) error

	// APIKeyByHash finds a key by the keyed hash of its secret, revoked
	// keys included (Revoked set), so callers can tell revoked from
	// unknown. ENOTFOUND if none.
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)

	// APIKeys returns every key, revoked ones included, sorted by ID.
	APIKeys(ctx context.Context) ([]*APIKey, error)

	// RevokeAPIKey marks a key revoked (idempotent). ENOTFOUND if absent.
	RevokeAPIKey(ctx context.Context, id string) error
}
