package storetest

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// testAlerts is the AlertStore contract: watches capped and never doubled,
// one alert per subscriber and listing ever, leases, retries, and a
// subscriber removed leaving nothing that answers for them.
func testAlerts(t *testing.T, s khabardar.Store) {
	as, ok := s.(khabardar.AlertStore)
	if !ok {
		t.Skipf("%T does not keep alerts", s)
	}
	ctx := context.Background()
	alice := khabardar.Subscriber{ID: SenderHash(1), Sealed: []byte("sealed-number-1"), Lang: khabardar.LangUrdu}
	bob := khabardar.Subscriber{ID: SenderHash(2), Sealed: []byte("sealed-number-2"), Lang: khabardar.LangEnglish}
	cnic, phone := Exposure("a1b2", 1, identifier.CNIC), Exposure("a1b2", 2, identifier.Phone)
	watch := func(e khabardar.Exposure) khabardar.Watch {
		return khabardar.Watch{Prefix: e.Prefix, Suffix: e.Suffix, Kind: e.Kind}
	}

	t.Run("invalid", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			sub  khabardar.Subscriber
			w    khabardar.Watch
			max  int
		}{
			{"raw number as ID", khabardar.Subscriber{ID: "+923001234567", Sealed: []byte("x"), Lang: "en"}, watch(cnic), 5},
			{"no sealed number", khabardar.Subscriber{ID: SenderHash(9), Lang: "en"}, watch(cnic), 5},
			{"bad language", khabardar.Subscriber{ID: SenderHash(9), Sealed: []byte("x"), Lang: "fr"}, watch(cnic), 5},
			{"bad prefix", alice, khabardar.Watch{Prefix: "A1", Suffix: cnic.Suffix, Kind: identifier.CNIC}, 5},
			{"no cap", alice, watch(cnic), 0},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := as.Watch(ctx, tt.sub, tt.w, tt.max)
				wantCode(t, "Watch", err, khabardar.EINVALID)
			})
		}
		_, err := as.Unsubscribe(ctx, "0300-1234567")
		wantCode(t, "Unsubscribe of a raw number", err, khabardar.EINVALID)
	})

	t.Run("watch, cap and stats", func(t *testing.T) {
		for i, e := range []khabardar.Exposure{cnic, phone, cnic} { // the CNIC twice: counted once
			n, err := as.Watch(ctx, alice, watch(e), 2)
			if err != nil || n != min(i+1, 2) {
				t.Fatalf("Watch #%d: %d, %v", i, n, err)
			}
		}
		_, err := as.Watch(ctx, alice, watch(Exposure("c3d4", 3, identifier.IMEI)), 2)
		wantCode(t, "a third watch over a cap of 2", err, khabardar.ECONFLICT)
		got, n, err := as.Subscriber(ctx, alice.ID)
		if err != nil || n != 2 || string(got.Sealed) != string(alice.Sealed) || got.Lang != alice.Lang {
			t.Fatalf("Subscriber: %+v %d %v", got, n, err)
		}
		if _, err := as.Watch(ctx, bob, watch(cnic), 5); err != nil {
			t.Fatal(err)
		}
		st, err := as.AlertStats(ctx)
		if err != nil || st != (khabardar.AlertStats{Subscribers: 2, Watches: 3}) {
			t.Fatalf("AlertStats: %+v %v", st, err)
		}
	})

	t.Run("match once per subscriber and listing", func(t *testing.T) {
		other := Exposure("ffff", 7, identifier.CNIC)
		n, err := as.MatchWatches(ctx, "shop", []khabardar.Exposure{other, cnic, phone})
		if err != nil || n != 2 { // alice once (two of hers), bob once
			t.Fatalf("MatchWatches: %d, %v; want 2", n, err)
		}
		for _, again := range [][]khabardar.Exposure{{cnic}, {phone, cnic}} {
			if n, err := as.MatchWatches(ctx, "shop", again); err != nil || n != 0 {
				t.Fatalf("MatchWatches of the same listing again: %d, %v; want 0", n, err)
			}
		}
		if n, err := as.MatchWatches(ctx, "group", []khabardar.Exposure{phone}); err != nil || n != 1 {
			t.Fatalf("MatchWatches of another listing: %d, %v; want 1 (alice)", n, err)
		}
		if n, err := as.MatchWatches(ctx, "group", []khabardar.Exposure{other}); err != nil || n != 0 {
			t.Fatalf("MatchWatches of nobody's exposure: %d, %v", n, err)
		}
	})

	now := time.Now().Truncate(time.Millisecond)
	t.Run("claim, lease, retry, sent", func(t *testing.T) {
		got, err := as.ClaimAlerts(ctx, now, time.Minute, 10)
		if err != nil || len(got) != 3 {
			t.Fatalf("ClaimAlerts: %d, %v; want 3", len(got), err)
		}
		var seen []string
		for _, a := range got {
			seen = append(seen, a.Subscriber+":"+a.Listing)
		}
		sort.Strings(seen)
		want := []string{alice.ID + ":group", alice.ID + ":shop", bob.ID + ":shop"}
		sort.Strings(want)
		if !slices.Equal(seen, want) {
			t.Fatalf("claimed %v, want %v", seen, want)
		}
		if again, err := as.ClaimAlerts(ctx, now.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
			t.Fatalf("a claim within the lease: %d, %v; want none", len(again), err)
		}
		if err := as.AlertSent(ctx, got[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := as.RetryAlert(ctx, got[1].ID, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		later, err := as.ClaimAlerts(ctx, now.Add(2*time.Minute), time.Minute, 10)
		if err != nil || len(later) != 1 || later[0].ID != got[2].ID {
			t.Fatalf("after the lease: %+v, %v; want the third alert alone", later, err)
		}
		retried, err := as.ClaimAlerts(ctx, now.Add(11*time.Minute), time.Minute, 10)
		if err != nil || len(retried) != 2 {
			t.Fatalf("after the retry's hold: %d, %v; want 2", len(retried), err)
		}
		for _, a := range retried {
			if a.ID == got[1].ID && a.Attempts != 1 {
				t.Errorf("the retried alert has %d attempts, want 1", a.Attempts)
			}
		}
		for _, id := range []string{got[0].ID, "999999"} {
			if err := as.AlertSent(ctx, id); err != nil {
				t.Errorf("AlertSent of a sent or unknown alert: %v", err)
			}
		}
		if st, _ := as.AlertStats(ctx); st.Queued != 2 {
			t.Errorf("queued %d, want 2", st.Queued)
		}
	})

	t.Run("unsubscribe leaves nothing", func(t *testing.T) {
		ps, hasPrefs := s.(khabardar.PrefStore)
		if hasPrefs {
			if err := ps.SetSMSLanguage(ctx, alice.ID, khabardar.LangUrdu, khabardar.SMSPrefRetention); err != nil {
				t.Fatal(err)
			}
		}
		ok, err := as.Unsubscribe(ctx, alice.ID)
		if err != nil || !ok {
			t.Fatalf("Unsubscribe: %v, %v", ok, err)
		}
		if _, _, err := as.Subscriber(ctx, alice.ID); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
			t.Errorf("Subscriber after Unsubscribe: %v", err)
		}
		if ok, err := as.Unsubscribe(ctx, alice.ID); err != nil || ok {
			t.Errorf("a second Unsubscribe: %v, %v", ok, err)
		}
		if hasPrefs {
			if _, err := ps.SMSLanguage(ctx, alice.ID, khabardar.SMSPrefRetention); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
				t.Errorf("the SMS language outlived STOP: %v", err)
			}
		}
		// Her alerts are gone from the outbox, her watches match nothing,
		// and a new listing alerts bob alone.
		left, err := as.ClaimAlerts(ctx, now.Add(time.Hour), time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range left {
			if a.Subscriber == alice.ID {
				t.Errorf("an alert for alice is still queued")
			}
		}
		if n, err := as.MatchWatches(ctx, "new", []khabardar.Exposure{cnic, phone}); err != nil || n != 1 {
			t.Errorf("MatchWatches after alice left: %d, %v; want 1 (bob)", n, err)
		}
		st, err := as.AlertStats(ctx)
		if err != nil || st.Subscribers != 1 || st.Watches != 1 {
			t.Errorf("AlertStats: %+v, %v; want bob and his watch alone", st, err)
		}
		// Subscribing again starts afresh: the listings she was told of
		// before are forgotten with her.
		if _, err := as.Watch(ctx, alice, watch(cnic), 5); err != nil {
			t.Fatal(err)
		}
		if n, err := as.MatchWatches(ctx, "shop", []khabardar.Exposure{cnic}); err != nil || n != 1 {
			t.Errorf("MatchWatches for alice back: %d, %v; want 1", n, err)
		}
	})

	t.Run("concurrent matches queue once", func(t *testing.T) {
		carol := khabardar.Subscriber{ID: SenderHash(3), Sealed: []byte("sealed-3"), Lang: "en"}
		e := Exposure("0c0c", 33, identifier.IMEI)
		if _, err := as.Watch(ctx, carol, watch(e), 5); err != nil {
			t.Fatal(err)
		}
		total := make(chan int, 8)
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				n, err := as.MatchWatches(ctx, "race", []khabardar.Exposure{e})
				total <- n
				errs <- err
			}()
		}
		sum := 0
		for range 8 {
			sum += <-total
			if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
				t.Error(err)
			}
		}
		if sum != 1 {
			t.Errorf("8 concurrent matches queued %d alerts, want 1", sum)
		}
	})
}

// testAlertCodes: a code matches once, counts failed attempts up to a cap,
// and expires.
func testAlertCodes(t *testing.T, s khabardar.Store) {
	as, ok := s.(khabardar.AlertStore)
	if !ok {
		t.Skipf("%T does not keep alerts", s)
	}
	ctx := context.Background()
	id := SenderHash(40)
	now := time.Now()
	good, bad := []byte("digest-of-123456"), []byte("digest-of-654321")
	if _, err := as.CheckAlertCode(ctx, id, good, now, 5); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
		t.Fatalf("no code yet: %v", err)
	}
	if err := as.PutAlertCode(ctx, id, good, now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if ok, err := as.CheckAlertCode(ctx, id, bad, now, 5); err != nil || ok {
			t.Fatalf("wrong code #%d: %v %v", i, ok, err)
		}
	}
	if ok, err := as.CheckAlertCode(ctx, id, good, now, 5); err != nil || !ok {
		t.Fatalf("right code: %v %v", ok, err)
	}
	if _, err := as.CheckAlertCode(ctx, id, good, now, 5); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
		t.Errorf("a code used twice: %v", err)
	}
	// Five wrong guesses use it up, the right one included after.
	if err := as.PutAlertCode(ctx, id, good, now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		as.CheckAlertCode(ctx, id, bad, now, 5)
	}
	if _, err := as.CheckAlertCode(ctx, id, good, now, 5); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
		t.Errorf("the right code after 5 wrong ones: %v", err)
	}
	// An expired code is gone.
	if err := as.PutAlertCode(ctx, id, good, now.Add(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := as.CheckAlertCode(ctx, id, good, time.Now(), 5); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
		t.Errorf("an expired code: %v", err)
	}
	wantCode(t, "a code for a raw number", as.PutAlertCode(ctx, "03001234567", good, now.Add(time.Minute)), khabardar.EINVALID)
}

// SubscribeToRemove gives as two subscribers with watches and queued
// alerts, and returns the one a test will remove: its ID and sealed number
// are what a scan of the store must not find after Unsubscribe.
func SubscribeToRemove(t *testing.T, as khabardar.AlertStore) khabardar.Subscriber {
	t.Helper()
	ctx := context.Background()
	gone := khabardar.Subscriber{ID: SenderHash(7), Sealed: []byte("SEALED-SENTINEL-7"), Lang: "ur"}
	stays := khabardar.Subscriber{ID: SenderHash(8), Sealed: []byte("sealed-8"), Lang: "en"}
	var es []khabardar.Exposure
	for i, k := range identifier.Kinds {
		e := Exposure("beef", 100+i, k)
		es = append(es, e)
		if _, err := as.Watch(ctx, gone, khabardar.Watch{Prefix: e.Prefix, Suffix: e.Suffix, Kind: e.Kind}, 5); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := as.Watch(ctx, stays, khabardar.Watch{Prefix: es[0].Prefix, Suffix: es[0].Suffix, Kind: es[0].Kind}, 5); err != nil {
		t.Fatal(err)
	}
	if n, err := as.MatchWatches(ctx, "shop", es); err != nil || n != 2 {
		t.Fatalf("MatchWatches: %d %v", n, err)
	}
	if err := as.PutAlertCode(ctx, gone.ID, []byte("a-code-digest"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	return gone
}
