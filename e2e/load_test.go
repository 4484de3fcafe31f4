package e2e

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/khabardar/khabardar/loadgen"
)

// TestLoad runs a bounded `khabardar load` against `serve`: one process on
// the embedded store, two sharing Redis. Every check completes, each
// operation is timed, and every server's memory is sampled.
func TestLoad(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.addListing("filler")
		c.ingest("filler", c.write("filler.csv", "mobile\n0300-0000001\n0300-0000002\n"))
		limits := []string{"--rate-evaluate", "100000000-H", "--rate-bucket", "100000000-H", "--rate-global-evaluate", "1000000000-D"}
		servers := []*served{startServe(t, c, limits...)}
		if storeURL(c) != "" { // the embedded store belongs to one process
			servers = append(servers, startServe(t, c, limits...))
		}
		targets, pids := "", ""
		for i, s := range servers {
			if i > 0 {
				targets, pids = targets+",", pids+","
			}
			targets += s.base
			pids += strconv.Itoa(s.cmd.Process.Pid)
		}
		out := c.ok("load", "--server", targets, "--pids", pids, "--checks", "300", "--concurrency", "8",
			"--duration", "2m", "--sample-every", "100ms", "--json")
		var r loadgen.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if r.Checks != 300 || r.Failed != 0 || len(r.Errors) != 0 {
			t.Fatalf("%d checks, %d failed: %v", r.Checks, r.Failed, r.Errors)
		}
		for _, op := range []string{loadgen.OpCheck, loadgen.OpEvaluate, loadgen.OpBucket} {
			if o := r.Ops[op]; o.Count != 300 || o.P50 <= 0 || o.P99 < o.P50 || o.Max < o.P99 {
				t.Errorf("%s: %+v", op, o)
			}
		}
		if len(r.Memory) == 0 || len(r.Memory[0].RSS) != len(servers) {
			t.Errorf("memory samples: %+v", r.Memory)
		}
		// Paced: 60 checks at 100 a second cannot take less than about
		// 0.6 s, however fast the machine (a lower bound only).
		out = c.ok("load", "--server", targets, "--checks", "60", "--rate", "100", "--duration", "2m", "--json")
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Checks != 60 || r.Elapsed < 500*time.Millisecond {
			t.Errorf("paced run: %v, %d checks in %v", err, r.Checks, r.Elapsed)
		}
	})
}
