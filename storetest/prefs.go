package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

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

	t.Run("before Init", func(t *testing.T) {
		fresh := newStore(t)
		defer fresh.Close()
		fp := fresh.(khabardar.PrefStore)
		_, err := fp.SMSLanguage(ctx, alice)
		wantCode(t, "SMSLanguage before Init", err, khabardar.EINTERNAL)
		wantCode(t, "SetSMSLanguage before Init", fp.SetSMSLanguage(ctx, alice, khabardar.LangUrdu), khabardar.EINTERNAL)
	})

	t.Run("none chosen", func(t *testing.T) {
		_, err := ps.SMSLanguage(ctx, alice)
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
			if err := ps.SetSMSLanguage(ctx, st.sender, st.set); err != nil {
				t.Fatalf("%s: SetSMSLanguage: %v", st.name, err)
			}
			for sender, want := range st.want {
				got, err := ps.SMSLanguage(ctx, sender)
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
				_, err := ps.SMSLanguage(ctx, h.hash)
				wantCode(t, "SMSLanguage", err, khabardar.EINVALID)
				wantCode(t, "SetSMSLanguage", ps.SetSMSLanguage(ctx, h.hash, khabardar.LangEnglish), khabardar.EINVALID)
				if msg := khabardar.ErrorMessage(ps.SetSMSLanguage(ctx, h.hash, "en")); h.hash != "" && strings.Contains(msg, h.hash) {
					t.Fatalf("the error message repeats the hash: %q", msg)
				}
			})
		}
		for _, lang := range []string{"", "EN", "Ur", "urdu", "english", "fr", " en"} {
			t.Run(fmt.Sprintf("language %q", lang), func(t *testing.T) {
				wantCode(t, "SetSMSLanguage", ps.SetSMSLanguage(ctx, alice, lang), khabardar.EINVALID)
			})
		}
		// Nothing refused changed alice's choice.
		if got, err := ps.SMSLanguage(ctx, alice); err != nil || got != khabardar.LangUrdu {
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
				errs <- ps.SetSMSLanguage(ctx, carol, []string{khabardar.LangEnglish, khabardar.LangUrdu}[i%2])
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent SetSMSLanguage: %v", err)
			}
		}
		if got, err := ps.SMSLanguage(ctx, carol); err != nil || (got != "en" && got != "ur") {
			t.Fatalf("after concurrent sets SMSLanguage = %q, %v", got, err)
		}
	})
}
