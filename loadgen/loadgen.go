// Package loadgen drives Khabardar's real lookup flow against one or more
// servers and measures it: each check fetches the configuration once per
// server, blinds synthetic mobile numbers, posts them to /v1/evaluate,
// verifies the proof and unblinds, then fetches each output's bucket, as the
// website does. A run is bounded by a number of checks and by a duration,
// whichever comes first, and reports checks per second, latency
// percentiles per operation, errors by kind, and the servers' resident
// memory sampled over the run.
//
// It sends only synthetic identifiers (internal/fixture) and never prints
// one. Point it at loopback or at a deployment you run: each evaluation is
// rate-limited per address, so give it an API key or raise the limits of
// the servers under test.
package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/wire"
)

// Defaults for Config's zero values.
const (
	DefaultConcurrency = 16
	DefaultChecks      = 10_000
	DefaultDuration    = time.Minute
	DefaultBatch       = 1
	DefaultSampleEvery = time.Second
	DefaultPool        = 1_000_000
)

// Config is a run. Targets is required; every other field has a default.
type Config struct {
	Targets     []string      // servers' base URLs; virtual users are spread over them in turn
	Concurrency int           // virtual users, each one check at a time
	Checks      int           // stop after this many checks…
	Duration    time.Duration // …or this long, whichever comes first
	Batch       int           // identifiers per check (one evaluation, one bucket each)
	Pool        int           // distinct synthetic mobile numbers drawn from
	Rate        float64       // checks started per second, over all users; 0: as fast as they go (a soak runs below the maximum)
	APIKey      string        // sent as a bearer token, for higher limits
	PIDs        []int         // server processes whose memory to sample (Linux)
	SampleEvery time.Duration
	Seed        uint64
	HTTP        *http.Client // default: keep-alive connections enough for Concurrency
}

// Validate fills defaults and checks cfg: EINVALID naming the field.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return khabardar.Errorf(khabardar.EINVALID, "load: "+format, args...)
	}
	if len(c.Targets) == 0 {
		return bad("no target server")
	}
	for i, t := range c.Targets {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("target %d is not an http(s) URL", i+1)
		}
		c.Targets[i] = strings.TrimRight(t, "/")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Concurrency, DefaultConcurrency)
	def(&c.Checks, DefaultChecks)
	def(&c.Batch, DefaultBatch)
	def(&c.Pool, DefaultPool)
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.SampleEvery == 0 {
		c.SampleEvery = DefaultSampleEvery
	}
	switch {
	case c.Concurrency < 1 || c.Concurrency > 4096:
		return bad("concurrency must be from 1 to 4096")
	case c.Checks < 1:
		return bad("checks must be positive")
	case c.Duration < 0:
		return bad("duration must be positive")
	case c.Batch < 1 || c.Batch > wire.MaxBatchLimit:
		return bad("batch must be from 1 to %d", wire.MaxBatchLimit)
	case c.Pool < 1 || c.Pool > 10_000_000:
		return bad("pool must be from 1 to 10,000,000")
	case c.Rate < 0 || c.Rate > 1e6:
		return bad("rate must be from 0 (unpaced) to 1,000,000 checks a second")
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{
			Timeout: 30 * time.Second,
			// Idle connections are dropped before serve's 60 s idle timeout
			// would close them: a POST sent on a connection the server is
			// closing fails, and is not retried (it is not idempotent).
			Transport: &http.Transport{MaxIdleConnsPerHost: c.Concurrency, MaxConnsPerHost: c.Concurrency, IdleConnTimeout: 30 * time.Second},
		}
	}
	return nil
}

// Operations a report times.
const (
	OpConfig   = "config"
	OpEvaluate = "evaluate"
	OpBucket   = "bucket"
	OpCheck    = "check" // evaluate, proof, unblind and every bucket
)

// Report is a run's outcome.
type Report struct {
	Checks       int            `json:"checks"` // completed without error
	Failed       int            `json:"failed"`
	Elapsed      time.Duration  `json:"elapsed_ns"`
	ChecksPerSec float64        `json:"checks_per_s"`
	Ops          map[string]Op  `json:"ops"`
	Errors       map[string]int `json:"errors"` // by kind: "http 429", "http 503", "refused", "reset", "timeout", "network", "proof", …
	Memory       []Sample       `json:"memory"`
}

// Op is one operation's count, rate and latencies.
type Op struct {
	Count     int           `json:"count"`
	PerSecond float64       `json:"per_s"`
	P50       time.Duration `json:"p50_ns"`
	P95       time.Duration `json:"p95_ns"`
	P99       time.Duration `json:"p99_ns"`
	Max       time.Duration `json:"max_ns"`
}

// Sample is the resident memory of the sampled processes at a moment.
type Sample struct {
	At  time.Duration `json:"at_ns"` // since the start
	RSS map[int]int64 `json:"rss"`   // bytes by PID; a process that has gone is absent
}

// Run runs cfg until its bound or ctx ends, and reports. Errors of single
// requests are counted in the report, not returned; Run fails only for an
// invalid Config or a target whose configuration cannot be fetched.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	r := &run{cfg: cfg, lat: map[string][]time.Duration{}, errs: map[string]int{}}
	targets := make([]*target, len(cfg.Targets))
	for i, base := range cfg.Targets {
		t, err := r.fetchTarget(ctx, base)
		if err != nil {
			return nil, err
		}
		targets[i] = t
	}

	start := time.Now()
	memDone := make(chan []Sample)
	memCtx, stopMem := context.WithCancel(ctx)
	go func() { memDone <- sampleMemory(memCtx, cfg.PIDs, cfg.SampleEvery, start) }()

	// With a rate, a pacer hands out one start a tick; users wait for one
	// before each check (open loop: a slow server does not slow the offered
	// load, it grows the latencies).
	var starts chan struct{}
	if cfg.Rate > 0 {
		starts = make(chan struct{}, cfg.Concurrency)
		go pace(ctx, cfg.Rate, starts)
	}
	var issued atomic.Int64
	var wg sync.WaitGroup
	for u := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(u)))
			t := targets[u%len(targets)]
			for ctx.Err() == nil && issued.Add(1) <= int64(cfg.Checks) {
				if starts != nil {
					select {
					case <-starts:
					case <-ctx.Done():
						return
					}
				}
				r.check(ctx, t, rng)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopMem()
	rep := &Report{Checks: r.ok, Failed: r.failed, Elapsed: elapsed, Errors: r.errs, Memory: <-memDone, Ops: map[string]Op{}}
	rep.ChecksPerSec = float64(r.ok) / elapsed.Seconds()
	for name, ds := range r.lat {
		rep.Ops[name] = summarize(ds, elapsed)
	}
	return rep, nil
}

// pace sends on starts rate times a second until ctx ends, dropping ticks
// nobody is ready for (all users busy: the run is at its maximum).
func pace(ctx context.Context, rate float64, starts chan<- struct{}) {
	const tick = 10 * time.Millisecond // coarse ticks, several starts each: timers are not precise to microseconds
	t := time.NewTicker(tick)
	defer t.Stop()
	begin, sent := time.Now(), 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due := rate * now.Sub(begin).Seconds()
			for ; sent+1 <= due; sent++ {
				select {
				case starts <- struct{}{}:
				default: // users all busy
				}
			}
		}
	}
}

// target is one server and what its configuration says.
type target struct {
	base    string
	keyID   string
	layout  khabardar.Layout
	client  *hashing.Client
	maxSend int
}

// run is the state the virtual users share.
type run struct {
	cfg Config

	mu     sync.Mutex
	lat    map[string][]time.Duration
	errs   map[string]int
	ok     int
	failed int
}

func (r *run) record(op string, d time.Duration) {
	r.mu.Lock()
	r.lat[op] = append(r.lat[op], d)
	r.mu.Unlock()
}

func (r *run) fail(kind string) {
	r.mu.Lock()
	r.errs[kind]++
	r.failed++
	r.mu.Unlock()
}

func (r *run) fetchTarget(ctx context.Context, base string) (*target, error) {
	var c wire.Config
	start := time.Now()
	if _, err := r.do(ctx, http.MethodGet, base+wire.RouteConfig, nil, &c); err != nil {
		return nil, khabardar.Errorf(khabardar.EUNAVAILABLE, "load: %s: %s: %s", base, wire.RouteConfig, err)
	}
	r.record(OpConfig, time.Since(start))
	pub, err := base64.RawURLEncoding.DecodeString(c.PublicKey)
	if err != nil || c.Suite != hashing.Suite {
		return nil, khabardar.Errorf(khabardar.EINVALID, "load: %s: not a %s server", base, hashing.Suite)
	}
	hc, err := hashing.NewClient(pub)
	if err != nil {
		return nil, khabardar.Errorf(khabardar.EINVALID, "load: %s: bad public key", base)
	}
	l := khabardar.Layout{KeyID: c.KeyID, BucketBits: c.BucketBits, SuffixBytes: c.SuffixBytes}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if r.cfg.Batch > c.MaxBatch && r.cfg.APIKey == "" {
		return nil, khabardar.Errorf(khabardar.EINVALID, "load: batch %d is over %s's max_batch %d; pass an API key", r.cfg.Batch, base, c.MaxBatch)
	}
	return &target{base: base, keyID: c.KeyID, layout: l, client: hc, maxSend: c.MaxBatch}, nil
}

// check does one check of Batch random pool numbers against t.
func (r *run) check(ctx context.Context, t *target, rng *rand.Rand) {
	ids := make([]identifier.ID, r.cfg.Batch)
	for i := range ids {
		id, err := identifier.Parse(identifier.Phone, identifier.Raw(fixture.Phone(rng.IntN(r.cfg.Pool))))
		if err != nil {
			panic(err) // fixture numbers are valid by construction
		}
		ids[i] = id
	}
	start := time.Now()
	bl, err := t.client.Blind(ids)
	if err != nil {
		r.fail("blind")
		return
	}
	req := wire.EvaluateRequest{KeyID: t.keyID}
	for _, e := range bl.Elements {
		req.Blinded = append(req.Blinded, base64.RawURLEncoding.EncodeToString(e))
	}
	var resp wire.EvaluateResponse
	evalStart := time.Now()
	if kind, err := r.do(ctx, http.MethodPost, t.base+wire.RouteEvaluate, req, &resp); err != nil {
		r.failUnlessDone(ctx, kind)
		return
	}
	r.record(OpEvaluate, time.Since(evalStart))
	evaluated := make([][]byte, len(resp.Evaluated))
	for i, e := range resp.Evaluated {
		if evaluated[i], err = base64.RawURLEncoding.DecodeString(e); err != nil {
			r.fail("malformed")
			return
		}
	}
	proof, err := base64.RawURLEncoding.DecodeString(resp.Proof)
	if err != nil {
		r.fail("malformed")
		return
	}
	outs, err := t.client.Finalize(bl, evaluated, proof)
	if err != nil {
		r.fail("proof")
		return
	}
	for _, y := range outs {
		prefix, _ := hashing.Split(y, t.layout)
		var bucket wire.Bucket
		bStart := time.Now()
		if kind, err := r.do(ctx, http.MethodGet, t.base+wire.BucketPath(prefix), nil, &bucket); err != nil {
			r.failUnlessDone(ctx, kind)
			return
		}
		r.record(OpBucket, time.Since(bStart))
	}
	r.record(OpCheck, time.Since(start))
	r.mu.Lock()
	r.ok++
	r.mu.Unlock()
}

// failUnlessDone counts a failure, except for a request cut short because
// the run's time is up.
func (r *run) failUnlessDone(ctx context.Context, kind string) {
	if ctx.Err() == nil {
		r.fail(kind)
	}
}

// do sends a JSON request and decodes a 200's body into out. On failure it
// returns the kind of error for the report ("http 429", "network", …) and
// an error without the URL (it may hold a bucket prefix).
func (r *run) do(ctx context.Context, method, u string, in, out any) (string, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return "encode", err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return "request", err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}
	resp, err := r.cfg.HTTP.Do(req)
	if err != nil {
		return networkKind(err), fmt.Errorf("the request failed")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return "network", fmt.Errorf("reading the answer failed")
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("http %d", resp.StatusCode), fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return "malformed", fmt.Errorf("the answer is not the expected JSON")
	}
	return "", nil
}

// networkKind names a transport error for the report: "refused" (nothing
// listens: a server gone or stopping), "reset" (the connection closed
// before an answer: a keep-alive connection the server closed), "timeout",
// or "network".
func networkKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	if strings.Contains(err.Error(), "server closed idle connection") {
		return "reset" // net/http's own error for it is not exported
	}
	return "network"
}

// summarize sorts ds and returns its count, rate over elapsed and
// percentiles (nearest rank).
func summarize(ds []time.Duration, elapsed time.Duration) Op {
	slices.Sort(ds)
	op := Op{Count: len(ds)}
	if len(ds) == 0 {
		return op
	}
	op.PerSecond = float64(len(ds)) / elapsed.Seconds()
	op.P50, op.P95, op.P99 = percentile(ds, 50), percentile(ds, 95), percentile(ds, 99)
	op.Max = ds[len(ds)-1]
	return op
}

// percentile is the nearest-rank percentile p of sorted ds.
func percentile(ds []time.Duration, p int) time.Duration {
	rank := (p*len(ds) + 99) / 100 // ceil(p/100 · n)
	return ds[max(rank, 1)-1]
}
