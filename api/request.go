package api

import (
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

// How the server reads a request before any handler runs. fasthttp parses
// the head and reads the body (at most Config.BodyLimit bytes, refusing a
// larger Content-Length from the head alone); then checkRequest, the first
// middleware after observe, refuses what no handler may see:
//
//   - A body in a content coding (Content-Encoding other than identity):
//     415 unsupported_encoding. No client of ours compresses a request,
//     and a decoder is a decompression bomb's amplifier: 1.6 KB of brotli
//     or of gzip inside gzip inflate to 1 GB. Handlers read the raw body
//     (c.Request().Body(), PostArgs), never fiber's c.Body(), which would
//     decode any number of layers without a limit.
//   - Both Content-Length and Transfer-Encoding (RFC 9112 §6.3: "ought to
//     be handled as an error"; a sender MUST NOT send both, §6.2): 400. A
//     proxy in front that framed the body by Content-Length would disagree
//     with us about where it ends. fasthttp closes the connection after it.
//
// With "Expect: 100-continue", expect runs the same checks and the body
// limit from the head before fasthttp sends 100 Continue, so a refused body
// is never invited. A method fiber does not know reaches the router as
// unknownMethod (knownMethods). When fasthttp closes a connection whose
// body it refused part way, the close lingers (lingerConn) so that the
// client reads the 413 instead of a reset.

// checkRequest is the middleware that runs the checks of the head on every
// request, before routing: nothing is charged, no API key is looked up and
// no handler runs for a request it refuses.
func checkRequest(c *fiber.Ctx) error {
	if err := checkHead(&c.Request().Header); err != nil {
		return err
	}
	return c.Next()
}

var (
	errContentCoding = khabardar.Errorf(wire.CodeUnsupportedEncoding, "send the body uncompressed, without Content-Encoding")
	errFraming       = khabardar.Errorf(khabardar.EINVALID, "the request has both Content-Length and Transfer-Encoding: send one")
	errHeadTooLarge  = khabardar.Errorf(wire.CodeBodyTooLarge, "the request body is too large")
)

// checkHead runs the checks that need only the request's head. It returns
// errContentCoding (415) or errFraming (400), or nil.
func checkHead(h *fasthttp.RequestHeader) error {
	if !identityCoding(h.PeekAll(fiber.HeaderContentEncoding)) {
		return errContentCoding
	}
	// fasthttp frames a chunked body by Transfer-Encoding and drops
	// Content-Length, then sets a Content-Length of 0 if the body was
	// empty (removing Transfer-Encoding), so the head as received is
	// looked at. Only a chunked or empty body can have been framed by both:
	// with a Content-Length alone (or with "Transfer-Encoding: identity",
	// which means none and which fasthttp ignores) the length is positive,
	// and a GET or HEAD without a body has none (-2).
	if cl := h.ContentLength(); cl == -1 || cl == 0 {
		var length, coding bool
		for k := range h.AllInOrder() {
			length = length || equalFoldASCII(k, "content-length")
			coding = coding || equalFoldASCII(k, "transfer-encoding")
		}
		if length && coding {
			return errFraming
		}
	}
	return nil
}

// identityCoding reports whether Content-Encoding field values (RFC 9110
// §8.4: comma-separated lists, empty elements allowed, names
// case-insensitive) name no content coding but identity, which is none.
func identityCoding(values [][]byte) bool {
	for _, v := range values {
		for rest, more := v, true; more; {
			var el []byte
			el, rest, more = bytes.Cut(rest, comma)
			if el = trimOWS(el); len(el) > 0 && !equalFoldASCII(el, "identity") {
				return false
			}
		}
	}
	return true
}

var comma = []byte(",")

// equalFoldASCII compares b with lower, which is lowercase ASCII, ignoring
// ASCII case only: bytes.EqualFold would also match non-ASCII look-alikes.
func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// expect is fasthttp's ExpectHandler: a request with "Expect: 100-continue"
// whose head already decides a refusal gets it instead of 100 Continue, and
// its body is never read.
func (s *Server) expect(fctx *fasthttp.RequestCtx) int {
	err := checkHead(&fctx.Request.Header)
	if err == nil && fctx.Request.Header.ContentLength() > s.app.Server().MaxRequestBodySize {
		err = errHeadTooLarge
	}
	if err == nil {
		return fasthttp.StatusContinue
	}
	// fasthttp writes this response and closes the connection; the client
	// may have started the body anyway.
	lingerOnClose(fctx)
	c := s.app.AcquireCtx(fctx)
	defer s.app.ReleaseCtx(c)
	s.errorHandler(c, err)
	return fctx.Response.StatusCode()
}

// unknownMethod stands in for any request method fiber does not know:
// fiber answers those itself with a 400 in text/plain before any
// middleware runs. It is one of Config.RequestMethods, so the router
// matches the middleware and then, finding no route of its own for it,
// answers 405 with Allow where the path has other methods and 404 where it
// has none, through errorHandler like any other method. No route is ever
// registered for it.
//
// Not 501, which RFC 9110 §9.1 suggests for an unrecognised method: a 5xx
// says the server failed, and is logged, alerted on and retried as such,
// while anyone may send any method. 405 with Allow tells the client what
// the resource does take; 404 that there is nothing there, whatever the
// method, as for every other method.
const unknownMethod = "KHABARDAR-UNKNOWN-METHOD"

// requestMethods are fiber's methods and unknownMethod.
var requestMethods = append(append([]string(nil), fiber.DefaultMethods...), unknownMethod)

// knownMethods wraps fiber's request handler: a method fiber does not know
// becomes unknownMethod. methodOf reports it as OTHER.
func knownMethods(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if _, ok := standardMethod(ctx.Request.Header.Method()); !ok {
			ctx.Request.Header.SetMethod(unknownMethod)
		}
		next(ctx)
	}
}

// hardenServer sets what New cannot through fiber.Config on the fasthttp
// server.
func (s *Server) hardenServer() {
	srv := s.app.Server()
	srv.Handler = knownMethods(srv.Handler)
	srv.ExpectHandler = s.expect
}

// Lingering close. When fasthttp refuses a body (a Content-Length over the
// limit, from the head alone; a chunked body that grows past it) it writes
// the 413 and closes the connection while the client is still sending.
// Closing a socket with unread data makes the kernel send a reset, and a
// client that gets the reset while writing (Go's net/http among them)
// reports "connection reset" or "broken pipe" instead of the 413: measured,
// 4 of 20 Go clients sending 2 MB read the 413, 2 or 3 of 20 sending 10 MB. So
// such a connection, marked by lingerOnClose, closes as nginx's
// lingering_close and net/http's closeWriteAndWait do: FIN after the
// response, then read and discard what the client still sends, at most
// lingerBytes for at most lingerTime, until the client closes.
const (
	// lingerTime bounds how long a refused connection is held open. On a
	// mobile network the 413 reaches the client within a round trip.
	lingerTime = 2 * time.Second
	// lingerBytes bounds how much is read and thrown away: some 18 times
	// the largest body accepted. A client still sending past it stalls
	// (its writes block, it can still read the 413) until lingerTime.
	lingerBytes = 1 << 20
)

// lingerListener makes the connections it accepts lingerConns. It must be
// the listener fasthttp serves (the outermost one): lingerOnClose finds
// the connection through the request.
type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &lingerConn{Conn: c}, nil
}

var (
	_ net.Listener = lingerListener{}
	_ net.Conn     = (*lingerConn)(nil)
)

// lingerConn is a connection whose Close lingers when marked. It also
// keeps the rate limiter's identity of a client that connected directly:
// the peer address of a connection never changes, and its keyed hash costs
// a microsecond or more per request.
type lingerConn struct {
	net.Conn
	linger atomic.Bool
	anon   atomic.Pointer[ratelimit.Identity]
}

// lingerOnClose marks the request's connection to linger when closed.
func lingerOnClose(fctx *fasthttp.RequestCtx) {
	if lc, ok := fctx.Conn().(*lingerConn); ok {
		lc.linger.Store(true)
	}
}

func (c *lingerConn) Close() error {
	if c.linger.Swap(false) {
		c.drain()
	}
	return c.Conn.Close()
}

// drain half-closes the connection, so the client reads the response to
// its end, and discards what it still sends, within the bounds.
func (c *lingerConn) drain() {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	deadline := time.Now().Add(lingerTime)
	if c.Conn.SetReadDeadline(deadline) != nil {
		return
	}
	if n, _ := io.CopyN(io.Discard, c.Conn, lingerBytes); n == lingerBytes {
		// Still sending: stop reading, so its writes stall rather than
		// fail, and give it the rest of the time to read the answer.
		time.Sleep(time.Until(deadline))
	}
}
