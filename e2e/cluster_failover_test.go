//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/redistest"
)

// failoverBound is how soon after the surviving nodes report
// cluster_state:ok (the replica promoted) every kind of request must be
// answered 200 again: the bound issue 11 sets.
const failoverBound = 5 * time.Second

// failoverWatch bounds how long the test waits for recovery, beyond
// failoverBound, so that a failing run still reports how long it took
// (before the fix: about 55 s) while the test stays under two minutes.
const failoverWatch = 75 * time.Second

// TestClusterFailover SIGKILLs a master of a Redis Cluster of three masters
// with one replica each, under a running `serve` with lookups going on
// throughout: the master holding the rate limiter's counters for the
// client and the bucket fetched. Every answer is 200 or 503 unavailable
// (no 500, no hang), and once the survivors report cluster_state:ok with
// the replica promoted, every kind of request (evaluate, bucket, listings)
// is answered 200 again within failoverBound. The limiter counts on the
// promoted master, the identifier ingested before is still found, and an
// ingest after the failover writes to the cluster.
func TestClusterFailover(t *testing.T) {
	rc := redistest.NewReplicatedCluster(t)
	c := newCLI(t, rc.URL())
	c.ok("keys", "init")
	c.ok("listings", "add", c.write("one.yaml", checkListingOne))
	var rows strings.Builder // buckets on every master
	fixture.WriteCSV(&rows, 300)
	rows.WriteString(fmt.Sprintf("x,%s,,\n", foundCNIC.typed))
	c.ingest("data-shop", c.write("one.csv", rows.String()))
	// Limits far above what the test sends, and no bucket cache: every
	// request goes to Redis, through both of serve's cluster clients (the
	// store's and the limiter's).
	srv := startServe(t, c, "--rate-evaluate", "1000000-H", "--rate-bucket", "1000000-H",
		"--rate-listing", "1000000-H", "--rate-global-evaluate", "1000000-H", "--bucket-cache-mb", "0")
	evalBody := string(evaluateBody(t, srv.base, absentPh.typed))

	// One request of each kind creates the limiter's counters; the victim
	// is the master holding most of them, and the bucket fetched is one of
	// its buckets.
	client := &http.Client{Timeout: 5 * time.Second}
	newReq := func(kind string) *http.Request {
		switch kind {
		case "evaluate":
			r, _ := http.NewRequest("POST", srv.base+"/v1/evaluate", strings.NewReader(evalBody))
			r.Header.Set("Content-Type", "application/json")
			return r
		case "listings":
			r, _ := http.NewRequest("GET", srv.base+"/v1/listings", nil)
			return r
		}
		r, _ := http.NewRequest("GET", srv.base+"/v1/buckets/"+kind[len("bucket "):], nil)
		return r
	}
	for _, kind := range []string{"evaluate", "listings", "bucket 0000"} {
		resp, err := client.Do(newReq(kind))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s before the fault: %v %v", kind, resp, err)
		}
		resp.Body.Close()
	}
	perMaster := map[string][]string{}
	var buckets []string
	for k := range redistest.Dump(t, rc.URL()) {
		switch {
		case strings.HasPrefix(k, "khb:rl:"):
			m := rc.MasterOf(t, k)
			perMaster[m] = append(perMaster[m], k)
		case strings.HasPrefix(k, "khb:b:"):
			buckets = append(buckets, k)
		}
	}
	victim := ""
	for m, keys := range perMaster {
		if victim == "" || len(keys) > len(perMaster[victim]) {
			victim = m
		}
	}
	if victim == "" {
		t.Fatal("no rate limiter counters in the cluster")
	}
	counters := perMaster[victim]
	slices.Sort(buckets)
	bucket := ""
	for _, k := range buckets {
		if rc.MasterOf(t, k) == victim {
			bucket = k
			break
		}
	}
	if bucket == "" {
		t.Fatalf("no bucket on %s", victim)
	}
	prefix := strings.TrimSuffix(strings.TrimPrefix(bucket, "khb:b:{"), "}")
	kinds := []string{"evaluate", "listings", "bucket " + prefix}
	t.Logf("killing %s, which holds %d of the limiter's counters and bucket %s", victim, len(counters), prefix)

	// Lookups all along, one loop per kind.
	type answer struct {
		start, end time.Time
		status     int
		code       string
		err        error
	}
	var (
		mu      sync.Mutex
		answers = map[string][]answer{}
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for _, kind := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				a := answer{start: time.Now()}
				resp, err := client.Do(newReq(kind))
				if err == nil {
					var e struct{ Error struct{ Code string } }
					json.NewDecoder(resp.Body).Decode(&e)
					resp.Body.Close()
					a.status, a.code = resp.StatusCode, e.Error.Code
				}
				a.end, a.err = time.Now(), err
				mu.Lock()
				answers[kind] = append(answers[kind], a)
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	stopLookups := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopLookups()

	// recovered returns, for each kind, when it was answered 200 again:
	// the end of the first 200 after its last other answer (zero if every
	// answer since from was 200), and whether every kind has answered 200
	// since then for at least settle.
	recovered := func(from time.Time, settle time.Duration) (map[string]time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]time.Time{}
		all := true
		for _, kind := range kinds {
			as := answers[kind]
			lastBad := -1
			for i, a := range as {
				if a.status != 200 {
					lastBad = i
				}
			}
			switch {
			case lastBad == len(as)-1:
				all = false
			case lastBad == -1 || as[lastBad].end.Before(from):
				out[kind] = time.Time{}
				all = all && len(as) > 0 && time.Since(from) > settle
			default:
				out[kind] = as[lastBad+1].end
				all = all && time.Since(as[lastBad+1].end) > settle
			}
		}
		return out, all
	}

	time.Sleep(500 * time.Millisecond)
	rc.WaitReplicated(t)
	killed := time.Now()
	rc.Kill(t, victim)
	ok := rc.WaitFailover(t, 30*time.Second)
	t.Logf("SIGKILL to cluster_state:ok on the survivors: %v", ok.Sub(killed).Round(time.Millisecond))

	var back map[string]time.Time
	for done := false; !done; {
		if time.Since(ok) > failoverWatch {
			break
		}
		time.Sleep(50 * time.Millisecond)
		back, done = recovered(ok, time.Second)
	}
	stopLookups()

	// Every answer: 200, or 503 unavailable within the client's timeout.
	var worst time.Duration
	mu.Lock()
	for kind, as := range answers {
		n := map[string]int{}
		var first, last time.Duration // of the answers other than 200, since the kill
		for _, a := range as {
			if a.status != 200 {
				if first == 0 {
					first = a.end.Sub(killed)
				}
				last = a.end.Sub(killed)
			}
			switch {
			case a.err != nil:
				t.Errorf("%s at %v after the kill: %v", kind, a.start.Sub(killed).Round(time.Millisecond), a.err)
			case a.status == 200:
			case a.status == 503 && a.code == "unavailable":
				worst = max(worst, a.end.Sub(a.start))
			default:
				t.Errorf("%s at %v after the kill: %d %q, want 200 or 503 unavailable", kind, a.start.Sub(killed).Round(time.Millisecond), a.status, a.code)
			}
			n[strconv.Itoa(a.status)]++
		}
		t.Logf("%s: answers by status %v; not 200 from %v to %v after the kill", kind, n, first.Round(time.Millisecond), last.Round(time.Millisecond))
	}
	mu.Unlock()
	t.Logf("slowest 503: %v", worst.Round(time.Millisecond))

	// Every kind answered 200 again within failoverBound of cluster_state:ok.
	var slowest time.Duration
	for _, kind := range kinds {
		b, ok2 := back[kind]
		if !ok2 {
			t.Errorf("%s: still not answered 200 %v after cluster_state:ok", kind, failoverWatch)
			slowest = failoverWatch
			continue
		}
		d := time.Duration(0)
		if !b.IsZero() {
			d = b.Sub(ok)
		}
		t.Logf("%s: 200 again %v after cluster_state:ok", kind, d.Round(time.Millisecond))
		slowest = max(slowest, d)
	}
	t.Logf("cluster_state:ok to 200 for every kind: %v (bound %v)", slowest.Round(time.Millisecond), failoverBound)
	if slowest > failoverBound {
		t.Errorf("service returned %v after cluster_state:ok, over %v", slowest.Round(time.Millisecond), failoverBound)
	}

	// The limiter counts on the promoted master: its counters go on rising.
	count := func() (n int64) {
		d := redistest.Dump(t, rc.URL())
		for _, k := range counters {
			v, _ := strconv.ParseInt(string(d[k]), 10, 64)
			n += v
		}
		return n
	}
	before := count()
	for _, kind := range kinds {
		resp, err := client.Do(newReq(kind))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s after the failover: %v %v", kind, resp, err)
		}
		resp.Body.Close()
	}
	if after := count(); after <= before {
		t.Errorf("the limiter's counters on the promoted master stayed at %d", after)
	}

	// What was ingested before is found; an ingest now writes to the cluster,
	// promoted master included, and serve finds it.
	found := func(v string) bool {
		out, _, code := c.run("check", "--server", srv.base, "--json", v)
		var r struct{ Results []struct{ Found bool } }
		json.Unmarshal([]byte(out), &r)
		return code == 0 && len(r.Results) == 1 && r.Results[0].Found
	}
	if !found(foundCNIC.typed) {
		t.Error("the identifier ingested before the failover is not found")
	}
	more := "cnic\n"
	for i := range 300 {
		more += fixture.CNIC(1_000_000+i) + "\n"
	}
	if s := c.ingest("data-shop", c.write("more.csv", more)); s.New.CNIC != 300 {
		t.Errorf("ingest after the failover: %+v", s)
	}
	if !found(fixture.CNIC(1_000_299)) {
		t.Error("an identifier ingested after the failover is not found")
	}
	scan(t, "serve's logs", []byte(srv.stop(t)))
}
