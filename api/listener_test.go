package api

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/khabardar/khabardar/ratelimit"
)

// fakeListener hands out queued results of Accept.
type fakeListener struct {
	mu      sync.Mutex
	results []any // net.Conn or error
	closed  bool
}

func (f *fakeListener) push(r ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results = append(f.results, r...)
}

func (f *fakeListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, net.ErrClosed
	}
	if len(f.results) == 0 {
		return nil, errors.New("fakeListener: nothing queued")
	}
	r := f.results[0]
	f.results = f.results[1:]
	if c, ok := r.(net.Conn); ok {
		return c, nil
	}
	return nil, r.(error)
}

func (f *fakeListener) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080} }

// fakeConn is a connection from remote that records Close.
type fakeConn struct {
	net.Conn // nil: only the methods below are called
	remote   net.Addr
	closed   bool
}

func (c *fakeConn) RemoteAddr() net.Addr             { return c.remote }
func (c *fakeConn) Close() error                     { c.closed = true; return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

func connFrom(addr string) *fakeConn {
	return &fakeConn{remote: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(addr))}
}

func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

// TestAcceptBackoff: EMFILE, ENFILE and other temporary accept errors are
// retried after 5 ms, doubling to 1 s as net/http does, and never returned;
// a successful accept resets the delay; a permanent error is returned; a
// close ends a backoff at once. Before, fasthttp's accept loop returned
// EMFILE and serve exited.
func TestAcceptBackoff(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *ratelimit.Config) { c.HeaderTimeout = time.Hour })
	fake := &fakeListener{}
	l := e.srv.limitListener(fake)
	var slept []time.Duration
	l.sleep = func(d time.Duration) bool { slept = append(slept, d); return true }

	for range 10 {
		fake.push(acceptErr(syscall.EMFILE))
	}
	fake.push(acceptErr(syscall.ENFILE), acceptErr(syscall.ECONNABORTED), connFrom("192.0.2.1:1000"))
	c, err := l.Accept()
	if err != nil || c.RemoteAddr().String() != "192.0.2.1:1000" {
		t.Fatalf("Accept: %v, %v", c, err)
	}
	ms := time.Millisecond
	want := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second, time.Second, time.Second}
	if !slices.Equal(slept, want) {
		t.Errorf("backoff %v, want %v", slept, want)
	}

	slept = nil
	fake.push(acceptErr(syscall.EMFILE), connFrom("192.0.2.2:1000"))
	if _, err := l.Accept(); err != nil || !slices.Equal(slept, []time.Duration{5 * ms}) {
		t.Errorf("after a success: %v, backoff %v", err, slept)
	}
	m := e.scrape()
	for _, want := range []string{`khabardar_accept_errors_total{error="fd_limit"} 12`, `khabardar_accept_errors_total{error="other"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if n := strings.Count(e.logs.String(), "accepting a connection failed"); n != 1 {
		t.Errorf("%d log lines for 13 accept errors in a moment, want 1", n)
	}

	boom := errors.New("boom")
	fake.push(boom)
	if _, err := l.Accept(); err != boom {
		t.Errorf("a permanent error: %v", err)
	}

	// Close during a backoff ends it with net.ErrClosed (fasthttp's Serve
	// then returns nil).
	l.sleep = l.wait
	fake.push(acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE),
		acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE),
		acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE))
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	time.Sleep(100 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the backoff")
	}
}

func TestAcceptErrorKind(t *testing.T) {
	for _, tt := range []struct {
		name  string
		err   error
		kind  string
		retry bool
	}{
		{"EMFILE", acceptErr(syscall.EMFILE), "fd_limit", true},
		{"ENFILE", acceptErr(syscall.ENFILE), "fd_limit", true},
		{"ENOBUFS", acceptErr(syscall.ENOBUFS), "other", true},
		{"ECONNABORTED", acceptErr(syscall.ECONNABORTED), "other", true},
		{"closed", &net.OpError{Op: "accept", Err: net.ErrClosed}, "", false},
		{"EINVAL", acceptErr(syscall.EINVAL), "", false},
		{"other", errors.New("boom"), "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if kind, retry := acceptErrorKind(tt.err); kind != tt.kind || retry != tt.retry {
				t.Errorf("%q, %v; want %q, %v", kind, retry, tt.kind, tt.retry)
			}
		})
	}
}

// TestClientGroup: connections count against the IPv4 address or the IPv6
// /64 they come from, as ratelimit counts clients.
func TestClientGroup(t *testing.T) {
	for _, tt := range []struct {
		name, addr, want string
	}{
		{"IPv4", "198.51.100.7", "198.51.100.7/32"},
		{"IPv4-mapped IPv6", "::ffff:198.51.100.7", "198.51.100.7/32"},
		{"IPv6", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"IPv6, same /64", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"IPv6, next /64", "2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"loopback", "::1", "::/64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := &limitListener{}
			g, held := l.group(net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(tt.addr), 443)))
			if g.String() != tt.want || !held {
				t.Errorf("%s, %v; want %s", g, held, tt.want)
			}
		})
	}
	l := &limitListener{exempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	if _, held := l.group(&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 1}); held {
		t.Error("a trusted proxy is held to the per-address cap")
	}
}

// TestConnectionCaps: over the per-address cap (an IPv4 address, an IPv6
// /64) and over the total cap a new connection is closed at once and
// counted; a trusted proxy counts toward the total only; a close frees its
// places.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *ratelimit.Config) {
		c.MaxConns, c.MaxConnsPerAddr = 6, 2
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	})
	fake := &fakeListener{}
	l := e.srv.limitListener(fake)
	// accept offers l a connection from the address; nil if refused (the
	// fake listener has nothing more and says so).
	accept := func(from string) (net.Conn, *fakeConn) {
		t.Helper()
		fc := connFrom(from)
		fake.push(fc)
		c, err := l.Accept()
		if err != nil {
			return nil, fc
		}
		return c, fc
	}

	a1, _ := accept("[2001:db8:0:1::1]:1000")
	accept("[2001:db8:0:1::ffff]:1000")
	if c, fc := accept("[2001:db8:0:1:8000::1]:1000"); c != nil || !fc.closed {
		t.Fatal("a third connection from one /64 was not closed at once")
	}
	if c, _ := accept("[2001:db8:0:2::1]:1000"); c == nil {
		t.Fatal("the next /64 was refused")
	}
	for range 3 { // a proxy: over the per-address cap, within the total
		if c, _ := accept("10.0.0.1:1000"); c == nil {
			t.Fatal("a trusted proxy's connection was refused")
		}
	}
	if c, fc := accept("198.51.100.1:1000"); c != nil || !fc.closed {
		t.Fatal("a seventh connection was not closed at once")
	}
	a1.Close()
	a1.Close() // twice: released once
	if c, _ := accept("[2001:db8:0:1::2]:1000"); c == nil {
		t.Fatal("a closed connection's places were not freed")
	}
	m := e.scrape()
	for _, want := range []string{
		`khabardar_connections_closed_total{reason="address_cap"} 1`,
		`khabardar_connections_closed_total{reason="total_cap"} 1`,
		`khabardar_connections_open 6`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(e.logs.String(), "2001:db8") {
		t.Error("a client address reached the log")
	}
}

// TestHeaderTimeout runs the server on loopback with a 300 ms header
// timeout: a connection that sends nothing, and one that drips its head a
// byte at a time, are closed then; a request whose body comes after it is
// still served (the body has ReadTimeout); a keep-alive connection stays
// open past it.
func TestHeaderTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := newEnv(t, func(c *Config, _ *ratelimit.Config) { c.HeaderTimeout = timeout })
	addr := strings.TrimPrefix(e.listen(), "http://")
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedAfter reads until the server closes c.
	closedAfter := func(c net.Conn, start time.Time) time.Duration {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the server kept the connection open for 10 s")
		}
		return time.Since(start)
	}
	var wg sync.WaitGroup
	check := func(name string, f func() time.Duration) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := f(); d < timeout-50*time.Millisecond || d > timeout+3*time.Second {
				t.Errorf("%s: closed after %v, want about %v", name, d, timeout)
			} else {
				t.Logf("%s: closed after %v", name, d.Round(time.Millisecond))
			}
		}()
	}
	check("silent", func() time.Duration { start := time.Now(); return closedAfter(dial(), start) })
	check("drip", func() time.Duration {
		start := time.Now()
		c := dial()
		go func() {
			for _, b := range []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaa\r\n\r\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(timeout / 10)
			}
		}()
		return closedAfter(c, start)
	})

	// The head at once, the body after the header timeout: served.
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := dial()
		body := e.evaluateBody()
		fmt.Fprintf(c, "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
		time.Sleep(2 * timeout)
		io.WriteString(c, body)
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Errorf("a body after the header timeout: %v", err)
			return
		}
		r.Body.Close()
		if r.StatusCode != 400 { // an empty batch: read and judged
			t.Errorf("a body after the header timeout: %d", r.StatusCode)
		}
	}()

	// Keep-alive: idle past the header timeout, then a second request.
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := dial()
		br := bufio.NewReader(c)
		for i := range 2 {
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
			r, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("keep-alive request %d: %v", i+1, err)
				return
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			time.Sleep(3 * timeout)
		}
	}()
	wg.Wait()
	if m := e.scrape(); !strings.Contains(m, `khabardar_connections_closed_total{reason="header_timeout"} 2`) {
		t.Errorf("header timeouts not counted:\n%s", m)
	}
}

// TestHeadScanner: the head ends at the first empty line after a non-empty
// one, however the bytes are split.
func TestHeadScanner(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		end      int // bytes read when the end is seen; -1: not yet
	}{
		{"CRLF", "GET / HTTP/1.1\r\nHost: x\r\n\r\nbody", 27},
		{"LF", "GET / HTTP/1.1\nHost: x\n\nbody", 24},
		{"mixed", "GET / HTTP/1.1\r\nHost: x\n\r\n", 26},
		{"leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\n\r\n", 22},
		{"not yet", "GET / HTTP/1.1\r\nHost: x\r\n", -1},
		{"CR CR is no empty line", "GET / HTTP/1.1\r\r\nHost: x\r\n", -1},
		{"nothing", "", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := headEnd([]byte(tt.in)); got != tt.end {
				t.Errorf("end at %d, want %d", got, tt.end)
			}
			for split := range len(tt.in) {
				var h headScanner
				if h.feed([]byte(tt.in[:split])) {
					if split < tt.end || tt.end < 0 {
						t.Errorf("split at %d: an end in %q", split, tt.in[:split])
					}
					continue
				}
				if h.feed([]byte(tt.in[split:])) != (tt.end >= 0) {
					t.Errorf("split at %d: the end not found", split)
				}
			}
		})
	}
}

// headEnd is how many bytes of in a headScanner reads byte by byte before
// it sees the end of the head; -1 if it does not.
func headEnd(in []byte) int {
	var h headScanner
	for i := range in {
		if h.feed(in[i : i+1]) {
			return i + 1
		}
	}
	return -1
}

// FuzzHeadScanner checks headScanner against a plain reading of the rule
// (split into lines, CRs dropped: the first empty line after a non-empty
// one) and checks that where the input is split does not matter.
func FuzzHeadScanner(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 5)
	f.Add([]byte("\n\nGET /\n\n"), 1)
	f.Add([]byte("a\r\r\n\r\n"), 3)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		want := -1
		started, n := false, 0
		for _, line := range strings.SplitAfter(string(in), "\n") {
			if !strings.HasSuffix(line, "\n") {
				break
			}
			n += len(line)
			empty := strings.Trim(line, "\r\n") == ""
			if empty && started {
				want = n
				break
			}
			started = started || !empty
		}
		if got := headEnd(in); got != want {
			t.Fatalf("%q: end at %d, want %d", in, got, want)
		}
		if len(in) == 0 {
			return
		}
		split = ((split % len(in)) + len(in)) % len(in)
		var h headScanner
		found := h.feed(in[:split]) || h.feed(in[split:])
		if found != (want >= 0) {
			t.Fatalf("%q split at %d: found %v, want %v", in, split, found, want >= 0)
		}
	})
}
