// Package api is Khabardar's public HTTP API on fiber v2. It is the only
// package that imports fiber. Handlers translate HTTP to calls on the store,
// the key and the rate limiter; errors are *khabardar.Error values mapped to
// statuses in one table (statusOf). The contract is openapi.yaml, served at
// /v1/openapi.yaml.
//
// Privacy: nothing from a request (a body, a blinded element, a bucket
// prefix, a path, a client address, an API key) reaches a log line, a metric
// label or an error message. Logs and metrics carry the route pattern
// ("/v1/buckets/:prefix"), the status and the latency.
package api

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	_ "embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/maypok86/otter/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/wire"
)

// Defaults for Config's zero values.
const (
	DefaultMaxBatch         = 16
	DefaultBucketMaxAge     = 5 * time.Minute
	DefaultPaddingRefresh   = time.Minute
	DefaultBucketCacheTTL   = time.Minute
	DefaultBucketCacheBytes = 128 << 20
	DefaultReadTimeout      = 10 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
)

// Config is what the server needs. Store, Key and Layout are required.
type Config struct {
	Store  khabardar.Store
	Key    *hashing.Key
	Layout khabardar.Layout

	// APIKeys finds the key of an "Authorization: Bearer" header. Nil
	// refuses every such header (401): a request that names a key is never
	// served as anonymous.
	APIKeys khabardar.APIKeyStore

	// Limiter charges each request to its caller. Nil means no limits: for
	// tests and benchmarks only; serve always sets one.
	Limiter *ratelimit.Limiter

	// MaxBatch is the most elements an anonymous caller may send in one
	// evaluation (default 16); /v1/config publishes it. An API key's
	// MaxBatch replaces it for that key's requests (capped at
	// wire.MaxBatchLimit).
	MaxBatch int

	BucketMaxAge time.Duration // Cache-Control max-age of buckets (default 5 min)
	// BucketCacheBytes bounds the in-process cache of buckets read from the
	// store (default 128 MiB: with 16-bit prefixes, every bucket of 1 M
	// identifiers takes 77 MB, dummies included (measured: BenchmarkBucketParts/cache-size), of 10 M about 360 MB; negative:
	// no cache). BucketCacheTTL is how long a bucket is served
	// from it (default 1 min, at most BucketMaxAge): after an ingest, a
	// replica serves the new entries within that time.
	BucketCacheBytes int64
	BucketCacheTTL   time.Duration
	clock            otter.Clock   // the cache's; tests set a fake one
	PaddingRefresh   time.Duration // how often the padding target is recomputed from listing counts (default 1 min)

	ReadTimeout  time.Duration // whole request, body included (default 10 s)
	WriteTimeout time.Duration // default 10 s
	IdleTimeout  time.Duration // keep-alive connections (default 60 s)

	// Connections (listener.go). HeaderTimeout bounds the time from accept
	// to the end of the first request's head (default 5 s). MaxConns caps
	// the open connections in all (0 or less: no cap; serve derives one
	// from the fd limit), MaxConnsPerAddr those of one IPv4 address or IPv6
	// /64 (default 256; negative: no cap) except TrustedProxies', through
	// which every client connects.
	HeaderTimeout   time.Duration
	MaxConns        int
	MaxConnsPerAddr int
	TrustedProxies  []netip.Prefix

	Log *slog.Logger

	// Site is the citizen website (site.go): New reads and compresses every
	// file once and serves each at its own path, index.html at /. Nil
	// serves the API only.
	Site fs.FS

	// SMS answers text messages (sms.Service); nil: no SMS webhooks.
	// SMSGateways are the gateways whose webhooks are served, each at
	// /v1/sms/{Name()} (sms.go); a gateway not listed is a 404. Names must
	// be ratelimit.ValidGatewayName and distinct: New panics otherwise.
	SMS         *sms.Service
	SMSGateways []sms.Gateway

	// WhatsApp turns on the WhatsApp Cloud API webhook (whatsapp.go), with
	// SMS: the same service answers; nil: off.
	WhatsApp *sms.WhatsApp

	// Alerts turns on the website's alert sign-up (alerts.go); nil: off.
	Alerts *AlertsConfig
}

// Server is the HTTP API. Build it with New.
type Server struct {
	cfg     Config
	app     *fiber.App
	log     *slog.Logger
	metrics *metrics

	apiKeyHash *hashing.Keyed // hashes a bearer token to its stored form
	waReplies  chan waReply   // WhatsApp replies for the Graph API (whatsapp.go)
	padBlock   cipher.Block   // AES under the bucket-padding sub-key: derives dummy entries
	bucketCC   string         // buckets' Cache-Control

	padMu     sync.Mutex                // one refresh of the padding target at a time
	padding   atomic.Pointer[padTarget] // nil until first computed
	paddingAt atomic.Int64              // when padding was last computed, Unix ns

	buckets      *otter.Cache[string, *bucketView] // nil: no cache
	bucketLoader otter.Loader[string, *bucketView]
	bucketGen    atomic.Uint64 // bumped by InvalidateBuckets() (all): older views are not served

	storeDep, limiterDep *dependency // faults.go
	smsDep               *dependency // the SMS service's store and counters, seen through its errors
	faults               sampledLog  // lines of 5xx other than outages
	refusals             sampledLog  // lines of 4xx (logRequest)
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	cfg.MaxBatch = min(cfg.MaxBatch, wire.MaxBatchLimit)
	orDefault := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	orDefault(&cfg.BucketMaxAge, DefaultBucketMaxAge)
	orDefault(&cfg.PaddingRefresh, DefaultPaddingRefresh)
	orDefault(&cfg.BucketCacheTTL, DefaultBucketCacheTTL)
	cfg.BucketCacheTTL = min(cfg.BucketCacheTTL, cfg.BucketMaxAge)
	if cfg.BucketCacheBytes == 0 {
		cfg.BucketCacheBytes = DefaultBucketCacheBytes
	}
	orDefault(&cfg.ReadTimeout, DefaultReadTimeout)
	orDefault(&cfg.WriteTimeout, DefaultWriteTimeout)
	orDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	orDefault(&cfg.HeaderTimeout, DefaultHeaderTimeout)
	if cfg.MaxConnsPerAddr == 0 {
		cfg.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}

	padBlock, err := aes.NewCipher(cfg.Key.SubKey("bucket-padding"))
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	s := &Server{
		cfg:        cfg,
		log:        cfg.Log,
		metrics:    newMetrics(),
		apiKeyHash: cfg.Key.Keyed("api-key"),
		padBlock:   padBlock,
		refusals:   sampledLog{perSecond: refusalsPerSecond},
		bucketCC:   "public, max-age=" + strconv.Itoa(int(cfg.BucketMaxAge.Seconds())),
	}
	s.storeDep, s.limiterDep = newDependency("store", s.metrics, s.log), newDependency("rate_limiter", s.metrics, s.log)
	s.smsDep = newDependency("sms", s.metrics, s.log)
	s.cfg.Store = watchedStore{Store: cfg.Store, dep: s.storeDep}
	if cfg.APIKeys != nil {
		s.cfg.APIKeys = watchedAPIKeys{APIKeyStore: cfg.APIKeys, dep: s.storeDep}
	}
	s.buckets = s.newBucketCache()
	s.bucketLoader = otter.LoaderFunc[string, *bucketView](s.loadBucket)
	s.app = fiber.New(fiber.Config{
		AppName:               "khabardar",
		DisableStartupMessage: true,
		Network:               "tcp", // fiber's default, tcp4, refuses IPv6 addresses
		CaseSensitive:         true,
		StrictRouting:         true,
		// fasthttp reads the whole body before routing; no caller may send
		// more than the largest batch allows. The evaluate handler then
		// holds each caller to its own batch's limit.
		BodyLimit:    wire.EvaluateBodyLimit(wire.MaxBatchLimit),
		ReadTimeout:  cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout,
		IdleTimeout:  cfg.IdleTimeout,
		// A response bigger than the write buffer costs a second write
		// syscall: with 4 KiB (fasthttp's default) a 3.5 KB bucket and its
		// headers took two, and bucket throughput fell from 83 % to 63 % of
		// a constant handler's. 16 KiB holds the bucket of a 10 M identifier
		// deployment (about 14 KB) in one write. ReduceMemoryUsage returns
		// the buffers to a pool between requests, so thousands of idle
		// keep-alive connections from phones do not each hold 20 KiB.
		WriteBufferSize:   16 << 10,
		ReduceMemoryUsage: true,
		ErrorHandler:      s.errorHandler,
		// request.go: unknown methods get JSON errors; no endpoint takes
		// multipart, which fasthttp would otherwise parse before routing.
		RequestMethods:               requestMethods,
		DisablePreParseMultipartForm: true,
	})
	s.hardenServer()
	s.app.Use(s.observe, securityHeaders, checkRequest).Name(middlewareRoute)
	s.app.Get(wire.RouteHealthz, s.healthz)
	s.app.Get(wire.RouteReadyz, s.readyz)
	s.app.Get(wire.RouteConfig, s.config)
	s.app.Get(wire.RouteOpenAPI, openAPI)
	s.app.Post(wire.RouteEvaluate, s.evaluate)
	s.app.Get(wire.RouteBucket, s.bucket)
	s.app.Get(wire.RouteListings, s.listings)
	s.app.Get(wire.RouteListing, s.listing)
	s.app.Get(wire.RouteStats, s.stats)
	s.mountSMS()
	if s.cfg.SMS != nil && s.cfg.WhatsApp != nil {
		s.waReplies = make(chan waReply, whatsAppQueue)
		go s.whatsAppSender()
		s.app.Get(wire.RouteWhatsApp, s.whatsAppVerify)
		s.app.Post(wire.RouteWhatsApp, s.whatsAppNotify)
	}
	if s.cfg.Alerts != nil {
		s.app.Post(wire.RouteAlertCode, s.alertCode)
		s.app.Post(wire.RouteAlertSubscribe, s.alertSubscribe)
	}
	s.mountSite() // after the API: fiber matches in order, so no site file shadows an endpoint
	// No catch-all: fiber answers an unknown path with 404 and a known path
	// with the wrong method with 405, and errorHandler words both.
	return s
}

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve serves on ln until Shutdown, through two wrappers: limitListener
// (listener.go: the header timeout, the connection caps, and accept errors
// such as EMFILE retried rather than fatal), and outermost lingerListener
// (request.go), whose connections fasthttp hands back to the 413 path so a
// refused body is drained before the close.
func (s *Server) Serve(ln net.Listener) error {
	return s.app.Listener(lingerListener{s.limitListener(ln)})
}

// MetricsHandler serves the Prometheus metrics. The API does not: serve
// puts this on a listener of its own (see metrics).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

// App exposes the fiber app to tests (app.Test).
func (s *Server) App() *fiber.App { return s.app }

// middlewareRoute names the route of the middleware every request passes.
const middlewareRoute = "middleware"

// routeOf is the matched route's pattern, never the path: a path may hold a
// bucket prefix, which narrows down whose identifier was looked up. Beware
// fiber's Ctx.Route: before routing (in fasthttp's error handler) it returns
// a stand-in whose Path is the request's path; it has no handlers.
func routeOf(c *fiber.Ctx) string {
	r := c.Route()
	switch {
	case r == nil || len(r.Handlers) == 0:
		return "unrouted"
	case r.Name == middlewareRoute: // by name: the site's index route is "/" too
		return "unmatched" // only the middleware matched
	}
	return r.Path
}

// methodOf is the request's method if it is a standard one: a label value
// taken from the request must come from a fixed set.
func methodOf(c *fiber.Ctx) string {
	// Return our constant, never c.Method(): fiber's string points into the
	// request's buffer, which fasthttp reuses for the next request on the
	// connection, and labels (and the series map's keys) outlive it.
	// A load test found this: the series map's keys changed under it.
	if std, ok := standardMethod(c.Request().Header.Method()); ok {
		return std
	}
	return "OTHER"
}

// standardMethod returns m as our constant if it is a standard method.
func standardMethod(m []byte) (string, bool) {
	for _, std := range standardMethods {
		if string(m) == std {
			return std, true
		}
	}
	return "", false
}

var standardMethods = []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
	fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace}

// observe logs and measures every routed request, turning a handler's error
// or panic into its response first so that the status is the one sent.
func (s *Server) observe(c *fiber.Ctx) (err error) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			if ok, left := s.faults.allow(); ok {
				s.log.Error("handler panicked", "route", routeOf(c), "stack", string(debug.Stack()), "suppressed", left)
			}
			err = khabardar.Errorf(khabardar.EINTERNAL, "internal error")
		}
		if err != nil {
			if err = s.errorHandler(c, err); err != nil {
				return
			}
		}
		route, method, status, elapsed := routeOf(c), methodOf(c), c.Response().StatusCode(), time.Since(start)
		s.metrics.observe(route, method, status, elapsed)
		s.logRequest(requestLevel(status),
			slog.String("method", method), slog.String("route", route), slog.Int("status", status),
			slog.Float64("ms", float64(elapsed.Microseconds())/1000))
	}()
	return c.Next()
}

// requestLevel is the level of a request's log line. Every request is
// counted and timed in /metrics; a line per successful one, tens of
// thousands a second under load, would cost as much CPU as a bucket lookup
// and tell an operator nothing the metrics do not, so it is Debug
// (serve --log-level debug). Refusals are Info, sampled (logRequest). A failure's line is
// errorHandler's (faults.go: once per outage, at most once a second for
// other faults); one per request here would undo that, so it is Debug too.
func requestLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelDebug
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// securityHeaderList is set on every response. The API serves JSON, but a
// browser may still be pointed at it: nothing may frame, script or refer.
var securityHeaderList = [][2][]byte{
	// An API response is data, never a document: it may load and run
	// nothing (the website's pages get siteCSP instead).
	{[]byte("Content-Security-Policy"), []byte("default-src 'none'; frame-ancestors 'none'; sandbox")},
	{[]byte("Referrer-Policy"), []byte("no-referrer")},
	{[]byte("X-Content-Type-Options"), []byte("nosniff")},
	{[]byte("X-Frame-Options"), []byte("DENY")},
	{[]byte("Cross-Origin-Opener-Policy"), []byte("same-origin")},
	{[]byte("Permissions-Policy"), []byte("camera=(), microphone=(), geolocation=()")},
}

func securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	for _, kv := range securityHeaderList {
		h.SetCanonical(kv[0], kv[1]) // already canonical: no normalising per request
	}
	return c.Next()
}

func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(wire.Health{Status: "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		// Logged by the store's tracker (faults.go) when the outage began.
		return fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EUNAVAILABLE, "the store cannot be reached"), err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(wire.Health{Status: "ready"})
}

func (s *Server) config(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(wire.Config{
		Suite:       hashing.Suite,
		Mode:        wire.ModeVOPRF,
		KeyID:       s.cfg.Key.ID(),
		PublicKey:   base64.RawURLEncoding.EncodeToString(s.cfg.Key.PublicKey()),
		Fingerprint: s.cfg.Key.Fingerprint(),
		BucketBits:  s.cfg.Layout.BucketBits,
		SuffixBytes: s.cfg.Layout.SuffixBytes,
		MaxBatch:    s.cfg.MaxBatch,
		Alerts:      s.cfg.Alerts != nil,
	})
}

//go:embed openapi.yaml
var openAPIYAML []byte

func openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/yaml; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(openAPIYAML)
}

func (s *Server) listings(c *fiber.Ctx) error {
	who, err := s.caller(c)
	if err != nil {
		return err
	}
	if err := s.charge(c, ratelimit.Listing, who, 1); err != nil {
		return err
	}
	ls, err := s.cfg.Store.Listings(c.UserContext())
	if err != nil {
		return err
	}
	// The catalogue travels with the listings every check fetches, so a
	// client says what a "not found" was checked against, and never reads
	// an empty catalogue as an all-clear. Not in /v1/config: its 5-minute
	// cache would keep a fresh server "empty" after its first ingest. For
	// the same reason an empty catalogue is not cached at all.
	cat := khabardar.Summarize(ls)
	if cat.Empty() {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	}
	return c.JSON(wire.Listings{Catalogue: &cat, Listings: ls})
}

func (s *Server) listing(c *fiber.Ctx) error {
	who, err := s.caller(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	if !khabardar.ValidListingID(id) { // anything else is not found without asking the store
		return errNoListing
	}
	if err := s.charge(c, ratelimit.Listing, who, 1); err != nil {
		return err
	}
	l, err := s.cfg.Store.Listing(c.UserContext(), id)
	if khabardar.ErrorCode(err) == khabardar.ENOTFOUND {
		return errNoListing // the store's message names the ID, which came from the path
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(l)
}

var errNoListing = khabardar.Errorf(khabardar.ENOTFOUND, "no such listing; GET /v1/listings lists them")
