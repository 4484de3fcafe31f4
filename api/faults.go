package api

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/khabardar/khabardar"
)

// How the server logs failures without a line per request: an outage of a
// dependency (the store, the rate limiter's counters) is logged when it
// begins and when it ends, and every request it fails is counted in
// khabardar_dependency_errors_total; any other fault (a bug, a corrupt
// record) is logged as it happens, but at most once a second, with the
// count of lines left out since the last one. Before, a Redis outage wrote
// an Error line per request: 6,643 in 20 s.

// depQuiet is how long a dependency must go without a failed call before a
// successful one counts as its recovery.
const depQuiet = time.Second

// dependency is a service requests need, and whether it answers.
//
// It goes down at the first call that fails with EUNAVAILABLE (logged at
// Error, naming the dependency and the client library's error, never a
// request's data). It comes back up at the first call that succeeds once
// depQuiet has passed without a failed one (logged at Info with the
// outage's length and the requests it failed). The quiet period matters
// when a dependency half works, such as a Redis Cluster with one master
// gone, whose slots fail while the others answer: it stays down instead of
// logging a pair of transitions per request, and flapping costs at most two
// lines a second.
//
// No goroutine probes a dependency that is down: requests are the probes.
// For the store so is /readyz, which load balancers and orchestrators poll
// every few seconds, so even a server with no traffic logs the store's
// recovery. The rate limiter has no ping; it is seen back up with the first
// request it counts.
type dependency struct {
	name   string // the label value and the log's "dependency"
	log    *slog.Logger
	up     atomic.Bool
	gauge  prometheus.Gauge
	errors prometheus.Counter

	lastFailure atomic.Int64 // Unix ns of the last failed call
	downSince   atomic.Int64 // Unix ns the current outage began
	failed      atomic.Int64 // requests failed in the current outage
}

func newDependency(name string, m *metrics, log *slog.Logger) *dependency {
	d := &dependency{name: name, log: log, gauge: m.depUp.WithLabelValues(name), errors: m.depErrors.WithLabelValues(name)}
	d.up.Store(true)
	d.gauge.Set(1)
	return d
}

// dependencyError marks an error as an outage of dep, for errorHandler.
type dependencyError struct {
	dep *dependency
	err error
}

func (e *dependencyError) Error() string { return e.err.Error() }
func (e *dependencyError) Unwrap() error { return e.err }

// track records the outcome of a call to d and returns err, marked as d's
// outage if it is one (EUNAVAILABLE). Any other error means d answered.
func (d *dependency) track(err error) error {
	if khabardar.ErrorCode(err) != khabardar.EUNAVAILABLE {
		d.answered()
		return err
	}
	now := time.Now().UnixNano()
	d.lastFailure.Store(now)
	if d.up.CompareAndSwap(true, false) {
		d.downSince.Store(now)
		d.failed.Store(0)
		d.gauge.Set(0)
		d.log.Error("dependency down: requests that need it fail with 503 until it answers again",
			"dependency", d.name, "err", err.Error())
	}
	return &dependencyError{dep: d, err: err}
}

// answered is track's success path: an atomic load while d is up.
func (d *dependency) answered() {
	if d.up.Load() {
		return
	}
	now := time.Now().UnixNano()
	if time.Duration(now-d.lastFailure.Load()) < depQuiet {
		return
	}
	if d.up.CompareAndSwap(false, true) {
		d.gauge.Set(1)
		d.log.Info("dependency back up", "dependency", d.name,
			"down_for", time.Duration(now-d.downSince.Load()).Round(time.Millisecond).String(), "failed_requests", d.failed.Load())
	}
}

// requestFailed counts a request that failed because d is down.
func (d *dependency) requestFailed() {
	d.errors.Inc()
	d.failed.Add(1)
}

// sampledLog lets through at most perSecond lines a second (at least one).
type sampledLog struct {
	perSecond int

	mu         sync.Mutex
	windowEnd  time.Time
	used       int
	suppressed int64
}

// allow reports whether a line may be written now and, if so, how many
// were left out since the last one.
func (l *sampledLog) allow() (ok bool, suppressed int64) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !now.Before(l.windowEnd) {
		l.windowEnd, l.used = now.Add(time.Second), 0
	}
	if l.used >= max(l.perSecond, 1) {
		l.suppressed++
		return false, 0
	}
	l.used++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

// refusalsPerSecond bounds the Info lines of refused requests (4xx). A
// refusal costs an attacker one small request, so a line per refusal would
// let anyone write the server's disk full: a line is about 110 bytes, so
// the 40,000 requests a second one replica answers would be 4 MB a second. /metrics counts every one by route and status; the lines
// are samples, each with the count left out before it. At debug level
// (serve --log-level debug) every request is logged, unsampled.
const refusalsPerSecond = 10

// logRequest writes a request's line at its level (requestLevel): refusals
// sampled, the rest as they come, since only debug logs them.
func (s *Server) logRequest(level slog.Level, attrs ...slog.Attr) {
	ctx := context.Background()
	if !s.log.Enabled(ctx, level) {
		return
	}
	if level == slog.LevelInfo && !s.log.Enabled(ctx, slog.LevelDebug) {
		ok, left := s.refusals.allow()
		if !ok {
			return
		}
		attrs = append(attrs, slog.Int64("suppressed", left))
	}
	s.log.LogAttrs(ctx, level, "request", attrs...)
}

// logFailure logs a request that failed with a 5xx (see the top of this
// file). code is the error's code.
func (s *Server) logFailure(c *fiber.Ctx, code string, err error) {
	var de *dependencyError
	if errors.As(err, &de) {
		de.dep.requestFailed()
		return
	}
	if ok, left := s.faults.allow(); ok {
		// Our code and the stores name operations, never values.
		s.log.LogAttrs(context.Background(), slog.LevelError, "request failed", slog.String("route", routeOf(c)),
			slog.String("code", code), slog.String("err", err.Error()), slog.Int64("suppressed", left))
	}
}

// watchedStore is the store as the server sees it: every call's outcome is
// tracked by dep. Only the methods the server calls are watched.
type watchedStore struct {
	khabardar.Store
	dep *dependency
}

func (w watchedStore) Listing(ctx context.Context, id string) (*khabardar.Listing, error) {
	l, err := w.Store.Listing(ctx, id)
	return l, w.dep.track(err)
}

func (w watchedStore) Listings(ctx context.Context) ([]*khabardar.Listing, error) {
	ls, err := w.Store.Listings(ctx)
	return ls, w.dep.track(err)
}

func (w watchedStore) Bucket(ctx context.Context, prefix string) ([]khabardar.Entry, error) {
	es, err := w.Store.Bucket(ctx, prefix)
	return es, w.dep.track(err)
}

func (w watchedStore) Ping(ctx context.Context) error { return w.dep.track(w.Store.Ping(ctx)) }

func (w watchedStore) APIKeyByHash(ctx context.Context, hash []byte) (*khabardar.APIKey, error) {
	k, err := w.Store.APIKeyByHash(ctx, hash)
	return k, w.dep.track(err)
}

// watchedAPIKeys is Config.APIKeys watched as the store.
type watchedAPIKeys struct {
	khabardar.APIKeyStore
	dep *dependency
}

func (w watchedAPIKeys) APIKeyByHash(ctx context.Context, hash []byte) (*khabardar.APIKey, error) {
	k, err := w.APIKeyStore.APIKeyByHash(ctx, hash)
	return k, w.dep.track(err)
}

var (
	_ khabardar.Store       = watchedStore{}
	_ khabardar.APIKeyStore = watchedAPIKeys{}
)
