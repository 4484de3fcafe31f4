package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/adminsock"
	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
)

const alertsLong = `Alerts tell people by SMS when a new listing holds an identifier they
watch. People subscribe by SMS (ALERT, ALERT and a CNIC, ALERT IMEI …) and
stop with STOP; serve sends the alerts by itself after each ingest, through
the outbound gateway (Kannel's sendsms or Twilio) and outside the quiet
hours. What is kept of a subscriber is the keyed hash of their number, the
number sealed under KHABARDAR_ALERTS_SECRET, their language and their
watches as keyed hashes: see docs/sms.md.`

// alertStatser is a store, or the running server's admin socket, that
// counts alerts.
type alertStatser interface {
	AlertStats(ctx context.Context) (khabardar.AlertStats, error)
}

func cmdAlertsStats(fs *pflag.FlagSet, cfg *Config) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"alerts stats takes no arguments"}
		}
		e, err := cfg.adminEnv(ctx, log)
		if err != nil {
			return err
		}
		defer e.store.Close()
		as, ok := e.store.(alertStatser)
		if !ok {
			return errors.New("this store keeps no alerts")
		}
		st, err := as.AlertStats(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, st)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "subscribers:\t%d\n", st.Subscribers)
		fmt.Fprintf(tw, "watches:\t%d\n", st.Watches)
		fmt.Fprintf(tw, "alerts queued:\t%d\n", st.Queued)
		return tw.Flush()
	}
}

func cmdAlertsSend(fs *pflag.FlagSet, cfg *Config) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"alerts send-pending takes no arguments"}
		}
		a, err := cfg.alerts()
		if err != nil {
			return usageError{err.Error()}
		}
		e, err := cfg.adminEnv(ctx, log)
		if err != nil {
			return err
		}
		defer e.store.Close()
		var p sms.Pass
		if cl, ok := e.store.(*adminsock.Client); ok {
			// The serving process holds the store and its own worker.
			err = cl.SendAlerts(ctx, &p)
		} else {
			if a.Sender == nil {
				return fmt.Errorf("alerts are off: %s", a.Off)
			}
			sealer, err := alerts.NewSealer([]byte(cfg.AlertsSecret))
			if err != nil {
				return err
			}
			limits, err := cfg.serveLimits()
			if err != nil {
				return usageError{err.Error()}
			}
			limiter, err := ratelimit.New(limits, e.key.Keyed("ip"))
			if err != nil {
				return err
			}
			w := cfg.alertWorker(e, limiter, a, sealer, log)
			p, err = w.RunOnce(ctx)
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, p)
		}
		fmt.Fprintf(stdout, "sent %d, to retry %d, dropped %d, held by the send rate %d\n", p.Sent, p.Retried, p.Dropped, p.Held)
		return nil
	}
}
