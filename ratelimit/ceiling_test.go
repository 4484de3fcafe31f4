package ratelimit

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
)

// clockedLimiter is a limiter on a fake clock.
func clockedLimiter(t *testing.T, cfg Config) (*Limiter, *fakeClock) {
	t.Helper()
	l := newTestLimiter(t, cfg)
	c := &fakeClock{t: time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC)}
	setClock(l, c)
	return l, c
}

// step is one Take in a scripted sequence.
type step struct {
	name    string
	after   time.Duration // the clock moves this much first
	id      Identity
	n       int64
	allowed bool
	scope   string
	remain  int64
}

func runSteps(t *testing.T, l *Limiter, c *fakeClock, steps []step) {
	t.Helper()
	for _, s := range steps {
		c.t = c.t.Add(s.after)
		d := take(t, l, Evaluate, s.id, s.n)
		if d.Allowed != s.allowed || d.Scope != s.scope || d.Remaining != s.remain {
			t.Fatalf("%s: %+v, want allowed %v scope %s remaining %d", s.name, d, s.allowed, s.scope, s.remain)
		}
	}
}

func TestGCRARates(t *testing.T) {
	tests := []struct {
		rate string
		want gcra
	}{
		{"2000-H", gcra{2000, 1800000, 3600000000}},
		{"2000000-D", gcra{2000000, 43200, 86400000000}},
		{"7-M", gcra{7, 8571429, 7 * 8571429}}, // rounded up: never faster than the rate
		{"1000000000-H", gcra{1000000000, 4, 4000000000}},
		{"100000000-S", gcra{100000000, 1, 100000000}},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.rate)
		if err != nil {
			t.Fatal(err)
		}
		if g := newGCRA(r); g != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.rate, g, tt.want)
		}
	}
	if g := burstGCRA(limiter.Rate{Limit: 24, Period: 24 * time.Hour}, 6).scaled(4); g != (gcra{24, 900000000, 24 * 900000000}) {
		t.Errorf("scaled: %+v", g)
	}
}

// TestSliding checks that a limit recovers continuously: no window ends,
// nothing comes back all at once, and a refusal costs nothing.
func TestSliding(t *testing.T) {
	l, c := clockedLimiter(t, Config{Evaluate: "4-H", GlobalEvaluate: "1000-D"})
	a := l.Anonymous(addr("203.0.113.5"), nil)
	start := c.t
	d := take(t, l, Evaluate, a, 4)
	if !d.Allowed || d.Remaining != 0 || !d.Reset.Equal(start.Add(time.Hour)) {
		t.Fatalf("4 of 4: %+v, want Reset when all 4 are back, in an hour", d)
	}
	for range 100 { // hammering while refused does not push recovery back
		d = take(t, l, Evaluate, a, 1)
	}
	if d.Allowed || d.Scope != ScopeClient || !d.Reset.Equal(start.Add(15*time.Minute)) {
		t.Fatalf("refused: %+v, want Reset when one is back, in 15 minutes", d)
	}
	runSteps(t, l, c, []step{
		{"14 minutes on: nothing back yet", 14 * time.Minute, a, 1, false, ScopeClient, 0},
		{"15 minutes: one is back", time.Minute, a, 1, true, ScopeClient, 0},
		{"not two", 0, a, 1, false, ScopeClient, 0},
		{"half an hour on: two more", 30 * time.Minute, a, 2, true, ScopeClient, 0},
		{"a long pause: the whole burst", 5 * time.Hour, a, 4, true, ScopeClient, 0},
	})
}

// TestGlobalRecovers: an exhausted ceiling lets one more evaluation through
// every period/limit, rather than everything at the end of a window.
func TestGlobalRecovers(t *testing.T) {
	l, c := clockedLimiter(t, Config{Evaluate: "100-H", GlobalEvaluate: "24-D", GlobalReservePercent: -1})
	ids := []Identity{l.Anonymous(addr("203.0.113.1"), nil), l.Anonymous(addr("203.0.113.2"), nil)}
	runSteps(t, l, c, []step{
		{"the whole day's 24 at once", 0, ids[0], 24, true, ScopeGlobal, 0},
		{"another client: refused", 0, ids[1], 1, false, ScopeGlobal, 0},
		{"59 minutes on: still refused", 59 * time.Minute, ids[1], 1, false, ScopeGlobal, 0},
		{"an hour on: one is back", time.Minute, ids[1], 1, true, ScopeGlobal, 0},
		{"only one", 0, ids[0], 1, false, ScopeGlobal, 0},
		{"6 hours later, 6 more", 6 * time.Hour, ids[0], 6, true, ScopeGlobal, 0},
	})
}

// TestReserve checks the reserve: once the main part of the ceiling is
// used up, each address may take its own small allowance from the rest, so
// that an address at full rate gets only that, and a citizen's few checks
// still go through.
func TestReserve(t *testing.T) {
	// A ceiling of 100, 20 of it the reserve; 6 a day from it per address,
	// 3 at once.
	l, c := clockedLimiter(t, Config{Evaluate: "1000-H", GlobalEvaluate: "100-D", ReserveEvaluate: "6-D", ReserveBurst: 3})
	heavy := l.Anonymous(addr("203.0.113.66"), nil)
	citizens := []Identity{l.Anonymous(addr("198.51.100.1"), nil), l.Anonymous(addr("198.51.100.2"), nil)}
	runSteps(t, l, c, []step{
		{"the main part, 80", 0, heavy, 80, true, ScopeGlobal, 0},
		{"the heavy address from the reserve", 0, heavy, 1, true, ScopeGlobal, 2},
		{"more than its allowance left: refused whole", 0, heavy, 3, false, ScopeGlobal, 0},
		{"the rest of its allowance", 0, heavy, 2, true, ScopeGlobal, 0},
		{"and no more", 0, heavy, 1, false, ScopeGlobal, 0},
		{"a citizen's 3 checks", 0, citizens[0], 3, true, ScopeGlobal, 0},
		{"another citizen's", 0, citizens[1], 1, true, ScopeGlobal, 2},
		// An hour brings back 100/24 = 4.2 of the ceiling, still all
		// within the reserve, but none of an allowance of one per 4 hours.
		{"an hour on: the heavy address's allowance has nothing", time.Hour, heavy, 1, false, ScopeGlobal, 0},
		{"a third citizen gets what came back", 0, l.Anonymous(addr("198.51.100.3"), nil), 3, true, ScopeGlobal, 0},
	})
	// 3 hours later 12.5 more have come back: the ceiling is below the
	// reserve's line again, and anyone may use the main part.
	c.t = c.t.Add(3 * time.Hour)
	if d := take(t, l, Evaluate, heavy, 6); !d.Allowed {
		t.Fatalf("the main part again: %+v", d)
	}
	// Without a reserve the heavy address gets everything.
	l2, _ := clockedLimiter(t, Config{Evaluate: "1000-H", GlobalEvaluate: "100-D", GlobalReservePercent: -1})
	if d := take(t, l2, Evaluate, l2.Anonymous(addr("203.0.113.66"), nil), 100); !d.Allowed {
		t.Fatalf("no reserve: %+v", d)
	}
	if d := take(t, l2, Evaluate, l2.Anonymous(addr("198.51.100.1"), nil), 1); d.Allowed || d.Scope != ScopeGlobal {
		t.Fatalf("no reserve, a citizen: %+v", d)
	}
}

// TestNetworks checks the IPv6 aggregates: a /56 and a /48 are limited as a
// whole, however many /64s they hold, and a request one of them refuses is
// charged to none.
func TestNetworks(t *testing.T) {
	l, c := clockedLimiter(t, Config{Evaluate: "2-H", Evaluate56: "3-H", Evaluate48: "4-H", GlobalEvaluate: "1000-D"})
	id := func(s string) Identity { return l.Anonymous(addr(s), nil) }
	a1 := id("2001:db8:1:100::1")     // a /64 of the /56 2001:db8:1:100::/56
	a1b := id("2001:db8:1:100::ffff") // the same /64
	a2 := id("2001:db8:1:101::1")     // another /64 of that /56
	a3 := id("2001:db8:1:200::1")     // another /56 of the /48 2001:db8:1::/48
	a4 := id("2001:db8:1:300::1")     // a third /56 of it
	b1 := id("2001:db8:2:100::1")     // another /48
	runSteps(t, l, c, []step{
		{"a /64: 2 of 2, /56 2 of 3, /48 2 of 4", 0, a1, 2, true, ScopeClient, 0},
		{"the same /64, another address", 0, a1b, 1, false, ScopeClient, 0},
		{"another /64 of the /56: its 3rd", 0, a2, 1, true, ScopeNetwork, 0},
		{"that /64 again: the /56 refuses", 0, a2, 1, false, ScopeNetwork, 0},
		{"another /56 of the /48: the /48's 4th", 0, a3, 1, true, ScopeNetwork, 0},
		{"a third /56: the /48 refuses", 0, a4, 1, false, ScopeNetwork, 0},
		{"another /48", 0, b1, 2, true, ScopeClient, 0},
	})
	if d := take(t, l, Evaluate, a4, 1); d.Limit != 4 || !d.Reset.Equal(c.t.Add(15*time.Minute)) {
		t.Fatalf("the /48's refusal: %+v, want its limit 4 and Reset in 15 minutes", d)
	}
	// An hour on, everything is back; a4's refused requests were charged to
	// nothing, so its /64 and /56 have all of theirs.
	runSteps(t, l, c, []step{
		{"an hour on, a4: its /64's whole 2", time.Hour, a4, 2, true, ScopeClient, 0},
		{"a3: the /48's other 2", 0, a3, 2, true, ScopeClient, 0}, // its /64 and the /48 both 0: the narrower is reported
	})
	// An IPv4 client has none of these.
	if d := take(t, l, Evaluate, id("203.0.113.9"), 2); !d.Allowed || d.Scope != ScopeClient || d.Limit != 2 {
		t.Fatalf("ipv4: %+v", d)
	}
}

// TestNetworkReserve: the reserve allowances of a /56 and a /48 are the
// address's in proportion to their limits, so 65,536 /64s of one /48 draw
// on the reserve as 4 addresses do, not 65,536.
func TestNetworkReserve(t *testing.T) {
	// Default address and network limits; a ceiling of 1000 with 200 in
	// reserve, of which an address may take 2 at once, a /56 4 and a /48 8.
	l, _ := clockedLimiter(t, Config{GlobalEvaluate: "1000-D", ReserveEvaluate: "6-D", ReserveBurst: 2})
	if d := take(t, l, Evaluate, l.Anonymous(addr("100.64.0.1"), nil), 800); !d.Allowed {
		t.Fatalf("the main part: %+v", d)
	}
	// 64 /64s of one /48, over 8 of its /56s, each try 2.
	var got int64
	for i := range 64 {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 9, byte(i % 8), byte(i), 15: 1})
		if take(t, l, Evaluate, l.Anonymous(a, nil), 2).Allowed {
			got += 2
		}
	}
	if got != 8 {
		t.Fatalf("64 /64s of one /48 took %d from the reserve, want the /48's 8", got)
	}
	// Another /48 has an allowance of its own.
	if d := take(t, l, Evaluate, l.Anonymous(addr("2001:db8:a::1"), nil), 2); !d.Allowed {
		t.Fatalf("another /48: %+v", d)
	}
}

// TestMemSweep: in-memory counters that have drained are dropped, so
// memory holds only the clients of about the last day.
func TestMemSweep(t *testing.T) {
	l, c := clockedLimiter(t, Config{})
	for i := range 100 {
		take(t, l, Evaluate, l.Anonymous(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), nil), 1)
	}
	m := l.counters.(*memCounters)
	if len(m.tats) != 101 {
		t.Fatalf("%d counters, want 100 clients and the ceiling", len(m.tats))
	}
	c.t = c.t.Add(2 * time.Minute) // the clients' counters have drained (1.8 s each); the ceiling's has too
	take(t, l, Evaluate, l.Anonymous(addr("198.51.100.1"), nil), 1)
	if len(m.tats) != 2 {
		t.Fatalf("%d counters after they drained, want the new client's and the ceiling's", len(m.tats))
	}
}
