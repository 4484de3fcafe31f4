package api

import (
	"bytes"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

// caller is who a request counts against and what it may send.
type caller struct {
	id       ratelimit.Identity
	maxBatch int
}

// Bearer tokens longer than this are refused before hashing.
const maxTokenLen = 256

var (
	errAuthMalformed = khabardar.Errorf(wire.CodeUnauthorized, `the Authorization header must be "Bearer" and an API key`)
	errAuthUnknown   = khabardar.Errorf(wire.CodeUnauthorized, "the API key is not valid")
	errAuthRevoked   = khabardar.Errorf(wire.CodeUnauthorized, "the API key has been revoked")
)

// caller identifies the request's caller: the API key of an Authorization
// header, or else the client address. A request that sends an Authorization
// header is never served as anonymous: a malformed, unknown or revoked key is
// a 401, so a typo cannot silently fall back to the lower anonymous limits.
func (s *Server) caller(c *fiber.Ctx) (caller, error) {
	auth := c.Request().Header.PeekAll(fiber.HeaderAuthorization)
	if len(auth) == 0 {
		return caller{id: s.anonymous(c), maxBatch: s.cfg.MaxBatch}, nil
	}
	token, ok := bearerToken(auth)
	if !ok {
		return caller{}, errAuthMalformed
	}
	if s.cfg.APIKeys == nil {
		return caller{}, errAuthUnknown
	}
	k, err := s.cfg.APIKeys.APIKeyByHash(c.UserContext(), s.apiKeyHash.Sum(token))
	switch {
	case khabardar.ErrorCode(err) == khabardar.ENOTFOUND:
		return caller{}, errAuthUnknown
	case err != nil:
		return caller{}, err
	case k.Revoked != nil:
		return caller{}, errAuthRevoked
	}
	mb := k.MaxBatch
	if mb <= 0 {
		mb = s.cfg.MaxBatch
	}
	who := caller{maxBatch: min(mb, wire.MaxBatchLimit)}
	if s.cfg.Limiter != nil {
		who.id = s.cfg.Limiter.ForKey(k)
	}
	return who, nil
}

// bearerToken returns the token of a single "Bearer TOKEN" header (RFC 6750:
// the scheme is case-insensitive, the token is b64token characters).
func bearerToken(headers [][]byte) ([]byte, bool) {
	if len(headers) != 1 {
		return nil, false
	}
	h := headers[0]
	const scheme = "bearer "
	if len(h) <= len(scheme) || !bytes.EqualFold(h[:len(scheme)], []byte(scheme)) {
		return nil, false
	}
	tok := h[len(scheme):]
	if len(tok) > maxTokenLen {
		return nil, false
	}
	body := bytes.TrimRight(tok, "=")
	if len(body) == 0 {
		return nil, false
	}
	for _, b := range body {
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '-' || b == '.' || b == '_' || b == '~' || b == '+' || b == '/') {
			return nil, false
		}
	}
	return tok, true
}

// anonymous is the rate-limit identity of a request without an API key. The
// limiter decides which X-Forwarded-For entries to believe (its trusted
// proxies) and keys its counters by a keyed hash: the address goes no
// further than that.
func (s *Server) anonymous(c *fiber.Ctx) ratelimit.Identity {
	if s.cfg.Limiter == nil {
		return ratelimit.Identity{}
	}
	headers := c.Request().Header.PeekAll(fiber.HeaderXForwardedFor)
	lc, _ := c.Context().Conn().(*lingerConn)
	if len(headers) == 0 && lc != nil {
		if id := lc.anon.Load(); id != nil {
			return *id // this connection's earlier requests
		}
	}
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	var xff []string
	for _, v := range headers {
		xff = append(xff, string(v))
	}
	id := s.cfg.Limiter.Anonymous(peer.Unmap(), xff)
	if len(headers) == 0 && lc != nil {
		lc.anon.Store(&id)
	}
	return id
}

// charge takes n from the caller's quota of class cl, sets the X-RateLimit
// headers and returns a rate_limited error when over. A limiter that cannot
// be reached fails closed: 503, never unlimited.
func (s *Server) charge(c *fiber.Ctx, cl ratelimit.Class, who caller, n int64) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	d, err := s.cfg.Limiter.Take(c.UserContext(), cl, who.id, n)
	if err != nil {
		var kerr *khabardar.Error
		if !errors.As(err, &kerr) {
			err = errors.Join(khabardar.Errorf(khabardar.EUNAVAILABLE, "the rate limiter cannot be reached"), err)
		}
		return s.limiterDep.track(err)
	}
	s.limiterDep.track(nil)
	h := &c.Response().Header
	var num [20]byte // every request sets these: no allocation, no key normalising
	h.SetCanonical(headerLimit, strconv.AppendInt(num[:0], d.Limit, 10))
	h.SetCanonical(headerRemaining, strconv.AppendInt(num[:0], max(d.Remaining, 0), 10))
	h.SetCanonical(headerReset, strconv.AppendInt(num[:0], d.Reset.Unix(), 10))
	if d.Allowed {
		return nil
	}
	now := time.Now()
	secs := int64(math.Ceil(d.RetryAfter(now).Seconds()))
	if secs < 1 {
		secs = 1
	}
	h.Set(fiber.HeaderRetryAfter, strconv.FormatInt(secs, 10))
	s.metrics.limited.WithLabelValues(string(cl), scopeLabel(d.Scope)).Inc()
	return khabardar.Errorf(wire.CodeRateLimited, "%s rate limit for %s requests is used up; retry after %d seconds (%s)",
		scopeText(d.Scope), cl, secs, now.Add(time.Duration(secs)*time.Second).UTC().Format(time.RFC3339))
}

// The rate-limit headers, in the form fasthttp normalises names to.
var (
	headerLimit     = []byte("X-Ratelimit-Limit")
	headerRemaining = []byte("X-Ratelimit-Remaining")
	headerReset     = []byte("X-Ratelimit-Reset")
)

func scopeLabel(scope string) string {
	switch scope {
	case ratelimit.ScopeClient, ratelimit.ScopeNetwork, ratelimit.ScopeKey, ratelimit.ScopeGlobal:
		return scope
	}
	return "other"
}

func scopeText(scope string) string {
	switch scope {
	case ratelimit.ScopeKey:
		return "this API key's"
	case ratelimit.ScopeNetwork:
		return "this network's"
	case ratelimit.ScopeGlobal:
		return "the service's daily"
	}
	return "this client's"
}
