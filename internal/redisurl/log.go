package redisurl

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own log lines to log, at Warn, at most one per
// LogEvery with the count of lines left out since the one before.
//
// go-redis otherwise prints plain text on stderr, between the service's JSON
// lines, and prints one per failed dial: with Redis gone, a line per request
// ("connection pool: failed to dial after 1 attempts: dial tcp …"), the flood
// that the API's outage tracking exists to prevent: the API logs an outage
// when it begins and ends (api/faults.go), so go-redis's detail is needed
// only now and then. Its lines name Redis
// nodes and connection states, never a command's arguments. SetLogger sets
// go-redis's process-wide logger: call it once, at start.
func SetLogger(log *slog.Logger) { redis.SetLogger(&sampledLogger{log: log, every: LogEvery}) }

// LogEvery is how often at most a go-redis line is logged.
const LogEvery = 10 * time.Second

// sampledLogger is go-redis's internal.Logging on slog.
type sampledLogger struct {
	log   *slog.Logger
	every time.Duration

	mu         sync.Mutex
	next       time.Time
	suppressed int64
}

func (l *sampledLogger) Printf(ctx context.Context, format string, v ...any) {
	now := time.Now()
	l.mu.Lock()
	if now.Before(l.next) {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.next = now.Add(l.every)
	left := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	l.log.LogAttrs(context.Background(), slog.LevelWarn, "redis client", slog.String("detail", fmt.Sprintf(format, v...)), slog.Int64("suppressed", left))
}
