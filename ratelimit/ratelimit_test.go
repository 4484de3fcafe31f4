package ratelimit

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
)

var testIPKey = func() *hashing.Keyed {
	k, err := hashing.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k.Keyed("ip")
}()

func testAPIKey(id, rate string) *khabardar.APIKey {
	return &khabardar.APIKey{ID: id, Name: "test", Hash: []byte{1}, Rate: rate, MaxBatch: 100, Created: time.Now()}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := khabardar.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

var ctx = context.Background()

// take calls Take and fails the test on an error.
func take(t *testing.T, l *Limiter, c Class, id Identity, n int64) Decision {
	t.Helper()
	d, err := l.Take(ctx, c, id, n)
	if err != nil {
		t.Fatalf("Take(%s, %d): %v", c, n, err)
	}
	return d
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		code string
	}{
		{"defaults", DefaultConfig(), ""},
		{"empty takes defaults", Config{}, ""},
		{"per minute and second", Config{Evaluate: "10-M", Bucket: "1-S", Listing: "5-m", GlobalEvaluate: "100-d"}, ""},
		{"no period", Config{Evaluate: "1000"}, khabardar.EINVALID},
		{"unknown period", Config{Bucket: "1000-W"}, khabardar.EINVALID},
		{"not a number", Config{Listing: "many-H"}, khabardar.EINVALID},
		{"zero", Config{GlobalEvaluate: "0-D"}, khabardar.EINVALID},
		{"negative", Config{Evaluate: "-5-H"}, khabardar.EINVALID},
		{"ipv6 networks", Config{Evaluate56: "10-M", Evaluate48: "1000-D"}, ""},
		{"bad /56 rate", Config{Evaluate56: "lots"}, khabardar.EINVALID},
		{"zero /48 rate", Config{Evaluate48: "0-H"}, khabardar.EINVALID},
		{"bad reserve rate", Config{ReserveEvaluate: "6"}, khabardar.EINVALID},
		{"reserve off", Config{GlobalReservePercent: -1}, ""},
		{"reserve 90 %", Config{GlobalReservePercent: 90}, ""},
		{"reserve over 90 %", Config{GlobalReservePercent: 91}, khabardar.EINVALID},
		{"negative reserve burst", Config{ReserveBurst: -1}, khabardar.EINVALID},
		{"invalid proxy prefix", Config{TrustedProxies: []netip.Prefix{{}}}, khabardar.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, testIPKey)
			wantCode(t, "New", err, tt.code)
		})
	}
	_, err := New(DefaultConfig(), nil)
	wantCode(t, "New without an ip key", err, khabardar.EINVALID)
}

func TestDefaultConfig(t *testing.T) {
	l := newTestLimiter(t, Config{})
	want := map[Class]int64{Evaluate: 2000, Bucket: 3000, Listing: 1000}
	for c, n := range want {
		if r := l.anon[c]; r.Limit != n || r.Period != time.Hour {
			t.Errorf("%s: %d per %v, want %d per hour", c, r.Limit, r.Period, n)
		}
	}
	// The ceiling: 2,000,000 a day is one every 43.2 ms, 20 % of it held
	// back for the reserve.
	if p := l.v4; p.limit != 2000000 || p.global.burst != 2000000 || p.global.t != 43200 || p.mainTau != 1600000*43200 {
		t.Errorf("global: %+v", p)
	}
	// An address: 2000 an hour; its reserve allowance 24 a day (one an
	// hour), 6 at once; a /56 twice and a /48 four times as much.
	want6 := []gcra{{2000, 1800000, 2000 * 1800000}, {4000, 900000, 4000 * 900000}, {8000, 450000, 8000 * 450000}}
	wantR := []gcra{{6, 3600000000, 6 * 3600000000}, {12, 1800000000, 12 * 1800000000}, {24, 900000000, 24 * 900000000}}
	for i := range want6 {
		if l.v6.own[i] != want6[i] || l.v6.reserve[i] != wantR[i] {
			t.Errorf("ipv6 counter %d: %+v, reserve %+v; want %+v, %+v", i, l.v6.own[i], l.v6.reserve[i], want6[i], wantR[i])
		}
	}
	if len(l.v4.own) != 1 || l.v4.own[0] != want6[0] || l.v4.reserve[0] != wantR[0] {
		t.Errorf("ipv4: %+v, reserve %+v", l.v4.own, l.v4.reserve)
	}
	if l.keyed[Bucket].Limit != KeyFactor*3000 || l.keyed[Listing].Limit != KeyFactor*1000 {
		t.Errorf("key limits %+v", l.keyed)
	}
}

func TestTake(t *testing.T) {
	l := newTestLimiter(t, Config{Evaluate: "5-H", Bucket: "3-H", Listing: "1-H", GlobalEvaluate: "1000-D"})
	a := l.Anonymous(addr("203.0.113.5"), nil)
	start := time.Now()
	d := take(t, l, Evaluate, a, 2)
	if !d.Allowed || d.Limit != 5 || d.Remaining != 3 || d.Scope != ScopeClient {
		t.Fatalf("first take: %+v", d)
	}
	// 5 an hour is one every 12 minutes: 2 are back in 24.
	if d.Reset.Before(start.Add(24*time.Minute)) || d.Reset.After(time.Now().Add(24*time.Minute+time.Second)) {
		t.Fatalf("Reset %v, want 24 minutes from now", d.Reset)
	}
	if d := take(t, l, Evaluate, a, 3); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("take up to the limit: %+v", d)
	}
	d = take(t, l, Evaluate, a, 1)
	if d.Allowed || d.Remaining != 0 || d.Limit != 5 || d.Scope != ScopeClient {
		t.Fatalf("take past the limit: %+v", d)
	}
	if ra := d.RetryAfter(time.Now()); ra < 12*time.Minute-time.Second || ra > 12*time.Minute+time.Second || ra%time.Second != 0 {
		t.Fatalf("RetryAfter %v, want the 12 minutes one element takes to come back, in whole seconds", ra)
	}
	// Another client and the other classes have counters of their own.
	if d := take(t, l, Evaluate, l.Anonymous(addr("203.0.113.6"), nil), 5); !d.Allowed {
		t.Fatalf("another client: %+v", d)
	}
	for c, limit := range map[Class]int64{Bucket: 3, Listing: 1} {
		for i := int64(1); i <= limit+1; i++ {
			d := take(t, l, c, a, 1)
			if d.Allowed != (i <= limit) || d.Limit != limit {
				t.Fatalf("%s take %d of limit %d: %+v", c, i, limit, d)
			}
		}
	}
	// A batch bigger than what is left is refused whole.
	b := l.Anonymous(addr("203.0.113.7"), nil)
	if d := take(t, l, Evaluate, b, 6); d.Allowed {
		t.Fatalf("a batch over the limit was allowed: %+v", d)
	}
}

func TestTakeErrors(t *testing.T) {
	l := newTestLimiter(t, Config{})
	a := l.Anonymous(addr("203.0.113.5"), nil)
	tests := []struct {
		name  string
		class Class
		id    Identity
		n     int64
		code  string
	}{
		{"zero count", Evaluate, a, 0, khabardar.EINVALID},
		{"negative count", Bucket, a, -1, khabardar.EINVALID},
		{"unknown class", "admin", a, 1, khabardar.EINTERNAL},
		{"zero identity", Evaluate, Identity{}, 1, khabardar.EINTERNAL},
		{"nil key", Evaluate, l.ForKey(nil), 1, khabardar.EINTERNAL},
		{"key with a bad rate", Evaluate, l.ForKey(testAPIKey("ak_bad", "lots")), 1, khabardar.EINTERNAL},
		{"key with a zero rate", Evaluate, l.ForKey(testAPIKey("ak_zero", "0-H")), 1, khabardar.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := l.Take(ctx, tt.class, tt.id, tt.n)
			wantCode(t, "Take", err, tt.code)
			if d.Allowed {
				t.Fatal("allowed with an error")
			}
		})
	}
}

// TestGlobal checks the global ceiling (without a reserve: see
// TestReserve): it counts anonymous evaluations of all clients, is not
// charged for evaluations a client's own limit refuses, and does not apply
// to API keys.
func TestGlobal(t *testing.T) {
	l := newTestLimiter(t, Config{Evaluate: "3-H", GlobalEvaluate: "5-D", GlobalReservePercent: -1})
	a := l.Anonymous(addr("203.0.113.1"), nil)
	b := l.Anonymous(addr("203.0.113.2"), nil)
	c := l.Anonymous(addr("2001:db8::1"), nil)
	k := l.ForKey(testAPIKey("ak_1", "100-H"))

	steps := []struct {
		name    string
		id      Identity
		n       int64
		allowed bool
		scope   string
		remain  int64
	}{
		{"a: client 1 of 3 is tighter than global 1 of 5", a, 1, true, ScopeClient, 2},
		{"a: client 3 of 3, global 3 of 5", a, 2, true, ScopeClient, 0},
		{"a over its limit: refused, global not charged", a, 1, false, ScopeClient, 0},
		{"a again: still not charged", a, 2, false, ScopeClient, 0},
		{"b: global 4 of 5 is tighter than client 1 of 3", b, 1, true, ScopeGlobal, 1},
		{"api key: no global ceiling", k, 50, true, ScopeKey, 50},
		{"b: global 5 of 5", b, 1, true, ScopeGlobal, 0},
		{"c: refused by the ceiling", c, 1, false, ScopeGlobal, 0},
		{"api key still allowed", k, 50, true, ScopeKey, 0},
		{"api key over its own rate", k, 1, false, ScopeKey, 0},
	}
	for _, s := range steps {
		d := take(t, l, Evaluate, s.id, s.n)
		if d.Allowed != s.allowed || d.Scope != s.scope || d.Remaining != s.remain {
			t.Fatalf("%s: %+v, want allowed %v scope %s remaining %d", s.name, d, s.allowed, s.scope, s.remain)
		}
	}
	// Buckets and listings have no global ceiling.
	if d := take(t, l, Bucket, c, 1); !d.Allowed || d.Scope != ScopeClient {
		t.Fatalf("bucket after the ceiling: %+v", d)
	}
}

func TestForKey(t *testing.T) {
	l := newTestLimiter(t, Config{Evaluate: "1-H", Bucket: "2-H", Listing: "3-H"})
	k := l.ForKey(testAPIKey("ak_1", "7-M"))
	d := take(t, l, Evaluate, k, 7)
	if !d.Allowed || d.Limit != 7 || d.Remaining != 0 || d.Scope != ScopeKey || d.Reset.After(time.Now().Add(time.Minute+time.Second)) {
		t.Fatalf("evaluate with a key: %+v", d)
	}
	if d := take(t, l, Evaluate, k, 1); d.Allowed {
		t.Fatalf("past the key's rate: %+v", d)
	}
	if d := take(t, l, Evaluate, l.ForKey(testAPIKey("ak_2", "7-M")), 7); !d.Allowed {
		t.Fatalf("another key shares the counter: %+v", d)
	}
	for c, limit := range map[Class]int64{Bucket: 2 * KeyFactor, Listing: 3 * KeyFactor} {
		if d := take(t, l, c, k, limit); !d.Allowed || d.Limit != limit {
			t.Fatalf("%s with a key: %+v, want limit %d", c, d, limit)
		}
		if d := take(t, l, c, k, 1); d.Allowed {
			t.Fatalf("%s past the key's limit: %+v", c, d)
		}
	}
}

func TestWindowResets(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a window to end")
	}
	l := newTestLimiter(t, Config{Evaluate: "2-S"})
	a := l.Anonymous(addr("203.0.113.5"), nil)
	take(t, l, Evaluate, a, 2)
	d := take(t, l, Evaluate, a, 1)
	if d.Allowed {
		t.Fatalf("past the limit: %+v", d)
	}
	time.Sleep(d.RetryAfter(time.Now()))
	if d := take(t, l, Evaluate, a, 2); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after RetryAfter: %+v", d)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		d    Decision
		want time.Duration
	}{
		{"allowed", Decision{Allowed: true, Reset: now.Add(time.Hour)}, 0},
		{"whole seconds", Decision{Reset: now.Add(90 * time.Second)}, 90 * time.Second},
		{"rounds up", Decision{Reset: now.Add(90*time.Second + time.Millisecond)}, 91 * time.Second},
		{"under a second", Decision{Reset: now.Add(300 * time.Millisecond)}, time.Second},
		{"reset passed", Decision{Reset: now.Add(-time.Minute)}, time.Second},
		{"zero reset", Decision{}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.RetryAfter(now); got != tt.want {
				t.Fatalf("RetryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIdentityPrintsNoAddress: however an Identity is printed, the client's
// address is not in it, nor its /56, which it keeps until an evaluation
// hashes it.
func TestIdentityPrintsNoAddress(t *testing.T) {
	l := newTestLimiter(t, Config{})
	a := netip.MustParseAddr("2001:db8:abcd:ef12:3:4:5:6")
	id := l.Anonymous(a, nil)
	b := a.As16()
	for _, form := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(form, id)
		for _, leak := range []string{a.String(), "2001:db8:abcd", hex.EncodeToString(b[:7]), string(b[:7]), fmt.Sprint(b[:7])[1:12]} {
			if strings.Contains(out, leak) {
				t.Errorf("%s of an Identity holds %q: %s", form, leak, out)
			}
		}
	}
}
