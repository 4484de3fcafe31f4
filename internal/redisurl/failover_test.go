//go:build unix

package redisurl_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/internal/redisurl"
)

// TestClusterFailover kills the master of a key under two fail-fast
// cluster clients, one sending single commands and one pipelines (each
// reloads the slot map through its own hook), and checks that each reads
// the key from the promoted replica within 5 s of the survivors reporting
// cluster_state:ok (issue 11's bound; without the reload, up to the 60 s
// of ClusterStateReloadInterval), and that every failure meanwhile is a
// connection error or CLUSTERDOWN, never a wrong answer.
func TestClusterFailover(t *testing.T) {
	const bound, watch = 5 * time.Second, 20 * time.Second
	rc := redistest.NewReplicatedCluster(t)
	ctx := context.Background()
	setup, err := redisurl.Client(rc.URL(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	keys := make([]string, 30) // on every master
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
		if err := setup.Set(ctx, keys[i], keys[i], 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	rc.WaitReplicated(t)
	victim := rc.MasterOf(t, keys[0])

	ways := map[string]func(c redis.UniversalClient) error{
		"command": func(c redis.UniversalClient) error {
			v, err := c.Get(ctx, keys[0]).Result()
			if err == nil && v != keys[0] {
				return fmt.Errorf("wrong value %q", v)
			}
			return err
		},
		"pipeline": func(c redis.UniversalClient) error {
			pipe := c.Pipeline()
			cmds := make([]*redis.StringCmd, len(keys))
			for i, k := range keys {
				cmds[i] = pipe.Get(ctx, k)
			}
			pipe.Exec(ctx)
			for i, cmd := range cmds {
				if v, err := cmd.Result(); err != nil || v != keys[i] {
					if err == nil {
						err = fmt.Errorf("wrong value %q", v)
					}
					return err
				}
			}
			return nil
		},
	}
	type result struct {
		end time.Time
		err error
	}
	var (
		mu      sync.Mutex
		results = map[string][]result{}
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for name, do := range ways {
		c, err := redisurl.Client(rc.URL(), true)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := do(c); err != nil {
			t.Fatalf("%s before the fault: %v", name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				err := do(c)
				mu.Lock()
				results[name] = append(results[name], result{time.Now(), err})
				mu.Unlock()
			}
		}()
	}
	stopAll := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopAll()

	killed := time.Now()
	rc.Kill(t, victim)
	ok := rc.WaitFailover(t, 30*time.Second)
	// back returns when each way last failed, and whether every way has
	// succeeded for the last second.
	back := func() (map[string]time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		last := map[string]time.Time{}
		settled := true
		for name := range ways {
			rs := results[name]
			for _, r := range rs {
				if r.err != nil {
					last[name] = r.end
				}
			}
			settled = settled && len(rs) > 0 && time.Since(last[name]) > time.Second && time.Since(ok) > time.Second
		}
		return last, settled
	}
	var last map[string]time.Time
	for settled := false; !settled && time.Since(ok) < watch; {
		time.Sleep(50 * time.Millisecond)
		last, settled = back()
	}
	stopAll()
	t.Logf("SIGKILL to cluster_state:ok: %v", ok.Sub(killed).Round(time.Millisecond))
	for name := range ways {
		var failures int
		for _, r := range results[name] {
			if r.err != nil {
				failures++
				if _, isMoved := redis.IsMovedError(r.err); redis.IsClusterDownError(r.err) || isMoved {
					continue
				}
				if _, ok := r.err.(redis.Error); ok { // a reply, but not one a failover explains
					t.Errorf("%s: %v", name, r.err)
				}
			}
		}
		d := max(last[name].Sub(ok), 0)
		t.Logf("%s: %d of %d failed; last failure %v after cluster_state:ok", name, failures, len(results[name]), d.Round(time.Millisecond))
		if d > bound {
			t.Errorf("%s: failed until %v after cluster_state:ok, over %v", name, d.Round(time.Millisecond), bound)
		}
	}
}
