// Package ratelimit limits the public API per client, per API key and, for
// anonymous evaluations, globally, and the SMS channel per sender and per
// gateway. Each VOPRF evaluation is one guess at an identifier, so these
// limits are what stands between the service and someone enumerating every
// mobile number.
//
// # Identity
//
// An anonymous client is its address: the TCP peer, unless the peer is one of
// Config.TrustedProxies, in which case the rightmost X-Forwarded-For address
// that is not a trusted proxy (everything left of that was written by the
// client and proves nothing). Multiple X-Forwarded-For headers count as one
// comma-separated list, in order. Ports, brackets and zones are dropped;
// IPv4-mapped IPv6 addresses count as IPv4; an unparsable hop where a trusted
// proxy's should be means the chain cannot be trusted, and the peer is
// counted instead. IPv6 clients are counted by their /64, which is what one
// subscriber is given. A client holding an API key is counted by the key's ID.
//
// Counters are keyed khb:rl:<class>:<scope>:<id>, where for an anonymous
// client <id> is hashing.Keyed.Hex of its address under the "ip" key: no
// address is stored, logged or put in an error, and the stored hashes cannot
// be reversed by trying all 2³² IPv4 addresses without the server key.
//
// # Counting
//
// Each Take adds n (the number of elements, for evaluations; 1 otherwise) to
// a fixed-window counter with ulule/limiter's Increment, and allows the
// request if the counter is then within the limit. On Redis that is one Lua
// script (INCRBY, and PEXPIRE on the window's first increment), atomic on the
// server, so any number of replicas sharing the Redis enforce one limit
// exactly. Without Redis the counters are in process memory.
//
// A refused request stays counted: counters only go up within a window (a
// refund could land after the window has rolled over and grant quota in the
// next one). Callers should therefore refuse a batch larger than they accept
// before calling Take. An anonymous evaluation is checked against the
// client's limit first and only then charged to the global ceiling, so a
// client over its own limit cannot use up everyone's; an evaluation the
// ceiling refuses has been charged to the client. The Decision returned is
// the refusing one or, if both allow, the one with fewer remaining.
//
// Errors of the counter store are EUNAVAILABLE: Take never allows a request
// it could not count.
//
// # Defaults
//
// Many Pakistani mobile subscribers share one public IPv4 address behind
// carrier-grade NAT, so a per-address limit must let hundreds of people
// through from one address in an hour; a global daily ceiling on anonymous
// evaluations then bounds what any number of addresses (a botnet, or an IPv6
// block with 65,536 /64s in a /48) can enumerate. DefaultConfig:
//
//	Evaluate        2000-H     per address. After a news story a few hundred people
//	                           on one CGNAT address may check within the hour, each
//	                           about 3 identifiers (CNIC, number, IMEI) 2 times:
//	                           300 × 3 × 2 = 1,800. One address can then try 48,000
//	                           identifiers a day: the 4.5×10⁸ possible mobile numbers
//	                           would take it 26 years.
//	Bucket          3000-H     per address. Buckets hold only keyed hashes, useless
//	                           without evaluations; one per checked identifier, plus
//	                           room for reloads and retries.
//	Listing         1000-H     per address. Public metadata, about one fetch per visit.
//	GlobalEvaluate  2000000-D  all anonymous evaluations. A day on which 500,000 people
//	                           check 3 identifiers each fits; a botnet gets at most 2×10⁶
//	                           guesses a day, more than 225 days for the mobile numbers,
//	                           and every refusal past the ceiling (scope "global") shows
//	                           the operator long before that. The price: while an attack
//	                           holds the ceiling, anonymous checks are refused for the
//	                           rest of the day (fail closed); API key holders are not.
//
// An API key's evaluations are limited by its own Rate (khabardar apikeys
// create: default 10000-H) and not by the global ceiling: keys go to known
// journalists and partners and can be revoked. Its bucket and listing limits
// are KeyFactor times the anonymous ones.
//
// # SMS
//
// An SMS sender is counted by the keyed hash of its number (Sender, given
// hashing.Key.Keyed("sms-sender").Hex; anything else is refused, so a raw
// number cannot become a counter key), and every message through a gateway
// by the gateway's name (Gateway; a name is configuration, not a person).
// Every message is charged, a check or not, since every one costs a reply
// SMS. Callers charge the sender first and the gateway only if the sender's
// limit allows, as for evaluations and the global ceiling.
//
//	SMSSender   10-H      per sender. Someone checking their CNIC, their number
//	                      and their IMEI, with a typo or two, HELP and URDU, sends
//	                      about 6 messages; 10 leaves room. Each check costs the
//	                      sender an SMS and a SIM: one number gets 240 guesses a day.
//	SMSGateway  36000-H   all messages through one gateway: 10 a second, about
//	                      what one long code or a small SMPP account carries. It
//	                      bounds the reply SMS the operator pays for and the
//	                      guesses a SIM farm can make (864,000 a day, far below
//	                      the 4.5×10⁸ mobile numbers).
//
// "One reply saying when to try again, then silence" is Notice: a second
// counter per refused identity with a limit of 1 that ends with the window
// that refused (at most a second later, as Reset is rounded up), so only the
// first refusal in each window is answered.
package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"
)

// Class is a kind of request with limits of its own.
type Class string

// The classes.
const (
	Evaluate Class = "evaluate" // VOPRF evaluations, counted by element
	Bucket   Class = "bucket"   // bucket fetches
	Listing  Class = "listing"  // listing metadata

	SMSSender  Class = "sms"         // SMS messages from one sender (Sender identities)
	SMSGateway Class = "sms-gateway" // SMS messages through one gateway (Gateway identities)
)

// Scopes name the limit a Decision comes from.
const (
	ScopeClient = "client" // one anonymous client address
	ScopeKey    = "key"    // one API key
	ScopeGlobal = "global" // all anonymous evaluations

	ScopeSender  = "sender"  // one SMS sender, by keyed hash
	ScopeGateway = "gateway" // one SMS gateway
)

// KeyFactor is how many times the anonymous bucket and listing limits an API
// key gets.
const KeyFactor = 10

// keyPrefix starts every counter key; limiter's stores add the ":".
const keyPrefix = "khb:rl"

// Config sets the limits. Rates are in ulule/limiter's format, "<limit>-<S|M|H|D>";
// an empty rate takes DefaultConfig's.
type Config struct {
	Evaluate, Bucket, Listing string // per anonymous client; Evaluate counts elements
	GlobalEvaluate            string // all anonymous evaluations together
	SMSSender                 string // SMS messages per sender
	SMSGateway                string // SMS messages per gateway
	TrustedProxies            []netip.Prefix
	Redis                     redis.UniversalClient // nil: in-memory counters (one process); else shared by all replicas
}

// DefaultConfig returns the documented defaults (see the package doc), with
// no trusted proxies and in-memory counters.
func DefaultConfig() Config {
	return Config{
		Evaluate:       "2000-H",
		Bucket:         "3000-H",
		Listing:        "1000-H",
		GlobalEvaluate: "2000000-D",
		SMSSender:      "10-H",
		SMSGateway:     "36000-H",
	}
}

// Limiter decides whether requests may proceed. It is safe for concurrent use.
type Limiter struct {
	store   limiter.Store
	ipKey   *hashing.Keyed
	trusted []netip.Prefix
	anon    map[Class]limiter.Rate // per anonymous client
	keyed   map[Class]limiter.Rate // per API key, except Evaluate: the key's own
	global  limiter.Rate
	sms     map[Class]limiter.Rate // per sender or gateway
}

// New returns a limiter. ipKey (hashing.Key.Keyed("ip")) hashes client
// addresses into counter keys. With cfg.Redis set it loads limiter's script
// into Redis, so it fails with EUNAVAILABLE if Redis cannot be reached; it
// fails with EINVALID for a rate that does not parse or is not positive, or an
// invalid trusted proxy prefix.
func New(cfg Config, ipKey *hashing.Keyed) (*Limiter, error) {
	if ipKey == nil {
		return nil, khabardar.Errorf(khabardar.EINVALID, "rate limits: no ip key")
	}
	def := DefaultConfig()
	l := &Limiter{ipKey: ipKey, anon: map[Class]limiter.Rate{}, keyed: map[Class]limiter.Rate{}, sms: map[Class]limiter.Rate{}}
	for _, r := range []struct {
		name      string
		set, def  string
		class     Class
		keyFactor int64
		sms       bool
	}{
		{"evaluate", cfg.Evaluate, def.Evaluate, Evaluate, 0, false},
		{"bucket", cfg.Bucket, def.Bucket, Bucket, KeyFactor, false},
		{"listing", cfg.Listing, def.Listing, Listing, KeyFactor, false},
		{"global evaluate", cfg.GlobalEvaluate, def.GlobalEvaluate, "", 0, false},
		{"sms sender", cfg.SMSSender, def.SMSSender, SMSSender, 0, true},
		{"sms gateway", cfg.SMSGateway, def.SMSGateway, SMSGateway, 0, true},
	} {
		if r.set == "" {
			r.set = r.def
		}
		rate, err := ParseRate(r.set)
		if err != nil {
			return nil, khabardar.Errorf(khabardar.EINVALID, "rate limits: %s: %s", r.name, khabardar.ErrorMessage(err))
		}
		switch {
		case r.sms:
			l.sms[r.class] = rate
		case r.class == "":
			l.global = rate
		default:
			l.anon[r.class] = rate
			if r.keyFactor > 0 {
				rate.Limit *= r.keyFactor
				l.keyed[r.class] = rate
			}
		}
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, khabardar.Errorf(khabardar.EINVALID, "rate limits: a trusted proxy prefix is invalid")
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		l.trusted = append(l.trusted, p.Masked())
	}
	opts := limiter.StoreOptions{Prefix: keyPrefix, CleanUpInterval: limiter.DefaultCleanUpInterval}
	if cfg.Redis == nil {
		l.store = memory.NewStoreWithOptions(opts)
		return l, nil
	}
	s, err := redisstore.NewStoreWithOptions(cfg.Redis, opts)
	if err != nil {
		return nil, unavailable(err)
	}
	l.store = s
	return l, nil
}

// ParseRate parses a rate in limiter's format, "<limit>-<S|M|H|D>" such as
// "1000-H", and requires a positive limit: EINVALID otherwise.
func ParseRate(s string) (limiter.Rate, error) {
	r, err := limiter.NewRateFromFormatted(s)
	if err != nil || r.Limit <= 0 {
		return limiter.Rate{}, khabardar.Errorf(khabardar.EINVALID,
			"rate %q is not a positive count per period, such as 1000-H (S, M, H or D: per second, minute, hour or day)", s)
	}
	return r, nil
}

// Identity is whom a request is counted against: an anonymous client's
// hashed address, an API key, an SMS sender's keyed hash or an SMS gateway.
// It holds no address and no number.
type Identity struct {
	counter string        // "<scope>:<id>"
	scope   string        // ScopeClient, ScopeKey, ScopeSender or ScopeGateway
	rate    *limiter.Rate // the API key's evaluation rate
	err     error         // the API key's rate did not parse
}

// Anonymous returns the identity of a client without an API key that
// connected from peer with the given X-Forwarded-For header values (see the
// package doc).
func (l *Limiter) Anonymous(peer netip.Addr, xForwardedFor []string) Identity {
	a := l.clientAddr(peer, xForwardedFor)
	return Identity{counter: ScopeClient + ":" + l.ipKey.Hex(counted(a)), scope: ScopeClient}
}

// counted returns the bytes of a that identify a client: the IPv4 address,
// the /64 of an IPv6 one, or nothing for the zero Addr (all such share one
// counter).
func counted(a netip.Addr) []byte {
	if a.Is6() {
		a = netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a.AsSlice()
}

// ForKey returns the identity of a request made with API key k: counted by
// its ID, evaluations limited by k.Rate. It does not look at k.Revoked: the
// caller refuses revoked keys first.
func (l *Limiter) ForKey(k *khabardar.APIKey) Identity {
	if k == nil || k.ID == "" {
		return Identity{}
	}
	id := Identity{counter: ScopeKey + ":" + k.ID, scope: ScopeKey}
	r, err := ParseRate(k.Rate)
	if err != nil {
		id.err = fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EINTERNAL, "api key %s has an invalid rate", k.ID), err)
		return id
	}
	id.rate = &r
	return id
}

// Sender returns the identity of an SMS sender, counted by hash: the keyed
// hash of its number, hashing.Key.Keyed("sms-sender").Hex. Take refuses
// the identity (EINTERNAL) if hash does not have that form, so that no raw
// number can end up in a counter key.
func (l *Limiter) Sender(hash string) Identity {
	if !khabardar.ValidKeyedHex(hash) {
		return Identity{err: khabardar.Errorf(khabardar.EINTERNAL, "rate limits: the sms sender is not a keyed hash")}
	}
	return Identity{counter: ScopeSender + ":" + hash, scope: ScopeSender}
}

var gatewayName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ValidGatewayName reports whether name can name an SMS gateway: 1 to 32
// lowercase letters, digits and dashes, not starting with a dash.
func ValidGatewayName(name string) bool { return gatewayName.MatchString(name) }

// Gateway returns the identity of an SMS gateway, such as "twilio" or
// "kannel": 1 to 32 lowercase letters, digits and dashes (else Take fails
// with EINTERNAL). A gateway's name is configuration, not a person, so it is
// counted as it is.
func (l *Limiter) Gateway(name string) Identity {
	if !ValidGatewayName(name) {
		return Identity{err: khabardar.Errorf(khabardar.EINTERNAL, "rate limits: the sms gateway name is not 1 to 32 lowercase letters, digits and dashes")}
	}
	return Identity{counter: ScopeGateway + ":" + name, scope: ScopeGateway}
}

// Decision is the outcome of Take: whether the request may proceed, and the
// limit that decided it, for the X-RateLimit-* headers.
type Decision struct {
	Allowed   bool
	Limit     int64     // the limit of the window
	Remaining int64     // what is left of it after this request
	Reset     time.Time // when the window ends, rounded up to the second
	Scope     string    // "client", "key" or "global"
}

// RetryAfter is how long a refused client should wait, in whole seconds and
// at least one, for a Retry-After header; 0 if the request was allowed.
func (d Decision) RetryAfter(now time.Time) time.Duration {
	if d.Allowed {
		return 0
	}
	wait := d.Reset.Sub(now)
	if wait <= time.Second {
		return time.Second
	}
	return (wait + time.Second - 1).Truncate(time.Second)
}

// Take counts n requests or elements of class c against id and reports
// whether they may proceed. An anonymous evaluation is also counted against
// the global ceiling if the client's own limit allows it. Errors are
// EINVALID for n < 1, EINTERNAL for an unknown class, the zero Identity, a
// key with an invalid rate, a malformed Sender or Gateway, or a class and
// identity that do not go together (SMSSender takes Sender identities,
// SMSGateway Gateway ones, the other classes neither), and EUNAVAILABLE when
// the counters cannot be reached; the Decision is then not Allowed.
func (l *Limiter) Take(ctx context.Context, c Class, id Identity, n int64) (Decision, error) {
	switch {
	case id.err != nil:
		return Decision{}, id.err
	case id.counter == "":
		return Decision{}, khabardar.Errorf(khabardar.EINTERNAL, "rate limits: no identity")
	case n < 1:
		return Decision{}, khabardar.Errorf(khabardar.EINVALID, "rate limits: count %d is not positive", n)
	}
	if rate, ok := l.sms[c]; ok {
		want := ScopeSender
		if c == SMSGateway {
			want = ScopeGateway
		}
		if id.scope != want {
			return Decision{}, khabardar.Errorf(khabardar.EINTERNAL, "rate limits: class %q counts %s identities, not %s", c, want, id.scope)
		}
		return l.take(ctx, rate, string(c)+":"+id.counter, n, id.scope)
	}
	rate, ok := l.anon[c]
	switch {
	case !ok:
		return Decision{}, khabardar.Errorf(khabardar.EINTERNAL, "rate limits: unknown class %q", c)
	case id.scope != ScopeClient && id.scope != ScopeKey:
		return Decision{}, khabardar.Errorf(khabardar.EINTERNAL, "rate limits: class %q does not count %s identities", c, id.scope)
	}
	switch {
	case id.scope == ScopeKey && c == Evaluate:
		rate = *id.rate
	case id.scope == ScopeKey:
		rate = l.keyed[c]
	}
	d, err := l.take(ctx, rate, string(c)+":"+id.counter, n, id.scope)
	if err != nil || !d.Allowed || c != Evaluate || id.scope != ScopeClient {
		return d, err
	}
	g, err := l.take(ctx, l.global, string(Evaluate)+":"+ScopeGlobal, n, ScopeGlobal)
	if err != nil {
		return Decision{}, err
	}
	if !g.Allowed || g.Remaining < d.Remaining {
		return g, nil
	}
	return d, nil
}

// Notice reports whether refused, a Decision of Take that refused id for
// class c, is the first refusal of id in that window: the one to answer,
// where the others get silence. It counts the refusal on a counter of its
// own with a limit of 1 whose window ends at refused.Reset. EUNAVAILABLE when
// the counters cannot be reached (the caller must not treat that as "not
// first" and go on: it answers that the service is unavailable);
// EINTERNAL for an allowed Decision, a malformed identity or a class without
// limits.
func (l *Limiter) Notice(ctx context.Context, c Class, id Identity, refused Decision) (bool, error) {
	switch _, known := l.anon[c]; {
	case id.err != nil:
		return false, id.err
	case id.counter == "":
		return false, khabardar.Errorf(khabardar.EINTERNAL, "rate limits: no identity")
	case refused.Allowed:
		return false, khabardar.Errorf(khabardar.EINTERNAL, "rate limits: notice of an allowed decision")
	case !known && l.sms[c].Limit == 0:
		return false, khabardar.Errorf(khabardar.EINTERNAL, "rate limits: unknown class %q", c)
	}
	window := time.Until(refused.Reset)
	if window < time.Second {
		window = time.Second
	}
	d, err := l.take(ctx, limiter.Rate{Limit: 1, Period: window}, "notice:"+string(c)+":"+id.counter, 1, id.scope)
	return d.Allowed, err
}

// take adds n to the counter key under rate.
func (l *Limiter) take(ctx context.Context, rate limiter.Rate, key string, n int64, scope string) (Decision, error) {
	lc, err := l.store.Increment(ctx, key, n, rate)
	if err != nil {
		return Decision{}, unavailable(err)
	}
	return Decision{
		Allowed:   !lc.Reached,
		Limit:     lc.Limit,
		Remaining: lc.Remaining,
		// limiter truncates the window's end to the second.
		Reset: time.Unix(lc.Reset+1, 0),
		Scope: scope,
	}, nil
}

// unavailable wraps a counter store error, for logs, in an EUNAVAILABLE
// error whose message names no key.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EUNAVAILABLE, "the rate limit counters cannot be reached"), err)
}
