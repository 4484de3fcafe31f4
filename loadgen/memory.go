package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// sampleMemory reads the resident set size of each PID every interval until
// ctx ends, the first sample at once. Without PIDs it returns nothing.
func sampleMemory(ctx context.Context, pids []int, every time.Duration, start time.Time) []Sample {
	if len(pids) == 0 {
		<-ctx.Done()
		return nil
	}
	var out []Sample
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		s := Sample{At: time.Since(start), RSS: map[int]int64{}}
		for _, pid := range pids {
			if rss, err := RSS(pid); err == nil {
				s.RSS[pid] = rss
			}
		}
		out = append(out, s)
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
	}
}

// RSS returns a process's resident set size in bytes, from Linux's
// /proc/PID/status (VmRSS).
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmRSS does not parse", pid)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}
