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

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/adminsock"
	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/api"
	"github.com/khabardar/khabardar/internal/redisurl"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
)

func cmdServe(fs *pflag.FlagSet, cfg *Config) runFunc {
	cfg.registerServe(fs)
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
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
		alertsOn, err := cfg.alerts()
		if err != nil {
			return usageError{err.Error()}
		}
		if len(args) != 0 {
			return usageError{fmt.Sprintf("serve takes no arguments, not %s", shown(args[0]))}
		}

		// Bind both listeners before anything else: a port in use fails
		// the start before a key or a data directory is created, and the
		// log names the bound addresses (a port of 0 picks a free one).
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("cannot listen on %s (%v): is another khabardar serve running? Stop it, or choose another address with --addr HOST:PORT (KHABARDAR_ADDR)", cfg.Addr, errors.Unwrap(err))
		}
		defer ln.Close()
		var mln net.Listener
		if cfg.MetricsAddr != "" {
			if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
				return fmt.Errorf("cannot listen for metrics on %s (%v): choose another address with --metrics-addr HOST:PORT, or --metrics-addr off", cfg.MetricsAddr, errors.Unwrap(err))
			}
			defer mln.Close()
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
		var sealer *alerts.Sealer
		if alertsOn.Sender != nil {
			if sealer, err = alerts.NewSealer([]byte(cfg.AlertsSecret)); err != nil {
				return err
			}
		}
		smsService, err := cfg.smsService(e, limiter, alertsOn, sealer, log)
		if err != nil {
			return err
		}
		if smsService == nil && alertsOn.Sender != nil {
			// Nobody could subscribe: no inbound gateway takes ALERT.
			alertsOn = alertsConfig{Quiet: alertsOn.Quiet, Off: "no inbound SMS gateway is configured to take ALERT (KHABARDAR_SMS_SECRET or KHABARDAR_TWILIO_AUTH_TOKEN)"}
		}
		worker := cfg.alertWorker(e, limiter, alertsOn, sealer, log)
		var gateways []sms.Gateway
		gatewayNames := []string{} // for the log line: [] rather than null when off
		if smsService != nil {
			gateways = cfg.smsGateways()
			for _, g := range gateways {
				gatewayNames = append(gatewayNames, g.Name())
			}
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

			SMS:         smsService,
			SMSGateways: gateways,
			Alerts:      cfg.apiAlerts(e, alertsOn, sealer),
			WhatsApp:    cfg.whatsApp(),

			HeaderTimeout:   cfg.HeaderTimeout,
			MaxConns:        maxConns,
			MaxConnsPerAddr: perAddr,
			TrustedProxies:  limits.TrustedProxies,
		})

		errc := make(chan error, 2)
		metricsAddr := "off"
		if mln != nil {
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

		// On the embedded store, the catalogue commands reach this process
		// through its admin socket: the bolt file admits one process.
		if cfg.RedisURL == "" {
			stop, err := startAdmin(cfg, e, srv, worker, ln.Addr().String(), errc, log)
			if err != nil {
				// Serving matters more: a socket path over the OS's limit
				// (a deep --data) costs the operator the live commands only.
				log.Warn("no admin socket: the catalogue commands need serve stopped", "err", khabardar.ErrorMessage(err))
			} else {
				// Before the store closes (deferred earlier, so run later).
				defer stop()
			}
		}
		warnIfEmpty(ctx, e.store, log)
		cfg.logAlerts(alertsOn, log)
		if worker != nil {
			wctx, stopWorker := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); worker.Run(wctx) }()
			defer func() { stopWorker(); <-done }() // before the store closes
		}
		go func() { errc <- srv.Serve(ln) }()
		log.Info("serving", "addr", ln.Addr().String(), "metrics_addr", metricsAddr, "key_id", e.key.ID(), "store", storeKind(cfg),
			"max_batch", cfg.MaxBatch, "rate_evaluate", cfg.RateEvaluate, "rate_global_evaluate", cfg.RateGlobalEvaluate,
			"trusted_proxies", len(limits.TrustedProxies), "site", siteKind(cfg),
			"sms_gateways", gatewayNames, "whatsapp", cfg.whatsApp() != nil,
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

// warnIfEmpty logs a warning when no listing can answer "found": every
// check would then tell its user nothing, and the site and SMS say so.
func warnIfEmpty(ctx context.Context, s khabardar.Store, log *slog.Logger) {
	ls, err := s.Listings(ctx)
	if err != nil {
		return // the store's own outage logging covers it
	}
	if khabardar.Summarize(ls).Empty() {
		log.Warn("no listings are loaded: every check will answer that Khabardar cannot tell anything yet; add one with 'khabardar listings add FILE.yaml' and 'khabardar ingest --listing ID FILE'")
	}
}

// startAdmin opens the admin socket of an embedded store's data directory
// and serves the store on it (package adminsock), clearing srv's caches
// after each write. stop finishes the writes in flight and removes the
// socket: call it before closing the store.
func startAdmin(cfg *Config, e *env, srv *api.Server, worker *sms.AlertWorker, addr string, errc chan<- error, log *slog.Logger) (stop func(), err error) {
	ln, err := adminsock.Listen(adminsock.SocketPath(cfg.DataDir))
	if err != nil {
		return nil, err
	}
	acfg := adminsock.Config{
		Store: e.store,
		Info: adminsock.Info{DataDir: cfg.DataDir, KeyID: e.key.ID(), Version: buildVersion().Version,
			Addr: addr, Started: time.Now().UTC()},
		OnBuckets:  func(prefixes []string) { srv.InvalidateBuckets(prefixes...) },
		OnListings: srv.InvalidateListings,
		Log:        log,
	}
	if worker != nil {
		acfg.OnAlerts = worker.Poke
		acfg.SendAlerts = func(ctx context.Context) (any, error) { return worker.RunOnce(ctx) }
	}
	adm := adminsock.NewServer(acfg)
	go func() {
		if err := adm.Serve(ln); err != nil {
			errc <- fmt.Errorf("admin socket: %w", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		adm.Shutdown(ctx)
		ln.Close()
	}, nil
}
