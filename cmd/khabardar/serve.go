package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/khabardar/khabardar/api"
)

func cmdServe(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flags("serve", cfg, stdout)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address HOST:PORT (env KHABARDAR_ADDR)")
	if err := parse(fs, args); err != nil {
		return err
	}
	e, err := cfg.open(ctx, log)
	if err != nil {
		return err
	}
	defer e.store.Close()
	srv := api.New(api.Config{Store: e.store, Key: e.key, Layout: e.layout, Log: log})

	errc := make(chan error, 1)
	go func() { errc <- srv.Listen(cfg.Addr) }()
	log.Info("serving", "addr", cfg.Addr, "key_id", e.key.ID(), "store", storeKind(cfg))
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
