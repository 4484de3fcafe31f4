package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/adminsock"
	"github.com/khabardar/khabardar/api"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/internal/quiet"
	"github.com/khabardar/khabardar/internal/redisurl"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/redisstore"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/wire"
)

// Config is all of khabardar's configuration. Each field has a default, an
// environment variable and a flag; flags win over the environment.
type Config struct {
	DataDir     string // KHABARDAR_DATA: the embedded store's directory
	RedisURL    string // KHABARDAR_REDIS_URL: use Redis instead of the embedded store
	KeyFile     string // KHABARDAR_KEY_FILE: default <DataDir>/key.json; required with Redis
	Addr        string // KHABARDAR_ADDR: where serve listens
	BucketBits  int    // KHABARDAR_BUCKET_BITS: see docs/operating.md, "Choosing bucket_bits"
	SuffixBytes int    // KHABARDAR_SUFFIX_BYTES
	LogLevel    string // KHABARDAR_LOG_LEVEL: debug, info (default), warn or error; debug logs every request

	logLevel *slog.LevelVar // the logger's, which applyLogLevel sets
	serving  bool           // serve sets it: Redis commands fail fast (redisstore.OpenServing)

	// serve only. Rates are in ulule/limiter's format, "<count>-<S|M|H|D>";
	// the defaults and their reasons are ratelimit.DefaultConfig's.
	MaxBatch           int    // KHABARDAR_MAX_BATCH: elements per evaluation for anonymous callers (API keys have their own)
	RateEvaluate       string // KHABARDAR_RATE_EVALUATE: evaluated elements per anonymous client
	RateBucket         string // KHABARDAR_RATE_BUCKET: bucket requests per anonymous client
	RateListing        string // KHABARDAR_RATE_LISTING: listing requests per anonymous client
	RateGlobalEvaluate string // KHABARDAR_RATE_GLOBAL_EVALUATE: all anonymous evaluations together
	TrustedProxies     string // KHABARDAR_TRUSTED_PROXIES: comma-separated CIDRs whose X-Forwarded-For is believed

	// serve only: the IPv6 networks' limits and the global ceiling's
	// reserve (ratelimit.Config, whose doc gives the reasons).
	RateEvaluate56       string // KHABARDAR_RATE_EVALUATE_56: evaluated elements per anonymous IPv6 /56
	RateEvaluate48       string // KHABARDAR_RATE_EVALUATE_48: evaluated elements per anonymous IPv6 /48
	GlobalReservePercent int    // KHABARDAR_GLOBAL_RESERVE_PERCENT: the part of the ceiling only reserve allowances reach, 0 (none) to 90
	RateReserveEvaluate  string // KHABARDAR_RATE_RESERVE_EVALUATE: what one address (IPv4, /64) may take from the reserve
	ReserveBurst         int    // KHABARDAR_RESERVE_BURST: how much of that at once

	// serve only: the website is the one embedded in the binary
	// (frontend.Dist()) unless one of these says otherwise; see site.go.
	SiteDir string // KHABARDAR_SITE_DIR: serve this directory's files instead, read at start (frontend development)
	NoSite  bool   // KHABARDAR_NO_SITE=1: the API only, for API-only replicas

	// serve only: the in-process cache of buckets (api.Config.BucketCache*).
	BucketCacheMB  int           // KHABARDAR_BUCKET_CACHE_MB: its budget in MiB; 0 turns it off
	BucketCacheTTL time.Duration // KHABARDAR_BUCKET_CACHE_TTL: how stale a served bucket may be after an ingest

	// serve only: the SMS channel (sms.go). Secrets come from the
	// environment only, never flags, which other users can read in ps.
	PublicURL       string // KHABARDAR_PUBLIC_URL: the public base URL, e.g. https://khabardar.pk: what Twilio signs, and the site SMS replies name
	TwilioAuthToken string // KHABARDAR_TWILIO_AUTH_TOKEN: enables POST /v1/sms/twilio
	SMSSecret       string // KHABARDAR_SMS_SECRET: enables /v1/sms/kannel
	// The WhatsApp Cloud API (secrets, from the environment only): the
	// first three enable /v1/whatsapp.
	WhatsAppAppSecret     string        // KHABARDAR_WHATSAPP_APP_SECRET
	WhatsAppVerifyToken   string        // KHABARDAR_WHATSAPP_VERIFY_TOKEN
	WhatsAppAccessToken   string        // KHABARDAR_WHATSAPP_ACCESS_TOKEN
	WhatsAppPhoneNumberID string        // KHABARDAR_WHATSAPP_PHONE_NUMBER_ID
	WhatsAppGraphURL      string        // KHABARDAR_WHATSAPP_GRAPH_URL
	WhatsAppTimeout       time.Duration // KHABARDAR_WHATSAPP_TIMEOUT: one Graph API request's bound
	RateSMSSender         string        // KHABARDAR_RATE_SMS_SENDER: messages per sender
	RateSMSGateway        string        // KHABARDAR_RATE_SMS_GATEWAY: messages per gateway
	RateAlertSend         string        // KHABARDAR_RATE_ALERT_SEND: alerts sent per outbound gateway
	RateAlertSubscribe    string        // KHABARDAR_RATE_ALERT_SUBSCRIBE: subscriptions per sender

	// serve only: alerts, sent by SMS through one outbound gateway
	// (alerts.go): Kannel's sendsms interface if its URL is set, else
	// Twilio's Messages API. Secrets from the environment only.
	AlertsSecret       string        // KHABARDAR_ALERTS_SECRET: alerts are off without it
	AlertsQuietHours   string        // KHABARDAR_ALERTS_QUIET_HOURS: HH:MM-HH:MM, Pakistan time, or off
	AlertsPoll         time.Duration // KHABARDAR_ALERTS_POLL: how often serve looks for alerts to send
	AlertsLease        time.Duration // KHABARDAR_ALERTS_LEASE: how long a claimed alert is one replica's
	AlertsRetry        time.Duration // KHABARDAR_ALERTS_RETRY: the wait after a first failed send
	KannelSendURL      string        // KHABARDAR_KANNEL_SENDSMS_URL: e.g. http://127.0.0.1:13013/cgi-bin/sendsms
	KannelSendUser     string        // KHABARDAR_KANNEL_SENDSMS_USER: a sendsms-user
	KannelSendPassword string        // KHABARDAR_KANNEL_SENDSMS_PASSWORD: its password
	KannelSendFrom     string        // KHABARDAR_KANNEL_SENDSMS_FROM: the short code or sender ID; "" is the sendsms-user's default-sender
	TwilioAccountSID   string        // KHABARDAR_TWILIO_ACCOUNT_SID: AC…, with KHABARDAR_TWILIO_AUTH_TOKEN the API's credentials
	TwilioFrom         string        // KHABARDAR_TWILIO_FROM: an E.164 number, a Messaging Service SID (MG…) or an alphanumeric sender ID
	TwilioAPIURL       string        // KHABARDAR_TWILIO_API_URL: the API's base URL, for tests

	// serve only: connections (api/listener.go) and the metrics listener.
	HeaderTimeout   time.Duration // KHABARDAR_HEADER_TIMEOUT: from accept to the end of the first request's head
	MaxConns        int           // KHABARDAR_MAX_CONNS: open connections in all; 0: the fd limit less a reserve (connCap)
	MaxConnsPerAddr int           // KHABARDAR_MAX_CONNS_PER_ADDR: per IPv4 address or IPv6 /64; 0: no cap
	MetricsAddr     string        // KHABARDAR_METRICS_ADDR: where /metrics is served; "" or "off": nowhere
}

// Defaults. DefaultBucketBits: with 16 bits a bucket is shared by about
// 4.5×10⁸ / 65,536 ≈ 6,900 possible mobile numbers, and at 10 million stored
// identifiers holds about 150 entries (a few KB): see docs/operating.md.
const (
	DefaultDataDir     = "./khabardar-data"
	DefaultAddr        = "127.0.0.1:8080"
	DefaultBucketBits  = 16
	DefaultSuffixBytes = 8
	DefaultMaxBatch    = api.DefaultMaxBatch
	// DefaultMetricsAddr is loopback, so that nothing off the host reads
	// the metrics unless the operator says so (the bucket cache's hits and
	// misses show which buckets were fetched), on a fixed port, so that
	// Prometheus' instance label stays the same across restarts: 9464, the
	// port OpenTelemetry's Prometheus exporters use for an application's own
	// metrics (the exporters' range, 9100 to 9999, is all allocated).
	DefaultMetricsAddr = "127.0.0.1:9464"
)

// newConfig returns the defaults overlaid with the environment.
func newConfig(getenv func(string) string) (*Config, error) {
	rates := ratelimit.DefaultConfig()
	c := &Config{
		DataDir:            DefaultDataDir,
		Addr:               DefaultAddr,
		BucketBits:         DefaultBucketBits,
		SuffixBytes:        DefaultSuffixBytes,
		MaxBatch:           DefaultMaxBatch,
		RateEvaluate:       rates.Evaluate,
		RateBucket:         rates.Bucket,
		RateListing:        rates.Listing,
		RateGlobalEvaluate: rates.GlobalEvaluate,
		RateSMSSender:      rates.SMSSender,
		RateSMSGateway:     rates.SMSGateway,
		RateAlertSend:      rates.AlertSend,
		RateAlertSubscribe: rates.AlertSubscribe,
		BucketCacheMB:      api.DefaultBucketCacheBytes >> 20,
		BucketCacheTTL:     api.DefaultBucketCacheTTL,

		RateEvaluate56:       rates.Evaluate56,
		RateEvaluate48:       rates.Evaluate48,
		GlobalReservePercent: rates.GlobalReservePercent,
		RateReserveEvaluate:  rates.ReserveEvaluate,
		ReserveBurst:         rates.ReserveBurst,
		HeaderTimeout:        api.DefaultHeaderTimeout,
		MaxConnsPerAddr:      api.DefaultMaxConnsPerAddr,
		MetricsAddr:          DefaultMetricsAddr,
		AlertsQuietHours:     quiet.Default,
		AlertsPoll:           10 * time.Second,
		AlertsLease:          2 * time.Minute,
		AlertsRetry:          time.Minute,
		TwilioAPIURL:         sms.DefaultTwilioAPI,
	}
	str := map[string]*string{
		"KHABARDAR_DATA":                     &c.DataDir,
		"KHABARDAR_REDIS_URL":                &c.RedisURL,
		"KHABARDAR_KEY_FILE":                 &c.KeyFile,
		"KHABARDAR_ADDR":                     &c.Addr,
		"KHABARDAR_LOG_LEVEL":                &c.LogLevel,
		"KHABARDAR_RATE_EVALUATE":            &c.RateEvaluate,
		"KHABARDAR_RATE_BUCKET":              &c.RateBucket,
		"KHABARDAR_RATE_LISTING":             &c.RateListing,
		"KHABARDAR_RATE_GLOBAL_EVALUATE":     &c.RateGlobalEvaluate,
		"KHABARDAR_TRUSTED_PROXIES":          &c.TrustedProxies,
		"KHABARDAR_SITE_DIR":                 &c.SiteDir,
		"KHABARDAR_PUBLIC_URL":               &c.PublicURL,
		"KHABARDAR_TWILIO_AUTH_TOKEN":        &c.TwilioAuthToken,
		"KHABARDAR_SMS_SECRET":               &c.SMSSecret,
		"KHABARDAR_WHATSAPP_APP_SECRET":      &c.WhatsAppAppSecret,
		"KHABARDAR_WHATSAPP_VERIFY_TOKEN":    &c.WhatsAppVerifyToken,
		"KHABARDAR_WHATSAPP_ACCESS_TOKEN":    &c.WhatsAppAccessToken,
		"KHABARDAR_WHATSAPP_PHONE_NUMBER_ID": &c.WhatsAppPhoneNumberID,
		"KHABARDAR_WHATSAPP_GRAPH_URL":       &c.WhatsAppGraphURL,
		"KHABARDAR_RATE_SMS_SENDER":          &c.RateSMSSender,
		"KHABARDAR_RATE_SMS_GATEWAY":         &c.RateSMSGateway,
		"KHABARDAR_RATE_ALERT_SEND":          &c.RateAlertSend,
		"KHABARDAR_RATE_ALERT_SUBSCRIBE":     &c.RateAlertSubscribe,

		"KHABARDAR_RATE_EVALUATE_56":      &c.RateEvaluate56,
		"KHABARDAR_RATE_EVALUATE_48":      &c.RateEvaluate48,
		"KHABARDAR_RATE_RESERVE_EVALUATE": &c.RateReserveEvaluate,
		"KHABARDAR_METRICS_ADDR":          &c.MetricsAddr,

		"KHABARDAR_ALERTS_SECRET":           &c.AlertsSecret,
		"KHABARDAR_ALERTS_QUIET_HOURS":      &c.AlertsQuietHours,
		"KHABARDAR_KANNEL_SENDSMS_URL":      &c.KannelSendURL,
		"KHABARDAR_KANNEL_SENDSMS_USER":     &c.KannelSendUser,
		"KHABARDAR_KANNEL_SENDSMS_PASSWORD": &c.KannelSendPassword,
		"KHABARDAR_KANNEL_SENDSMS_FROM":     &c.KannelSendFrom,
		"KHABARDAR_TWILIO_ACCOUNT_SID":      &c.TwilioAccountSID,
		"KHABARDAR_TWILIO_FROM":             &c.TwilioFrom,
		"KHABARDAR_TWILIO_API_URL":          &c.TwilioAPIURL,
	}
	for name, p := range str {
		if v := getenv(name); v != "" {
			*p = v
		}
	}
	ints := map[string]*int{"KHABARDAR_BUCKET_BITS": &c.BucketBits, "KHABARDAR_SUFFIX_BYTES": &c.SuffixBytes, "KHABARDAR_MAX_BATCH": &c.MaxBatch,
		"KHABARDAR_BUCKET_CACHE_MB": &c.BucketCacheMB, "KHABARDAR_GLOBAL_RESERVE_PERCENT": &c.GlobalReservePercent, "KHABARDAR_RESERVE_BURST": &c.ReserveBurst,
		"KHABARDAR_MAX_CONNS": &c.MaxConns, "KHABARDAR_MAX_CONNS_PER_ADDR": &c.MaxConnsPerAddr}
	for name, p := range ints {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%s=%q is not a whole number", name, v)
			}
			*p = n
		}
	}
	for name, p := range map[string]*time.Duration{"KHABARDAR_BUCKET_CACHE_TTL": &c.BucketCacheTTL, "KHABARDAR_HEADER_TIMEOUT": &c.HeaderTimeout, "KHABARDAR_ALERTS_POLL": &c.AlertsPoll, "KHABARDAR_ALERTS_LEASE": &c.AlertsLease, "KHABARDAR_ALERTS_RETRY": &c.AlertsRetry, "KHABARDAR_WHATSAPP_TIMEOUT": &c.WhatsAppTimeout} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("%s=%q is not a duration such as 30s or 1m", name, v)
			}
			*p = d
		}
	}
	if v := getenv("KHABARDAR_NO_SITE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("KHABARDAR_NO_SITE=%q is not 1 or 0", v)
		}
		c.NoSite = b
	}
	return c, nil
}

// applyLogLevel sets the logger's level from LogLevel.
func (c *Config) applyLogLevel() error {
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("log level %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.logLevel != nil {
		c.logLevel.Set(l)
	}
	return nil
}

// register adds the store and key flags to fs.
func (c *Config) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "`DIR` of the embedded store (env KHABARDAR_DATA)")
	fs.StringVar(&c.RedisURL, "redis", c.RedisURL, "Redis `URL` instead of the embedded store: redis://127.0.0.1:6379/0, or redis-cluster://host:port,host:port for a cluster (env KHABARDAR_REDIS_URL)")
	fs.StringVar(&c.KeyFile, "key-file", c.KeyFile, "server key `FILE` (env KHABARDAR_KEY_FILE; default <data>/key.json; required with --redis)")
	fs.IntVar(&c.BucketBits, "bucket-bits", c.BucketBits, "bits of the VOPRF output that name a bucket, a multiple of 4 (env KHABARDAR_BUCKET_BITS)")
	fs.IntVar(&c.SuffixBytes, "suffix-bytes", c.SuffixBytes, "bytes of the VOPRF output stored per identifier, at least 8 (env KHABARDAR_SUFFIX_BYTES)")
}

// registerServe adds serve's own flags to fs.
func (c *Config) registerServe(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address `HOST:PORT` (env KHABARDAR_ADDR)")
	fs.IntVar(&c.MaxBatch, "max-batch", c.MaxBatch, fmt.Sprintf("most elements per evaluation for anonymous callers, 1 to %d; API keys have their own (env KHABARDAR_MAX_BATCH)", wire.MaxBatchLimit))
	fs.StringVar(&c.RateEvaluate, "rate-evaluate", c.RateEvaluate, "evaluated elements per anonymous client, as COUNT-S|M|H|D (env KHABARDAR_RATE_EVALUATE)")
	fs.StringVar(&c.RateBucket, "rate-bucket", c.RateBucket, "bucket requests per anonymous client (env KHABARDAR_RATE_BUCKET)")
	fs.StringVar(&c.RateListing, "rate-listing", c.RateListing, "listing requests per anonymous client (env KHABARDAR_RATE_LISTING)")
	fs.StringVar(&c.RateGlobalEvaluate, "rate-global-evaluate", c.RateGlobalEvaluate, "ceiling on all anonymous evaluations together, e.g. per day (env KHABARDAR_RATE_GLOBAL_EVALUATE)")
	fs.StringVar(&c.RateEvaluate56, "rate-evaluate-56", c.RateEvaluate56, "evaluated elements per anonymous IPv6 /56, all its /64s together (env KHABARDAR_RATE_EVALUATE_56)")
	fs.StringVar(&c.RateEvaluate48, "rate-evaluate-48", c.RateEvaluate48, "evaluated elements per anonymous IPv6 /48 (env KHABARDAR_RATE_EVALUATE_48)")
	fs.IntVar(&c.GlobalReservePercent, "global-reserve-percent", c.GlobalReservePercent, "percent of the global ceiling kept in reserve for addresses within their reserve allowance, 0 (none) to 90 (env KHABARDAR_GLOBAL_RESERVE_PERCENT)")
	fs.StringVar(&c.RateReserveEvaluate, "rate-reserve-evaluate", c.RateReserveEvaluate, "what one address (IPv4, or IPv6 /64) may take from the reserve; a /56 and a /48 in proportion to their rates (env KHABARDAR_RATE_RESERVE_EVALUATE)")
	fs.IntVar(&c.ReserveBurst, "reserve-burst", c.ReserveBurst, "how much of its reserve allowance an address may take at once, at least 1 (env KHABARDAR_RESERVE_BURST)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug (a line per request), info, warn or error (env KHABARDAR_LOG_LEVEL)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "the service's public base URL, e.g. https://khabardar.pk: what an SMS gateway calls and signs, and the site SMS replies name (env KHABARDAR_PUBLIC_URL)")
	fs.StringVar(&c.RateSMSSender, "rate-sms-sender", c.RateSMSSender, "SMS messages per sender (env KHABARDAR_RATE_SMS_SENDER)")
	fs.StringVar(&c.RateSMSGateway, "rate-sms-gateway", c.RateSMSGateway, "SMS messages per gateway (env KHABARDAR_RATE_SMS_GATEWAY)")
	fs.StringVar(&c.RateAlertSend, "rate-alert-send", c.RateAlertSend, "alerts sent per outbound gateway, what the operator pays for; shared by replicas on Redis (env KHABARDAR_RATE_ALERT_SEND)")
	fs.StringVar(&c.RateAlertSubscribe, "rate-alert-subscribe", c.RateAlertSubscribe, "ALERT subscriptions per SMS sender (env KHABARDAR_RATE_ALERT_SUBSCRIBE)")
	fs.IntVar(&c.BucketCacheMB, "bucket-cache-mb", c.BucketCacheMB, "MiB of buckets cached in process; 0 turns the cache off (env KHABARDAR_BUCKET_CACHE_MB)")
	fs.DurationVar(&c.BucketCacheTTL, "bucket-cache-ttl", c.BucketCacheTTL, fmt.Sprintf("how long a cached bucket is served, 1s to %v: after an ingest, replicas serve the new entries within this (env KHABARDAR_BUCKET_CACHE_TTL)", api.DefaultBucketMaxAge))
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (env KHABARDAR_TRUSTED_PROXIES)")
	fs.StringVar(&c.SiteDir, "site-dir", c.SiteDir, "serve the website from this directory (a build such as frontend/dist) instead of the embedded one (env KHABARDAR_SITE_DIR)")
	fs.BoolVar(&c.NoSite, "no-site", c.NoSite, "serve the API only, no website (env KHABARDAR_NO_SITE=1)")
	fs.DurationVar(&c.HeaderTimeout, "header-timeout", c.HeaderTimeout, "close a connection whose first request head has not arrived this long after accept, 1s to 1m (env KHABARDAR_HEADER_TIMEOUT)")
	fs.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "most open client connections; 0: the file-descriptor limit less a reserve (env KHABARDAR_MAX_CONNS)")
	fs.IntVar(&c.MaxConnsPerAddr, "max-conns-per-addr", c.MaxConnsPerAddr, "most open connections per client IPv4 address or IPv6 /64, trusted proxies aside; 0: no cap (env KHABARDAR_MAX_CONNS_PER_ADDR)")
	c.registerAlerts(fs)
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, `where to serve Prometheus /metrics, HOST:PORT; "" or off: nowhere (env KHABARDAR_METRICS_ADDR)`)
}

// serveLimits checks serve's settings and returns the rate limiter's
// configuration (without its Redis client).
func (c *Config) serveLimits() (ratelimit.Config, error) {
	if c.MaxBatch < 1 || c.MaxBatch > wire.MaxBatchLimit {
		return ratelimit.Config{}, fmt.Errorf("--max-batch must be from 1 to %d, not %d", wire.MaxBatchLimit, c.MaxBatch)
	}
	if c.BucketCacheMB < 0 || c.BucketCacheMB > 1<<20 {
		return ratelimit.Config{}, fmt.Errorf("--bucket-cache-mb must be from 0 (no cache) to %d, not %d", 1<<20, c.BucketCacheMB)
	}
	if c.BucketCacheTTL < time.Second || c.BucketCacheTTL > api.DefaultBucketMaxAge {
		return ratelimit.Config{}, fmt.Errorf("--bucket-cache-ttl must be from 1s to %v, not %v", api.DefaultBucketMaxAge, c.BucketCacheTTL)
	}
	if c.GlobalReservePercent < 0 || c.GlobalReservePercent > 90 {
		return ratelimit.Config{}, fmt.Errorf("--global-reserve-percent must be from 0 (no reserve) to 90, not %d", c.GlobalReservePercent)
	}
	if c.ReserveBurst < 1 {
		return ratelimit.Config{}, fmt.Errorf("--reserve-burst must be at least 1, not %d", c.ReserveBurst)
	}
	if err := c.checkConns(); err != nil {
		return ratelimit.Config{}, err
	}
	rc := ratelimit.Config{Evaluate: c.RateEvaluate, Bucket: c.RateBucket, Listing: c.RateListing, GlobalEvaluate: c.RateGlobalEvaluate,
		SMSSender: c.RateSMSSender, SMSGateway: c.RateSMSGateway,
		AlertSend: c.RateAlertSend, AlertSubscribe: c.RateAlertSubscribe,
		Evaluate56: c.RateEvaluate56, Evaluate48: c.RateEvaluate48, GlobalReservePercent: c.GlobalReservePercent,
		ReserveEvaluate: c.RateReserveEvaluate, ReserveBurst: c.ReserveBurst}
	if rc.GlobalReservePercent == 0 {
		rc.GlobalReservePercent = -1 // ratelimit's "none"; its 0 means "the default"
	}
	for flag, r := range map[string]string{"--rate-evaluate": c.RateEvaluate, "--rate-bucket": c.RateBucket, "--rate-listing": c.RateListing, "--rate-global-evaluate": c.RateGlobalEvaluate,
		"--rate-sms-sender": c.RateSMSSender, "--rate-sms-gateway": c.RateSMSGateway,
		"--rate-alert-send": c.RateAlertSend, "--rate-alert-subscribe": c.RateAlertSubscribe,
		"--rate-evaluate-56": c.RateEvaluate56, "--rate-evaluate-48": c.RateEvaluate48, "--rate-reserve-evaluate": c.RateReserveEvaluate} {
		if _, err := ratelimit.ParseRate(r); err != nil {
			return ratelimit.Config{}, fmt.Errorf("%s: %s", flag, khabardar.ErrorMessage(err))
		}
	}
	proxies, err := parseProxies(c.TrustedProxies)
	if err != nil {
		return ratelimit.Config{}, err
	}
	rc.TrustedProxies = proxies
	return rc, nil
}

// checkConns checks the connection and metrics settings.
func (c *Config) checkConns() error {
	if c.HeaderTimeout < time.Second || c.HeaderTimeout > time.Minute {
		return fmt.Errorf("--header-timeout must be from 1s to 1m, not %v", c.HeaderTimeout)
	}
	if c.MaxConns < 0 {
		return fmt.Errorf("--max-conns must be 0 (from the fd limit) or more, not %d", c.MaxConns)
	}
	if c.MaxConnsPerAddr < 0 {
		return fmt.Errorf("--max-conns-per-addr must be 0 (no cap) or more, not %d", c.MaxConnsPerAddr)
	}
	if c.MetricsAddr == "off" {
		c.MetricsAddr = ""
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf(`--metrics-addr %q is not HOST:PORT (or "off")`, c.MetricsAddr)
		}
	}
	return nil
}

// fdReserve is the part of the fd limit serve keeps for everything but
// client connections: 64 for the runtime, the logs, the listeners, the
// embedded store and metrics scrapes, and with Redis the pools of its two
// clients (the store's and the rate limiter's, each up to go-redis's 10
// connections per GOMAXPROCS), per master of a cluster (3 counted, the
// smallest cluster; a larger one wants --max-conns). If it is too small
// nothing fails for long: accept backs off on EMFILE (api/listener.go).
func (c *Config) fdReserve() int {
	redis := 0
	if c.RedisURL != "" {
		redis = 2 * 10 * runtime.GOMAXPROCS(0)
		if redisurl.IsCluster(c.RedisURL) {
			redis *= 3
		}
	}
	return 64 + redis
}

// connCap is the cap on open client connections: --max-conns, or the fd
// limit less fdReserve (at least half the limit); 0 if neither is known.
func (c *Config) connCap() (conns int, limit uint64) {
	limit, ok := fdLimit()
	if c.MaxConns > 0 || !ok {
		return c.MaxConns, limit
	}
	l := int(min(limit, 1<<30))
	return max(l-c.fdReserve(), l/2), limit
}

// parseProxies parses comma-separated CIDRs; a bare address is its own /32
// or /128.
func parseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR such as 10.0.0.0/8 or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Validate checks the configuration and fills in derived defaults.
func (c *Config) Validate() error {
	if c.RedisURL == "" && c.DataDir == "" {
		return errors.New("--data is empty: name a directory for the embedded store, or use --redis")
	}
	if c.KeyFile == "" {
		if c.RedisURL != "" {
			// Every replica must evaluate with the same key: it cannot live in
			// one machine's data directory by default.
			return errors.New("--key-file (or KHABARDAR_KEY_FILE) is required with --redis: every replica must use the same key")
		}
		c.KeyFile = filepath.Join(c.DataDir, "key.json")
	}
	return khabardar.Layout{KeyID: "-", BucketBits: c.BucketBits, SuffixBytes: c.SuffixBytes}.Validate()
}

// env is what a command works with: the key, the layout and an open store.
type env struct {
	key    *hashing.Key
	layout khabardar.Layout
	store  khabardar.Store
}

// open opens the configured store bound to the key's layout, with the key.
// On first use it creates the key, but writes the key file only once the
// store is open and bound: a store that cannot be reached, or is bound to
// another key, leaves no new key file behind.
// openStore opens the configured store without Init: Redis if a URL is
// set, else bolt in the data directory.
func (c *Config) openStore(ctx context.Context) (khabardar.Store, error) {
	if c.RedisURL != "" {
		if c.serving {
			return redisstore.OpenServing(ctx, c.RedisURL)
		}
		return redisstore.Open(ctx, c.RedisURL)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	return boltstore.Open(c.DataDir)
}

func (c *Config) open(ctx context.Context, log *slog.Logger) (*env, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	key, err := hashing.LoadKey(c.KeyFile)
	fresh := errors.Is(err, hashing.ErrNoKey)
	if fresh {
		key, err = hashing.GenerateKey()
	}
	if err != nil {
		return nil, err
	}
	layout := khabardar.Layout{KeyID: key.ID(), BucketBits: c.BucketBits, SuffixBytes: c.SuffixBytes}
	s, err := c.openStore(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Init(ctx, layout); err != nil {
		s.Close()
		return nil, c.layoutAdvice(err, key, fresh)
	}
	if fresh {
		if err := key.Save(c.KeyFile); err != nil {
			s.Close()
			return nil, err
		}
		log.Info("created a new server key", "key_file", c.KeyFile, "key_id", key.ID())
	}
	return &env{key: key, layout: layout, store: s}, nil
}

// adminEnv is open for the catalogue commands: with serve running on this
// embedded data directory, the store is the running server's, reached
// through its admin socket (package adminsock); else the store itself.
func (c *Config) adminEnv(ctx context.Context, log *slog.Logger) (*env, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.RedisURL == "" {
		return c.adminEmbedded(ctx, log, time.Now().Add(adminRetry))
	}
	return c.open(ctx, log)
}

// adminRetry is how long a catalogue command keeps trying when the store is
// locked but no server answers on its socket yet: a serve that has opened
// the store and is about to open the socket.
const adminRetry = 3 * time.Second

func (c *Config) adminEmbedded(ctx context.Context, log *slog.Logger, until time.Time) (*env, error) {
	for {
		cl, err := adminsock.DialContext(ctx, adminsock.SocketPath(c.DataDir))
		switch {
		case err == nil:
			key, err := hashing.LoadKey(c.KeyFile)
			if err != nil {
				cl.Close()
				return nil, err
			}
			layout := khabardar.Layout{KeyID: key.ID(), BucketBits: c.BucketBits, SuffixBytes: c.SuffixBytes}
			if err := cl.Init(ctx, layout); err != nil {
				cl.Close()
				return nil, c.layoutAdvice(err, key, false)
			}
			log.Debug("using the running server through its admin socket", "pid", cl.Info().PID)
			return &env{key: key, layout: layout, store: cl}, nil
		case !errors.Is(err, adminsock.ErrNoServer):
			return nil, err
		}
		e, err := c.open(ctx, log)
		if !errors.Is(err, boltstore.ErrLocked) || time.Now().After(until) {
			return e, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// admin is adminEnv's store.
func (c *Config) admin(ctx context.Context, log *slog.Logger) (khabardar.Store, error) {
	e, err := c.adminEnv(ctx, log)
	if err != nil {
		return nil, err
	}
	return e.store, nil
}

// layoutAdvice adds to a layout mismatch what the operator can do about it.
func (c *Config) layoutAdvice(err error, key *hashing.Key, fresh bool) error {
	if khabardar.ErrorCode(err) != khabardar.ELAYOUTMISMATCH {
		return err
	}
	where := "this --data directory (" + c.DataDir + ")"
	if c.RedisURL != "" {
		where = "this Redis database"
	}
	have := fmt.Sprintf("The key file %s holds key %s", c.KeyFile, key.ID())
	if fresh {
		have = fmt.Sprintf("There is no key file at %s (a new key %s was made and not saved)", c.KeyFile, key.ID())
	}
	return khabardar.Errorf(khabardar.ELAYOUTMISMATCH,
		"%s. %s. Either use the key file that holds the store's key (restore it from your backup, or name it with --key-file), "+
			"or keep this key and start a new store: a new --data directory (or an empty Redis database), then add the listings and ingest their files again. "+
			"Nothing was written to %s.", khabardar.ErrorMessage(err), have, where)
}
