//go:build unix

package main

import (
	"runtime"
	"testing"
)

// TestConnCap: --max-conns, or the fd limit less what the rest of the
// process needs (more with Redis's connection pools, more with a cluster).
func TestConnCap(t *testing.T) {
	limit, ok := fdLimit()
	if !ok || limit < 4096 {
		t.Fatalf("fd limit %d", limit)
	}
	pools := 2 * 10 * runtime.GOMAXPROCS(0)
	for _, tt := range []struct {
		name string
		cfg  Config
		want int
	}{
		{"set", Config{MaxConns: 5000}, 5000},
		{"embedded", Config{}, int(limit) - 64},
		{"redis", Config{RedisURL: "redis://127.0.0.1:6379/0"}, int(limit) - 64 - pools},
		{"cluster", Config{RedisURL: "redis-cluster://127.0.0.1:7000"}, int(limit) - 64 - 3*pools},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, l := tt.cfg.connCap(); got != tt.want || l != limit {
				t.Errorf("connCap %d (limit %d), want %d", got, l, tt.want)
			}
		})
	}
}
