package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of its own so
// that tests can build several servers. Label values come from fixed sets
// only: route patterns, methods, statuses, limit classes and scopes. Never a
// path, a prefix, an address or a key.
//
// They are served on a listener of their own (Server.MetricsHandler; serve's
// --metrics-addr, loopback by default), never on the API's: the bucket
// cache's hits and misses would tell anyone which buckets others fetched.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	evaluated prometheus.Counter
	limited   *prometheus.CounterVec
	padding   prometheus.Gauge
	sms       *prometheus.CounterVec

	bucketCache struct{ hit, miss prometheus.Counter }

	// Connections (listener.go) and dependencies (faults.go).
	connsOpen    prometheus.Gauge
	connsClosed  *prometheus.CounterVec
	acceptErrors *prometheus.CounterVec
	depUp        *prometheus.GaugeVec
	depErrors    *prometheus.CounterVec

	series sync.Map // seriesKey → *series
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "khabardar_http_requests_total",
			Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "khabardar_http_request_duration_seconds",
			Help: "Time from routing a request to its response, by route pattern.",
			// From a cached bucket (~100 µs) to a full batch (~60 ms).
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		evaluated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "khabardar_evaluated_elements_total",
			Help: "Blinded elements evaluated.",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "khabardar_rate_limited_total",
			Help: "Requests refused by a rate limit, by class (evaluate, bucket, listing) and scope (client, key, global).",
		}, []string{"class", "scope"}),
		padding: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "khabardar_bucket_padding_entries",
			Help: "Entries every bucket response is padded to (see openapi.yaml, bucket padding).",
		}),
	}
	cache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "khabardar_bucket_cache_requests_total",
		Help: "Bucket reads by result: hit (served from the in-process cache) or miss (read from the store).",
	}, []string{"result"})
	m.bucketCache.hit, m.bucketCache.miss = cache.WithLabelValues("hit"), cache.WithLabelValues("miss")
	m.sms = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "khabardar_sms_messages_total",
		Help: "SMS messages by gateway and outcome (replied, silent: a sender over its limit, error: answered with try later, replay: a message already answered, silenced uncharged, unchecked: refused with 503 as replays could not be checked).",
	}, []string{"gateway", "outcome"})
	m.connsOpen = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "khabardar_connections_open",
		Help: "Open client connections on the API listener.",
	})
	m.connsClosed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "khabardar_connections_closed_total",
		Help: "Connections closed before a request was served, by reason: total_cap or address_cap (over --max-conns or --max-conns-per-addr, closed at accept), header_timeout (no complete request head within --header-timeout of accept).",
	}, []string{"reason"})
	m.acceptErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "khabardar_accept_errors_total",
		Help: "Failed accepts on the API listener, retried with backoff, by error: fd_limit (EMFILE, ENFILE: out of file descriptors) or other.",
	}, []string{"error"})
	m.depUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "khabardar_dependency_up",
		Help: "1 while a dependency (store, rate_limiter, sms: the SMS service's store and counters) answers, 0 from its first failed call until a call succeeds after a second without failures.",
	}, []string{"dependency"})
	m.depErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "khabardar_dependency_errors_total",
		Help: "Requests answered 503 because a dependency (store, rate_limiter, sms) could not be reached.",
	}, []string{"dependency"})
	for _, r := range []string{"total_cap", "address_cap", "header_timeout"} {
		m.connsClosed.WithLabelValues(r)
	}
	for _, e := range []string{"fd_limit", "other"} {
		m.acceptErrors.WithLabelValues(e)
	}
	m.reg.MustRegister(cache, m.sms, m.requests, m.latency, m.evaluated, m.limited, m.padding,
		m.connsOpen, m.connsClosed, m.acceptErrors, m.depUp, m.depErrors,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route, method string, status int, elapsed time.Duration) {
	k := seriesKey{route, method, status}
	s, ok := m.series.Load(k)
	if !ok {
		// Label sets are few (routes × methods × statuses): resolve each once
		// rather than hashing its labels on every request.
		s, _ = m.series.LoadOrStore(k, &series{
			requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			latency:  m.latency.WithLabelValues(route),
		})
	}
	s.(*series).requests.Inc()
	s.(*series).latency.Observe(elapsed.Seconds())
}

type seriesKey struct {
	route, method string
	status        int
}

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// handler serves the registry in Prometheus' text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg, // counts its own errors
		ErrorHandling: promhttp.ContinueOnError,
	})
}
