package boltstore

import (
	"bytes"
	"context"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/khabardar/khabardar/storetest"
)

// TestUnsubscribeLeavesNoKey: after Unsubscribe no key or value of any
// bucket holds the subscriber's ID or sealed number. (Pages bbolt freed
// may keep old bytes until reused; Close's compaction drops them.)
func TestUnsubscribeLeavesNoKey(t *testing.T) {
	s := openInit(t, t.TempDir())
	ctx := context.Background()
	gone := storetest.SubscribeToRemove(t, s)
	holds := func() int {
		n := 0
		s.view(ctx, "scan", func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				return b.ForEach(func(k, v []byte) error {
					for _, needle := range [][]byte{[]byte(gone.ID), gone.Sealed} {
						if bytes.Contains(k, needle) || bytes.Contains(v, needle) {
							n++
						}
					}
					return nil
				})
			})
		})
		return n
	}
	if holds() < 5 {
		t.Fatal("self-check: the store does not hold the subscriber before Unsubscribe")
	}
	if ok, err := s.Unsubscribe(ctx, gone.ID); err != nil || !ok {
		t.Fatalf("Unsubscribe: %v %v", ok, err)
	}
	if n := holds(); n != 0 {
		t.Errorf("%d keys or values still hold the removed subscriber", n)
	}
}
