package sms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/redisstore"
	"github.com/redis/go-redis/v9"
)

// testSID is a MessageSid, as Twilio writes them, that no other test uses.
const testSID = "SM5f1c0ffee5a1ad0b5e55ed0ddba11c0d"

func TestReplayed(t *testing.T) {
	e := newEnv(t, generous)
	ctx := context.Background()
	steps := []struct {
		name, gateway, id string
		replay            bool
		code              string
	}{
		{"a new message", "twilio", testSID, false, ""},
		{"the same message again", "twilio", testSID, true, ""},
		{"and again", "twilio", testSID, true, ""},
		{"the same ID from another gateway", "kannel", testSID, false, ""},
		{"another message", "twilio", "MM" + testSID[2:], false, ""},
		{"the first again", "twilio", testSID, true, ""},
		{"no gateway", "", testSID, false, khabardar.EINVALID},
		{"a gateway name in capitals", "Twilio", testSID, false, khabardar.EINVALID},
		{"no ID", "twilio", "", false, khabardar.EINVALID},
		{"an ID with a space", "twilio", "SM 1", false, khabardar.EINVALID},
		{"an ID with a newline", "twilio", "SM1\n", false, khabardar.EINVALID},
		{"an ID in Urdu digits", "twilio", "SM۱۲", false, khabardar.EINVALID},
		{"an ID of 65 characters", "twilio", strings.Repeat("a", 65), false, khabardar.EINVALID},
		{"an ID of 64 characters", "twilio", strings.Repeat("a", 64), false, ""},
	}
	for _, st := range steps {
		replay, err := e.svc.Replayed(ctx, st.gateway, st.id)
		wantCode(t, st.name, err, st.code)
		if replay != st.replay {
			t.Fatalf("%s: Replayed = %v, want %v", st.name, replay, st.replay)
		}
	}
	// Replayed charges nothing and logs nothing: the sender's limit and
	// the log are the webhook's and Handle's business.
	if e.logs.String() != "" {
		t.Errorf("Replayed logged: %s", e.logs)
	}

	// The store holds the message's keyed hash, never the ID.
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	files := readFiles(t, e.dir)
	if !bytes.Contains(files, []byte(e.svc.message.Hex([]byte("twilio\x00"+testSID)))) {
		t.Fatal("the store's file does not hold the message's hash: the scan reads the wrong place")
	}
	scanForID(t, "the store's file", files)
}

// scanForID fails if haystack holds testSID, with or without its prefix,
// in either case.
func scanForID(t *testing.T, where string, haystack []byte) {
	t.Helper()
	for _, f := range []string{testSID, testSID[2:], strings.ToUpper(testSID[2:])} {
		if bytes.Contains(haystack, []byte(f)) {
			t.Errorf("%s holds the MessageSid in the form %q", where, f)
		}
	}
}

func readFiles(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		all = append(all, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestReplayedConcurrent delivers one message 32 times at once, as an
// attacker racing the real delivery would: exactly one is not a replay.
func TestReplayedConcurrent(t *testing.T) {
	redisEnv := func(t *testing.T) *env {
		st, err := redisstore.Open(context.Background(), redistest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e := &env{t: t}
		e.init(st, generous)
		return e
	}
	for name, newE := range map[string]func(t *testing.T) *env{
		"embedded": func(t *testing.T) *env { return newEnv(t, generous) },
		"redis":    redisEnv,
	} {
		t.Run(name, func(t *testing.T) {
			e := newE(t)
			var wg sync.WaitGroup
			var firsts atomic.Int32
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					replay, err := e.svc.Replayed(context.Background(), "twilio", testSID)
					if err != nil {
						t.Error(err)
					} else if !replay {
						firsts.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := firsts.Load(); n != 1 {
				t.Fatalf("%d of 32 concurrent deliveries were answered, want 1", n)
			}
		})
	}
}

func TestReplayedUnavailable(t *testing.T) {
	e := newEnv(t, generous)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	down, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Init(context.Background(), e.cfg.Layout); err != nil {
		t.Fatal(err)
	}
	down.Close()
	tests := []struct {
		name string
		ctx  context.Context
		seen khabardar.ReplayStore
		code string
	}{
		{"the store is closed", context.Background(), down, khabardar.EUNAVAILABLE},
		{"the caller gave up", canceled, e.store.(khabardar.ReplayStore), khabardar.EUNAVAILABLE},
		{"a bug: the store is not initialised", context.Background(), mustOpen(t), khabardar.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.init(e.store, generous, func(c *Config) { c.Seen = tt.seen })
			replay, err := e.svc.Replayed(tt.ctx, "twilio", testSID)
			wantCode(t, "Replayed", err, tt.code)
			if replay {
				t.Fatal("a message that could not be checked is called a replay")
			}
			if msg := err.Error(); strings.Contains(msg, testSID[2:]) {
				t.Fatalf("the error names the ID: %s", msg)
			}
		})
	}
}

// mustOpen returns an embedded store that is not initialised.
func mustOpen(t *testing.T) *boltstore.Store {
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRedisTTLs checks the expiry of what the service keeps in Redis: a
// message's record for ReplayWindow, a sender's language for the
// preference retention, renewed by every message the sender sends.
func TestRedisTTLs(t *testing.T) {
	ctx := context.Background()
	url := redistest.URL(t)
	st, err := redisstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	pttl := func(key string) time.Duration {
		t.Helper()
		d, err := rdb.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	near := func(what string, got, want time.Duration) {
		t.Helper()
		if got > want || got < want-time.Minute {
			t.Fatalf("%s: TTL %v, want %v (less the test's own time)", what, got, want)
		}
	}

	for _, tt := range []struct {
		name   string
		retain time.Duration // Config.PrefRetention
		want   time.Duration
	}{
		{"default", 0, 365 * 24 * time.Hour},
		{"configured", 90 * 24 * time.Hour, 90 * 24 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{t: t}
			e.init(st, generous, func(c *Config) { c.PrefRetention = tt.retain })
			from := "+92300765432" + tt.name[:1]
			key := "khb:p:" + e.svc.SenderHash(from)
			e.mustSend(from, "URDU")
			near("after URDU", pttl(key), tt.want)
			// A message later renews the choice; the read is what renews it.
			if err := rdb.PExpire(ctx, key, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			if r := e.mustSend(from, "HELP"); r.Lang != khabardar.LangUrdu {
				t.Fatalf("reply in %s, want Urdu", r.Lang)
			}
			near("after a later message", pttl(key), tt.want)
		})
	}

	e := &env{t: t}
	e.init(st, generous)
	if replay, err := e.svc.Replayed(ctx, "twilio", testSID); err != nil || replay {
		t.Fatalf("Replayed = %v, %v", replay, err)
	}
	key := "khb:r:" + e.svc.message.Hex([]byte("twilio\x00"+testSID))
	near("a message's record", pttl(key), ReplayWindow)
	// A replay does not extend it.
	if err := rdb.PExpire(ctx, key, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if replay, err := e.svc.Replayed(ctx, "twilio", testSID); err != nil || !replay {
		t.Fatalf("Replayed = %v, %v", replay, err)
	}
	near("a message's record after a replay", pttl(key), time.Hour)
	var all []byte
	for k, v := range redistest.Dump(t, url) {
		all = append(append(append(all, k...), 0), v...)
	}
	scanForID(t, "Redis", all)
}

var (
	twilioSIDRE = regexp.MustCompile(`^(SM|MM)[0-9a-fA-F]{32}$`)
	kannelIDRE  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// FuzzMessageID checks the webhooks' message ID forms against their
// regular expressions, and that Replayed, on a real store, refuses exactly
// the IDs that are not 1 to 64 printable ASCII characters and answers the
// others once. Seeds: testdata/fuzz/FuzzMessageID.
func FuzzMessageID(f *testing.F) {
	for _, s := range []string{testSID, "MM" + testSID[2:], "AC" + testSID[2:], testSID[:33], testSID + "0",
		"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "3f2504e0-4f89-11d3-9a0c-0305e82c330", "3f2504e04f8911d39a0c0305e82c3301", "", "SM 1"} {
		f.Add(s)
	}
	e := newEnv(f, generous)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := ValidTwilioSID(id), twilioSIDRE.MatchString(id); got != want {
			t.Fatalf("ValidTwilioSID(%q) = %v, want %v", id, got, want)
		}
		if got, want := ValidKannelID(id), kannelIDRE.MatchString(id); got != want {
			t.Fatalf("ValidKannelID(%q) = %v, want %v", id, got, want)
		}
		printable := id != "" && len(id) <= maxMessageID && !strings.ContainsFunc(id, func(r rune) bool { return r < '!' || r > '~' })
		_, err := e.svc.Replayed(ctx, "fuzz", id) // the fuzzer repeats inputs: this may be a replay
		if !printable {
			wantCode(t, "Replayed", err, khabardar.EINVALID)
			return
		}
		if err != nil {
			t.Fatalf("Replayed(%q): %v", id, err)
		}
		if again, err := e.svc.Replayed(ctx, "fuzz", id); err != nil || !again {
			t.Fatalf("Replayed(%q) a second time = %v, %v; want a replay", id, again, err)
		}
	})
}
