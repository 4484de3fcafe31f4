package redisurl

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
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
		var retries, dials int
		switch c := c.(type) {
		case *redis.Client:
			dial, retries, dials = c.Options().ReadTimeout, c.Options().MaxRetries, c.Options().DialerRetries
		case *redis.ClusterClient:
			dial, retries, dials = c.Options().ReadTimeout, c.Options().MaxRetries, c.Options().DialerRetries
		}
		c.Close()
		if dial != FailFast || retries != 1 || dials != 1 {
			t.Errorf("%s: read timeout %v, retries %d, dials per attempt %d", u, dial, retries, dials)
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

func TestConnError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"a nil reply", redis.Nil, false},
		{"an error reply", redis.ErrNoScript, false},
		{"a wrapped error reply", fmt.Errorf("op: %w", redis.ErrCrossSlot), false},
		{"the caller gave up", context.Canceled, false},
		{"the client is closed", redis.ErrClosed, false},
		{"a refused dial", refused, true},
		{"a wrapped refused dial", fmt.Errorf("op: %w", refused), true},
		{"a reset connection", io.EOF, true},
		{"a dial or read deadline", context.DeadlineExceeded, true},
		{"every connection busy", redis.ErrPoolTimeout, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := connError(tt.err); got != tt.want {
				t.Errorf("connError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
