package ratelimit

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// The simulations below put the real Limiter (in-memory counters, a fake
// clock) under attack: attacker addresses take all they are allowed, in
// batches of the anonymous maximum of 16 halved down to 1 when refused, at
// every 10-minute step, and a citizen on an address of their own then makes
// 3 checks (3 one-element evaluations). The attackers always move first
// within a step, which is the worst case for the citizen. The package doc
// derives the figures these confirm.

// simStep is how often attackers come back. Between steps the counters
// recover; the attackers then take all of it again.
const simStep = 10 * time.Minute

// simulation is one attack on one Limiter.
type simulation struct {
	l        *Limiter
	clk      *fakeClock
	attack   []Identity
	start    []time.Time // when each attacker identity joins
	citizens int
}

// simStart is when every simulation begins.
var simStart = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)

// newSimulation sets up an attack from the given addresses. Groups of
// group consecutive addresses (one attacker's /48, say) join together, and
// the groups join over the first hour, one sixth at each step, as an
// attacker spreading its draws over time would; all have joined before the
// first citizen comes.
func newSimulation(t testing.TB, cfg Config, attack []netip.Addr, group int) *simulation {
	t.Helper()
	s := &simulation{l: newTestLimiter(t, cfg), clk: &fakeClock{t: simStart}}
	setClock(s.l, s.clk)
	for i, a := range attack {
		s.attack = append(s.attack, s.l.Anonymous(a, nil))
		s.start = append(s.start, simStart.Add(time.Duration(i/group%6)*simStep))
	}
	return s
}

// run lets the attackers take everything they can at every step up to and
// including the one at until (since the simulation began).
func (s *simulation) run(t *testing.T, until time.Duration) {
	t.Helper()
	for ; ; s.clk.t = s.clk.t.Add(simStep) {
		for i, id := range s.attack {
			if s.clk.t.Before(s.start[i]) {
				continue
			}
			for n := int64(16); n >= 1; {
				if take(t, s.l, Evaluate, id, n).Allowed {
					continue
				}
				n /= 2
			}
		}
		if !s.clk.t.Before(simStart.Add(until)) {
			return
		}
	}
}

// citizen is a new citizen, on an address of their own, making 3 checks:
// whether all 3 were allowed, and the scope that refused one if not.
func (s *simulation) citizen(t *testing.T) (bool, string) {
	t.Helper()
	s.citizens++
	id := s.l.Anonymous(netip.AddrFrom4([4]byte{198, 51, byte(s.citizens >> 8), byte(s.citizens)}), nil)
	for range 3 {
		if d := take(t, s.l, Evaluate, id, 1); !d.Allowed {
			return false, d.Scope
		}
	}
	return true, ""
}

// ipv4Attack returns n IPv4 addresses in distinct /24s.
func ipv4Attack(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{100, byte(64 + i>>16), byte(i >> 8), byte(i)})
	}
	return out
}

// ipv6Attack returns perBlock /64s in each of blocks /48s, spread over
// /56s as unevenly as helps the attacker (see the package doc): 2 /64s in
// each /56 of a /48.
func ipv6Attack(blocks, perBlock int) []netip.Addr {
	var out []netip.Addr
	for b := range blocks {
		for i := range perBlock {
			var a [16]byte
			a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
			a[4], a[5] = byte(b>>8), byte(b)
			a[6] = byte(i / 2) // the /56
			a[7] = byte(i % 2) // the /64 within it
			a[15] = 1
			out = append(out, netip.AddrFrom16(a))
		}
	}
	return out
}

// ipv6Block returns n consecutive /64s of one block, as one /54 holds 1,024.
func ipv6Block(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0x77, 0x00, byte(i >> 8), byte(i), 15: 1})
	}
	return out
}

// TestCeilingUnderAttack is the figure of the package doc and the README:
// how many attacker addresses it takes to deny a citizen who makes 3
// checks. With fixed windows and no reserve, 1,000 IPv4 addresses (or one
// IPv6 /54) at full rate used up the day's 2,000,000 in an hour and every
// citizen was refused for the rest of the day. Now the citizen is served
// throughout a day of that attack; the scaled cases (a ceiling of 20,000 a
// day: every address count divides by 100) find the new threshold, where
// the attackers hold the reserve full, and show that service returns as
// soon as the ceiling has recovered 3 elements once they stop.
func TestCeilingUnderAttack(t *testing.T) {
	scaled := Config{GlobalEvaluate: "20000-D"}
	tests := []struct {
		name   string
		cfg    Config
		attack []netip.Addr
		group  int  // addresses that join together
		served bool // the citizen, at every check
	}{
		{"1,000 IPv4 addresses", DefaultConfig(), ipv4Attack(1000), 1, true},
		{"one IPv6 /54: 1,024 /64s", DefaultConfig(), ipv6Block(1024), 1024, true},
		// 20,000 / 24 a day from each address's reserve allowance = 833.3
		{"scaled: 750 IPv4 addresses, 0.9 of the threshold", scaled, ipv4Attack(750), 1, true},
		{"scaled: 834 IPv4 addresses, the threshold", scaled, ipv4Attack(834), 1, false},
		// 20,000 / 96 a day from each /48's = 208.3; 4 /64s fill a /48's share
		{"scaled: 188 /48s, 0.9 of the threshold", scaled, ipv6Attack(188, 4), 4, true},
		{"scaled: 209 /48s, the threshold", scaled, ipv6Attack(209, 4), 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && len(tt.attack) > 100 {
				t.Skip("a simulated day of attack")
			}
			t.Parallel()
			s := newSimulation(t, tt.cfg, tt.attack, tt.group)
			var log []string
			for _, at := range []time.Duration{time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 23 * time.Hour, 26 * time.Hour} {
				s.run(t, at)
				ok, scope := s.citizen(t)
				log = append(log, fmt.Sprintf("%v: served %v %s", at, ok, scope))
				if ok != tt.served {
					t.Errorf("a citizen's 3 checks after %v of attack: served %v (refused by %q), want %v", at, ok, scope, tt.served)
				}
			}
			// The attack stops: the citizen is served as soon as the ceiling
			// has recovered 3 elements (3 × 43.2 ms at the default rate).
			r, err := ParseRate(tt.cfg.GlobalEvaluate)
			if err != nil {
				t.Fatal(err)
			}
			wait := 3 * r.Period / time.Duration(r.Limit)
			s.clk.t = s.clk.t.Add(wait)
			if ok, scope := s.citizen(t); !ok {
				t.Errorf("%v after the attack stopped: refused by %q", wait, scope)
			}
			t.Log(log)
		})
	}
}
