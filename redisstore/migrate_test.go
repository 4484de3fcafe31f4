package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/record"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/internal/redisurl"
	"github.com/khabardar/khabardar/storetest"
)

// eachMaster runs f on the one server, or on every master of a cluster.
func eachMaster(t *testing.T, c redis.UniversalClient, f func(ctx context.Context, m redis.Cmdable) error) {
	t.Helper()
	ctx := context.Background()
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return f(ctx, m) })
	} else {
		err = f(ctx, c)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testMigrate upgrades a format 1 store, stopped after its first SCAN page
// and resumed: every bucket and count is as before, and no marker remains.
func testMigrate(t *testing.T, u string) {
	ctx := context.Background()
	s, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Init(ctx, storetest.Layout); err != nil {
		t.Fatal(err)
	}
	want := storetest.FillForMigration(t, s)
	storetest.DowngradeRedis(t, u)

	err = s.Init(ctx, storetest.Layout)
	wantCode(t, "Init on a format 1 store", err, khabardar.EMIGRATE)
	if !strings.Contains(err.Error(), "khabardar migrate") {
		t.Errorf("the error does not say what to run: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	_, err = s.Migrate(cctx, func(done, total int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted migration: %v, want context.Canceled", err)
	}
	wantCode(t, "Init half-way through", s.Init(ctx, storetest.Layout), khabardar.EMIGRATE)

	from, err := s.Migrate(ctx, nil)
	if err != nil || from != 1 {
		t.Fatalf("resumed migration: from %d, %v", from, err)
	}
	if err := s.Init(ctx, storetest.Layout); err != nil {
		t.Fatalf("Init after migration: %v", err)
	}
	storetest.CheckMigrated(t, s, want)
	c, _ := redisurl.Client(u, false)
	defer c.Close()
	eachMaster(t, c, func(ctx context.Context, m redis.Cmdable) error {
		if keys, _, err := m.Scan(ctx, 0, markerMatch, 1000).Result(); err != nil || len(keys) > 0 {
			t.Errorf("markers left after the migration: %d, %v", len(keys), err)
		}
		return nil
	})
	if n, _ := c.Exists(ctx, keyMigrating).Result(); n != 0 {
		t.Error("the migrating key is left")
	}
	if from, err := s.Migrate(ctx, nil); from != record.Format || err != nil {
		t.Errorf("a second migration: from %d, %v; want nothing to do", from, err)
	}
}

func TestMigrate(t *testing.T) { testMigrate(t, redistest.URL(t)) }

func TestMigrateCluster(t *testing.T) {
	u := redistest.ClusterURL(t)
	flushCluster(t, u)
	testMigrate(t, u)
}

// TestNewerFormatRefused: a store written by a newer khabardar is refused,
// by Init and by Migrate, with advice to upgrade, and left as it is.
func TestNewerFormatRefused(t *testing.T) {
	s, u := open(t)
	ctx := context.Background()
	c := rawClient(t, u)
	if err := c.Set(ctx, keyFormat, "99", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := s.Init(ctx, storetest.Layout)
	wantCode(t, "Init", err, khabardar.EINVALID)
	if !strings.Contains(err.Error(), "newer khabardar") {
		t.Errorf("error %v does not say the store is newer", err)
	}
	_, err = s.Migrate(ctx, nil)
	wantCode(t, "Migrate", err, khabardar.EINVALID)
	if v, _ := c.Get(ctx, keyFormat).Result(); v != "99" {
		t.Errorf("the format became %q", v)
	}
}
