//go:build unix

package redistest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestReplicatedCluster kills the master of a key: its replica takes over
// with the key, and WaitFailover sees it.
func TestReplicatedCluster(t *testing.T) {
	rc := NewReplicatedCluster(t)
	c, err := client(rc.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for i := range 100 {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	rc.WaitReplicated(t)
	victim := rc.MasterOf(t, "k0")
	killed := time.Now()
	rc.Kill(t, victim)
	ok := rc.WaitFailover(t, 30*time.Second)
	t.Logf("SIGKILL to cluster_state:ok with the replica promoted: %v", ok.Sub(killed).Round(time.Millisecond))
	if m := rc.MasterOf(t, "k0"); m == victim {
		t.Fatalf("k0 is still served by the killed %s", m)
	}
	c2, err := client(rc.URL()) // a new client: the old one's slot map is the redisurl tests' business
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if d := Dump(t, rc.URL()); len(d) != 100 {
		t.Errorf("%d keys after the failover, want 100", len(d))
	}
	if v, err := c2.Get(ctx, "k0").Result(); err != nil || v != "v" {
		t.Errorf("k0 after the failover: %q %v", v, err)
	}
}
