package cpuclock

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

// TestSelfAndOf: burning CPU moves both clocks, and they agree within
// /proc's 10 ms resolution.
func TestSelfAndOf(t *testing.T) {
	s0 := Self()
	p0, err := Of(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		sum = sha256.Sum256(sum[:])
	}
	ds := Self() - s0
	p1, err := Of(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	dp := p1 - p0
	if ds <= 0 || dp <= 0 {
		t.Fatalf("no CPU time seen: self %v, /proc %v", ds, dp)
	}
	if d := ds - dp; d > 50*time.Millisecond || d < -50*time.Millisecond {
		t.Fatalf("self %v, /proc %v", ds, dp)
	}
	if _, err := Of(-1); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
