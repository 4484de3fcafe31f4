package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar/internal/redistest"
)

// fakeSendSMS is a stand-in for Kannel's sendsms interface: it records
// each message (to, text, coding) and answers 202 as Kannel does. The real
// Kannel is TestKannelAlerts'.
type fakeSendSMS struct {
	*httptest.Server
	mu   sync.Mutex
	msgs []url.Values
}

func newFakeSendSMS(t *testing.T) *fakeSendSMS {
	f := &fakeSendSMS{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("username") != "alerts" || q.Get("password") != "sendsms-password" {
			http.Error(w, "Authorization failed for sendsms", http.StatusForbidden)
			return
		}
		f.mu.Lock()
		f.msgs = append(f.msgs, q)
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, "0: Accepted for delivery")
	}))
	t.Cleanup(f.Close)
	return f
}

// wait returns the messages once there are n, or fails after a bound.
func (f *fakeSendSMS) wait(t *testing.T, n int) []url.Values {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		f.mu.Lock()
		got := append([]url.Values(nil), f.msgs...)
		f.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d alerts sent within 20 s, want %d", len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAlerts runs the alert story on each store with serve's own worker and
// a fake sendsms: two people subscribe by SMS (a CNIC in English; their own
// number in Urdu), a listing holding both is ingested and each gets one
// alert in their language, naming the kind and never the value; a re-ingest
// sends nothing; STOP removes one, whose CNIC in a second listing then
// sends nothing; and no log, store key or value, or command output holds
// any form of the identifiers or numbers.
func TestAlerts(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		send := newFakeSendSMS(t)
		const public = "https://khabardar.example.pk"
		c.env = append(c.env, "KHABARDAR_SMS_SECRET=kannel-secret",
			"KHABARDAR_ALERTS_SECRET=0123456789abcdef0123456789abcdef-alerts",
			"KHABARDAR_KANNEL_SENDSMS_URL="+send.URL+"/cgi-bin/sendsms", "KHABARDAR_KANNEL_SENDSMS_USER=alerts",
			"KHABARDAR_KANNEL_SENDSMS_PASSWORD=sendsms-password", "KHABARDAR_ALERTS_QUIET_HOURS=off", "KHABARDAR_ALERTS_POLL=200ms")
		c.ok("keys", "init")
		c.addListing("first-shop")
		c.addListing("second-shop")
		srv := startServe(t, c, "--public-url", public)
		s := sentinels
		cnicWatcher, numberWatcher := s[1], s[2] // their phones
		sim := func(from sentinel, lines string) string {
			t.Helper()
			out, errs, code := c.runWithInput(lines, "sms-sim", "--server", srv.base, "--gateway", "kannel", "--from", from.typed)
			if code != 0 {
				t.Fatalf("sms-sim: exit %d\n%s%s", code, out, errs)
			}
			return out
		}
		if out := sim(cnicWatcher, "ALERT "+s[0].typed+"\n"); !strings.Contains(out, "holds your CNIC") {
			t.Fatalf("ALERT <CNIC>: %s", out)
		}
		if out := sim(numberWatcher, "URDU\nKHABAR\n"); strings.Count(out, "UCS-2") != 2 {
			t.Fatalf("URDU, KHABAR: %s", out)
		}
		if out := c.ok("alerts", "stats", "--json"); !strings.Contains(out, `"subscribers": 2`) || !strings.Contains(out, `"watches": 2`) {
			t.Errorf("alerts stats: %s", out)
		}

		csv := c.write("first.csv", "cnic,mobile\n"+s[0].typed+","+s[2].typed+"\n")
		if sum := c.ingest("first-shop", csv); sum.AlertsQueued != 2 {
			t.Fatalf("ingest queued %d alerts, want 2", sum.AlertsQueued)
		}
		got := send.wait(t, 2)
		byTo := map[string]url.Values{}
		for _, m := range got {
			byTo[m.Get("to")] = m
		}
		en, ur := byTo["+923217654321"], byTo["+923125550199"]
		if en == nil || ur == nil {
			t.Fatalf("alerts went to %v", got)
		}
		if !strings.Contains(en.Get("text"), "holds your CNIC") || en.Get("coding") != "0" || !strings.Contains(en.Get("text"), "STOP") {
			t.Errorf("English alert: %v", en)
		}
		if ur.Get("coding") != "2" || !strings.Contains(ur.Get("text"), "نمبر") {
			t.Errorf("Urdu alert: %v", ur)
		}
		c.ingest("first-shop", csv)
		if out := sim(cnicWatcher, "STOP\n"); !strings.Contains(out, "Alerts stopped") {
			t.Fatalf("STOP: %s", out)
		}
		c.ingest("second-shop", c.write("second.csv", "cnic\n"+s[0].typed+"\n"))
		time.Sleep(time.Second) // five polls of the worker
		if n := len(send.wait(t, 2)); n != 2 {
			t.Errorf("%d alerts after a re-ingest and a STOPped subscriber's CNIC in a new listing, want 2", n)
		}
		if out := c.ok("alerts", "stats", "--json"); !strings.Contains(out, `"subscribers": 1`) || !strings.Contains(out, `"queued": 0`) {
			t.Errorf("alerts stats after STOP: %s", out)
		}

		logs := srv.stop(t)
		scan(t, "serve's logs", []byte(logs))
		scan(t, "command output", c.output.Bytes())
		if u := storeURL(c); u != "" {
			for k, v := range redistest.Dump(t, u) {
				scan(t, "redis key name", []byte(k))
				scan(t, "redis value of "+k, v)
			}
		} else {
			b, err := os.ReadFile(filepath.Join(c.data, "khabardar.db"))
			if err != nil {
				t.Fatal(err)
			}
			scan(t, "the bolt file", b)
			scanBolt(t, filepath.Join(c.data, "khabardar.db"))
		}
	})
}

// alertEnv turns alerts on in c's environment, sending through send.
func alertEnv(c *cli, send *fakeSendSMS, extra ...string) {
	c.env = append(c.env, "KHABARDAR_SMS_SECRET=kannel-secret",
		"KHABARDAR_ALERTS_SECRET=0123456789abcdef0123456789abcdef-alerts",
		"KHABARDAR_KANNEL_SENDSMS_URL="+send.URL+"/cgi-bin/sendsms", "KHABARDAR_KANNEL_SENDSMS_USER=alerts",
		"KHABARDAR_KANNEL_SENDSMS_PASSWORD=sendsms-password", "KHABARDAR_ALERTS_QUIET_HOURS=off", "KHABARDAR_ALERTS_POLL=100ms",
		"KHABARDAR_PUBLIC_URL=https://khabardar.example.pk")
	c.env = append(c.env, extra...)
}

// subscribers are n synthetic mobile numbers, each watching itself.
func subscribe(t *testing.T, c *cli, base string, n int) []string {
	t.Helper()
	var in strings.Builder
	var numbers []string
	for i := range n {
		num := fmt.Sprintf("0300%07d", 1000000+i)
		numbers = append(numbers, num)
		fmt.Fprintf(&in, "/from %s\nALERT\n", num)
	}
	out, errs, code := c.runWithInput(in.String(), "sms-sim", "--server", base, "--gateway", "kannel", "--from", numbers[0])
	if code != 0 || strings.Count(out, "holds your number") != n {
		t.Fatalf("subscribing %d numbers: exit %d\n%s%s", n, code, out, errs)
	}
	return numbers
}

// TestAlertsTwoReplicas: two servers on one Redis, both sending: each
// alert goes out once.
func TestAlertsTwoReplicas(t *testing.T) {
	c := newCLI(t, redistest.URL(t))
	send := newFakeSendSMS(t)
	alertEnv(c, send)
	c.ok("keys", "init")
	c.addListing("shop")
	a, b := startServe(t, c), startServe(t, c)
	const n = 30
	numbers := subscribe(t, c, a.base, n)
	var csv strings.Builder
	csv.WriteString("mobile\n")
	for _, num := range numbers {
		csv.WriteString(num + "\n")
	}
	if sum := c.ingest("shop", c.write("numbers.csv", csv.String())); sum.AlertsQueued != n {
		t.Fatalf("queued %d alerts, want %d", sum.AlertsQueued, n)
	}
	send.wait(t, n)
	time.Sleep(time.Second) // ten more polls of each replica
	got := send.wait(t, n)
	seen := map[string]int{}
	for _, m := range got {
		seen[m.Get("to")]++
	}
	if len(got) != n || len(seen) != n {
		t.Errorf("%d alerts to %d numbers, want %d to %d", len(got), len(seen), n, n)
	}
	for _, s := range []*served{a, b} {
		scan(t, "serve's logs", []byte(s.stop(t)))
	}
}

// TestAlertsKilledMidSend: serve is SIGKILLed while the gateway holds its
// first send; a new serve sends that alert again after its lease (once
// more at most) and the other alerts once: none is lost.
func TestAlertsKilledMidSend(t *testing.T) {
	c := newCLI(t, "")
	send := newFakeSendSMS(t)
	hold := make(chan struct{})
	var once sync.Once
	inner := send.Config.Handler
	send.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		inner.ServeHTTP(httptest.NewRecorder(), r) // recorded as delivered by the gateway
		if first {
			<-hold // the gateway has the message; serve never hears back
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	alertEnv(c, send, "KHABARDAR_ALERTS_LEASE=2s")
	c.ok("keys", "init")
	c.addListing("shop")
	srv := startServe(t, c)
	numbers := subscribe(t, c, srv.base, 3)
	c.ingest("shop", c.write("numbers.csv", "mobile\n"+strings.Join(numbers, "\n")+"\n"))
	send.wait(t, 1)
	srv.cmd.Process.Kill() // SIGKILL, mid-send
	<-srv.done
	close(hold)
	srv = startServe(t, c)
	got := send.wait(t, 4)      // the held one again, and the other two
	time.Sleep(3 * time.Second) // past another lease
	got = send.wait(t, len(got))
	seen := map[string]int{}
	for _, m := range got {
		seen[m.Get("to")]++
	}
	for _, num := range numbers {
		to := "+92" + num[1:]
		if seen[to] < 1 || seen[to] > 2 {
			t.Errorf("a subscriber got %d alerts, want 1 (or 2 for the one in flight)", seen[to])
		}
	}
	if len(got) > 4 {
		t.Errorf("%d alerts for 3 subscribers: more than one resent", len(got))
	}
	if out := c.ok("alerts", "stats", "--json"); !strings.Contains(out, `"queued": 0`) {
		t.Errorf("alerts left queued: %s", out)
	}
	scan(t, "serve's logs", []byte(srv.stop(t)))
}
