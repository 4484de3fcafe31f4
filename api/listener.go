package api

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/khabardar/khabardar/ratelimit"
)

// Defaults of the connection settings (Config.HeaderTimeout,
// Config.MaxConnsPerAddr).
const (
	// DefaultHeaderTimeout bounds the time from accepting a connection to the
	// end of its first request's head. A phone on a slow link sends a head of
	// a few hundred bytes in well under a second; a connection that sends
	// nothing for 5 s is not a client.
	DefaultHeaderTimeout = 5 * time.Second
	// DefaultMaxConnsPerAddr caps the open connections of one IPv4 address
	// or IPv6 /64. A browser opens about 6; mobile carriers put many
	// subscribers behind one IPv4 address (carrier-grade NAT), so the cap is
	// generous, yet it takes an attacker hundreds of addresses to hold the
	// connections of a deployment with the usual fd limits.
	DefaultMaxConnsPerAddr = 256
)

// Backoff of Accept after a temporary error, as net/http's Server.Serve:
// 5 ms, doubling up to 1 s, reset by a successful accept.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// limitListener is the listener Serve hands fasthttp. It keeps three things
// out of fasthttp's accept loop, which has none of them:
//
//   - Accept errors such as EMFILE (the process is out of file
//     descriptors), which fasthttp treats as fatal: Serve returned and serve
//     exited. They are retried with backoff, as net/http does, and never
//     returned; the descriptors come back as the header timeout closes idle
//     connections.
//   - Connection caps: over MaxConns open connections in all, or
//     MaxConnsPerAddr from one client address (an IPv4 address or an IPv6
//     /64, as ratelimit counts clients; the peer, not X-Forwarded-For), a new
//     connection is closed at once, before it costs a goroutine or a buffer.
//     fasthttp's own MaxConnsPerIP knows IPv4 only (an IPv6 client has
//     2⁶⁴ addresses) and would log the address. Trusted proxies carry
//     everyone's connections: they count toward MaxConns only.
//   - The header timeout: fasthttp times the first byte and the request
//     from the first byte, each with ReadTimeout; a connection that drips
//     a byte at a time holds a goroutine and a descriptor for up to twice
//     that. limitedConn holds the first request's head to HeaderTimeout
//     from accept, whatever fasthttp asks for.
type limitListener struct {
	net.Listener
	headerTimeout time.Duration
	maxConns      int64          // ≤ 0: no cap
	maxPerAddr    int            // ≤ 0: no cap
	exempt        []netip.Prefix // trusted proxies: not held to maxPerAddr
	metrics       *metrics
	log           *slog.Logger
	warnings      sampledLog

	open    atomic.Int64
	mu      sync.Mutex
	perAddr map[netip.Prefix]int

	closeOnce sync.Once
	closed    chan struct{}
	// sleep waits d, or less if the listener is closed meanwhile; false
	// then. Tests replace it.
	sleep func(d time.Duration) bool
}

func (s *Server) limitListener(ln net.Listener) *limitListener {
	l := &limitListener{
		Listener:      ln,
		headerTimeout: s.cfg.HeaderTimeout,
		maxConns:      int64(s.cfg.MaxConns),
		maxPerAddr:    s.cfg.MaxConnsPerAddr,
		exempt:        s.cfg.TrustedProxies,
		metrics:       s.metrics,
		log:           s.log,
		perAddr:       map[netip.Prefix]int{},
		closed:        make(chan struct{}),
	}
	l.sleep = l.wait
	return l
}

func (l *limitListener) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.closed:
		return false
	}
}

// Accept returns the next connection within the caps. It returns an error
// only once the listener is closed (net.ErrClosed, on which fasthttp's
// Serve returns nil) or if accepting fails in a way that will not pass.
func (l *limitListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			kind, retry := acceptErrorKind(err)
			if !retry {
				return nil, err
			}
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			l.metrics.acceptErrors.WithLabelValues(kind).Inc()
			if ok, left := l.warnings.allow(); ok {
				l.log.Warn("accepting a connection failed; retrying", "error", kind, "err", err.Error(), "retry_in", delay.String(), "suppressed", left)
			}
			if !l.sleep(delay) {
				return nil, net.ErrClosed
			}
			continue
		}
		delay = 0
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// acceptErrorKind says whether an Accept error passes and names it for the
// metric: "fd_limit" for EMFILE and ENFILE, "other" for the rest that net/http
// also retries (ECONNABORTED, ENOBUFS, …).
func acceptErrorKind(err error) (kind string, retry bool) {
	if errors.Is(err, net.ErrClosed) {
		return "", false
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE, syscall.ENFILE:
			return "fd_limit", true
		case syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.ECONNRESET:
			return "other", true
		}
	}
	// net/http's test: Temporary (deprecated for Read and Write errors,
	// still what Accept errors are judged by) or a timeout.
	var ne interface {
		Temporary() bool
		Timeout() bool
	}
	if errors.As(err, &ne) && (ne.Temporary() || ne.Timeout()) {
		return "other", true
	}
	return "", false
}

// admit returns c wrapped, or closes it and returns nil if it is over a cap.
func (l *limitListener) admit(c net.Conn) net.Conn {
	group, held := l.group(c.RemoteAddr())
	if l.maxConns > 0 && l.open.Load() >= l.maxConns {
		return l.refuse(c, "total_cap")
	}
	if held && l.maxPerAddr > 0 {
		l.mu.Lock()
		n := l.perAddr[group]
		if n >= l.maxPerAddr {
			l.mu.Unlock()
			return l.refuse(c, "address_cap")
		}
		l.perAddr[group] = n + 1
		l.mu.Unlock()
	}
	l.open.Add(1)
	l.metrics.connsOpen.Inc()
	lc := &limitedConn{Conn: c, l: l, group: group, held: held && l.maxPerAddr > 0}
	if l.headerTimeout > 0 {
		lc.headDeadline = time.Now().Add(l.headerTimeout)
		lc.inHead.Store(true)
		c.SetReadDeadline(lc.headDeadline)
	}
	return lc
}

// refuse closes a connection over a cap. Nothing is written: the client
// has sent nothing, and a write could block the accept loop.
func (l *limitListener) refuse(c net.Conn, reason string) net.Conn {
	c.Close()
	l.metrics.connsClosed.WithLabelValues(reason).Inc()
	if ok, left := l.warnings.allow(); ok {
		l.log.Warn("a connection over a cap was closed", "cap", reason, "suppressed", left) // never the address
	}
	return nil
}

// group is the client address a connection counts against, an IPv4
// address or an IPv6 /64, and whether it is held to the per-address cap
// (not a trusted proxy's, nor unparsable).
func (l *limitListener) group(a net.Addr) (netip.Prefix, bool) {
	var ip netip.Addr
	if ta, ok := a.(*net.TCPAddr); ok {
		ip = ta.AddrPort().Addr()
	} else if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		ip = ap.Addr()
	}
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return netip.Prefix{}, false
	}
	for _, p := range l.exempt {
		if p.Contains(ip) {
			return netip.Prefix{}, false
		}
	}
	return ratelimit.ClientPrefix(ip), true
}

func (l *limitListener) release(c *limitedConn) {
	l.open.Add(-1)
	l.metrics.connsOpen.Dec()
	if c.held {
		l.mu.Lock()
		if n := l.perAddr[c.group] - 1; n > 0 {
			l.perAddr[c.group] = n
		} else {
			delete(l.perAddr, c.group)
		}
		l.mu.Unlock()
	}
}

// Close closes the listener and ends any backoff Accept is in.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn is an accepted connection: it counts against its caps until
// closed, and until its first request's head has arrived no read waits past
// headDeadline.
type limitedConn struct {
	net.Conn
	l       *limitListener
	group   netip.Prefix
	held    bool // counted in l.perAddr
	release sync.Once

	// inHead is set until the end of the first request's head has been read
	// (or the head timed out). Meanwhile read deadlines fasthttp sets are
	// held to headDeadline, and the one it asked for last is kept in want,
	// to be set when the head is complete.
	inHead       atomic.Bool
	mu           sync.Mutex // guards the fields below while inHead
	headDeadline time.Time
	want         time.Time
	scan         headScanner
}

func (c *limitedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.inHead.Load() {
		c.readHead(p[:n], err)
	}
	return n, err
}

func (c *limitedConn) readHead(p []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.inHead.Load():
	case c.scan.feed(p):
		c.inHead.Store(false)
		c.Conn.SetReadDeadline(c.want) // the body's time is fasthttp's ReadTimeout
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.inHead.Store(false)
		c.l.metrics.connsClosed.WithLabelValues("header_timeout").Inc()
	}
}

func (c *limitedConn) SetReadDeadline(t time.Time) error {
	if !c.inHead.Load() {
		return c.Conn.SetReadDeadline(t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inHead.Load() {
		c.want = t
		if t.IsZero() || t.After(c.headDeadline) {
			t = c.headDeadline
		}
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *limitedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// CloseWrite half-closes a TCP connection: lingerConn's drain (request.go)
// needs it, and the embedded net.Conn does not promote it.
func (c *limitedConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return errors.ErrUnsupported
	}
	return cw.CloseWrite()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release.Do(func() { c.l.release(c) })
	return err
}

// headScanner finds the end of a request head: the first empty line after
// a non-empty one, "\r\n\r\n" or a bare "\n\n". Empty lines before the
// request line, which RFC 9112 §2.2 lets a server skip, do not end it.
type headScanner struct {
	lineLen int  // bytes of the current line, CRs aside
	started bool // a non-empty line has ended
}

// feed reads the next bytes of the connection and reports whether the head
// ends in them.
func (h *headScanner) feed(p []byte) bool {
	for _, b := range p {
		switch b {
		case '\n':
			if h.lineLen == 0 && h.started {
				return true
			}
			h.started = h.started || h.lineLen > 0
			h.lineLen = 0
		case '\r':
		default:
			h.lineLen++
		}
	}
	return false
}
