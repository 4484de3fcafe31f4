package hashing

import (
	"runtime"
	"sync"
	"time"
)

// Baseline measures the direct evaluation ingest uses (Key.Hash: H(x), k·H(x)
// and the finalize hash, nothing else) on GOMAXPROCS goroutines for n
// evaluations and returns evaluations per second: the raw limit that
// ingest's throughput is compared with, in the same run.
func Baseline(n int) float64 {
	k, err := GenerateKey()
	if err != nil {
		panic(err)
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			in := []byte("phone:+923001234567")
			for i := w; i < n; i += workers {
				in[len(in)-1] = byte('0' + i%10)
				if _, err := k.hashBytes(in); err != nil {
					panic(err)
				}
			}
		}(w)
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}
