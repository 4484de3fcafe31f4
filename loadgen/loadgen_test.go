package loadgen

import (
	"testing"
	"time"

	"github.com/khabardar/khabardar"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name          string
		ds            []time.Duration
		p50, p95, p99 time.Duration
	}{
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"two", ms(1, 9), 1 * time.Millisecond, 9 * time.Millisecond, 9 * time.Millisecond},
		{"1 to 100", ms(hundred...), 50 * time.Millisecond, 95 * time.Millisecond, 99 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := summarize(tt.ds, time.Second)
			if op.P50 != tt.p50 || op.P95 != tt.p95 || op.P99 != tt.p99 || op.Count != len(tt.ds) {
				t.Errorf("p50 %v p95 %v p99 %v count %d", op.P50, op.P95, op.P99, op.Count)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{Targets: []string{"http://127.0.0.1:8080/"}}, true},
		{"no target", Config{}, false},
		{"not http", Config{Targets: []string{"ftp://x"}}, false},
		{"negative checks", Config{Targets: []string{"http://x"}, Checks: -1}, false},
		{"batch over 1000", Config{Targets: []string{"http://x"}, Batch: 1001}, false},
		{"concurrency too high", Config{Targets: []string{"http://x"}, Concurrency: 5000}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("err %v", err)
			}
			if err != nil && khabardar.ErrorCode(err) != khabardar.EINVALID {
				t.Errorf("code %s", khabardar.ErrorCode(err))
			}
			if tt.ok && (tt.cfg.Concurrency != DefaultConcurrency || tt.cfg.Targets[0] != "http://127.0.0.1:8080") {
				t.Errorf("defaults not filled: %+v", tt.cfg)
			}
		})
	}
}
