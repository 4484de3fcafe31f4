package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/redis/go-redis/v9"
)

// SMS preferences are one string key per sender, khb:p:<hex keyed hash of the
// sender> → "en" or "ur", with the retention as its TTL. One key per sender
// needs no hash tag: every operation touches one key, so Redis Cluster
// spreads them over its slots.
const prefKey0 = "khb:p:"

func prefKey(senderHash string) string { return prefKey0 + senderHash }

var _ khabardar.PrefStore = (*Store)(nil)

// SMSLanguage returns the language the sender chose and keeps it for
// retain: GETEX reads the key and sets its TTL in one command, the same one
// round trip as a GET.
func (s *Store) SMSLanguage(ctx context.Context, senderHash string, retain time.Duration) (string, error) {
	if err := s.checkPref(senderHash, retain); err != nil {
		return "", err
	}
	lang, err := s.rdb.GetEx(ctx, prefKey(senderHash), retain).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", khabardar.Errorf(khabardar.ENOTFOUND, "no sms language chosen")
	case err != nil:
		return "", fail("sms language", err)
	}
	return lang, nil
}

// SetSMSLanguage records the sender's choice for retain.
func (s *Store) SetSMSLanguage(ctx context.Context, senderHash, lang string, retain time.Duration) error {
	if err := s.checkPref(senderHash, retain); err != nil {
		return err
	}
	if err := khabardar.CheckSMSLanguage(lang); err != nil {
		return err
	}
	return fail("set sms language", s.rdb.Set(ctx, prefKey(senderHash), lang, retain).Err())
}

func (s *Store) checkPref(senderHash string, retain time.Duration) error {
	if _, err := s.getLayout(); err != nil {
		return err
	}
	if err := khabardar.CheckSenderHash(senderHash); err != nil {
		return err
	}
	return khabardar.CheckTTL(retain)
}

// keyPrefsExpire marks a keyspace whose preference keys all have a TTL.
const keyPrefsExpire = "khb:{m}:prefs-expire"

// expireOldPrefs gives every preference key stored before preferences
// expired (one with no TTL) SMSPrefRetention from now, once per keyspace:
// Init runs it, and after the first time it costs one EXISTS.
func (s *Store) expireOldPrefs(ctx context.Context) error {
	if n, err := s.rdb.Exists(ctx, keyPrefsExpire).Result(); err != nil || n == 1 {
		return err
	}
	err := s.eachKeyPage(ctx, prefKey0+"*", func(ctx context.Context, c redis.UniversalClient, keys []string) error {
		ttls := make([]*redis.DurationCmd, len(keys))
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				ttls[i] = p.TTL(ctx, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// A key renewed between TTL and EXPIRE gets the same year.
		_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				if ttls[i].Val() == -1 { // exists, no TTL
					p.Expire(ctx, k, khabardar.SMSPrefRetention)
				}
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, keyPrefsExpire, "1", 0).Err()
}
