package sms

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/ratelimit"
)

// AlertWorker sends the alerts of the outbox: serve runs one (Run), and
// `khabardar alerts send-pending` runs one pass (RunOnce). Replicas may
// each run one: an alert is leased by the replica that claims it
// (khabardar.AlertStore.ClaimAlerts), so it is sent once, unless a replica
// dies between sending and marking it sent; then the lease runs out and it
// is sent again, once.
type AlertWorker struct {
	Store    khabardar.AlertStore
	Listings khabardar.Store // the listings alerts name
	Sealer   *alerts.Sealer
	Sender   Sender
	// Gateway is the Sender's name, the identity its send rate is counted
	// by (ratelimit.AlertSend): the rate is the operator's bill.
	Gateway string
	Limiter *ratelimit.Limiter
	SiteURL string
	// Quiet reports, for a time, the time sending may resume: the time
	// itself outside quiet hours (internal/quiet.Hours.Next). Nil: never
	// quiet.
	Quiet func(time.Time) time.Time
	// Lease is how long a claimed alert is this worker's (default 2
	// minutes); Batch how many it claims at once (default 50); Poll how
	// often it looks at the outbox when idle (default 10 s); MaxAttempts
	// how many failed sends drop an alert (default 12: about two days of
	// backoff).
	Lease time.Duration
	// Retry is the wait after a first failed send (default a minute),
	// doubling with each failure to six hours at most.
	Retry       time.Duration
	Batch       int
	Poll        time.Duration
	MaxAttempts int
	Log         *slog.Logger
	Now         func() time.Time

	pokeOnce sync.Once
	poke     chan struct{}
}

func (w *AlertWorker) pokes() chan struct{} {
	w.pokeOnce.Do(func() { w.poke = make(chan struct{}, 1) })
	return w.poke
}

// Pass is what one RunOnce did, in counts.
type Pass struct {
	Sent    int `json:"sent"`
	Retried int `json:"retried"` // failed, to be tried again later
	Dropped int `json:"dropped"` // the subscriber or listing is gone, the listing is fabricated, or the gateway refused for good
	Held    int `json:"held"`    // the send rate or quiet hours held them
}

func (w *AlertWorker) defaults() {
	if w.Lease == 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Batch == 0 {
		w.Batch = 50
	}
	if w.Retry == 0 {
		w.Retry = time.Minute
	}
	if w.Poll == 0 {
		w.Poll = 10 * time.Second
	}
	if w.MaxAttempts == 0 {
		w.MaxAttempts = 12
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if w.Now == nil {
		w.Now = time.Now
	}
}

// backoff is the wait after the n-th failed attempt (from 0): first,
// doubling, at most six hours.
func backoff(first time.Duration, n int) time.Duration {
	d := first << min(n, 9)
	return min(d, 6*time.Hour)
}

// Poke asks a running worker to look at the outbox now, as after an
// ingest; it never blocks.
func (w *AlertWorker) Poke() {
	select {
	case w.pokes() <- struct{}{}:
	default:
	}
}

// Run sends alerts until ctx ends: a pass, then a wait of Poll or until
// Poke or the end of quiet hours.
func (w *AlertWorker) Run(ctx context.Context) {
	w.defaults()
	for {
		p, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Warn("alerts: a pass failed", "error_code", khabardar.ErrorCode(err), "error", khabardar.ErrorMessage(err))
		}
		wait := w.Poll
		if p.Held > 0 || err != nil {
			wait = max(wait, time.Second)
		}
		if w.Quiet != nil {
			if next := w.Quiet(w.Now()); next.After(w.Now()) {
				wait = min(max(wait, next.Sub(w.Now())), time.Hour)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.pokes():
		case <-t.C:
		}
		t.Stop()
	}
}

// RunOnce claims and sends what is due, batch after batch, until the
// outbox has nothing due, the send rate refuses, or quiet hours begin.
func (w *AlertWorker) RunOnce(ctx context.Context) (Pass, error) {
	w.defaults()
	var p Pass
	for {
		now := w.Now()
		if w.Quiet != nil && w.Quiet(now).After(now) {
			return p, nil // nothing is claimed in quiet hours: it all waits in the outbox
		}
		batch, err := w.Store.ClaimAlerts(ctx, now, w.Lease, w.Batch)
		if err != nil || len(batch) == 0 {
			return p, err
		}
		for i, a := range batch {
			d, err := w.Limiter.Take(ctx, ratelimit.AlertSend, w.Limiter.Gateway(w.Gateway), 1)
			if err != nil {
				return p, err
			}
			if !d.Allowed {
				// The rest keep their lease and are claimed again when it
				// ends, by this worker or another.
				p.Held += len(batch) - i
				return p, nil
			}
			if err := w.send(ctx, a, &p); err != nil {
				return p, err
			}
		}
	}
}

// send sends one claimed alert and records the outcome in the store.
func (w *AlertWorker) send(ctx context.Context, a khabardar.Alert, p *Pass) error {
	drop := func(why string) error {
		p.Dropped++
		w.Log.Info("alerts: dropped an alert", "why", why)
		return w.Store.AlertSent(ctx, a.ID)
	}
	sub, _, err := w.Store.Subscriber(ctx, a.Subscriber)
	if khabardar.ErrorCode(err) == khabardar.ENOTFOUND {
		return drop("subscriber_gone")
	} else if err != nil {
		return err
	}
	l, err := w.Listings.Listing(ctx, a.Listing)
	if khabardar.ErrorCode(err) == khabardar.ENOTFOUND {
		return drop("listing_gone")
	} else if err != nil {
		return err
	}
	if l.Fabricated {
		return drop("listing_fabricated")
	}
	number, err := w.Sealer.Open(sub.ID, sub.Sealed)
	if err != nil {
		return drop("number_sealed_otherwise") // another alerts secret: it cannot be read
	}
	var categories []string
	for _, c := range l.Categories {
		categories = append(categories, c.Category)
	}
	reply := AlertText(sub.Lang, a.Kind, categories, w.SiteURL)
	to := strings.TrimPrefix(string(number.Canonical()), "phone:")
	err = w.Sender.Send(ctx, to, reply.Text)
	switch {
	case err == nil:
		p.Sent++
		w.Log.Info("alerts: sent", "gateway", w.Gateway, "kind", a.Kind.String(), "lang", sub.Lang)
		return w.Store.AlertSent(ctx, a.ID)
	case errors.Is(err, ErrPermanent) || a.Attempts+1 >= w.MaxAttempts:
		p.Dropped++
		w.Log.Warn("alerts: gave up on an alert", "gateway", w.Gateway, "attempts", a.Attempts+1, "error", khabardar.ErrorMessage(err))
		return w.Store.AlertSent(ctx, a.ID)
	default:
		p.Retried++
		wait := backoff(w.Retry, a.Attempts)
		var se *SendError
		if errors.As(err, &se) && se.RetryAfter > wait {
			wait = se.RetryAfter
		}
		w.Log.Info("alerts: will retry", "gateway", w.Gateway, "attempts", a.Attempts+1, "in", wait.String(), "error", khabardar.ErrorMessage(err))
		return w.Store.RetryAlert(ctx, a.ID, w.Now().Add(wait))
	}
}
