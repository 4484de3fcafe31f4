package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/storetest"
)

// TestSMSKeys checks the keys of what is kept about SMS users: one per
// sender and one per message, under their keyed hash, each with a TTL.
func TestSMSKeys(t *testing.T) {
	ctx := context.Background()
	s, u := open(t)
	c := rawClient(t, u)
	const year, day = 365 * 24 * time.Hour, 24 * time.Hour
	sender, msg := storetest.SenderHash(1), storetest.MessageHash(1)
	if err := s.SetSMSLanguage(ctx, sender, khabardar.LangUrdu, year); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FirstSeen(ctx, msg, day); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		key, value string
		ttl        time.Duration
	}{
		{"khb:p:" + sender, "ur", year},
		{"khb:r:" + msg, "1", day},
	} {
		if v := c.Get(ctx, k.key).Val(); v != k.value {
			t.Errorf("%s = %q, want %q", k.key, v, k.value)
		}
		if ttl := c.PTTL(ctx, k.key).Val(); ttl > k.ttl || ttl < k.ttl-time.Minute {
			t.Errorf("%s has a TTL of %v, want %v", k.key, ttl, k.ttl)
		}
	}
	// A read renews the choice.
	c.PExpire(ctx, "khb:p:"+sender, time.Hour)
	if _, err := s.SMSLanguage(ctx, sender, year); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, "khb:p:"+sender).Val(); ttl < year-time.Minute {
		t.Errorf("after a read the choice has a TTL of %v, want %v", ttl, year)
	}
}

// TestOldPrefs checks that a preference key written before preferences
// expired (no TTL) gets SMSPrefRetention at the next Init, once.
func TestOldPrefs(t *testing.T) {
	ctx := context.Background()
	u := redistest.URL(t)
	c := rawClient(t, u)
	old, fresh := "khb:p:"+storetest.SenderHash(1), "khb:p:"+storetest.SenderHash(2)
	c.Set(ctx, old, "ur", 0)
	c.Set(ctx, fresh, "en", time.Hour)
	init := func() {
		s, err := Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Init(ctx, storetest.Layout); err != nil {
			t.Fatal(err)
		}
	}
	init()
	if ttl := c.PTTL(ctx, old).Val(); ttl < khabardar.SMSPrefRetention-time.Minute || ttl > khabardar.SMSPrefRetention {
		t.Errorf("an old preference has a TTL of %v after Init, want %v", ttl, khabardar.SMSPrefRetention)
	}
	if ttl := c.PTTL(ctx, fresh).Val(); ttl > time.Hour {
		t.Errorf("a preference with a TTL got another: %v", ttl)
	}
	if c.Get(ctx, keyPrefsExpire).Val() != "1" {
		t.Errorf("%s is not set", keyPrefsExpire)
	}
	// Once done, Init does not scan again.
	c.Set(ctx, old, "ur", 0)
	init()
	if ttl := c.PTTL(ctx, old).Val(); ttl != -1 {
		t.Errorf("Init scanned again: TTL %v", ttl)
	}
}
