package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
)

// MessageHash returns a well-formed message hash made from n, as
// hashing.Keyed.Hex would return.
func MessageHash(n int) string { return fmt.Sprintf("%032x", n+0xbeef0000) }

func testReplay(t *testing.T, newStore func(t *testing.T) khabardar.Store, s khabardar.Store) {
	ctx := context.Background()
	rs, ok := s.(khabardar.ReplayStore)
	if !ok {
		t.Fatalf("%T does not implement khabardar.ReplayStore", s)
	}
	const day = 24 * time.Hour

	t.Run("before Init", func(t *testing.T) {
		fresh := newStore(t)
		defer fresh.Close()
		_, err := fresh.(khabardar.ReplayStore).FirstSeen(ctx, MessageHash(1), day)
		wantCode(t, "FirstSeen before Init", err, khabardar.EINTERNAL)
	})

	t.Run("first, then repeats", func(t *testing.T) {
		steps := []struct {
			name string
			hash string
			want bool
		}{
			{"a new message", MessageHash(1), true},
			{"the same again", MessageHash(1), false},
			{"another message", MessageHash(2), true},
			{"the first a third time", MessageHash(1), false},
			{"the second again", MessageHash(2), false},
		}
		for _, st := range steps {
			got, err := rs.FirstSeen(ctx, st.hash, day)
			if err != nil || got != st.want {
				t.Fatalf("%s: FirstSeen = %v, %v; want %v", st.name, got, err, st.want)
			}
		}
	})

	t.Run("invalid", func(t *testing.T) {
		hashes := []struct{ name, hash string }{
			{"empty", ""},
			{"a Twilio MessageSid", "SM" + strings.Repeat("0a", 16)},
			{"upper case", strings.ToUpper(MessageHash(3))},
			{"one short", MessageHash(3)[1:]},
			{"one long", MessageHash(3) + "0"},
			{"not hex", "g" + MessageHash(3)[1:]},
		}
		for _, h := range hashes {
			t.Run("hash "+h.name, func(t *testing.T) {
				_, err := rs.FirstSeen(ctx, h.hash, day)
				wantCode(t, "FirstSeen", err, khabardar.EINVALID)
				if msg := khabardar.ErrorMessage(err); h.hash != "" && strings.Contains(msg, h.hash) {
					t.Fatalf("the error message repeats the hash: %q", msg)
				}
			})
		}
		for _, ttl := range []time.Duration{0, -time.Hour, time.Millisecond - 1} {
			t.Run(fmt.Sprintf("ttl %v", ttl), func(t *testing.T) {
				_, err := rs.FirstSeen(ctx, MessageHash(3), ttl)
				wantCode(t, "FirstSeen", err, khabardar.EINVALID)
			})
		}
		// Nothing refused was recorded.
		if got, err := rs.FirstSeen(ctx, MessageHash(3), day); err != nil || !got {
			t.Fatalf("after refused calls FirstSeen = %v, %v; want true", got, err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		// Twilio delivering one message to two replicas at once, or an
		// attacker racing the real delivery: exactly one is first.
		for round := range 8 {
			h := MessageHash(100 + round)
			var wg sync.WaitGroup
			var firsts atomic.Int32
			errs := make(chan error, 32)
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					first, err := rs.FirstSeen(ctx, h, day)
					if first {
						firsts.Add(1)
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent FirstSeen: %v", err)
				}
			}
			if n := firsts.Load(); n != 1 {
				t.Fatalf("round %d: %d of 32 concurrent calls were first, want 1", round, n)
			}
		}
	})

	t.Run("expiry", func(t *testing.T) {
		for attempt, ttl := 0, 400*time.Millisecond; ; attempt, ttl = attempt+1, ttl*2 {
			if replayExpiryOnce(t, rs, MessageHash(200+attempt), ttl) {
				return
			}
			if ttl >= 6*time.Second {
				t.Fatalf("steps of a few milliseconds took longer than %v every time", ttl)
			}
			t.Logf("too slow for a ttl of %v; trying %v", ttl, ttl*2)
		}
	})
}

// replayExpiryOnce checks that a record lasts ttl from the first sighting,
// not extended by repeats, as testPrefExpiry does for preferences: false
// if the machine was too slow to tell.
func replayExpiryOnce(t *testing.T, rs khabardar.ReplayStore, h string, ttl time.Duration) bool {
	ctx := context.Background()
	first := func() bool {
		t.Helper()
		got, err := rs.FirstSeen(ctx, h, ttl)
		if err != nil {
			t.Fatalf("FirstSeen: %v", err)
		}
		return got
	}
	start := time.Now()
	if !first() {
		t.Fatalf("a new hash is not first")
	}
	recorded := time.Now() // the record ends by recorded+ttl
	// Repeats within ttl are not first, and do not extend the record.
	for _, at := range []time.Duration{0, ttl / 2} {
		time.Sleep(time.Until(start.Add(at)))
		got := first()
		if time.Since(start) >= ttl {
			return false
		}
		if got {
			t.Fatalf("a repeat %v after the first sighting, with a ttl of %v, is first", time.Since(start), ttl)
		}
	}
	// Past ttl from the first sighting (well before ttl from the last
	// repeat, ttl/2 in) the record is gone: the message is new again.
	time.Sleep(time.Until(recorded.Add(ttl + ttl/10)))
	if !first() {
		t.Fatalf("a record is still there %v after the first sighting with a ttl of %v", time.Since(start), ttl)
	}
	if first() {
		t.Fatalf("the record made again is not there")
	}
	return true
}
