//go:build unix

package redistest

import (
	"context"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// FailoverNodeTimeout is the cluster-node-timeout of a ReplicatedCluster:
// how long a master must be silent before the others count it as failing
// and its replica may take over. Production clusters use 15 s; 2 s keeps
// failover tests short.
const FailoverNodeTimeout = 2 * time.Second

// ReplicatedCluster is a Redis Cluster of one test's own, of three masters
// with one replica each, for failover tests: unlike ClusterURL's shared
// cluster (no replicas; RestartClusterNode restarts a master gracefully on
// the same port), a master can be killed outright and its replica promoted.
// It is stopped, every node, when the test ends.
type ReplicatedCluster struct {
	mu     sync.Mutex
	nodes  []*server
	killed map[string]bool // addresses of killed nodes
}

// NewReplicatedCluster starts a ReplicatedCluster on free loopback ports
// and waits until every replica is in sync with its master. It skips or
// fails as ClusterURL does without redis-server and redis-cli. Starting
// one takes a few seconds.
func NewReplicatedCluster(t testing.TB) *ReplicatedCluster {
	t.Helper()
	serverPath, err1 := exec.LookPath("redis-server")
	cliPath, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		requireOrSkip(t, "no Redis Cluster: redis-server and redis-cli are not both on PATH")
	}
	c := &ReplicatedCluster{killed: map[string]bool{}}
	t.Cleanup(c.stop)
	nodes, err := createCluster(serverPath, cliPath, 1,
		"--cluster-node-timeout", strconv.Itoa(int(FailoverNodeTimeout/time.Millisecond)))
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	c.nodes = nodes
	c.WaitReplicated(t)
	return c
}

// URL is the cluster's URL, naming every node as a seed.
func (c *ReplicatedCluster) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.addr)
	}
	return "redis-cluster://" + strings.Join(addrs, ",")
}

// live returns the addresses of the nodes not killed.
func (c *ReplicatedCluster) live() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var addrs []string
	for _, n := range c.nodes {
		if !c.killed[n.addr] {
			addrs = append(addrs, n.addr)
		}
	}
	return addrs
}

// MasterOf returns the address of the master serving key's slot, as a
// live node sees it now.
func (c *ReplicatedCluster) MasterOf(t testing.TB, key string) string {
	t.Helper()
	n := nodeClient(c.live()[0])
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slot, err := n.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatalf("redistest: CLUSTER KEYSLOT: %v", err)
	}
	slots, err := n.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatalf("redistest: CLUSTER SLOTS: %v", err)
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr
		}
	}
	t.Fatalf("redistest: no master serves slot %d", slot)
	return ""
}

// WaitReplicated waits until every live replica has acknowledged all that
// its master has written, so that a master killed next loses nothing.
func (c *ReplicatedCluster) WaitReplicated(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range c.live() {
		n := nodeClient(a)
		for {
			synced, err := replicasSynced(n)
			if err == nil && synced {
				break
			}
			if time.Now().After(deadline) {
				n.Close()
				t.Fatalf("redistest: the replicas of %s did not catch up in 30 s (%v)", a, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		n.Close()
	}
}

// replicasSynced reports whether n is a replica or a master whose replicas
// (at least one) are online at its replication offset.
func replicasSynced(n *redis.Client) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := n.Info(ctx, "replication").Result()
	if err != nil {
		return false, err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[k] = v
		}
	}
	if fields["role"] != "master" {
		return fields["master_link_status"] == "up", nil
	}
	want := "offset=" + fields["master_repl_offset"] + ","
	replicas, _ := strconv.Atoi(fields["connected_slaves"])
	for i := range replicas {
		r := fields["slave"+strconv.Itoa(i)]
		if !strings.Contains(r, "state=online") || !strings.Contains(r, want) {
			return false, nil
		}
	}
	return replicas > 0, nil
}

// Kill ends the node at addr with SIGKILL: no shutdown, no goodbye to the
// other nodes, its connections reset, as when a machine or process dies.
func (c *ReplicatedCluster) Kill(t testing.TB, addr string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.addr == addr {
			n.cmd.Process.Kill() // SIGKILL
			<-n.exit
			c.killed[addr] = true
			return
		}
	}
	t.Fatalf("redistest: no node %s", addr)
}

// WaitFailover waits, up to timeout, until every live node reports
// cluster_state:ok with every slot served by a live master (so the killed
// masters' replicas have taken over), and returns the time it first saw
// that. Right after a kill the survivors still report ok with the dead
// master in place; that does not count.
func (c *ReplicatedCluster) WaitFailover(t testing.TB, timeout time.Duration) time.Time {
	t.Helper()
	live := c.live()
	c.mu.Lock()
	killed := slices.Collect(maps.Keys(c.killed))
	c.mu.Unlock()
	clients := make([]*redis.Client, len(live))
	for i, a := range live {
		clients[i] = nodeClient(a)
		defer clients[i].Close()
	}
	deadline := time.Now().Add(timeout)
	var why string
	for {
		why = ""
		for i, n := range clients {
			if w := failedOver(n, killed); w != "" {
				why = live[i] + ": " + w
				break
			}
		}
		if why == "" {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: no failover in %v: %s", timeout, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failedOver returns why n does not yet report a cluster whose slots are
// all served by masters not in killed, or "".
func failedOver(n *redis.Client, killed []string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := n.ClusterInfo(ctx).Result()
	if err != nil {
		return err.Error()
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return "cluster_state is not ok"
	}
	slots, err := n.ClusterSlots(ctx).Result()
	if err != nil {
		return err.Error()
	}
	covered := 0
	for _, s := range slots {
		if len(s.Nodes) == 0 || slices.Contains(killed, s.Nodes[0].Addr) {
			return fmt.Sprintf("slots %d-%d are still served by a killed master", s.Start, s.End)
		}
		covered += s.End - s.Start + 1
	}
	if covered != 16384 {
		return fmt.Sprintf("%d slots are served, not 16384", covered)
	}
	return ""
}

// nodeClient is a client of one cluster node (no redirects followed).
func nodeClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true, MaxRetries: -1, DialTimeout: time.Second})
}

func (c *ReplicatedCluster) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		n.stop()
	}
	c.nodes = nil
}
