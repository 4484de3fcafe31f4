//go:build unix

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar/internal/redistest"
)

// TestClusterNodeRestart restarts a master of the Redis Cluster under a
// running `serve` while lookups go on: each request succeeds or fails fast
// (503 unavailable within a second), and once the node is back every
// lookup works again and nothing was lost.
func TestClusterNodeRestart(t *testing.T) {
	c := newCLI(t, redistest.ClusterURL(t))
	c.ok("keys", "init")
	c.ok("listings", "add", c.write("one.yaml", checkListingOne))
	c.ingest("data-shop", c.write("one.csv", "cnic\n"+foundCNIC.typed+"\n"))
	srv := startServe(t, c)
	body := evaluateBody(t, srv.base, absentPh.typed)

	var stop atomic.Bool
	var ok, unavailable atomic.Int64
	done := make(chan struct{})
	go func() { // lookups all along
		defer close(done)
		client := &http.Client{Timeout: 10 * time.Second}
		for !stop.Load() {
			for _, path := range []string{"/v1/evaluate", "/v1/listings", "/readyz"} {
				var resp *http.Response
				var err error
				start := time.Now()
				if path == "/v1/evaluate" {
					resp, err = client.Post(srv.base+path, "application/json", strings.NewReader(string(body)))
				} else {
					resp, err = client.Get(srv.base + path)
				}
				took := time.Since(start)
				if err != nil {
					t.Errorf("%s: %v", path, err)
					continue
				}
				var e struct{ Error struct{ Code string } }
				json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				switch {
				case resp.StatusCode == 200:
					ok.Add(1)
				case resp.StatusCode == 503 && e.Error.Code == "unavailable":
					unavailable.Add(1)
					if took > time.Second {
						t.Errorf("%s: 503 after %v, over a second", path, took)
					}
				default:
					t.Errorf("%s during the restart: %d %q", path, resp.StatusCode, e.Error.Code)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	for node := range 3 { // every master in turn: whichever holds the keys used
		redistest.RestartClusterNode(t, node)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _, code := c.run("check", "--server", srv.base, "--json", foundCNIC.typed)
		var r struct{ Results []struct{ Found bool } }
		json.Unmarshal([]byte(out), &r)
		if code == 0 && len(r.Results) == 1 && r.Results[0].Found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the identifier is not found 15 s after the restarts: exit %d %s", code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop.Store(true)
	<-done
	t.Logf("during the restarts: %d answered, %d refused with 503", ok.Load(), unavailable.Load())
	scan(t, "serve's logs", []byte(srv.stop(t)))
}
