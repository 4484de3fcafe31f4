package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/api"
	"github.com/khabardar/khabardar/internal/redisurl"
	"github.com/khabardar/khabardar/ratelimit"
)

func cmdServe(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flags("serve", cfg, stdout)
	cfg.registerServe(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.applyLogLevel(); err != nil {
		return usageError{err.Error()}
	}
	limits, err := cfg.serveLimits()
	if err != nil {
		return usageError{err.Error()}
	}
	site, err := cfg.site()
	if err != nil {
		return usageError{err.Error()}
	}
	if err := cfg.checkSMS(); err != nil {
		return usageError{err.Error()}
	}
	cfg.serving = true
	e, err := cfg.open(ctx, log)
	if err != nil {
		return err
	}
	defer e.store.Close()

	// With Redis the limiter counts in the same Redis, so that every
	// replica enforces one limit; else in this process's memory.
	if cfg.RedisURL != "" {
		rdb, err := redisurl.Client(cfg.RedisURL, true)
		if err != nil {
			return khabardar.Errorf(khabardar.EINVALID, "%s", err.Error()) // names no part of the URL
		}
		defer rdb.Close()
		limits.Redis = rdb
	}
	limiter, err := ratelimit.New(limits, e.key.Keyed("ip"))
	if err != nil {
		return err
	}
	smsService, err := cfg.smsService(e, limiter, log)
	if err != nil {
		return err
	}
	maxConns, fdLimit := cfg.connCap()
	perAddr := cfg.MaxConnsPerAddr
	if perAddr == 0 {
		perAddr = -1 // api's "no cap"
	}
	srv := api.New(api.Config{
		Store:    e.store,
		APIKeys:  e.store,
		Key:      e.key,
		Layout:   e.layout,
		Limiter:  limiter,
		MaxBatch: cfg.MaxBatch,
		Log:      log,
		Site:     site,

		BucketCacheBytes: bucketCacheBytes(cfg.BucketCacheMB),
		BucketCacheTTL:   cfg.BucketCacheTTL,

		SMS:             smsService,
		TwilioAuthToken: cfg.TwilioAuthToken,
		SMSSecret:       cfg.SMSSecret,
		SMSPublicURL:    cfg.PublicURL,

		HeaderTimeout:   cfg.HeaderTimeout,
		MaxConns:        maxConns,
		MaxConnsPerAddr: perAddr,
		TrustedProxies:  limits.TrustedProxies,
	})

	// Both listeners are bound before anything is served, so that a port in
	// use fails the start and the log names the bound addresses (a port of
	// 0 picks a free one).
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 2)
	metricsAddr := "off"
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		metricsAddr = mln.Addr().String()
		if ap, err := netip.ParseAddrPort(metricsAddr); err != nil || !ap.Addr().IsLoopback() {
			log.Warn("the metrics listener is not on loopback: let only Prometheus reach it (its bucket cache counts show which buckets were fetched)", "metrics_addr", metricsAddr)
		}
		msrv := metricsServer(srv.MetricsHandler(), log)
		defer msrv.Close()
		go func() {
			if err := msrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics listener: %w", err)
			}
		}()
	}
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "metrics_addr", metricsAddr, "key_id", e.key.ID(), "store", storeKind(cfg),
		"max_batch", cfg.MaxBatch, "rate_evaluate", cfg.RateEvaluate, "rate_global_evaluate", cfg.RateGlobalEvaluate,
		"trusted_proxies", len(limits.TrustedProxies), "site", siteKind(cfg),
		"sms_twilio", smsService != nil && cfg.TwilioAuthToken != "", "sms_kannel", smsService != nil && cfg.SMSSecret != "",
		"header_timeout", cfg.HeaderTimeout.String(), "max_conns", maxConns, "fd_limit", fdLimit, "max_conns_per_addr", cfg.MaxConnsPerAddr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// metricsServer serves GET /metrics and nothing else. Only Prometheus
// calls it, but it gets net/http's timeouts all the same.
func metricsServer(h http.Handler, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute, // longer than any scrape interval
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

func storeKind(cfg *Config) string {
	if cfg.RedisURL != "" {
		return "redis"
	}
	return "embedded"
}

// bucketCacheBytes turns --bucket-cache-mb into api.Config's form, where 0
// means the default and a negative value no cache.
func bucketCacheBytes(mb int) int64 {
	if mb == 0 {
		return -1
	}
	return int64(mb) << 20
}
