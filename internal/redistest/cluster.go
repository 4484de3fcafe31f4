package redistest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterMasters is how many masters ClusterURL's cluster has: the fewest
// redis-cli --cluster create accepts, and enough that keys spread over
// several nodes as in production.
const clusterMasters = 3

// ClusterURL returns the URL (redis-cluster://a,b,c) of an empty, private
// Redis Cluster of three masters on free loopback ports that belongs to t
// until t ends. A cluster has only database 0, so one test holds it at a
// time; it is flushed before it is handed out. It is started on the first
// call and stopped once no test has held it for clusterIdle (test binaries
// lease it in turns; starting one takes seconds). Without redis-server
// and redis-cli on PATH the test is skipped, or fails with
// KHABARDAR_REQUIRE_REDIS=1.
func ClusterURL(t testing.TB) string {
	t.Helper()
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		requireOrSkip(t, "no Redis Cluster: redis-server and redis-cli are not both on PATH")
	}
	return cluster.lease(t, server, cli)
}

// clusterIdle is how long an unleased cluster keeps running.
const clusterIdle = 3 * time.Second

var cluster localCluster

type localCluster struct {
	turn sync.Mutex // held by the test that leases the cluster

	mu    sync.Mutex // guards the fields below, for the idle timer
	nodes []*server
	url   string
	idle  *time.Timer // stops the cluster; nil while leased
}

func (c *localCluster) lease(t testing.TB, serverPath, cliPath string) string {
	t.Helper()
	leased := make(chan struct{})
	go func() { c.turn.Lock(); close(leased) }()
	select {
	case <-leased:
	case <-time.After(leaseWait):
		t.Fatalf("redistest: the cluster stayed leased for %v", leaseWait)
	}
	c.mu.Lock()
	if c.idle != nil {
		c.idle.Stop()
		c.idle = nil
	}
	if c.nodes == nil {
		if err := c.start(serverPath, cliPath); err != nil {
			c.mu.Unlock()
			c.turn.Unlock()
			t.Fatalf("redistest: %v", err)
		}
	}
	u := c.url
	c.mu.Unlock()
	if err := flushAll(u); err != nil {
		c.mu.Lock()
		c.stop()
		c.mu.Unlock()
		c.turn.Unlock()
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() {
		_ = flushAll(u) // free the memory before the next holder
		c.mu.Lock()
		c.idle = time.AfterFunc(clusterIdle, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.idle != nil { // not leased again meanwhile
				c.stop()
				c.idle = nil
			}
		})
		c.mu.Unlock()
		c.turn.Unlock()
	})
	return u
}

func (c *localCluster) start(serverPath, cliPath string) error {
	// AOF on (it overrides startServer's "no"), so that RestartClusterNode
	// loses nothing, as in production.
	nodes, err := createCluster(serverPath, cliPath, 0, "--cluster-node-timeout", "2000", "--appendonly", "yes")
	if err != nil {
		return err
	}
	c.nodes = nodes
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.addr)
	}
	c.url = "redis-cluster://" + strings.Join(addrs, ",")
	return nil
}

// createCluster starts clusterMasters × (1 + replicas) cluster-enabled
// redis-servers with the extra arguments, joins them with redis-cli
// --cluster create and waits until every node reports cluster_state:ok. On
// error it stops what it started.
func createCluster(serverPath, cliPath string, replicas int, extra ...string) ([]*server, error) {
	var nodes []*server
	stop := func() {
		for _, n := range nodes {
			n.stop()
		}
	}
	var addrs []string
	for range clusterMasters * (1 + replicas) {
		n, err := startServer(serverPath, append([]string{"--cluster-enabled", "yes"}, extra...)...)
		if err != nil {
			stop()
			return nil, err
		}
		nodes = append(nodes, n)
		addrs = append(addrs, n.addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliPath, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v: %s", err, strings.TrimSpace(out.String()))
	}
	if err := waitClusterOK(addrs, clusterMasters, 30*time.Second); err != nil {
		stop()
		return nil, err
	}
	return nodes, nil
}

func (c *localCluster) stop() {
	for _, n := range c.nodes {
		n.stop()
	}
	c.nodes, c.url = nil, ""
}

// waitClusterOK polls every node until each says cluster_state:ok and knows
// all the masters (cluster_size): until then a client can be sent to a node
// that has not learned its slots.
func waitClusterOK(addrs []string, masters int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, DisableIdentity: true})
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := c.ClusterInfo(ctx).Result()
			cancel()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, fmt.Sprintf("cluster_size:%d", masters)) {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				return fmt.Errorf("redistest: the cluster did not become ready in %v (node %s: %v)", timeout, a, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	return nil
}

// flushAll empties every master of the cluster at u.
func flushAll(u string) error {
	c, err := client(u)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return eachMaster(ctx, c, func(ctx context.Context, m redis.UniversalClient) error { return m.FlushAll(ctx).Err() })
}

// RestartClusterNode restarts master i (0, 1 or 2) of the cluster t holds,
// gracefully and on the same port, and waits until the cluster is whole
// again. Its data survives (AOF).
func RestartClusterNode(t testing.TB, i int) {
	t.Helper()
	cluster.mu.Lock()
	defer cluster.mu.Unlock()
	if i < 0 || i >= len(cluster.nodes) {
		t.Fatalf("redistest: no cluster node %d", i)
	}
	if err := cluster.nodes[i].restart(); err != nil {
		t.Fatalf("redistest: restarting cluster node %d: %v", i, err)
	}
	var addrs []string
	for _, n := range cluster.nodes {
		addrs = append(addrs, n.addr)
	}
	if err := waitClusterOK(addrs, clusterMasters, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}
