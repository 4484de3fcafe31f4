package ratelimit

import (
	"net/netip"
	"testing"

	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// BenchmarkTake is the cost of one anonymous one-element evaluation's Take
// (every counter it checks and charges), for an IPv4 client and an IPv6
// one, on each counter store. Limits are high enough that every Take is
// allowed: the path every citizen's request takes.
//
//	go test ./ratelimit -run '^$' -bench Take -benchtime 20000x -count 3
func BenchmarkTake(b *testing.B) {
	stores := []struct {
		name string
		rdb  func(testing.TB) redis.UniversalClient
	}{
		{"memory", func(testing.TB) redis.UniversalClient { return nil }},
		{"redis", func(t testing.TB) redis.UniversalClient { return universalClient(t, redistest.URL(t)) }},
		{"cluster", func(t testing.TB) redis.UniversalClient { return universalClient(t, redistest.ClusterURL(t)) }},
	}
	clients := []struct {
		name string
		addr func(i int) netip.Addr
	}{
		{"ipv4", func(i int) netip.Addr { return netip.AddrFrom4([4]byte{203, 0, byte(i >> 8), byte(i)}) }},
		{"ipv6", func(i int) netip.Addr {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
		}},
	}
	for _, s := range stores {
		for _, c := range clients {
			b.Run(s.name+"/"+c.name, func(b *testing.B) {
				cfg := Config{Evaluate: "1000000000-H", GlobalEvaluate: "1000000000000-D", Redis: s.rdb(b)}
				l := newTestLimiter(b, cfg)
				ids := make([]Identity, 1000)
				for i := range ids {
					ids[i] = l.Anonymous(c.addr(i), nil)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d, err := l.Take(ctx, Evaluate, ids[i%len(ids)], 1)
					if err != nil || !d.Allowed {
						b.Fatalf("Take: %+v, %v", d, err)
					}
				}
			})
		}
	}
}

// BenchmarkAnonymous is the cost of an anonymous request's identity: one
// keyed hash, of the IPv4 address or the IPv6 /64 (an evaluation hashes an
// IPv6 client's /56 and /48 too, when it is counted).
func BenchmarkAnonymous(b *testing.B) {
	l := newTestLimiter(b, Config{})
	for _, a := range []netip.Addr{netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("2001:db8:1:2:3:4:5:6")} {
		name := "ipv4"
		if a.Is6() {
			name = "ipv6"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				l.Anonymous(a, nil)
			}
		})
	}
}
