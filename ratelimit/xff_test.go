package ratelimit

import (
	"net/netip"
	"strings"
	"testing"
)

// testTrusted are the proxies the XFF tests trust: a load balancer subnet,
// one IPv6 proxy network and one IPv4 proxy given in IPv4-mapped form.
var testTrusted = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
	netip.MustParsePrefix("::ffff:192.0.2.10/128"),
}

func newTestLimiter(t testing.TB, cfg Config) *Limiter {
	t.Helper()
	l, err := New(cfg, testIPKey)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestClientAddr(t *testing.T) {
	l := newTestLimiter(t, Config{TrustedProxies: testTrusted})
	tests := []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"untrusted peer, no header", "203.0.113.5", nil, "203.0.113.5"},
		{"untrusted peer ignores the header", "203.0.113.5", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer, one hop", "10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted peer, no header", "10.0.0.1", nil, "10.0.0.1"},
		{"trusted peer, empty header", "10.0.0.1", []string{""}, "10.0.0.1"},
		{"client-written hops on the left are ignored", "10.0.0.1", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops on the right are skipped", "10.0.0.1", []string{"1.1.1.1, 198.51.100.1, 10.0.0.7, 10.9.9.9"}, "198.51.100.1"},
		{"multiple headers are one list", "10.0.0.1", []string{"1.1.1.1", "198.51.100.1, 10.0.0.7", "10.0.0.8"}, "198.51.100.1"},
		{"later headers come first", "10.0.0.1", []string{"198.51.100.1", "198.51.100.2"}, "198.51.100.2"},
		{"no spaces", "10.0.0.1", []string{"1.1.1.1,198.51.100.1,10.0.0.2"}, "198.51.100.1"},
		{"tabs and extra spaces", "10.0.0.1", []string{" 1.1.1.1 ,\t198.51.100.1\t, 10.0.0.2 "}, "198.51.100.1"},
		{"empty entries are skipped", "10.0.0.1", []string{"198.51.100.1,, 10.0.0.2,"}, "198.51.100.1"},
		{"only trusted hops: the peer", "10.0.0.1", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.1"},
		{"IPv4 with a port", "10.0.0.1", []string{"198.51.100.1:51234"}, "198.51.100.1"},
		{"IPv6 with a port", "10.0.0.1", []string{"[2001:db8:1::5]:443"}, "2001:db8:1::5"},
		{"IPv6 in brackets", "10.0.0.1", []string{"[2001:db8:1::5]"}, "2001:db8:1::5"},
		{"IPv6 with a zone", "10.0.0.1", []string{"fe80::1%eth0"}, "fe80::1"},
		{"IPv4-mapped hop is IPv4", "10.0.0.1", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped trusted peer", "::ffff:10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped untrusted peer is IPv4", "::ffff:203.0.113.5", nil, "203.0.113.5"},
		{"trusted IPv6 proxy", "2001:db8:ffff::1", []string{"2001:db8:1::5, 2001:db8:ffff::2"}, "2001:db8:1::5"},
		{"trusted proxy given IPv4-mapped", "192.0.2.10", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped hop of a trusted proxy is skipped", "10.0.0.1", []string{"198.51.100.1, ::ffff:10.0.0.3"}, "198.51.100.1"},
		{"garbage at the right: the peer", "10.0.0.1", []string{"198.51.100.1, garbage"}, "10.0.0.1"},
		{"garbage behind a trusted hop: the peer", "10.0.0.1", []string{"198.51.100.1, unknown, 10.0.0.2"}, "10.0.0.1"},
		{"garbage left of the client is never read", "10.0.0.1", []string{"<script>, 198.51.100.1"}, "198.51.100.1"},
		{"hostname: the peer", "10.0.0.1", []string{"client.example.com"}, "10.0.0.1"},
		{"obfuscated identifier (RFC 7239 style): the peer", "10.0.0.1", []string{"_hidden"}, "10.0.0.1"},
		{"CIDR is not an address", "10.0.0.1", []string{"198.51.100.0/24"}, "10.0.0.1"},
		{"leading zeros are rejected", "10.0.0.1", []string{"198.051.100.001"}, "10.0.0.1"},
		{"port out of range", "10.0.0.1", []string{"198.51.100.1:99999"}, "10.0.0.1"},
		{"quoted: the peer", "10.0.0.1", []string{`"198.51.100.1"`}, "10.0.0.1"},
		{"very long entry: the peer", "10.0.0.1", []string{strings.Repeat("1", 10000)}, "10.0.0.1"},
		{"invalid peer", "", []string{"198.51.100.1"}, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var peer netip.Addr
			if tt.peer != "" {
				peer = netip.MustParseAddr(tt.peer)
			}
			got := l.clientAddr(peer, tt.xff)
			if got.String() != tt.want {
				t.Fatalf("clientAddr(%s, %q) = %s, want %s", tt.peer, tt.xff, got, tt.want)
			}
			// The same hops in one header give the same answer.
			if joined := l.clientAddr(peer, []string{strings.Join(tt.xff, ",")}); joined != got {
				t.Fatalf("joined into one header: %s, want %s", joined, got)
			}
		})
	}
}

func TestClientAddrAllocs(t *testing.T) {
	l := newTestLimiter(t, Config{TrustedProxies: testTrusted})
	peer := netip.MustParseAddr("10.0.0.1")
	xff := []string{strings.Repeat("1.1.1.1, ", 1000) + "198.51.100.1, 10.0.0.2"}
	if n := testing.AllocsPerRun(100, func() { l.clientAddr(peer, xff) }); n != 0 {
		t.Fatalf("clientAddr allocates %v times", n)
	}
}

// TestIdentity checks which addresses share a counter.
func TestIdentity(t *testing.T) {
	l := newTestLimiter(t, Config{TrustedProxies: testTrusted})
	anon := func(peer string, xff ...string) Identity {
		return l.Anonymous(netip.MustParseAddr(peer), xff)
	}
	tests := []struct {
		name string
		a, b Identity
		same bool
	}{
		{"same IPv4", anon("203.0.113.5"), anon("203.0.113.5"), true},
		{"neighbouring IPv4", anon("203.0.113.5"), anon("203.0.113.6"), false},
		{"IPv4 and its mapped form", anon("203.0.113.5"), anon("::ffff:203.0.113.5"), true},
		{"one IPv6 /64", anon("2001:db8:1:2::1"), anon("2001:db8:1:2:ffff:ffff:ffff:ffff"), true},
		{"neighbouring IPv6 /64s", anon("2001:db8:1:2::1"), anon("2001:db8:1:3::1"), false},
		{"via a proxy and direct", anon("10.0.0.1", "203.0.113.5"), anon("203.0.113.5"), true},
		{"two clients of one proxy", anon("10.0.0.1", "203.0.113.5"), anon("10.0.0.1", "203.0.113.6"), false},
		{"spoofed left hop changes nothing", anon("10.0.0.1", "1.2.3.4, 203.0.113.5"), anon("10.0.0.1", "9.9.9.9, 203.0.113.5"), true},
		{"IPv4 is not the IPv6 with those bytes", anon("203.0.113.5"), anon("cb00:7105::"), false},
		{"client and key", anon("203.0.113.5"), l.ForKey(testAPIKey("ak_1", "10-H")), false},
		{"one key", l.ForKey(testAPIKey("ak_1", "10-H")), l.ForKey(testAPIKey("ak_1", "10-H")), true},
		{"two keys", l.ForKey(testAPIKey("ak_1", "10-H")), l.ForKey(testAPIKey("ak_2", "10-H")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.counter == tt.b.counter; got != tt.same {
				t.Fatalf("counters %q and %q: same = %v, want %v", tt.a.counter, tt.b.counter, got, tt.same)
			}
		})
	}
}

// FuzzClientAddr checks clientAddr's invariants on arbitrary headers: it
// never panics, an untrusted peer is always the answer, otherwise the answer
// is the peer or an untrusted, unmapped, zoneless address, and splitting the
// header into several (at newlines) changes nothing.
func FuzzClientAddr(f *testing.F) {
	l := newTestLimiter(f, Config{TrustedProxies: testTrusted})
	f.Fuzz(func(t *testing.T, peerText, xff string) {
		peer, err := netip.ParseAddr(peerText)
		if err != nil {
			peer = netip.MustParseAddr("10.0.0.1")
		}
		headers := strings.Split(xff, "\n")
		got := l.clientAddr(peer, headers)
		norm := peer.WithZone("").Unmap()
		switch {
		case !l.isTrusted(norm) && got != norm:
			t.Fatalf("untrusted peer %s: got %s", norm, got)
		case got == norm:
		case !got.IsValid() || got.Is4In6() || got.Zone() != "" || l.isTrusted(got):
			t.Fatalf("got %s (valid %v) from peer %s and %q", got, got.IsValid(), norm, headers)
		}
		if joined := l.clientAddr(peer, []string{strings.Join(headers, ",")}); joined != got {
			t.Fatalf("joined: %s, split: %s", joined, got)
		}
	})
}
