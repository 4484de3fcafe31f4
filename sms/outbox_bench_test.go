package sms

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/kanneltest"
	"github.com/khabardar/khabardar/ratelimit"
)

// BenchmarkAlertOutbox sends KHABARDAR_BENCH_ALERTS alerts (default 2,000)
// queued in the embedded store through a real Kannel's sendsms on
// loopback (bearerbox, smsbox, fakesmsc), with the send rate out of the
// way, and reports alerts sent per second: store claim, seal open, text,
// HTTP to smsbox and the store's sent mark, one alert after another as
// serve's worker sends them. Run it once:
//
//	go test ./sms -run '^$' -bench AlertOutbox -benchtime 1x
func BenchmarkAlertOutbox(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("KHABARDAR_BENCH_ALERTS")); err == nil && v > 0 {
		n = v
	}
	k := kanneltest.New(b)
	k.Start(kanneltest.Config{GetURL: "http://127.0.0.1:9/unused?from=%p&text=%a", SendUser: "alerts", SendPassword: "pw"})
	e := newEnv(b, ratelimit.Config{SMSSender: "1000000-H", SMSGateway: "1000000-H", AlertSend: "1000000-H", AlertSubscribe: "1000000-D"}, withAlerts)
	ctx := context.Background()
	cnic := mustParse(b, identifier.CNIC, testCNIC)
	for i := range n {
		from := fmt.Sprintf("+92300%07d", 1000000+i)
		if r := e.mustSend(from, "ALERT "+testCNIC); !strings.Contains(r.Text, "CNIC") {
			b.Fatalf("subscribing: %q", r.Text)
		}
	}
	e.ingest(listing("shop", "location"), cnic)
	x, _ := testKey.Exposure(cnic, e.cfg.Layout)
	if q, err := e.cfg.Alerts.MatchWatches(ctx, "shop", []khabardar.Exposure{x}); err != nil || q != n {
		b.Fatalf("queued %d, %v", q, err)
	}
	w := &AlertWorker{Store: e.cfg.Alerts, Listings: e.store, Sealer: e.cfg.Sealer, Gateway: "kannel",
		Sender:  &Kannel{SendURL: k.SendURL(), Username: "alerts", Password: "pw", From: kanneltest.ShortCode},
		Limiter: e.limiter, SiteURL: testSite, Batch: 100}
	b.ResetTimer()
	start := time.Now()
	p, err := w.RunOnce(ctx)
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil || p.Sent != n {
		b.Fatalf("sent %+v, %v", p, err)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "alerts/s")
}
