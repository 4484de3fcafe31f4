package redisstore

import (
	"bytes"
	"context"
	"testing"

	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/storetest"
)

// TestUnsubscribeLeavesNoKey: after Unsubscribe no key, field or value
// holds the subscriber's ID or their sealed number, and the only keys left
// are the other subscriber's and the counters.
func TestUnsubscribeLeavesNoKey(t *testing.T) {
	s, u := open(t)
	ctx := context.Background()
	gone := storetest.SubscribeToRemove(t, s)
	holds := func() int {
		n := 0
		for key, val := range redistest.Dump(t, u) {
			for _, needle := range [][]byte{[]byte(gone.ID), gone.Sealed} {
				if bytes.Contains([]byte(key), needle) || bytes.Contains(val, needle) {
					n++
				}
			}
		}
		return n
	}
	if holds() < 5 { // the scan must be able to fail
		t.Fatal("self-check: the store does not hold the subscriber before Unsubscribe")
	}
	if ok, err := s.Unsubscribe(ctx, gone.ID); err != nil || !ok {
		t.Fatalf("Unsubscribe: %v %v", ok, err)
	}
	if n := holds(); n != 0 {
		t.Errorf("%d keys or values still hold the removed subscriber", n)
	}
}
