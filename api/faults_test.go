package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
)

// faultyStore fails Listings and Ping with err while it is set.
type faultyStore struct {
	khabardar.Store
	err atomic.Pointer[khabardar.Error]
}

func (f *faultyStore) Listings(ctx context.Context) ([]*khabardar.Listing, error) {
	if err := f.err.Load(); err != nil {
		return nil, err
	}
	return f.Store.Listings(ctx)
}

func (f *faultyStore) Ping(ctx context.Context) error {
	if err := f.err.Load(); err != nil {
		return err
	}
	return f.Store.Ping(ctx)
}

// TestDependencyOutageLogged: requests failed by a store outage write one
// line when it begins and one when it ends, and are each counted; a success
// within a second of a failure does not end it.
func TestDependencyOutageLogged(t *testing.T) {
	var fs *faultyStore
	e := newEnv(t, func(c *Config, _ *ratelimit.Config) {
		fs = &faultyStore{Store: c.Store}
		c.Store = fs
	})
	lines := func(msg string) int { return strings.Count(e.logs.String(), `"msg":"`+msg) }

	fs.err.Store(khabardar.Errorf(khabardar.EUNAVAILABLE, "the Redis store cannot be reached"))
	const n = 50
	for i := range n {
		path := "/v1/listings"
		if i%5 == 0 {
			path = "/readyz"
		}
		if r := e.get(path); r.status != 503 || r.code() != khabardar.EUNAVAILABLE {
			t.Fatalf("GET %s during the outage: %d %s", path, r.status, r.body)
		}
	}
	fs.err.Store(nil)
	if r := e.get("/readyz"); r.status != 200 {
		t.Fatalf("readyz after the outage: %d", r.status)
	}
	if got := lines("dependency back up"); got != 0 {
		t.Errorf("back up within a second of the last failure")
	}
	time.Sleep(depQuiet + 100*time.Millisecond)
	e.get("/readyz")
	e.get("/readyz")
	if down, up := lines("dependency down"), lines("dependency back up"); down != 1 || up != 1 {
		t.Errorf("%d down and %d back-up lines, want 1 and 1:\n%s", down, up, e.logs)
	}
	for _, line := range strings.Split(e.logs.String(), "\n") {
		// At Debug, each request has its line (serve --log-level debug).
		if !strings.Contains(line, `"level":"DEBUG"`) && (strings.Contains(line, "request failed") || strings.Contains(line, `"status":503`)) {
			t.Errorf("a line for a failed request: %s", line)
		}
	}
	if !strings.Contains(e.logs.String(), `"failed_requests":50`) {
		t.Errorf("the back-up line does not count the failed requests:\n%s", e.logs)
	}
	m := e.scrape()
	for _, want := range []string{
		`khabardar_dependency_errors_total{dependency="store"} 50`,
		`khabardar_dependency_up{dependency="store"} 1`,
		`khabardar_dependency_up{dependency="rate_limiter"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestInternalErrorsSampled: other 5xx are logged as they happen, at most
// one line a second, the next one counting those left out.
func TestInternalErrorsSampled(t *testing.T) {
	var fs *faultyStore
	e := newEnv(t, func(c *Config, _ *ratelimit.Config) {
		fs = &faultyStore{Store: c.Store}
		c.Store = fs
	})
	fs.err.Store(khabardar.Errorf(khabardar.EINTERNAL, "redisstore: listings: a record does not decode"))
	for range 30 {
		if r := e.get("/v1/listings"); r.status != 500 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	if got := strings.Count(e.logs.String(), `"msg":"request failed"`); got != 1 {
		t.Errorf("%d lines for 30 internal errors in a moment, want 1", got)
	}
	time.Sleep(time.Second + 100*time.Millisecond)
	e.get("/v1/listings")
	if !strings.Contains(e.logs.String(), `"suppressed":29`) {
		t.Errorf("the next line does not count the 29 left out:\n%s", e.logs)
	}
}

// TestRefusalsSampled: at the operator's level (info) a flood of refused
// requests writes at most refusalsPerSecond lines a second, the next one
// counting those left out; the metrics count every one; at debug level each
// has its line.
func TestRefusalsSampled(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level slog.Level
		lines func(n int, took time.Duration) bool
	}{
		// At most refusalsPerSecond in each second begun while sending.
		{"info", slog.LevelInfo, func(n int, took time.Duration) bool { return n <= refusalsPerSecond*(int(took/time.Second)+2) }},
		{"debug", slog.LevelDebug, func(n int, _ time.Duration) bool { return n == 300 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.log = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: tc.level}))
			start := time.Now()
			for range 300 {
				if r := e.get("/no/such/endpoint"); r.status != 404 {
					t.Fatalf("%d", r.status)
				}
			}
			if n := strings.Count(e.logs.String(), `"status":404`); !tc.lines(n, time.Since(start)) {
				t.Errorf("%d lines for 300 refusals at %s", n, tc.level)
			}
			if m := e.scrape(); !strings.Contains(m, `route="unmatched",status="404"} 300`) {
				t.Errorf("the metrics do not count the 300 refusals")
			}
			if tc.level != slog.LevelInfo {
				return
			}
			e.srv.refusals.mu.Lock()
			e.srv.refusals.windowEnd = time.Time{} // the second is over
			e.srv.refusals.mu.Unlock()
			before := strings.Count(e.logs.String(), `"status":404`)
			e.get("/no/such/endpoint")
			lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
			var last struct{ Suppressed int }
			json.Unmarshal([]byte(lines[len(lines)-1]), &last)
			if last.Suppressed != 300-before {
				t.Errorf("the next line counts %d left out, want %d: %s", last.Suppressed, 300-before, lines[len(lines)-1])
			}
		})
	}
}
