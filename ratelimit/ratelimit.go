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
// subscriber is given, and for evaluations also by their /56 and /48. A
// client holding an API key is counted by the key's ID.
//
// Counters are keyed khb:rl:<class>:<scope>:<id>, where for an anonymous
// client <id> is hashing.Keyed.Hex of its address under the "ip" key (of an
// IPv6 /64, /56 or /48: 16, 7 or 6 bytes, never the same input as another):
// no address is stored, logged or put in an error, and the stored hashes
// cannot be reversed by trying all 2³² IPv4 addresses without the server
// key. Anonymous evaluations' counters are khb:rl:{evaluate}:client:<id>,
// network56:<id>, network48:<id>, reserve:<one of those> and global.
//
// # Counting
//
// Bucket and listing requests, API keys' evaluations and SMS messages are
// counted in fixed windows with ulule/limiter's Increment: a counter that
// starts with the first request and ends a period later. On Redis that is
// one Lua script (INCRBY, and PEXPIRE on the window's first increment),
// atomic on the server, so any number of replicas sharing the Redis enforce
// one limit exactly; without Redis the counters are in process memory. A
// refused request stays counted (a refund could land after the window has
// rolled over), so callers should refuse a batch larger than they accept
// before calling Take.
//
// Anonymous evaluations are counted otherwise, so that their global ceiling
// is not a kill switch (see below). Each of their counters is a generic cell
// rate algorithm meter (gcra): a rate of L per period P allows L at once
// after a pause and then one every P/L. Use drains away continuously: there
// is no window to end, nothing resets at a fixed time, nothing bursts at a
// window's edge, and a refusal costs nothing. A request is decided on all
// its counters at once (policy.decide): the client's own (the IPv4 address,
// or the IPv6 /64, /56 and /48, narrowest first) must all allow it, and then
// the ceiling, from its main part or, past that, from the reserve if the
// client's reserve allowances allow it too. Every counter is charged or
// none is: a client over its own limit never costs the ceiling anything.
// On Redis the decision is one Lua script of ours (evaluateScript), atomic
// across replicas; its keys share the hash tag {evaluate}, so on a Redis
// Cluster they are one slot on one master, which sees one script call per
// anonymous evaluation request (the global counter's one call used to go
// there anyway) and holds about 100 bytes for each client active in the
// last day. ulule/limiter has only fixed windows (counters with a TTL; no
// sliding or GCRA store), and go-redis/redis_rate's GCRA is one key per call
// on Redis's own clock: neither decides several counters atomically. Time
// is in whole microseconds, read where the decision is made: the Redis
// server's TIME in the script (one clock for all replicas, so racing
// requests are decided in the order of their times and exactly the limit
// passes), the process's under the in-memory counters' lock.
//
// The Decision returned is the refusing counter's or, if all allow, the one
// with the fewest remaining (the narrowest on a tie); Reset is when it will
// be full again (allowed) or would allow the request (refused).
//
// Errors of the counter store are EUNAVAILABLE: Take never allows a request
// it could not count.
//
// # Defaults
//
// DefaultConfig: Evaluate 2000-H per address or IPv6 /64, Evaluate56
// 4000-H, Evaluate48 8000-H, Bucket 3000-H, Listing 1000-H,
// GlobalEvaluate 2000000-D with a GlobalReservePercent of 20 and
// ReserveEvaluate 24-D (ReserveBurst 6) per address. Why these numbers, and
// why the ceiling's reserve keeps it from being a kill switch (what an
// attack would cost, tested by TestCeilingUnderAttack), is in
// docs/design.md, "Rate limits".
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
//	AlertSubscribe 5-D    subscriptions (ALERT) per sender a day: as many as one
//	                      may watch at once (khabardar.MaxWatches).
//	AlertCode   3-H       website confirmation codes sent to one number: someone
//	                      typing another's number cannot bomb it with SMS.
//	AlertCodeIP 10-H      codes asked for by one anonymous client.
//	AlertSend   600-M     alerts sent through one outbound gateway, 10 a second:
//	                      what the operator pays for; with Redis, across replicas.
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
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"sync"
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

	AlertSubscribe Class = "alert-subscribe" // ALERT subscriptions by one sender (Sender identities)
	AlertCode      Class = "alert-code"      // confirmation codes sent to one number (Sender identities)
	AlertCodeIP    Class = "alert-code-ip"   // confirmation codes asked for by one anonymous client
	AlertSend      Class = "alert-send"      // alerts sent through one outbound gateway (Gateway identities)
)

// Scopes name the limit a Decision comes from.
const (
	ScopeClient  = "client"  // one anonymous client address (an IPv4 address or an IPv6 /64)
	ScopeNetwork = "network" // the IPv6 /56 or /48 of anonymous clients
	ScopeKey     = "key"     // one API key
	ScopeGlobal  = "global"  // all anonymous evaluations

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
	Evaluate56, Evaluate48    string // anonymous evaluations per IPv6 /56 and per /48
	GlobalEvaluate            string // all anonymous evaluations together
	// GlobalReservePercent of GlobalEvaluate is the reserve: 0 takes the
	// default, a negative value means none.
	GlobalReservePercent int
	// ReserveEvaluate is what one address (IPv4, or IPv6 /64) may take from
	// the reserve, at most ReserveBurst at once (0 takes the default); a
	// /56 and a /48 may take as much more as Evaluate56 and Evaluate48 are
	// more than Evaluate.
	ReserveEvaluate string
	ReserveBurst    int
	SMSSender       string // SMS messages per sender
	SMSGateway      string // SMS messages per gateway
	AlertSubscribe  string // subscriptions (ALERT) per sender
	AlertSend       string // alerts sent per outbound gateway: what the operator pays for
	AlertCode       string // confirmation codes sent to one number
	AlertCodeIP     string // confirmation codes asked for by one anonymous client
	TrustedProxies  []netip.Prefix
	Redis           redis.UniversalClient // nil: in-memory counters (one process); else shared by all replicas
}

// DefaultConfig returns the documented defaults (see the package doc), with
// no trusted proxies and in-memory counters.
func DefaultConfig() Config {
	return Config{
		Evaluate:             "2000-H",
		Evaluate56:           "4000-H",
		Evaluate48:           "8000-H",
		Bucket:               "3000-H",
		Listing:              "1000-H",
		GlobalEvaluate:       "2000000-D",
		GlobalReservePercent: 20,
		ReserveEvaluate:      "24-D",
		ReserveBurst:         6,
		SMSSender:            "10-H",
		SMSGateway:           "36000-H",
		AlertSubscribe:       "5-D",
		AlertSend:            "600-M",
		AlertCode:            "3-H",
		AlertCodeIP:          "10-H",
	}
}

// Limiter decides whether requests may proceed. It is safe for concurrent use.
type Limiter struct {
	store    limiter.Store // fixed windows: everything but anonymous evaluations
	counters counters      // anonymous evaluations
	v4, v6   policy        // how counters decide an IPv4 and an IPv6 client's evaluation
	ipKey    *hashing.Keyed
	trusted  []netip.Prefix
	anon     map[Class]limiter.Rate // per anonymous client
	keyed    map[Class]limiter.Rate // per API key, except Evaluate: the key's own
	sms      map[Class]limiter.Rate // per sender or gateway
}

// New returns a limiter. ipKey (hashing.Key.Keyed("ip")) hashes client
// addresses into counter keys. With cfg.Redis set it loads limiter's script
// and its own into Redis, so it fails with EUNAVAILABLE if Redis cannot be
// reached; it fails with EINVALID for a rate that does not parse or is not
// positive, a reserve over 90 % or a negative reserve burst, or an invalid
// trusted proxy prefix.
func New(cfg Config, ipKey *hashing.Keyed) (*Limiter, error) {
	if ipKey == nil {
		return nil, khabardar.Errorf(khabardar.EINVALID, "rate limits: no ip key")
	}
	def := DefaultConfig()
	l := &Limiter{ipKey: ipKey, anon: map[Class]limiter.Rate{}, keyed: map[Class]limiter.Rate{}, sms: map[Class]limiter.Rate{}}
	var global limiter.Rate
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
		{"alert subscribe", cfg.AlertSubscribe, def.AlertSubscribe, AlertSubscribe, 0, true},
		{"alert send", cfg.AlertSend, def.AlertSend, AlertSend, 0, true},
		{"alert code", cfg.AlertCode, def.AlertCode, AlertCode, 0, true},
		{"alert code per client", cfg.AlertCodeIP, def.AlertCodeIP, AlertCodeIP, 0, false},
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
			global = rate
		default:
			l.anon[r.class] = rate
			if r.keyFactor > 0 {
				rate.Limit *= r.keyFactor
				l.keyed[r.class] = rate
			}
		}
	}
	if err := l.evaluationPolicies(cfg, global); err != nil {
		return nil, err
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
		l.counters = newMemCounters()
		return l, nil
	}
	s, err := redisstore.NewStoreWithOptions(cfg.Redis, opts)
	if err != nil {
		return nil, unavailable(err)
	}
	if err := evaluateScript.Load(context.Background(), cfg.Redis).Err(); err != nil {
		return nil, unavailable(err)
	}
	l.store, l.counters = s, &redisCounters{rdb: cfg.Redis}
	return l, nil
}

// evaluationPolicies sets l.v4 and l.v6 from cfg, the global rate and the
// per-address one, which New has parsed into l.anon.
func (l *Limiter) evaluationPolicies(cfg Config, global limiter.Rate) error {
	def := DefaultConfig()
	addr := l.anon[Evaluate] // parsed by New
	var net56, net48, reserve limiter.Rate
	for _, r := range []struct {
		name     string
		set, def string
		rate     *limiter.Rate
	}{
		{"evaluate per /56", cfg.Evaluate56, def.Evaluate56, &net56},
		{"evaluate per /48", cfg.Evaluate48, def.Evaluate48, &net48},
		{"reserve evaluate", cfg.ReserveEvaluate, def.ReserveEvaluate, &reserve},
	} {
		rate, err := ParseRate(cmp.Or(r.set, r.def))
		if err != nil {
			return khabardar.Errorf(khabardar.EINVALID, "rate limits: %s: %s", r.name, khabardar.ErrorMessage(err))
		}
		*r.rate = rate
	}
	pct, burst := cfg.GlobalReservePercent, cfg.ReserveBurst
	switch {
	case pct == 0:
		pct = def.GlobalReservePercent
	case pct < 0:
		pct = 0
	case pct > 90:
		return khabardar.Errorf(khabardar.EINVALID, "rate limits: the reserve is %d %% of the global ceiling; at most 90 %% leaves the rest to everyone", pct)
	}
	switch {
	case burst == 0:
		burst = def.ReserveBurst
	case burst < 0:
		return khabardar.Errorf(khabardar.EINVALID, "rate limits: the reserve burst %d is negative", burst)
	}
	a, n56, n48 := newGCRA(addr), newGCRA(net56), newGCRA(net48)
	r := burstGCRA(reserve, int64(burst))
	g := newGCRA(global)
	held := global.Limit * int64(pct) / 100
	l.v4 = policy{
		own: []gcra{a}, scopes: []string{ScopeClient},
		global: g, mainTau: (global.Limit - held) * g.t, limit: global.Limit,
		reserve: []gcra{r},
	}
	l.v6 = l.v4
	l.v6.own = []gcra{a, n56, n48}
	l.v6.scopes = []string{ScopeClient, ScopeNetwork, ScopeNetwork}
	l.v6.reserve = []gcra{r, r.scaled(n56.perHour() / a.perHour()), r.scaled(n48.perHour() / a.perHour())}
	return nil
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
// It holds no number, and no address but an IPv6 client's /56 until an
// evaluation hashes it (networks), which printing it does not show.
type Identity struct {
	counter string                   // "<scope>:<id>"
	scope   string                   // ScopeClient, ScopeKey, ScopeSender or ScopeGateway
	nets    func() (n56, n48 string) // an IPv6 client's networks, hashed on first use (networks); nil for IPv4
	rate    *limiter.Rate            // the API key's evaluation rate
	err     error                    // the API key's rate did not parse
}

// networks returns the keyed hashes of an IPv6 client's /56 and /48, for
// its evaluations. They are computed on the first call: most requests are
// bucket and listing fetches, counted by the /64 alone, and two more keyed
// hashes would cost each 0.5 µs (BenchmarkAnonymous). Until then the /56's
// bytes live only in the closure, which printing an Identity shows as a
// pointer (a struct behind an unexported field would print in full), and
// they are zeroed once hashed. The inputs are 7 and 6 bytes, never the same
// as an IPv4 address's (4) or a /64's (16), so never the same hash.
func networks(key *hashing.Keyed, a netip.Addr) func() (n56, n48 string) {
	var (
		once     sync.Once
		n56, n48 string
	)
	b := a.As16()
	prefix := [7]byte(b[:7])
	return func() (string, string) {
		once.Do(func() {
			n56, n48 = key.Hex(prefix[:7]), key.Hex(prefix[:6])
			clear(prefix[:])
		})
		return n56, n48
	}
}

// Anonymous returns the identity of a client without an API key that
// connected from peer with the given X-Forwarded-For header values (see the
// package doc).
func (l *Limiter) Anonymous(peer netip.Addr, xForwardedFor []string) Identity {
	a := l.clientAddr(peer, xForwardedFor)
	id := Identity{counter: ScopeClient + ":" + l.ipKey.Hex(counted(a)), scope: ScopeClient}
	if a.Is6() {
		id.nets = networks(l.ipKey, a)
	}
	return id
}

// ClientPrefix is what one anonymous client is, given its address
// (unmapped): the IPv4 address, or the /64 of an IPv6 one, which is what one
// subscriber is given. Rate limits count clients by it, and so do the API's
// connection caps.
func ClientPrefix(a netip.Addr) netip.Prefix {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// counted returns the bytes of a that identify a client (ClientPrefix), or
// nothing for the zero Addr (all such share one counter).
func counted(a netip.Addr) []byte { return ClientPrefix(a).Addr().AsSlice() }

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
	Reset     time.Time // when the window ends, or for anonymous evaluations when the counter is full again (allowed) or would allow the request (refused); rounded up to the second
	Scope     string    // "client", "network", "key" or "global"
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
// an IPv6 client's /56 and /48 and the global ceiling, all or none of them,
// and against the client's reserve allowances when it takes from the
// ceiling's reserve (see the package doc). Errors are
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
		if c == SMSGateway || c == AlertSend {
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
	case id.scope == ScopeClient && c == Evaluate:
		return l.evaluate(ctx, id, n)
	case id.scope == ScopeKey && c == Evaluate:
		rate = *id.rate
	case id.scope == ScopeKey:
		rate = l.keyed[c]
	}
	return l.take(ctx, rate, string(c)+":"+id.counter, n, id.scope)
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
