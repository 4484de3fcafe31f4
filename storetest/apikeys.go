package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
)

// NewAPIKey returns a valid API key with the given ID whose hash is made
// from secret.
func NewAPIKey(id, secret string) *khabardar.APIKey {
	sum := sha256.Sum256([]byte(secret)) // stands in for the keyed hash
	return &khabardar.APIKey{
		ID:       id,
		Name:     "Holder of " + id,
		Hash:     sum[:],
		Rate:     "10000-H",
		MaxBatch: 1000,
		Created:  time.Date(2025, 10, 1, 12, 30, 45, 123456789, time.UTC),
	}
}

func testAPIKeys(t *testing.T, s khabardar.Store) {
	ctx := context.Background()

	t.Run("empty", func(t *testing.T) {
		ks, err := s.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ks == nil || len(ks) != 0 {
			t.Fatalf("APIKeys of an empty store = %v, want an empty slice", ks)
		}
		_, err = s.APIKeyByHash(ctx, NewAPIKey("x", "nothing").Hash)
		wantCode(t, "APIKeyByHash(unknown)", err, khabardar.ENOTFOUND)
		_, err = s.APIKeyByHash(ctx, nil)
		wantCode(t, "APIKeyByHash(nil)", err, khabardar.ENOTFOUND)
		wantCode(t, "RevokeAPIKey(unknown)", s.RevokeAPIKey(ctx, "ak_absent"), khabardar.ENOTFOUND)
	})

	invalid := []struct {
		name   string
		change func(k *khabardar.APIKey)
	}{
		{"no id", func(k *khabardar.APIKey) { k.ID = "" }},
		{"no name", func(k *khabardar.APIKey) { k.Name = "" }},
		{"no hash", func(k *khabardar.APIKey) { k.Hash = nil }},
		{"no rate", func(k *khabardar.APIKey) { k.Rate = "" }},
		{"zero max batch", func(k *khabardar.APIKey) { k.MaxBatch = 0 }},
		{"negative max batch", func(k *khabardar.APIKey) { k.MaxBatch = -1 }},
		{"no creation time", func(k *khabardar.APIKey) { k.Created = time.Time{} }},
	}
	for _, tt := range invalid {
		t.Run("invalid/"+tt.name, func(t *testing.T) {
			k := NewAPIKey("ak_invalid", "invalid "+tt.name)
			tt.change(k)
			wantCode(t, "PutAPIKey", s.PutAPIKey(ctx, k), khabardar.EINVALID)
		})
	}
	if ks, _ := s.APIKeys(ctx); len(ks) != 0 {
		t.Fatalf("an invalid key was stored: %v", ks)
	}

	// Created out of ID order, to see APIKeys sort.
	keys := []*khabardar.APIKey{NewAPIKey("ak_cccc", "secret c"), NewAPIKey("ak_aaaa", "secret a"), NewAPIKey("ak_bbbb", "secret b")}
	for _, k := range keys {
		if err := s.PutAPIKey(ctx, k); err != nil {
			t.Fatalf("PutAPIKey(%s): %v", k.ID, err)
		}
	}

	t.Run("by hash", func(t *testing.T) {
		for _, want := range keys {
			got, err := s.APIKeyByHash(ctx, want.Hash)
			if err != nil {
				t.Fatalf("APIKeyByHash(%s): %v", want.ID, err)
			}
			sameAPIKey(t, got, want)
		}
		_, err := s.APIKeyByHash(ctx, NewAPIKey("x", "unknown secret").Hash)
		wantCode(t, "APIKeyByHash(unknown)", err, khabardar.ENOTFOUND)
		_, err = s.APIKeyByHash(ctx, keys[0].Hash[:16])
		wantCode(t, "APIKeyByHash(a prefix of a hash)", err, khabardar.ENOTFOUND)
	})

	t.Run("list sorted", func(t *testing.T) {
		got, err := s.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range got {
			ids = append(ids, k.ID)
		}
		if !slices.Equal(ids, []string{"ak_aaaa", "ak_bbbb", "ak_cccc"}) {
			t.Fatalf("APIKeys order %v", ids)
		}
		sameAPIKey(t, got[0], keys[1])
	})

	t.Run("conflict", func(t *testing.T) {
		sameID := NewAPIKey("ak_aaaa", "another secret")
		wantCode(t, "PutAPIKey(same id)", s.PutAPIKey(ctx, sameID), khabardar.ECONFLICT)
		sameHash := NewAPIKey("ak_dddd", "secret a")
		wantCode(t, "PutAPIKey(same hash)", s.PutAPIKey(ctx, sameHash), khabardar.ECONFLICT)
		// Neither half of a refused key was stored.
		if _, err := s.APIKeyByHash(ctx, sameID.Hash); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
			t.Fatalf("the refused key's hash finds a key (%v)", err)
		}
		got, err := s.APIKeyByHash(ctx, keys[1].Hash)
		if err != nil {
			t.Fatal(err)
		}
		sameAPIKey(t, got, keys[1])
		if ks, _ := s.APIKeys(ctx); len(ks) != len(keys) {
			t.Fatalf("%d keys after refused puts, want %d", len(ks), len(keys))
		}
	})

	t.Run("revoke", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		if err := s.RevokeAPIKey(ctx, "ak_bbbb"); err != nil {
			t.Fatal(err)
		}
		got, err := s.APIKeyByHash(ctx, keys[2].Hash)
		if err != nil {
			t.Fatalf("a revoked key must still be found: %v", err)
		}
		if got.Revoked == nil || got.Revoked.Before(before) || got.Revoked.After(time.Now().Add(time.Second)) {
			t.Fatalf("Revoked = %v, want about now", got.Revoked)
		}
		first := *got.Revoked
		// Idempotent: a second revoke succeeds and keeps the first time.
		time.Sleep(10 * time.Millisecond)
		if err := s.RevokeAPIKey(ctx, "ak_bbbb"); err != nil {
			t.Fatalf("second RevokeAPIKey: %v", err)
		}
		ks, err := s.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			switch {
			case k.ID == "ak_bbbb" && (k.Revoked == nil || !k.Revoked.Equal(first)):
				t.Fatalf("after a second revoke Revoked = %v, want %v", k.Revoked, first)
			case k.ID != "ak_bbbb" && k.Revoked != nil:
				t.Fatalf("%s was revoked too", k.ID)
			}
		}
		// Revoking changes nothing else.
		got.Revoked = nil
		sameAPIKey(t, got, keys[2])
	})

	t.Run("concurrent puts", func(t *testing.T) {
		// Replicas creating keys at once: one hash, many IDs. Exactly one wins.
		var wg sync.WaitGroup
		codes := make(chan string, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes <- khabardar.ErrorCode(s.PutAPIKey(ctx, NewAPIKey(fmt.Sprintf("ak_race%02d", i), "raced secret")))
			}()
		}
		wg.Wait()
		close(codes)
		won := 0
		for c := range codes {
			switch c {
			case "":
				won++
			case khabardar.ECONFLICT:
			default:
				t.Fatalf("concurrent PutAPIKey: code %q", c)
			}
		}
		if won != 1 {
			t.Fatalf("%d of 16 concurrent puts of one hash succeeded, want 1", won)
		}
	})
}

// sameAPIKey fails unless got and want agree in every field.
func sameAPIKey(t *testing.T, got, want *khabardar.APIKey) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || !bytes.Equal(got.Hash, want.Hash) || got.Rate != want.Rate ||
		got.MaxBatch != want.MaxBatch || !got.Created.Equal(want.Created) || (got.Revoked == nil) != (want.Revoked == nil) {
		t.Fatalf("api key did not round-trip:\n got %+v\nwant %+v", got, want)
	}
}
