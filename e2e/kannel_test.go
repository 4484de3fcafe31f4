package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/khabardar/khabardar/internal/kanneltest"
	"github.com/khabardar/khabardar/sms"
)

// TestKannelCheck is a citizen's check by SMS through a real Kannel, on each
// store: serve's webhook is the sms-service's get-url, reached through a
// recording proxy, and fakesmsc is the phone. A CNIC in a listing gets the
// found reply; URDU, then the CNIC, the Urdu reply, which Kannel sends as
// UCS-2 (X-Kannel-Coding: 2) and which reaches the phone exactly as serve
// wrote it; an unknown word, the help. A reply lost on the way back to
// Kannel (the proxy answers 503) makes Kannel deliver the message again
// with the same %I, which serve answers with silence: answered once. Neither
// serve's logs nor Kannel's hold any form of the identifiers or numbers.
func TestKannelCheck(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		s := sentinels
		c.addListing("shop")
		c.ingest("shop", c.write("leak.csv", "cnic,mobile\n"+s[0].typed+","+s[1].typed+"\n"))
		const secret = "kannel-webhook-secret"
		c.env = append(c.env, "KHABARDAR_SMS_SECRET="+secret, "KHABARDAR_PUBLIC_URL=https://khabardar.example.pk")
		srv := startServe(t, c)
		p := newReplyProxy(t, srv.base)
		k := kanneltest.Start(t, kanneltest.Config{
			GetURL:  p.URL + "/v1/sms/kannel?secret=" + secret + "&from=%p&text=%a&id=%I",
			Retries: 2,
		})
		phone, other := "03217654321", "03125550199" // sentinels s[1] and s[2], as phones send them
		const wait = 20 * time.Second
		// reply sends text from a phone and returns what reached it, which
		// must be what serve answered.
		reply := func(from, text, coding string) string {
			t.Helper()
			k.SendMO(from, kanneltest.ShortCode, text)
			m := k.MT(wait)
			served := p.last()
			if m.From != kanneltest.ShortCode || m.To != from || m.Coding != coding {
				t.Fatalf("the reply reached the phone from %s to %s as %s, want from %s to %s as %s", m.From, m.To, m.Coding, kanneltest.ShortCode, from, coding)
			}
			if m.Text != served.body || !utf8.ValidString(m.Text) {
				t.Fatalf("the phone got %q, serve answered %q", m.Text, served.body)
			}
			return m.Text
		}

		if got := reply(phone, s[0].typed, "text"); !strings.Contains(got, "this CNIC is in 1 listing") {
			t.Errorf("the CNIC: %q", got)
		}
		if got := reply(phone, "URDU", "ucs-2"); !strings.Contains(got, "اردو") {
			t.Errorf("URDU: %q", got)
		}
		got := reply(phone, asciiDigits(s[0].typed), "ucs-2")
		if !strings.Contains(got, "اشتہار") || p.last().coding != "2" {
			t.Errorf("the CNIC in Urdu: %q (X-Kannel-Coding %q)", got, p.last().coding)
		}
		if n := utf8.RuneCountInString(got); n > 70 {
			t.Errorf("the Urdu reply is %d characters, over one UCS-2 segment", n)
		}
		if got := reply(other, "xyzzy", "text"); !strings.Contains(got, "Send your CNIC") {
			t.Errorf("an unknown word: %q", got)
		}

		// The reply to ME is lost between serve and Kannel; Kannel asks again.
		p.lose.Store(true)
		before := p.count()
		k.SendMO(other, kanneltest.ShortCode, "ME")
		deadline := time.Now().Add(wait)
		for p.count() < before+2 {
			if time.Now().After(deadline) {
				t.Fatal("Kannel did not deliver the message again after a failed request")
			}
			time.Sleep(50 * time.Millisecond)
		}
		first, again := p.at(before), p.at(before+1)
		if first.id == "" || first.id != again.id || first.status != 200 || first.body == "" {
			t.Fatalf("the first delivery: ID %q, serve's status %d, %d bytes; again: ID %q", first.id, first.status, len(first.body), again.id)
		}
		if again.status != 200 || again.body != "" {
			t.Errorf("delivered again, it was answered (%d, %d bytes), want an empty 200", again.status, len(again.body))
		}
		k.NoMT(time.Second)
		if got := reply(other, "HELP", "text"); !strings.Contains(got, "Send your CNIC") {
			t.Errorf("HELP after the lost reply: %q", got)
		}

		scan(t, "serve's logs", []byte(srv.stop(t)))
		scan(t, "Kannel's logs", k.Logs())
	})
}

// TestKannelSend: sms.Kannel's Send through a real Kannel's sendsms
// interface reaches the phone, GSM 7-bit and UCS-2, from the short code;
// the wrong password is a permanent error and smsbox down a retryable one.
func TestKannelSend(t *testing.T) {
	k := kanneltest.Start(t, kanneltest.Config{GetURL: "http://127.0.0.1:9/unused?from=%p&text=%a",
		SendUser: "alerts", SendPassword: "sendsms-password"})
	send := &sms.Kannel{SendURL: k.SendURL(), Username: "alerts", Password: "sendsms-password", From: kanneltest.ShortCode}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tt := range []struct{ text, coding string }{
		{"Khabardar: a new listing holds your CNIC. Send STOP to end alerts.", "text"},
		{"خبردار: آپ کا شناختی کارڈ ایک نئے اشتہار میں ہے۔ STOP", "ucs-2"},
	} {
		if err := send.Send(ctx, "+923001234567", tt.text); err != nil {
			t.Fatalf("Send: %v", err)
		}
		m := k.MT(20 * time.Second)
		if m.From != kanneltest.ShortCode || !strings.HasSuffix(m.To, "923001234567") || m.Coding != tt.coding || m.Text != tt.text {
			t.Errorf("the phone got %+v, want %q as %s", m, tt.text, tt.coding)
		}
	}
	bad := *send
	bad.Password = "wrong"
	if err := bad.Send(ctx, "+923001234567", "hello"); !errors.Is(err, sms.ErrPermanent) {
		t.Errorf("the wrong password: %v, want a permanent error", err)
	}
	k.StopSmsbox()
	if err := send.Send(ctx, "+923001234567", "hello"); !errors.Is(err, sms.ErrRetryable) {
		t.Errorf("smsbox down: %v, want a retryable error", err)
	}
	k.NoMT(500 * time.Millisecond)
}

// replyProxy stands between Kannel and serve, recording each request's
// message ID and serve's answer; with lose set, it forwards the next
// request but answers Kannel 503, as if serve's reply were lost.
type replyProxy struct {
	*httptest.Server
	lose atomic.Bool
	mu   sync.Mutex
	seen []proxied
}

type proxied struct {
	id, body, coding string
	status           int
}

func newReplyProxy(t *testing.T, target string) *replyProxy {
	p := &replyProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, "serve is unreachable", http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		p.mu.Lock()
		p.seen = append(p.seen, proxied{id: r.URL.Query().Get("id"), body: string(body),
			coding: resp.Header.Get("X-Kannel-Coding"), status: resp.StatusCode})
		p.mu.Unlock()
		if p.lose.CompareAndSwap(true, false) {
			http.Error(w, "lost", http.StatusServiceUnavailable)
			return
		}
		for _, h := range []string{"Content-Type", "X-Kannel-Coding"} {
			if v := resp.Header.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *replyProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

func (p *replyProxy) at(i int) proxied {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[i]
}

func (p *replyProxy) last() proxied { return p.at(p.count() - 1) }

// TestKannelAlerts is the alert story through a real Kannel (bearerbox,
// smsbox, fakesmsc as the operator's SMSC), on each store: serve's Kannel
// webhook takes the messages as Kannel's get-url, and its alerts go out
// through Kannel's sendsms. A phone subscribes to a CNIC (the confirmation
// arrives); a second phone chooses Urdu and subscribes its own number (the
// confirmation arrives as UCS-2, decoded intact); a listing holding both is
// ingested and each phone gets its alert, the Urdu one as UCS-2; STOP ends
// the first phone's alerts, and a second listing holding its CNIC sends
// nothing. serve's logs hold no form of the identifiers or numbers.
func TestKannelAlerts(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		k := kanneltest.New(t)
		kannelEnv(c, k, "KHABARDAR_ALERTS_POLL=200ms")
		c.ok("keys", "init")
		c.addListing("first-shop")
		c.addListing("second-shop")
		srv := startServe(t, c)
		startKannel(k, srv)
		s := sentinels
		en, ur := "03217654321", "03125550199" // sentinels s[1] and s[2], as phones send them
		const wait = 20 * time.Second
		expect := func(what, to, coding, contains string) {
			t.Helper()
			m := k.MT(wait)
			if m.To != to || m.Coding != coding || !strings.Contains(m.Text, contains) {
				t.Fatalf("%s: the phone got %s/%s %q, want to %s as %s with %q", what, m.To, m.Coding, m.Text, to, coding, contains)
			}
		}

		k.SendMO(en, kanneltest.ShortCode, "ALERT "+s[0].typed)
		expect("the CNIC's confirmation", en, "text", "holds your CNIC")
		k.SendMO(ur, kanneltest.ShortCode, "URDU")
		expect("the switch to Urdu", ur, "ucs-2", "اردو")
		k.SendMO(ur, kanneltest.ShortCode, "KHABAR")
		expect("the Urdu confirmation", ur, "ucs-2", "آپ کا نمبر")

		c.ingest("first-shop", c.write("first.csv", "cnic,mobile\n"+s[0].typed+","+s[2].typed+"\n"))
		got := map[string]kanneltest.Message{} // by national number: alerts go to E.164
		for range 2 {
			m := k.MT(wait)
			got["0"+m.To[len(m.To)-10:]] = m
		}
		if m := got[en]; m.Coding != "text" || !strings.Contains(m.Text, "holds your CNIC") || !strings.Contains(m.Text, "STOP") {
			t.Errorf("the English alert: %+v", m)
		}
		if m := got[ur]; m.Coding != "ucs-2" || !strings.Contains(m.Text, "نمبر") || !strings.Contains(m.Text, "STOP") {
			t.Errorf("the Urdu alert: %+v", m)
		}

		k.SendMO(en, kanneltest.ShortCode, "STOP")
		expect("STOP", en, "text", "Alerts stopped")
		c.ingest("second-shop", c.write("second.csv", "cnic\n"+s[0].typed+"\n"))
		k.NoMT(2 * time.Second) // ten polls of the worker

		scan(t, "serve's logs", []byte(srv.stop(t)))
		scan(t, "Kannel's logs", k.Logs())
	})
}

// TestKannelDown: with Kannel's smsbox down, an alert waits in the outbox
// (retried with backoff, not lost) and goes out once it is back.
func TestKannelDown(t *testing.T) {
	c := newCLI(t, "")
	k := kanneltest.New(t)
	kannelEnv(c, k, "KHABARDAR_ALERTS_POLL=200ms", "KHABARDAR_ALERTS_RETRY=1s")
	c.ok("keys", "init")
	c.addListing("shop")
	srv := startServe(t, c)
	startKannel(k, srv)
	s := sentinels
	k.SendMO("03217654321", kanneltest.ShortCode, "ALERT "+s[0].typed)
	if m := k.MT(20 * time.Second); !strings.Contains(m.Text, "holds your CNIC") {
		t.Fatalf("confirmation: %q", m.Text)
	}
	k.StopSmsbox()
	c.ingest("shop", c.write("leak.csv", "cnic\n"+s[0].typed+"\n"))
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(srv.logs.String(), "alerts: will retry") {
		if time.Now().After(deadline) {
			t.Fatal("no failed send logged while smsbox is down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := c.ok("alerts", "stats", "--json"); !strings.Contains(out, `"queued": 1`) {
		t.Errorf("the alert is not waiting in the outbox: %s", out)
	}
	k.StartSmsbox()
	if m := k.MT(30 * time.Second); !strings.Contains(m.Text, "holds your CNIC") {
		t.Errorf("the alert after smsbox came back: %q", m.Text)
	}
	k.NoMT(2 * time.Second) // once
	scan(t, "serve's logs", []byte(srv.stop(t)))
	scan(t, "Kannel's logs", k.Logs())
}

// kannelSecret is the sms-service's shared secret in these tests.
const kannelSecret = "kannel-webhook-secret"

// kannelEnv sets serve's environment for a real Kannel k: its webhook
// secret, and alerts sent through k's sendsms, at any hour.
func kannelEnv(c *cli, k *kanneltest.Kannel, extra ...string) {
	c.env = append(c.env, "KHABARDAR_SMS_SECRET="+kannelSecret,
		"KHABARDAR_ALERTS_SECRET=0123456789abcdef0123456789abcdef-alerts",
		"KHABARDAR_KANNEL_SENDSMS_URL="+k.SendURL(), "KHABARDAR_KANNEL_SENDSMS_USER=alerts",
		"KHABARDAR_KANNEL_SENDSMS_PASSWORD=sendsms-password", "KHABARDAR_KANNEL_SENDSMS_FROM="+kanneltest.ShortCode,
		"KHABARDAR_ALERTS_QUIET_HOURS=off", "KHABARDAR_PUBLIC_URL=https://khabardar.example.pk")
	c.env = append(c.env, extra...)
}

// startKannel starts k with its sms-service calling srv's Kannel webhook.
func startKannel(k *kanneltest.Kannel, srv *served) {
	k.Start(kanneltest.Config{GetURL: srv.base + "/v1/sms/kannel?secret=" + kannelSecret + "&from=%p&text=%a&id=%I",
		SendUser: "alerts", SendPassword: "sendsms-password"})
}
