package ratelimit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/internal/redisurl"
	"github.com/redis/go-redis/v9"
)

// newRedisClient opens a client of its own on url: each Limiter built on one
// stands for a replica.
func newRedisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// universalClient opens a client of its own on url, a Redis or a Redis
// Cluster.
func universalClient(t testing.TB, url string) redis.UniversalClient {
	c, err := redisurl.Client(url, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRedisExact runs 200 concurrent one-element evaluations through two
// limiters on separate clients of one Redis or Redis Cluster, as two
// replicas would: exactly the limit is allowed, for a client's limit, an
// IPv6 /48's, the global ceiling, and the reserve allowances.
func TestRedisExact(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		clients  int // distinct client addresses, round robin
		ipv6     bool
		want     int64
		wantFrom string
	}{
		{"one client's limit", Config{Evaluate: "50-H", GlobalEvaluate: "1000000-D"}, 1, false, 50, ScopeClient},
		{"a /48's limit", Config{Evaluate: "1000-H", Evaluate48: "50-H", GlobalEvaluate: "1000000-D"}, 20, true, 50, ScopeNetwork},
		// 40 in the main part, then the 10 of the reserve: 20 clients may
		// take 6 each from it
		{"global ceiling", Config{Evaluate: "1000-H", GlobalEvaluate: "50-D"}, 20, false, 50, ScopeGlobal},
		// 40, then one from the reserve for each of 5 clients
		{"reserve allowances", Config{Evaluate: "1000-H", GlobalEvaluate: "50-D", ReserveBurst: 1}, 5, false, 45, ScopeGlobal},
	}
	for _, store := range []string{"redis", "cluster"} {
		for _, tt := range tests {
			t.Run(store+"/"+tt.name, func(t *testing.T) { redisExact(t, store, tt.cfg, tt.clients, tt.ipv6, tt.want, tt.wantFrom) })
		}
	}
}

func redisExact(t *testing.T, store string, cfg Config, clients int, ipv6 bool, want int64, wantFrom string) {
	url := redistest.URL
	if store == "cluster" {
		url = redistest.ClusterURL
	}
	u := url(t)
	var replicas [2]*Limiter
	for i := range replicas {
		cfg := cfg
		cfg.Redis = universalClient(t, u)
		replicas[i] = newTestLimiter(t, cfg)
	}
	const requests = 200
	var (
		allowed atomic.Int64
		wg      sync.WaitGroup
		start   = make(chan struct{})
		errs    = make(chan error, requests)
		scopes  sync.Map
	)
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := replicas[i%2]
			peer := netip.AddrFrom4([4]byte{203, 0, 113, byte(i % clients)})
			if ipv6 {
				peer = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, byte(i % clients), 15: 1})
			}
			id := l.Anonymous(peer, nil)
			<-start
			d, err := l.Take(ctx, Evaluate, id, 1)
			if err != nil {
				errs <- err
				return
			}
			if d.Allowed {
				allowed.Add(1)
			} else {
				scopes.Store(d.Scope, true)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := allowed.Load(); n != want {
		t.Fatalf("%d of %d concurrent evaluations allowed, want exactly %d", n, requests, want)
	}
	scopes.Range(func(k, _ any) bool {
		if k != wantFrom {
			t.Errorf("refused by scope %v, want only %s", k, wantFrom)
		}
		return true
	})
	t.Logf("%d of %d allowed across 2 replicas", allowed.Load(), requests)
}

// TestRedisKeys checks the counter keys' form, that they expire, and that
// no form of a client's address (nor of its /56 or /48) is stored in Redis.
// The ceiling is small enough that the last client, the IPv6 one, draws on
// the reserve.
func TestRedisKeys(t *testing.T) {
	url := redistest.URL(t)
	rdb := newRedisClient(t, url)
	l := newTestLimiter(t, Config{Redis: rdb, TrustedProxies: testTrusted, GlobalEvaluate: "10-D"})
	clients := []struct {
		peer string
		xff  []string
		text string // the address as it could leak
	}{
		{"203.0.113.77", nil, "203.0.113.77"},
		{"10.0.0.1", []string{"1.1.1.1, 198.51.100.213:4431, 10.0.0.9"}, "198.51.100.213"},
		{"2001:db8:abcd:1234:5678:9abc:def0:1234", nil, "2001:db8:abcd:1234"},
	}
	for _, c := range clients {
		id := l.Anonymous(addr(c.peer), c.xff)
		for _, class := range []Class{Evaluate, Bucket, Listing} {
			take(t, l, class, id, 3)
		}
	}
	take(t, l, Evaluate, l.ForKey(testAPIKey("ak_1a2b3c4d", "100-H")), 1)

	dump := redistest.Dump(t, url)
	keyForm := regexp.MustCompile(`^khb:rl:((bucket|listing):client:[0-9a-f]{32}|evaluate:key:ak_1a2b3c4d|` +
		`\{evaluate\}:(global|(reserve:)?(client|network56|network48):[0-9a-f]{32}))$`)
	for k := range dump {
		if !keyForm.MatchString(k) {
			t.Errorf("key %q is not a counter key", k)
		}
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > 24*time.Hour {
			t.Errorf("key %q has TTL %v", k, ttl)
		}
	}
	if len(dump) != 3*3+2+1+3+1 {
		t.Errorf("%d keys, want 3 clients × 3 classes, the IPv6 client's /56 and /48, the global, its 3 reserve allowances and the key", len(dump))
	}
	for _, c := range clients {
		a := addr(c.peer)
		forms := [][]byte{[]byte(c.text), []byte(c.peer), a.AsSlice(), []byte(hex.EncodeToString(a.AsSlice()))}
		if a.Is6() {
			p := netip.PrefixFrom(a, 64).Masked().Addr().AsSlice()
			for _, n := range []int{8, 7, 6} {
				forms = append(forms, p[:n], []byte(hex.EncodeToString(p[:n])))
			}
			forms = append(forms, []byte("2001:db8:abcd:1200"), []byte("2001:db8:abcd:"))
		}
		for k, v := range dump {
			for _, f := range forms {
				if bytes.Contains([]byte(k), f) || bytes.Contains(v, f) {
					t.Errorf("key %q or its value holds the address %s", k, c.text)
				}
			}
		}
	}
}

// proxy forwards TCP connections to a Redis until it is killed, so a test
// can take Redis away from a running Limiter.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.kill)
	return p
}

func (p *proxy) kill() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestFailClosed checks that a limiter whose Redis is gone refuses with
// EUNAVAILABLE rather than allowing: at New, and for a running limiter.
func TestFailClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	t.Run("at New", func(t *testing.T) {
		dead := redis.NewClient(&redis.Options{Addr: closed, MaxRetries: -1})
		defer dead.Close()
		_, err := New(Config{Redis: dead}, testIPKey)
		wantCode(t, "New on a closed port", err, khabardar.EUNAVAILABLE)
	})

	t.Run("while running", func(t *testing.T) {
		opt, err := redis.ParseURL(redistest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		p := newProxy(t, opt.Addr)
		opt.Addr = p.ln.Addr().String()
		opt.MaxRetries = -1 // fail at once: go-redis would otherwise retry for about 1.5 s
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		l := newTestLimiter(t, Config{Redis: rdb, Evaluate: "1000-H"})
		a := l.Anonymous(addr("203.0.113.5"), nil)
		take(t, l, Evaluate, a, 1)
		p.kill()
		for _, c := range []Class{Evaluate, Bucket, Listing} {
			d, err := l.Take(ctx, c, a, 1)
			wantCode(t, "Take with Redis gone", err, khabardar.EUNAVAILABLE)
			if d.Allowed {
				t.Fatalf("%s allowed with Redis gone", c)
			}
			if msg := khabardar.ErrorMessage(err); bytes.Contains([]byte(msg), []byte("203.0.113.5")) {
				t.Fatalf("error message names the client: %s", msg)
			}
			var ke *khabardar.Error
			if !errors.As(err, &ke) {
				t.Fatalf("not a *khabardar.Error: %v", err)
			}
		}
	})
}

// TestRedisMatchesMemory checks the Lua script against policy.decide: the
// same 1,500 random evaluations (clients over IPv4 and over /64s, /56s and
// /48s, batches of 1 to 4, the clock moving 0 to 3 minutes between them)
// get identical Decisions from in-memory counters, Redis and Redis Cluster,
// and between them refuse by every scope and draw on the reserve.
func TestRedisMatchesMemory(t *testing.T) {
	cfg := Config{Evaluate: "5-H", Evaluate56: "8-H", Evaluate48: "12-H", GlobalEvaluate: "40-H",
		GlobalReservePercent: 25, ReserveEvaluate: "4-H", ReserveBurst: 2}
	mem, memClock := clockedLimiter(t, cfg)
	var stores []*Limiter
	var clocks []*fakeClock
	for _, url := range []func(testing.TB) string{redistest.URL, redistest.ClusterURL} {
		c := cfg
		c.Redis = universalClient(t, url(t))
		l, clk := clockedLimiter(t, c)
		stores, clocks = append(stores, l), append(clocks, clk)
	}
	var peers []netip.Addr
	for i := range 4 {
		peers = append(peers, netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}))
	}
	for i := range 8 { // 2 /48s × 2 /56s × 2 /64s
		peers = append(peers, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(i >> 2), byte(i >> 1 & 1), byte(i & 1), 15: 1}))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{}
	for i := range 1500 {
		peer, n := peers[rng.IntN(len(peers))], int64(1+rng.IntN(4))
		step := time.Duration(rng.IntN(180)) * time.Second
		memClock.t = memClock.t.Add(step)
		want := take(t, mem, Evaluate, mem.Anonymous(peer, nil), n)
		for j, l := range stores {
			clocks[j].t = memClock.t
			if got := take(t, l, Evaluate, l.Anonymous(peer, nil), n); got != want {
				t.Fatalf("evaluation %d (%d from %s): store %d decided %+v, memory %+v", i, n, peer, j, got, want)
			}
		}
		seen[fmt.Sprintf("%v %s", want.Allowed, want.Scope)]++
		for k := range mem.counters.(*memCounters).tats {
			if strings.Contains(k, ":reserve:") {
				seen["reserve"]++
				break
			}
		}
	}
	for _, k := range []string{"true client", "true network", "true global", "false client", "false network", "false global", "reserve"} {
		if seen[k] == 0 {
			t.Errorf("no %q in %v", k, seen)
		}
	}
	t.Log(seen)
}

// TestRedisClock: on Redis, anonymous evaluations are decided on the
// server's clock, and Reset comes back in the replica's terms.
func TestRedisClock(t *testing.T) {
	l := newTestLimiter(t, Config{Redis: newRedisClient(t, redistest.URL(t)), Evaluate: "4-H"})
	a := l.Anonymous(addr("203.0.113.5"), nil)
	start := time.Now()
	if d := take(t, l, Evaluate, a, 1); !d.Allowed || d.Remaining != 3 ||
		d.Reset.Before(start.Add(15*time.Minute-2*time.Second)) || d.Reset.After(time.Now().Add(15*time.Minute+2*time.Second)) {
		t.Fatalf("one of 4 an hour: %+v, want Reset in 15 minutes", d)
	}
	take(t, l, Evaluate, a, 3)
	d := take(t, l, Evaluate, a, 1)
	if ra := d.RetryAfter(time.Now()); d.Allowed || ra < 15*time.Minute-2*time.Second || ra > 15*time.Minute+2*time.Second {
		t.Fatalf("the 5th: %+v, RetryAfter %v; want 15 minutes", d, ra)
	}
}
