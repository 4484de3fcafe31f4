//go:build unix

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/internal/redisurl"
)

// TestRedisOutageLogging pauses the Redis under `serve` (at the operator's
// log level, info) while clients keep sending requests that need the rate
// limiter's counters (anonymous listings), the store (an API key's
// listings, /readyz) or neither (/v1/config). Each dependency's outage is
// logged once when it begins and once when it ends, whatever the number of
// requests it fails; the metrics count every failed request.
//
// Before, every failed request wrote an Error line and a Warn line (and
// /readyz one more): thousands of lines a minute.
//
// Two outages: Redis paused (SIGSTOP: reads time out) and Redis killed
// (SIGKILL, then started again with its data: dials are refused, and
// go-redis logs each refused dial itself, which serve samples to one line
// per redisurl.LogEvery).
func TestRedisOutageLogging(t *testing.T) {
	for _, tc := range []struct {
		name        string
		fail, mend  func(t *testing.T, red *redistest.Dedicated)
		clientLines int // go-redis's own lines the outage may add
	}{
		{"paused", func(_ *testing.T, red *redistest.Dedicated) { red.Pause() }, func(_ *testing.T, red *redistest.Dedicated) { red.Resume() }, 0},
		{"killed", func(_ *testing.T, red *redistest.Dedicated) { red.Kill() }, func(t *testing.T, red *redistest.Dedicated) { red.Start(t) },
			int(outageTime/redisurl.LogEvery) + 1},
	} {
		t.Run(tc.name, func(t *testing.T) { redisOutageLogging(t, tc.fail, tc.mend, tc.clientLines) })
	}
}

// outageTime is how long each outage lasts.
const outageTime = 8 * time.Second

func redisOutageLogging(t *testing.T, fail, mend func(*testing.T, *redistest.Dedicated), clientLines int) {
	red := redistest.NewDedicated(t)
	c := newCLI(t, red.URL())
	c.env = append(c.env, "KHABARDAR_LOG_LEVEL=info") // what an operator runs; newCLI's debug logs every request
	c.ok("keys", "init")
	c.ok("listings", "add", c.write("one.yaml", checkListingOne))
	var key struct{ Secret string }
	if err := json.Unmarshal([]byte(c.ok("apikeys", "create", "--name", "Desk", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, c, "--rate-listing", "1000000-H")

	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string, header ...string) int {
		req, _ := http.NewRequest("GET", srv.base+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		r, err := client.Do(req)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			return 0
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return r.StatusCode
	}
	requests := []struct {
		path   string
		header []string
	}{
		{"/v1/listings", nil}, // the rate limiter
		{"/v1/listings", []string{"Authorization", "Bearer " + key.Secret}}, // the store (the key's lookup)
		{"/readyz", nil},    // the store
		{"/v1/config", nil}, // neither
	}
	for _, rq := range requests {
		if s := get(rq.path, rq.header...); s != 200 {
			t.Fatalf("GET %s before the outage: %d", rq.path, s)
		}
	}

	// The outage: 16 clients for 8 s.
	var failed, ok, n atomic.Int64
	run := func(d time.Duration) {
		var wg sync.WaitGroup
		end := time.Now().Add(d)
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; time.Now().Before(end); i++ {
					rq := requests[i%len(requests)]
					switch get(rq.path, rq.header...) {
					case 503:
						failed.Add(1)
					case 200:
						ok.Add(1)
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	pausedAt := time.Now()
	fail(t, red)
	run(outageTime)
	mend(t, red)
	resumedAt := time.Now()
	outageRequests, outageFailed := n.Load(), failed.Load()
	if outageFailed == 0 {
		t.Fatal("no request failed with Redis paused")
	}

	// Recovery: requests again, for 3 s (a dependency is back up after a
	// second without failures).
	n.Store(0)
	failed.Store(0)
	run(3 * time.Second)
	t.Logf("outage: %d requests in %v, %d answered 503; after it: %d requests, %d answered 503",
		outageRequests, resumedAt.Sub(pausedAt).Round(time.Millisecond), outageFailed, n.Load(), failed.Load())

	m, err := scrapeErr(srv.metrics)
	if err != nil {
		t.Errorf("metrics: %v", err)
	}
	counted := metricValue(m, `khabardar_dependency_errors_total{dependency="store"}`) +
		metricValue(m, `khabardar_dependency_errors_total{dependency="rate_limiter"}`)
	if int64(counted) != outageFailed+failed.Load() {
		t.Errorf("khabardar_dependency_errors_total counts %v failed requests, the clients got %d", counted, outageFailed+failed.Load())
	}
	for _, dep := range []string{"store", "rate_limiter"} {
		if v := metricValue(m, `khabardar_dependency_up{dependency="`+dep+`"}`); v != 1 {
			t.Errorf("khabardar_dependency_up{dependency=%q} %v after the recovery", dep, v)
		}
	}

	logs := srv.stop(t)
	var during, after, redisLines int
	down, up := map[string]int{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var l struct {
			Time       time.Time
			Msg        string
			Dependency string
		}
		if json.Unmarshal([]byte(line), &l) != nil {
			t.Errorf("a log line that is not JSON: %s", line)
			continue
		}
		switch {
		case l.Time.Before(pausedAt):
		case l.Msg == "redis client": // go-redis's own, sampled
			redisLines++
		case l.Time.Before(resumedAt):
			during++
		default:
			after++
		}
		if strings.HasPrefix(l.Msg, "dependency down") {
			down[l.Dependency]++
		}
		if l.Msg == "dependency back up" {
			up[l.Dependency]++
		}
	}
	t.Logf("log lines: %d during the outage, %d from its end to the stop (shutdown lines included)", during, after)
	t.Logf("down: %v, back up: %v", down, up)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"dependency"`) {
			t.Log(line)
		}
	}
	// O(1): a line per dependency going down, whatever the requests; a
	// few for the rest (none expected).
	if during > 4 {
		t.Errorf("%d log lines for %d requests during the outage, want a few:\n%s", during, outageRequests, tail(logs, 10))
	}
	t.Logf("go-redis lines: %d", redisLines)
	if redisLines > clientLines {
		t.Errorf("%d lines from go-redis, want at most %d:\n%s", redisLines, clientLines, tail(logs, 10))
	}
	for _, dep := range []string{"store", "rate_limiter"} {
		if down[dep] != 1 || up[dep] != 1 {
			t.Errorf("%s: %d down and %d back-up lines, want 1 and 1", dep, down[dep], up[dep])
		}
	}
	if strings.Contains(logs, key.Secret) {
		t.Error("the API key reached the log")
	}
}

// scrapeErr is scrape without failing the test.
func scrapeErr(base string) (string, error) {
	r, err := http.Get(base + "/metrics")
	if err != nil {
		return "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return string(b), err
}
