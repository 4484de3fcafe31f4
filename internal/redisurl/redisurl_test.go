package redisurl

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestClusterOptions(t *testing.T) {
	tests := []struct {
		name  string
		url   string
		addrs []string
		user  string
		tls   bool
		err   string
	}{
		{"one seed", "redis-cluster://127.0.0.1:7000", []string{"127.0.0.1:7000"}, "", false, ""},
		{"three seeds", "redis-cluster://a:7000,b:7001,c:7002", []string{"a:7000", "b:7001", "c:7002"}, "", false, ""},
		{"credentials and options", "redis-cluster://u:p%40ss@a:7000,b:7001/?dial_timeout=2s", []string{"a:7000", "b:7001"}, "u", false, ""},
		{"tls", "rediss-cluster://a:7000", []string{"a:7000"}, "", true, ""},
		{"a database", "redis-cluster://a:7000/3", nil, "", false, "only database 0"},
		{"empty seed", "redis-cluster://a:7000,", nil, "", false, "does not parse"},
		{"no host", "redis-cluster://", nil, "", false, "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ClusterOptions(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "p%40ss") || strings.Contains(err.Error(), "p@ss") {
					t.Error("the error quotes the password")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(opt.Addrs, tt.addrs) || opt.Username != tt.user || (opt.TLSConfig != nil) != tt.tls {
				t.Errorf("addrs %v user %q tls %v", opt.Addrs, opt.Username, opt.TLSConfig != nil)
			}
		})
	}
}

func TestClient(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:6379/2", "redis-cluster://127.0.0.1:7000,127.0.0.1:7001"} {
		c, err := Client(u, false)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		c.Close()
	}
	if _, err := Client("redis://u:secret@[bad", false); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a bad URL: %v", err)
	}
}

func TestFailFastDefaults(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:6379/0", "redis-cluster://127.0.0.1:7000"} {
		c, err := Client(u, true)
		if err != nil {
			t.Fatal(err)
		}
		var dial time.Duration
		var retries int
		switch c := c.(type) {
		case *redis.Client:
			dial, retries = c.Options().ReadTimeout, c.Options().MaxRetries
		case *redis.ClusterClient:
			dial, retries = c.Options().ReadTimeout, c.Options().MaxRetries
		}
		c.Close()
		if dial != FailFast || retries != 1 {
			t.Errorf("%s: read timeout %v, retries %d", u, dial, retries)
		}
	}
	if c, _ := Client("redis://127.0.0.1:6379/0", false); c.(*redis.Client).Options().ReadTimeout == FailFast {
		t.Error("a client that need not fail fast does")
	}
	c, _ := Client("redis://127.0.0.1:6379/0?read_timeout=2s&max_retries=5", true)
	defer c.Close()
	if o := c.(*redis.Client).Options(); o.ReadTimeout != 2*time.Second || o.MaxRetries != 5 || o.DialTimeout != FailFast {
		t.Errorf("the URL's own options are not kept: %v %d %v", o.ReadTimeout, o.MaxRetries, o.DialTimeout)
	}
}
