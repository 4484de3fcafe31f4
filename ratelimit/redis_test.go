package ratelimit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/netip"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/redistest"
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

// TestRedisExact runs 200 concurrent one-element evaluations through two
// limiters on separate clients of one Redis, as two replicas would: exactly
// the limit is allowed, for a client's limit and for the global ceiling.
func TestRedisExact(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		clients  int // distinct client addresses, round robin
		wantFrom string
	}{
		{"one client's limit", Config{Evaluate: "50-H", GlobalEvaluate: "1000000-D"}, 1, ScopeClient},
		{"global ceiling", Config{Evaluate: "1000-H", GlobalEvaluate: "50-D"}, 20, ScopeGlobal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := redistest.URL(t)
			var replicas [2]*Limiter
			for i := range replicas {
				cfg := tt.cfg
				cfg.Redis = newRedisClient(t, url)
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
					peer := netip.AddrFrom4([4]byte{203, 0, 113, byte(i % tt.clients)})
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
			if n := allowed.Load(); n != 50 {
				t.Fatalf("%d of %d concurrent evaluations allowed, want exactly 50", n, requests)
			}
			scopes.Range(func(k, _ any) bool {
				if k != tt.wantFrom {
					t.Errorf("refused by scope %v, want only %s", k, tt.wantFrom)
				}
				return true
			})
			t.Logf("%d of %d allowed across 2 replicas", allowed.Load(), requests)
		})
	}
}

// TestRedisKeys checks the counter keys' form, that they expire, and that
// no form of a client's address is stored in Redis.
func TestRedisKeys(t *testing.T) {
	url := redistest.URL(t)
	rdb := newRedisClient(t, url)
	l := newTestLimiter(t, Config{Redis: rdb, TrustedProxies: testTrusted})
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
	keyForm := regexp.MustCompile(`^khb:rl:(evaluate|bucket|listing):(client:[0-9a-f]{32}|key:ak_1a2b3c4d|global)$`)
	for k := range dump {
		if !keyForm.MatchString(k) {
			t.Errorf("key %q is not a counter key", k)
		}
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > 24*time.Hour {
			t.Errorf("key %q has TTL %v", k, ttl)
		}
	}
	if len(dump) != 3*3+1+1 {
		t.Errorf("%d keys, want 3 clients × 3 classes, the global and the key", len(dump))
	}
	for _, c := range clients {
		a := addr(c.peer)
		forms := [][]byte{[]byte(c.text), []byte(c.peer), a.AsSlice(), []byte(hex.EncodeToString(a.AsSlice()))}
		if a.Is6() {
			p := netip.PrefixFrom(a, 64).Masked().Addr().AsSlice()
			forms = append(forms, p[:8], []byte(hex.EncodeToString(p[:8])))
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
