package redisurl

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSampledLogger: a burst of go-redis lines is one JSON line a period, the
// next one counting those left out.
func TestSampledLogger(t *testing.T) {
	var buf bytes.Buffer
	l := &sampledLogger{log: slog.New(slog.NewJSONHandler(&buf, nil)), every: time.Hour}
	for range 1000 {
		l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 1, "dial tcp 127.0.0.1:1: connect: connection refused")
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d lines for a burst of 1000, want 1:\n%s", n, buf.String())
	}
	l.mu.Lock()
	l.next = time.Time{} // the period is over
	l.mu.Unlock()
	l.Printf(context.Background(), "redis: %s", "again")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"suppressed":999`) || !strings.Contains(lines[1], `"level":"WARN"`) {
		t.Fatalf("after the period: %q, want a second WARN line counting 999 left out", lines)
	}
}
