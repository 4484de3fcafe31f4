package redistest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
)

func set(t *testing.T, u, key, val string) {
	t.Helper()
	c, err := client(u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(context.Background(), key, val, 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestIsolation checks that two leases never share keys and that a keyspace
// is empty again once its holder's test has ended.
func TestIsolation(t *testing.T) {
	keep := URL(t) // holds the server up across the subtests
	var first string
	t.Run("first", func(t *testing.T) {
		a, b := URL(t), URL(t)
		if a == b || a == keep || b == keep {
			t.Fatalf("two leases got the same keyspace: %s %s %s", keep, a, b)
		}
		set(t, a, "k", "in-a")
		if d := Dump(t, b); len(d) != 0 {
			t.Fatalf("a key written through one lease shows in another: %q", d)
		}
		if d := Dump(t, keep); len(d) != 0 {
			t.Fatalf("a key written through one lease shows in another: %q", d)
		}
		if d := Dump(t, a); !bytes.Equal(d["k"], []byte("in-a")) {
			t.Fatalf("Dump = %q", d)
		}
		first = a
	})
	// The lease has been returned; its keyspace must be empty for whoever
	// takes it next. (Peeking at it directly is for this test only.)
	if d := Dump(t, first); len(d) != 0 {
		t.Fatalf("a returned keyspace still holds %q", d)
	}
	t.Run("next holder", func(t *testing.T) {
		if d := Dump(t, URL(t)); len(d) != 0 {
			t.Fatalf("a new lease is not empty: %q", d)
		}
	})
}

func TestDumpTypes(t *testing.T) {
	u := URL(t)
	c, err := client(u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	c.Set(ctx, "s", "\x00str", 0)
	c.HSet(ctx, "h", "field", "value")
	c.SAdd(ctx, "set", "member")
	c.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "zmember"})
	c.RPush(ctx, "l", "elem")
	c.XAdd(ctx, &redis.XAddArgs{Stream: "x", Values: []string{"xf", "xv"}})
	d := Dump(t, u)
	for key, want := range map[string]string{"s": "\x00str", "h": "fieldvalue", "set": "member", "z": "zmember", "l": "elem", "x": "xfxv"} {
		if string(d[key]) != want {
			t.Errorf("Dump[%s] = %q, want %q", key, d[key], want)
		}
	}
	if UsedMemory(t, u) <= 0 {
		t.Error("UsedMemory is not positive")
	}
}

// TestClusterURL checks that the cluster answers through a cluster client,
// spreads keys over its masters, and is empty for the next holder.
func TestClusterURL(t *testing.T) {
	for round := range 2 { // the second holder gets an empty cluster
		t.Run(fmt.Sprint("holder ", round+1), func(t *testing.T) { checkCluster(t, round) })
	}
}

func checkCluster(t *testing.T, round int) {
	{
		u := ClusterURL(t)
		c, err := client(u)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		masters := 0
		if err := eachMaster(ctx, c, func(ctx context.Context, m redis.UniversalClient) error {
			masters++
			if n, err := m.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Errorf("round %d: a master holds %d keys (%v) when handed out", round, n, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if masters != clusterMasters {
			t.Fatalf("%d masters", masters)
		}
		for i := range 100 {
			if err := c.Set(ctx, fmt.Sprintf("k%d", i), "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if d := Dump(t, u); len(d) != 100 {
			t.Errorf("Dump sees %d keys, want 100", len(d))
		}
		c.Close()
	}
}

// TestRestartClusterNode: a restarted master rejoins with its keys.
func TestRestartClusterNode(t *testing.T) {
	u := ClusterURL(t)
	c, err := client(u)
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
	RestartClusterNode(t, 0)
	if d := Dump(t, u); len(d) != 100 {
		t.Errorf("%d keys after a node restarted, want 100", len(d))
	}
}
