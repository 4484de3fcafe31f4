package redisstore

import (
	"context"
	"errors"

	"github.com/khabardar/khabardar"
	"github.com/redis/go-redis/v9"
)

// SMS preferences are one string key per sender, khb:p:<hex keyed hash of the
// sender> → "en" or "ur". One key per sender needs no hash tag: every
// operation touches one key, so Redis Cluster spreads them over its slots.
const prefKey0 = "khb:p:"

func prefKey(senderHash string) string { return prefKey0 + senderHash }

var _ khabardar.PrefStore = (*Store)(nil)

// SMSLanguage returns the language the sender chose.
func (s *Store) SMSLanguage(ctx context.Context, senderHash string) (string, error) {
	if _, err := s.getLayout(); err != nil {
		return "", err
	}
	if err := khabardar.CheckSenderHash(senderHash); err != nil {
		return "", err
	}
	lang, err := s.rdb.Get(ctx, prefKey(senderHash)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", khabardar.Errorf(khabardar.ENOTFOUND, "no sms language chosen")
	case err != nil:
		return "", fail("sms language", err)
	}
	return lang, nil
}

// SetSMSLanguage records the sender's choice.
func (s *Store) SetSMSLanguage(ctx context.Context, senderHash, lang string) error {
	if _, err := s.getLayout(); err != nil {
		return err
	}
	if err := khabardar.CheckSenderHash(senderHash); err != nil {
		return err
	}
	if err := khabardar.CheckSMSLanguage(lang); err != nil {
		return err
	}
	return fail("set sms language", s.rdb.Set(ctx, prefKey(senderHash), lang, 0).Err())
}
