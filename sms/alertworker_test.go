package sms

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ratelimit"
)

// fakeSender records what it is asked to send; fail, if set, decides each
// send's error.
type fakeSender struct {
	mu   sync.Mutex
	sent []struct{ to, text string }
	fail func(n int) error
}

func (f *fakeSender) Send(_ context.Context, to, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(len(f.sent)); err != nil {
			return err
		}
	}
	f.sent = append(f.sent, struct{ to, text string }{to, text})
	return nil
}

// alertEnv is a service with alerts on and a worker over the same store.
func alertEnv(t *testing.T, rc ratelimit.Config) (*env, *AlertWorker, *fakeSender, *time.Time) {
	e := newEnv(t, rc, withAlerts)
	f := &fakeSender{}
	// Alerts are queued due at the real time: the worker's clock starts at
	// the next day's 12:00 UTC (17:00 in Pakistan, outside quiet hours),
	// after every alert the test queues.
	now := time.Now().UTC().Truncate(24 * time.Hour).Add(36 * time.Hour)
	w := &AlertWorker{Store: e.cfg.Alerts, Listings: e.store, Sealer: e.cfg.Sealer, Sender: f, Gateway: "kannel",
		Limiter: e.limiter, SiteURL: testSite, Now: func() time.Time { return now }, Log: e.cfg.Log}
	return e, w, f, &now
}

// ingestMatched ingests ids into l and matches them, as ingest does.
func (e *env) ingestMatched(l *khabardar.Listing, ids ...identifier.ID) int {
	e.t.Helper()
	e.ingest(l, ids...)
	var batch []khabardar.Exposure
	for _, id := range ids {
		x, _ := testKey.Exposure(id, e.cfg.Layout)
		batch = append(batch, x)
	}
	n, err := e.cfg.Alerts.MatchWatches(context.Background(), l.ID, batch)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAlertWorker: a subscriber's CNIC appears in a new listing; one alert
// goes to their number, in their language, naming the kind and a category,
// never the CNIC; a second ingest of the listing sends nothing more.
func TestAlertWorker(t *testing.T) {
	e, w, f, _ := alertEnv(t, generous)
	const from = "+923001234567"
	e.mustSend(from, "ALERT "+testCNIC)
	cnic := mustParse(t, identifier.CNIC, testCNIC)
	if n := e.ingestMatched(listing("shop", "cdr", "location"), cnic); n != 1 {
		t.Fatalf("queued %d alerts, want 1", n)
	}
	p, err := w.RunOnce(context.Background())
	if err != nil || p != (Pass{Sent: 1}) || len(f.sent) != 1 {
		t.Fatalf("RunOnce: %+v %v, sent %d", p, err, len(f.sent))
	}
	got := f.sent[0]
	want := AlertText(khabardar.LangEnglish, identifier.CNIC, []string{"cdr", "location"}, testSite).Text
	if got.to != from || got.text != want {
		t.Errorf("sent %q to %q, want %q to %q", got.text, got.to, want, from)
	}
	if strings.Contains(got.text, "3520212345671") || strings.Contains(got.text, "1234567") {
		t.Error("the alert names the identifier")
	}
	if n := e.ingestMatched(listing("shop", "cdr"), cnic); n != 0 {
		t.Errorf("a re-ingest queued %d alerts", n)
	}
	if p, _ := w.RunOnce(context.Background()); p != (Pass{}) {
		t.Errorf("a second pass: %+v", p)
	}
	if strings.Contains(e.logs.String(), "1234567") {
		t.Error("a number in the logs")
	}
}

// TestAlertWorkerOutcomes: what a pass does with each kind of trouble.
func TestAlertWorkerOutcomes(t *testing.T) {
	cnic := mustParse(t, identifier.CNIC, testCNIC)
	retry := &SendError{Retryable: true}
	retry.err = khabardar.Errorf(khabardar.EUNAVAILABLE, "kannel could not be reached")
	perm := &SendError{}
	perm.err = khabardar.Errorf(khabardar.EINVALID, "the gateway refused the number")
	tests := []struct {
		name  string
		setup func(e *env, w *AlertWorker, f *fakeSender, now *time.Time)
		want  Pass
		left  int64 // alerts still queued after the pass
		sends int
	}{
		{"fabricated listing", func(e *env, w *AlertWorker, f *fakeSender, now *time.Time) {
			l := listing("fake", "cdr")
			l.Fabricated = true
			if err := e.store.PutListing(context.Background(), l); err != nil {
				t.Fatal(err)
			}
		}, Pass{Dropped: 1}, 0, 0},
		{"gateway down", func(e *env, w *AlertWorker, f *fakeSender, now *time.Time) {
			f.fail = func(int) error { return retry }
		}, Pass{Retried: 1}, 1, 0},
		{"number refused", func(e *env, w *AlertWorker, f *fakeSender, now *time.Time) {
			f.fail = func(int) error { return perm }
		}, Pass{Dropped: 1}, 0, 0},
		{"quiet hours", func(e *env, w *AlertWorker, f *fakeSender, now *time.Time) {
			w.Quiet = func(t time.Time) time.Time { return t.Add(time.Hour) }
		}, Pass{}, 1, 0},
		{"stopped before sending", func(e *env, w *AlertWorker, f *fakeSender, now *time.Time) {
			e.mustSend("+923001234567", "STOP")
		}, Pass{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, w, f, now := alertEnv(t, generous)
			e.mustSend("+923001234567", "ALERT "+testCNIC)
			l := listing("fake", "cdr")
			e.ingestMatched(l, cnic)
			tt.setup(e, w, f, now)
			p, err := w.RunOnce(context.Background())
			if err != nil || p != tt.want {
				t.Fatalf("RunOnce: %+v, %v; want %+v", p, err, tt.want)
			}
			if st, _ := e.cfg.Alerts.AlertStats(context.Background()); st.Queued != tt.left {
				t.Errorf("%d queued after the pass, want %d", st.Queued, tt.left)
			}
			if len(f.sent) != tt.sends {
				t.Errorf("%d sent", len(f.sent))
			}
		})
	}
}

// TestAlertWorkerRetries: a failed alert waits for its backoff, is sent
// when the gateway is back, and one that never goes through is dropped
// after MaxAttempts.
func TestAlertWorkerRetries(t *testing.T) {
	e, w, f, now := alertEnv(t, generous)
	w.MaxAttempts = 3
	e.mustSend("+923001234567", "ALERT "+testCNIC)
	e.ingestMatched(listing("shop", "cdr"), mustParse(t, identifier.CNIC, testCNIC))
	down := &SendError{Retryable: true}
	down.err = khabardar.Errorf(khabardar.EUNAVAILABLE, "down")
	f.fail = func(int) error { return down }
	ctx := context.Background()
	for i, want := range []Pass{{Retried: 1}, {}, {Retried: 1}, {Dropped: 1}} {
		p, err := w.RunOnce(ctx)
		if err != nil || p != want {
			t.Fatalf("pass %d: %+v %v, want %+v", i, p, err, want)
		}
		if i == 0 {
			*now = now.Add(30 * time.Second) // within the first backoff: nothing due
		} else {
			*now = now.Add(time.Hour)
		}
	}
	if !errors.Is(down, ErrRetryable) {
		t.Fatal("the test's error is not retryable")
	}
}

// TestAlertWorkerRate: the send rate holds what is over it, leased, for a
// later pass.
func TestAlertWorkerRate(t *testing.T) {
	e, w, f, now := alertEnv(t, ratelimit.Config{SMSSender: "1000-H", SMSGateway: "1000-H", AlertSend: "1-H"})
	ctx := context.Background()
	for _, from := range []string{"+923001234567", "+923217654321"} {
		e.mustSend(from, "ALERT "+testCNIC)
	}
	e.ingestMatched(listing("shop", "cdr"), mustParse(t, identifier.CNIC, testCNIC))
	if p, err := w.RunOnce(ctx); err != nil || p != (Pass{Sent: 1, Held: 1}) {
		t.Fatalf("RunOnce: %+v %v", p, err)
	}
	if st, _ := e.cfg.Alerts.AlertStats(ctx); st.Queued != 1 || len(f.sent) != 1 {
		t.Errorf("held alert not kept: %d queued, %d sent", st.Queued, len(f.sent))
	}
	// Leased to this worker for w.Lease: not claimed again before then.
	*now = now.Add(w.Lease / 2)
	if p, err := w.RunOnce(ctx); err != nil || p != (Pass{}) {
		t.Errorf("within the lease: %+v %v", p, err)
	}
}
