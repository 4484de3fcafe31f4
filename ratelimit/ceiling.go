package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
)

// gcra is one rate as the generic cell rate algorithm meters it: one element
// every t microseconds, up to burst at once. A counter's state is its
// theoretical arrival time (TAT): when everything it has allowed would have
// been allowed at exactly that rate. A request for n is allowed if
// max(TAT, now) + n·t runs at most tau = burst·t ahead of now, and then
// becomes the TAT. Use drains away continuously, so nothing resets at a
// fixed time and nothing bursts at a window's edge; a refusal changes
// nothing.
type gcra struct {
	burst int64 // elements at once after a pause
	t     int64 // µs per element: the period over the count, rounded up (never faster than the rate)
	tau   int64 // burst·t
}

// newGCRA meters rate with a burst of its whole count, as a window of its
// period would allow at once.
func newGCRA(r limiter.Rate) gcra { return burstGCRA(r, r.Limit) }

// burstGCRA meters rate with the given burst.
func burstGCRA(r limiter.Rate, burst int64) gcra {
	p := r.Period.Microseconds()
	t := max((p+r.Limit-1)/r.Limit, 1)
	return gcra{burst: burst, t: t, tau: burst * t}
}

// perHour is g's rate in elements an hour, to compare rates of different periods.
func (g gcra) perHour() float64 { return float64(time.Hour.Microseconds()) / float64(g.t) }

// scaled returns g with its rate and burst multiplied by f (at least one
// element each).
func (g gcra) scaled(f float64) gcra {
	burst := max(int64(math.Round(float64(g.burst)*f)), 1)
	t := max(int64(math.Round(float64(g.t)/f)), 1)
	return gcra{burst: burst, t: t, tau: burst * t}
}

// policy is how one anonymous evaluation is decided: the caller's own
// counters, narrowest first (the IPv4 address, or the IPv6 /64, /56 and
// /48), the global ceiling, and the caller's allowances from the reserve,
// one for each own counter.
type policy struct {
	own     []gcra
	scopes  []string // of own
	global  gcra     // tau: the whole ceiling
	mainTau int64    // the part of it anyone may use
	limit   int64    // the ceiling's count, for Decision.Limit
	reserve []gcra
}

// outcome is what policy.decide (or its Lua twin) concluded. Counters are
// indexed own first, then the ceiling (len(own)), then the reserve.
type outcome struct {
	now       int64 // when it was decided, µs since the epoch
	allowed   bool
	reserve   bool    // allowed from the reserve
	use       []int64 // allowed: each charged counter's new TAT - now, µs
	refusedBy int     // refused: the counter that refused (an own one, or the ceiling)
	wait      int64   // refused: µs until that counter would allow the request
}

// decide applies p to a request for n at now (µs), given the counters'
// stored TATs in outcome order (0 for none). It is the reference for the
// Redis script, which must agree with it step for step: every own counter
// must allow n; then the ceiling allows n within its main part, or else
// within the whole of it if every reserve allowance allows n too. All the
// charged counters then move together, or none does.
func (p *policy) decide(now, n int64, tats []int64) outcome {
	k := len(p.own)
	use := func(i int, g gcra) int64 { return max(tats[i], now) - now + n*g.t }
	o := outcome{now: now, use: make([]int64, 0, 2*k+1)}
	for i, g := range p.own {
		u := use(i, g)
		if u > g.tau {
			return outcome{now: now, refusedBy: i, wait: u - g.tau}
		}
		o.use = append(o.use, u)
	}
	ug := use(k, p.global)
	o.use = append(o.use, ug)
	if ug > p.mainTau {
		var wait int64
		if ug > p.global.tau {
			wait = ug - p.global.tau
		}
		for i, g := range p.reserve {
			u := use(k+1+i, g)
			wait = max(wait, u-g.tau)
			o.use = append(o.use, u)
		}
		if wait > 0 {
			return outcome{now: now, refusedBy: k, wait: min(wait, ug-p.mainTau)}
		}
		o.reserve = true
	}
	o.allowed = true
	return o
}

// decision turns an outcome into a Decision: the refusing counter's, or of
// the counters charged, the one with the fewest remaining (the caller's own
// on a tie).
func (p *policy) decision(o outcome) Decision {
	k := len(p.own)
	now := time.UnixMicro(o.now)
	at := func(us int64) time.Time { return now.Add(time.Duration(us) * time.Microsecond) }
	if !o.allowed {
		d := Decision{Limit: p.limit, Reset: ceilSecond(at(o.wait)), Scope: ScopeGlobal}
		if o.refusedBy < k {
			d.Limit, d.Scope = p.own[o.refusedBy].burst, p.scopes[o.refusedBy]
		}
		return d
	}
	var best Decision
	for i, g := range p.own {
		d := Decision{Allowed: true, Limit: g.burst, Remaining: (g.tau - o.use[i]) / g.t, Reset: ceilSecond(at(o.use[i])), Scope: p.scopes[i]}
		if i == 0 || d.Remaining < best.Remaining {
			best = d
		}
	}
	ug := o.use[k]
	g := Decision{Allowed: true, Limit: p.limit, Remaining: (p.mainTau - ug) / p.global.t, Reset: ceilSecond(at(ug)), Scope: ScopeGlobal}
	if o.reserve {
		// What this caller may still take: the rest of the ceiling, as far as
		// its own reserve allowances go.
		g.Remaining = (p.global.tau - ug) / p.global.t
		for i, r := range p.reserve {
			g.Remaining = min(g.Remaining, (r.tau-o.use[k+1+i])/r.t)
		}
	}
	if g.Remaining < best.Remaining {
		best = g
	}
	return best
}

// ceilSecond rounds t up to the second, as limiter's Reset is.
func ceilSecond(t time.Time) time.Time {
	if s := t.Truncate(time.Second); !s.Equal(t) {
		return s.Add(time.Second)
	}
	return t
}

// counters holds the TATs of the anonymous evaluation counters and applies
// a policy to them atomically, on one clock: in process memory, or in Redis.
// The time of a decision is read where the decision is made (under the
// lock; in the script), so that requests racing each other are decided in
// the order of their times and exactly the limit passes.
type counters interface {
	// apply decides a request for n under p on the counters keys (in
	// outcome order) and stores the charged counters' new TATs if allowed.
	// Errors are the store's, to be wrapped by unavailable.
	apply(ctx context.Context, p *policy, keys []string, n int64) (outcome, error)
}

var (
	_ counters = (*memCounters)(nil)
	_ counters = (*redisCounters)(nil)
)

// memCounters are counters in process memory: one process's limits.
type memCounters struct {
	clock func() time.Time
	mu    sync.Mutex
	tats  map[string]int64
	swept int64 // when idle counters were last dropped, µs
}

// sweepEvery is how often memCounters drop counters that have drained
// (whose TAT has passed: the same as absent).
const sweepEvery = int64(time.Minute / time.Microsecond)

func newMemCounters() *memCounters { return &memCounters{clock: time.Now, tats: map[string]int64{}} }

func (m *memCounters) apply(_ context.Context, p *policy, keys []string, n int64) (outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock().UnixMicro()
	if now-m.swept > sweepEvery {
		for k, tat := range m.tats {
			if tat <= now {
				delete(m.tats, k)
			}
		}
		m.swept = now
	}
	var buf [8]int64
	tats := buf[:0]
	for _, k := range keys {
		tats = append(tats, m.tats[k])
	}
	o := p.decide(now, n, tats)
	if o.allowed {
		for i, u := range o.use {
			m.tats[keys[i]] = now + u
		}
	}
	return o, nil
}

// redisCounters are counters in Redis, shared by every replica. One script
// call decides a request: its counters share the hash tag of evaluateTag,
// so they sit in one slot of a Redis Cluster, and the script reads and
// writes them all atomically, on the Redis server's clock (TIME): one clock
// for every replica, however theirs differ.
type redisCounters struct {
	rdb   redis.UniversalClient
	clock func() time.Time // tests only: the time to decide at, instead of the server's
}

// evaluateScript is policy.decide in Lua (keep them in step; the tests run
// both on the same requests). KEYS: the k own counters, the ceiling, the k
// reserve allowances. ARGV: now (µs; 0: the server's TIME), n, k, t and tau
// of each own counter, the ceiling's t, main tau and tau, t and tau of each
// reserve allowance. It returns {1, now, reserve, use...} or {0, now,
// refusing counter (1-based), wait}. TATs are whole microseconds, stored as
// decimal integers (%.0f: Lua's default formatting would round them), and
// expire when they have drained. Writing after TIME needs effects
// replication: the default from Redis 5, the only way from 7.
var evaluateScript = redis.NewScript(`
local now, n, k = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if now == 0 then
	if redis.replicate_commands then redis.replicate_commands() end
	local t = redis.call('TIME')
	now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function use(i, t)
	local tat = tonumber(redis.call('GET', KEYS[i]) or 0)
	if tat < now then tat = now end
	return tat - now + n * t
end
local uses = {}
for i = 1, k do
	local t, tau = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
	local u = use(i, t)
	if u > tau then return {0, now, i, u - tau} end
	uses[i] = u
end
local a = 4 + 2 * k
local gt, mainTau, tau = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
local ug = use(k + 1, gt)
uses[k + 1] = ug
local charged = k + 1
local reserve = 0
if ug > mainTau then
	local wait = 0
	if ug > tau then wait = ug - tau end
	for i = 1, k do
		local rt, rtau = tonumber(ARGV[a + 1 + 2 * i]), tonumber(ARGV[a + 2 + 2 * i])
		local u = use(k + 1 + i, rt)
		if u - rtau > wait then wait = u - rtau end
		uses[k + 1 + i] = u
	end
	if wait > 0 then
		if ug - mainTau < wait then wait = ug - mainTau end
		return {0, now, k + 1, wait}
	end
	charged = 2 * k + 1
	reserve = 1
end
local out = {1, now, reserve}
for i = 1, charged do
	redis.call('SET', KEYS[i], string.format('%.0f', now + uses[i]), 'PX', math.ceil(uses[i] / 1000))
	out[#out + 1] = uses[i]
end
return out
`)

func (r *redisCounters) apply(ctx context.Context, p *policy, keys []string, n int64) (outcome, error) {
	k := len(p.own)
	var now int64
	if r.clock != nil {
		now = r.clock().UnixMicro()
	}
	args := make([]any, 0, 6+4*k)
	args = append(args, now, n, k)
	for _, g := range p.own {
		args = append(args, g.t, g.tau)
	}
	args = append(args, p.global.t, p.mainTau, p.global.tau)
	for _, g := range p.reserve {
		args = append(args, g.t, g.tau)
	}
	res, err := evaluateScript.Run(ctx, r.rdb, keys, args...).Int64Slice()
	if err != nil {
		return outcome{}, err
	}
	switch {
	case len(res) == 4 && res[0] == 0 && res[2] >= 1 && res[2] <= int64(k+1):
		return outcome{now: res[1], refusedBy: int(res[2] - 1), wait: res[3]}, nil
	case len(res) == 4+k && res[0] == 1 && res[2] == 0, len(res) == 4+2*k && res[0] == 1 && res[2] == 1:
		return outcome{now: res[1], allowed: true, reserve: res[2] == 1, use: res[3:]}, nil
	}
	return outcome{}, fmt.Errorf("the evaluation script answered %d values", len(res))
}

// evaluateTag starts the keys of the anonymous evaluation counters; the
// braces make them one hash slot of a Redis Cluster.
const evaluateTag = keyPrefix + ":{" + string(Evaluate) + "}:"

// evaluate decides an anonymous evaluation of n elements by id.
func (l *Limiter) evaluate(ctx context.Context, id Identity, n int64) (Decision, error) {
	p, keys := &l.v4, make([]string, 0, 7)
	keys = append(keys, evaluateTag+id.counter)
	if id.nets != nil {
		p = &l.v6
		n56, n48 := id.nets()
		keys = append(keys, evaluateTag+ScopeNetwork+"56:"+n56, evaluateTag+ScopeNetwork+"48:"+n48)
	}
	own := len(keys)
	keys = append(keys, evaluateTag+ScopeGlobal)
	for _, k := range keys[:own] {
		keys = append(keys, evaluateTag+"reserve:"+k[len(evaluateTag):])
	}
	o, err := l.counters.apply(ctx, p, keys, n)
	if err != nil {
		return Decision{}, unavailable(err)
	}
	return p.decision(o), nil
}
