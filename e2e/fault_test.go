//go:build unix

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar/internal/redistest"
)

// TestRedisPaused stops the Redis under a running `serve` (SIGSTOP: its
// connections stay open and nothing answers, the worst case for a client)
// and checks that requests fail fast with 503 unavailable, /readyz turns
// red and nothing is served unlimited; then resumes it and checks that the
// same server answers again, with nothing lost, without a restart.
func TestRedisPaused(t *testing.T) {
	red := redistest.NewDedicated(t)
	c := newCLI(t, red.URL())
	c.ok("keys", "init")
	c.ok("listings", "add", c.write("one.yaml", checkListingOne))
	c.ingest("data-shop", c.write("one.csv", "cnic\n"+foundCNIC.typed+"\n"))
	srv := startServe(t, c)
	// found retries for a while: this server's Redis commands time out at
	// 250 ms by design, so on a loaded CI machine one check may be refused
	// with 503 before or after the fault; that is the behaviour under test,
	// not a lost identifier.
	found := func(when string) {
		t.Helper()
		var out, errs string
		var code int
		for try := 0; try < 20; try++ {
			out, errs, code = c.run("check", "--server", srv.base, "--json", foundCNIC.typed)
			var r struct{ Results []struct{ Found bool } }
			json.Unmarshal([]byte(out), &r)
			if code == 0 && len(r.Results) == 1 && r.Results[0].Found {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Fatalf("not found %s: exit %d\nstdout: %s\nstderr: %s", when, code, out, errs)
	}
	found("before the fault")

	red.Pause()
	paused := true
	defer func() {
		if paused {
			red.Resume()
		}
	}()
	// "No request hangs past a second" is the requirement itself, so it is
	// asserted: the server's Redis commands time out at 250 ms and are
	// retried once (internal/redisurl).
	const limit = time.Second
	requests := []struct{ method, path, body string }{
		{"GET", "/readyz", ""},
		{"GET", "/v1/listings", ""},
		{"GET", "/v1/buckets/abcd", ""},
		{"POST", "/v1/evaluate", string(evaluateBody(t, srv.base, absentPh.typed))},
	}
	var wg sync.WaitGroup
	for round := range 5 {
		for _, rq := range requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(rq.method, srv.base+rq.path, strings.NewReader(rq.body))
				if rq.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				start := time.Now()
				resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
				took := time.Since(start)
				if err != nil {
					t.Errorf("round %d %s %s: %v", round, rq.method, rq.path, err)
					return
				}
				var e struct{ Error struct{ Code string } }
				json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				if resp.StatusCode != 503 || e.Error.Code != "unavailable" {
					t.Errorf("round %d %s %s with Redis paused: %d %q, want 503 unavailable", round, rq.method, rq.path, resp.StatusCode, e.Error.Code)
				}
				if took > limit {
					t.Errorf("round %d %s %s took %v with Redis paused, over %v", round, rq.method, rq.path, took, limit)
				}
			}()
		}
	}
	wg.Wait()

	red.Resume()
	paused = false
	deadline := time.Now().Add(15 * time.Second)
	for {
		r, err := http.Get(srv.base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not turn green within 15 s of Redis resuming")
		}
		time.Sleep(50 * time.Millisecond)
	}
	found("after Redis resumed")
	scan(t, "serve's logs", []byte(srv.stop(t)))
}
