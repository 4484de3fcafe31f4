package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
)

// SenderHash returns a well-formed sender hash made from n, as
// hashing.Keyed.Hex would return.
func SenderHash(n int) string { return fmt.Sprintf("%032x", n+0xa0) }

func testPrefs(t *testing.T, newStore func(t *testing.T) khabardar.Store, s khabardar.Store) {
	ctx := context.Background()
	ps, ok := s.(khabardar.PrefStore)
	if !ok {
		t.Fatalf("%T does not implement khabardar.PrefStore", s)
	}
	alice, bob := SenderHash(1), SenderHash(2)
	keep := khabardar.SMSPrefRetention

	t.Run("before Init", func(t *testing.T) {
		fresh := newStore(t)
		defer fresh.Close()
		fp := fresh.(khabardar.PrefStore)
		_, err := fp.SMSLanguage(ctx, alice, keep)
		wantCode(t, "SMSLanguage before Init", err, khabardar.EINTERNAL)
		wantCode(t, "SetSMSLanguage before Init", fp.SetSMSLanguage(ctx, alice, khabardar.LangUrdu, keep), khabardar.EINTERNAL)
	})

	t.Run("none chosen", func(t *testing.T) {
		_, err := ps.SMSLanguage(ctx, alice, keep)
		wantCode(t, "SMSLanguage(never set)", err, khabardar.ENOTFOUND)
	})

	t.Run("set, replace, per sender", func(t *testing.T) {
		steps := []struct {
			name   string
			sender string
			set    string
			want   map[string]string // sender → language, "" for ENOTFOUND
		}{
			{"alice chooses urdu", alice, khabardar.LangUrdu, map[string]string{alice: "ur", bob: ""}},
			{"bob chooses english", bob, khabardar.LangEnglish, map[string]string{alice: "ur", bob: "en"}},
			{"alice switches to english", alice, khabardar.LangEnglish, map[string]string{alice: "en", bob: "en"}},
			{"alice back to urdu", alice, khabardar.LangUrdu, map[string]string{alice: "ur", bob: "en"}},
			{"same again", alice, khabardar.LangUrdu, map[string]string{alice: "ur", bob: "en"}},
		}
		for _, st := range steps {
			if err := ps.SetSMSLanguage(ctx, st.sender, st.set, keep); err != nil {
				t.Fatalf("%s: SetSMSLanguage: %v", st.name, err)
			}
			for sender, want := range st.want {
				got, err := ps.SMSLanguage(ctx, sender, keep)
				if want == "" {
					wantCode(t, st.name+": SMSLanguage", err, khabardar.ENOTFOUND)
					continue
				}
				if err != nil || got != want {
					t.Fatalf("%s: SMSLanguage = %q, %v; want %q", st.name, got, err, want)
				}
			}
		}
	})

	t.Run("invalid", func(t *testing.T) {
		hashes := []struct{ name, hash string }{
			{"empty", ""},
			{"a phone number", "+923001234567"},
			{"digits of a phone number", "923001234567"},
			{"upper case", strings.ToUpper(SenderHash(3))},
			{"one short", SenderHash(3)[1:]},
			{"one long", SenderHash(3) + "0"},
			{"not hex", "g" + SenderHash(3)[1:]},
		}
		for _, h := range hashes {
			t.Run("hash "+h.name, func(t *testing.T) {
				_, err := ps.SMSLanguage(ctx, h.hash, keep)
				wantCode(t, "SMSLanguage", err, khabardar.EINVALID)
				wantCode(t, "SetSMSLanguage", ps.SetSMSLanguage(ctx, h.hash, khabardar.LangEnglish, keep), khabardar.EINVALID)
				if msg := khabardar.ErrorMessage(ps.SetSMSLanguage(ctx, h.hash, "en", keep)); h.hash != "" && strings.Contains(msg, h.hash) {
					t.Fatalf("the error message repeats the hash: %q", msg)
				}
			})
		}
		for _, retain := range []time.Duration{0, -time.Hour, time.Millisecond - 1} {
			t.Run(fmt.Sprintf("retain %v", retain), func(t *testing.T) {
				_, err := ps.SMSLanguage(ctx, alice, retain)
				wantCode(t, "SMSLanguage", err, khabardar.EINVALID)
				wantCode(t, "SetSMSLanguage", ps.SetSMSLanguage(ctx, alice, khabardar.LangEnglish, retain), khabardar.EINVALID)
			})
		}
		for _, lang := range []string{"", "EN", "Ur", "urdu", "english", "fr", " en"} {
			t.Run(fmt.Sprintf("language %q", lang), func(t *testing.T) {
				wantCode(t, "SetSMSLanguage", ps.SetSMSLanguage(ctx, alice, lang, keep), khabardar.EINVALID)
			})
		}
		// Nothing refused changed alice's choice.
		if got, err := ps.SMSLanguage(ctx, alice, keep); err != nil || got != khabardar.LangUrdu {
			t.Fatalf("after refused sets SMSLanguage = %q, %v; want ur", got, err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		// Two replicas handling one sender's URDU and ENGLISH at once: both
		// succeed and one of them wins.
		carol := SenderHash(4)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- ps.SetSMSLanguage(ctx, carol, []string{khabardar.LangEnglish, khabardar.LangUrdu}[i%2], keep)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent SetSMSLanguage: %v", err)
			}
		}
		if got, err := ps.SMSLanguage(ctx, carol, keep); err != nil || (got != "en" && got != "ur") {
			t.Fatalf("after concurrent sets SMSLanguage = %q, %v", got, err)
		}
	})

	t.Run("expiry", func(t *testing.T) { testPrefExpiry(t, ps) })
}

// testPrefExpiry checks that a choice is kept for retain after the last
// read or write of it, and no longer. The stores' own clocks run (Redis
// expires keys by its server's), so it sleeps, and it asserts only what
// the time measured allows: a step that took so long that a choice could
// rightly have expired makes it try again with a retain twice as long.
func testPrefExpiry(t *testing.T, ps khabardar.PrefStore) {
	for attempt, retain := 0, 400*time.Millisecond; ; attempt, retain = attempt+1, retain*2 {
		if prefExpiryOnce(t, ps, attempt, retain) {
			return
		}
		if retain >= 6*time.Second {
			t.Fatalf("steps of a few milliseconds took longer than %v every time", retain)
		}
		t.Logf("too slow for a retain of %v; trying %v", retain, retain*2)
	}
}

// prefExpiryOnce is one try of testPrefExpiry; false if the machine was
// too slow to tell.
func prefExpiryOnce(t *testing.T, ps khabardar.PrefStore, attempt int, retain time.Duration) bool {
	ctx := context.Background()
	// Fresh senders each try: dan reads his choice, erin never does.
	dan, erin := SenderHash(100+2*attempt), SenderHash(101+2*attempt)
	lang := func(who string) string {
		t.Helper()
		got, err := ps.SMSLanguage(ctx, who, retain)
		if khabardar.ErrorCode(err) == khabardar.ENOTFOUND {
			return ""
		}
		if err != nil {
			t.Fatalf("SMSLanguage: %v", err)
		}
		return got
	}
	start := time.Now()
	for _, who := range []string{dan, erin} {
		if err := ps.SetSMSLanguage(ctx, who, khabardar.LangUrdu, retain); err != nil {
			t.Fatalf("SetSMSLanguage: %v", err)
		}
	}
	set := time.Now() // both choices expire by set+retain unless read
	// Before retain has passed, dan's choice is there, and reading it
	// keeps it another retain.
	time.Sleep(retain / 2)
	read := time.Now()
	got := lang(dan)
	if time.Since(start) >= retain {
		return false
	}
	if got != khabardar.LangUrdu {
		t.Fatalf("SMSLanguage after %v of a retain of %v: %q, want ur", time.Since(start), retain, got)
	}
	// Past the first retain: erin's choice, never read, has expired; dan's
	// is still there, since the read renewed it (less the renewal a store
	// may skip, retain/365).
	time.Sleep(time.Until(set.Add(retain + retain/5)))
	if got := lang(erin); got != "" {
		t.Fatalf("a choice never read is still there %v after it was set with a retain of %v: %q", time.Since(start), retain, got)
	}
	got = lang(dan)
	if time.Since(read) >= retain-retain/365 {
		return false
	}
	if got != khabardar.LangUrdu {
		t.Fatalf("a choice read %v ago with a retain of %v is gone", time.Since(read), retain)
	}
	// Once retain passes with no read, it is gone, and it stays gone.
	time.Sleep(retain + retain/5)
	for range 2 {
		if got := lang(dan); got != "" {
			t.Fatalf("a choice is still there %v after its last read with a retain of %v: %q", retain+retain/5, retain, got)
		}
	}
	return true
}
