package main

import (
	"context"
	"io"
	"log/slog"
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
	})

	errc := make(chan error, 1)
	go func() { errc <- srv.Listen(cfg.Addr) }()
	log.Info("serving", "addr", cfg.Addr, "key_id", e.key.ID(), "store", storeKind(cfg),
		"max_batch", cfg.MaxBatch, "rate_evaluate", cfg.RateEvaluate, "rate_global_evaluate", cfg.RateGlobalEvaluate,
		"trusted_proxies", len(limits.TrustedProxies), "site", siteKind(cfg),
		"sms_twilio", smsService != nil && cfg.TwilioAuthToken != "", "sms_kannel", smsService != nil && cfg.SMSSecret != "")
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
