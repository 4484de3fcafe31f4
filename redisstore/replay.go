package redisstore

import (
	"context"
	"time"

	"github.com/khabardar/khabardar"
)

// A gateway message already answered is one key, khb:r:<hex keyed hash of
// its ID> → "1", written with SET NX PX: Redis runs commands one at a time,
// so of concurrent deliveries exactly one creates the key, and the key
// expires by itself. Like a preference it needs no hash tag: one key per
// command, spread over a cluster's slots.
const replayKey0 = "khb:r:"

var _ khabardar.ReplayStore = (*Store)(nil)

// FirstSeen records hash for ttl and reports whether it was new.
func (s *Store) FirstSeen(ctx context.Context, hash string, ttl time.Duration) (bool, error) {
	if _, err := s.getLayout(); err != nil {
		return false, err
	}
	if err := khabardar.CheckKeyedHash(hash); err != nil {
		return false, err
	}
	if err := khabardar.CheckTTL(ttl); err != nil {
		return false, err
	}
	created, err := s.rdb.SetNX(ctx, replayKey0+hash, "1", ttl).Result()
	if err != nil {
		return false, fail("record a message", err)
	}
	return created, nil
}
