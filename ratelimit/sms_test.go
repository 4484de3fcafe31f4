package ratelimit

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// senderHash stands in for hashing.Key.Keyed("sms-sender").Hex of a number.
func senderHash(n int) string { return fmt.Sprintf("%032x", 0x5e0de7+n) }

func TestSMSConfig(t *testing.T) {
	l := newTestLimiter(t, Config{})
	for c, want := range map[Class]int64{SMSSender: 10, SMSGateway: 36000} {
		if r := l.sms[c]; r.Limit != want || r.Period != time.Hour {
			t.Errorf("%s: %d per %v, want %d per hour", c, r.Limit, r.Period, want)
		}
	}
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"sender not a rate", Config{SMSSender: "ten-H"}},
		{"sender zero", Config{SMSSender: "0-H"}},
		{"gateway without a period", Config{SMSGateway: "36000"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, testIPKey)
			wantCode(t, "New", err, khabardar.EINVALID)
		})
	}
}

func TestSMSTake(t *testing.T) {
	l := newTestLimiter(t, Config{SMSSender: "3-H", SMSGateway: "5-H"})
	a, b := l.Sender(senderHash(1)), l.Sender(senderHash(2))
	gw := l.Gateway("twilio")
	for i := int64(1); i <= 4; i++ {
		d := take(t, l, SMSSender, a, 1)
		if d.Allowed != (i <= 3) || d.Limit != 3 || d.Scope != ScopeSender {
			t.Fatalf("sender message %d: %+v", i, d)
		}
	}
	if d := take(t, l, SMSSender, b, 1); !d.Allowed {
		t.Fatalf("another sender: %+v", d)
	}
	for i := int64(1); i <= 6; i++ {
		d := take(t, l, SMSGateway, gw, 1)
		if d.Allowed != (i <= 5) || d.Limit != 5 || d.Scope != ScopeGateway {
			t.Fatalf("gateway message %d: %+v", i, d)
		}
	}
	if d := take(t, l, SMSGateway, l.Gateway("kannel"), 1); !d.Allowed {
		t.Fatalf("another gateway: %+v", d)
	}
	// The SMS limits are their own: the sender's anonymous web limits are
	// untouched, and the other way round.
	if d := take(t, l, Evaluate, l.Anonymous(addr("203.0.113.5"), nil), 1); !d.Allowed {
		t.Fatalf("evaluate after SMS: %+v", d)
	}
}

func TestNotice(t *testing.T) {
	l := newTestLimiter(t, Config{SMSSender: "1-H", SMSGateway: "1-H"})
	a, b := l.Sender(senderHash(1)), l.Sender(senderHash(2))
	take(t, l, SMSSender, a, 1)
	refused := take(t, l, SMSSender, a, 1)
	steps := []struct {
		name  string
		class Class
		id    Identity
		first bool
	}{
		{"first refusal", SMSSender, a, true},
		{"second", SMSSender, a, false},
		{"third", SMSSender, a, false},
		{"another sender", SMSSender, b, true},
		{"the gateway's refusal of a sender is counted apart", SMSGateway, a, true},
		{"and once", SMSGateway, a, false},
	}
	for _, st := range steps {
		first, err := l.Notice(ctx, st.class, st.id, refused)
		if err != nil || first != st.first {
			t.Fatalf("%s: Notice = %v, %v; want %v", st.name, first, err, st.first)
		}
	}
}

// TestNoticeWindow checks that the notice counter ends with the window that
// refused, so the next window's first refusal is told again.
func TestNoticeWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a window to end")
	}
	l := newTestLimiter(t, Config{SMSSender: "1-S"})
	a := l.Sender(senderHash(1))
	for window := range 2 {
		take(t, l, SMSSender, a, 1)
		d := take(t, l, SMSSender, a, 1)
		if d.Allowed {
			t.Fatalf("window %d: past the limit: %+v", window, d)
		}
		for i, want := range []bool{true, false} {
			if first, err := l.Notice(ctx, SMSSender, a, d); err != nil || first != want {
				t.Fatalf("window %d, refusal %d: Notice = %v, %v; want %v", window, i, first, err, want)
			}
		}
		time.Sleep(d.RetryAfter(time.Now()) + 50*time.Millisecond)
	}
}

func TestSMSErrors(t *testing.T) {
	l := newTestLimiter(t, Config{})
	sender, gw, client := l.Sender(senderHash(1)), l.Gateway("twilio"), l.Anonymous(addr("203.0.113.5"), nil)
	tests := []struct {
		name  string
		class Class
		id    Identity
		code  string
	}{
		{"a raw number as sender", SMSSender, l.Sender("+923001234567"), khabardar.EINTERNAL},
		{"digits of a number as sender", SMSSender, l.Sender("923001234567"), khabardar.EINTERNAL},
		{"upper-case hash", SMSSender, l.Sender(strings.ToUpper(senderHash(1))), khabardar.EINTERNAL},
		{"gateway in capitals", SMSGateway, l.Gateway("Twilio"), khabardar.EINTERNAL},
		{"gateway empty", SMSGateway, l.Gateway(""), khabardar.EINTERNAL},
		{"gateway too long", SMSGateway, l.Gateway(strings.Repeat("g", 33)), khabardar.EINTERNAL},
		{"sender class, gateway identity", SMSSender, gw, khabardar.EINTERNAL},
		{"gateway class, sender identity", SMSGateway, sender, khabardar.EINTERNAL},
		{"sender class, web client", SMSSender, client, khabardar.EINTERNAL},
		{"evaluate, sender identity", Evaluate, sender, khabardar.EINTERNAL},
		{"bucket, gateway identity", Bucket, gw, khabardar.EINTERNAL},
		{"zero count", SMSSender, sender, khabardar.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := int64(1)
			if tt.code == khabardar.EINVALID {
				n = 0
			}
			d, err := l.Take(ctx, tt.class, tt.id, n)
			wantCode(t, "Take", err, tt.code)
			if d.Allowed {
				t.Fatal("allowed with an error")
			}
			if msg := khabardar.ErrorMessage(err); strings.Contains(msg, "923001234567") {
				t.Fatalf("the error names the number: %s", msg)
			}
		})
	}
	refused := Decision{Reset: time.Now().Add(time.Hour)}
	for _, tt := range []struct {
		name  string
		class Class
		id    Identity
		d     Decision
	}{
		{"notice of an allowed decision", SMSSender, sender, Decision{Allowed: true}},
		{"notice for a raw number", SMSSender, l.Sender("+923001234567"), refused},
		{"notice without identity", SMSSender, Identity{}, refused},
		{"notice of an unknown class", "admin", sender, refused},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first, err := l.Notice(ctx, tt.class, tt.id, tt.d)
			wantCode(t, "Notice", err, khabardar.EINTERNAL)
			if first {
				t.Fatal("first with an error")
			}
		})
	}
	for name, ok := range map[string]bool{"twilio": true, "kannel": true, "sms-sim": true, "a": true, strings.Repeat("g", 32): true,
		"": false, "-x": false, "Twilio": false, "my gw": false, "kännel": false, strings.Repeat("g", 33): false} {
		if ValidGatewayName(name) != ok {
			t.Errorf("ValidGatewayName(%q) = %v, want %v", name, !ok, ok)
		}
	}
}

// TestSMSRedis checks the SMS counters' keys on Redis: keyed by the
// sender's hash and the gateway's name, expiring, and failing closed when
// Redis is gone.
func TestSMSRedis(t *testing.T) {
	url := redistest.URL(t)
	rdb := newRedisClient(t, url)
	l := newTestLimiter(t, Config{Redis: rdb, SMSSender: "1-H"})
	a := l.Sender(senderHash(1))
	take(t, l, SMSSender, a, 1)
	d := take(t, l, SMSSender, a, 1)
	if first, err := l.Notice(ctx, SMSSender, a, d); err != nil || !first {
		t.Fatalf("Notice = %v, %v", first, err)
	}
	take(t, l, SMSGateway, l.Gateway("twilio"), 1)
	keyForm := regexp.MustCompile(`^khb:rl:(sms:sender:[0-9a-f]{32}|sms-gateway:gateway:twilio|notice:sms:sender:[0-9a-f]{32})$`)
	dump := redistest.Dump(t, url)
	for k := range dump {
		if !keyForm.MatchString(k) {
			t.Errorf("key %q is not an SMS counter key", k)
		}
		// The notice's window ends at the refusal's Reset, rounded up to
		// the second.
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour+time.Second {
			t.Errorf("key %q has TTL %v", k, ttl)
		}
	}
	if len(dump) != 3 {
		t.Errorf("%d keys, want the sender's, its notice's and the gateway's", len(dump))
	}

	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1
	gone := redis.NewClient(opt)
	l2 := newTestLimiter(t, Config{Redis: gone})
	gone.Close()
	_, err = l2.Take(ctx, SMSSender, l2.Sender(senderHash(1)), 1)
	wantCode(t, "Take with Redis gone", err, khabardar.EUNAVAILABLE)
	_, err = l2.Notice(ctx, SMSSender, l2.Sender(senderHash(1)), d)
	wantCode(t, "Notice with Redis gone", err, khabardar.EUNAVAILABLE)
}
