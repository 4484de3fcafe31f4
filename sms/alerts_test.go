package sms

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ratelimit"
)

// withAlerts turns alerts on in the service: the store keeps them, a
// sealer of a test secret seals numbers.
func withAlerts(c *Config) {
	c.Alerts = c.Store.(khabardar.AlertStore)
	sealer, err := alerts.NewSealer([]byte(strings.Repeat("s", alerts.MinSecretLen)))
	if err != nil {
		panic(err)
	}
	c.Sealer = sealer
}

// TestAlertCommands follows one subscriber: ALERT for their own number and
// a CNIC, ALERTS, the cap, a number not theirs, STOP, and what the store
// keeps at each step: their hash and sealed number, never the number.
func TestAlertCommands(t *testing.T) {
	e := newEnv(t, generous, withAlerts, func(c *Config) { c.MaxWatches = 2 })
	en := textsFor(khabardar.LangEnglish)
	const from = "+923001234567"
	as := e.cfg.Alerts
	hash := e.svc.SenderHash(from)
	steps := []struct {
		name, body, want string
		watches          int
	}{
		{"no alerts yet", "ALERTS", en.noAlerts, 0},
		{"own number", "ALERT", en.subscribed("number"), 1},
		{"own number again", "alert me", en.subscribed("number"), 1},
		{"a CNIC", "ALERT " + testCNIC, en.subscribed("CNIC"), 2},
		{"over the cap", "ALERT IMEI " + testIMEI, en.alertLimit(2), 2},
		{"someone else's number", "ALERT 0321-7654321", en.otherPhone, 2},
		{"count", "ALERTS", en.alertCount(2), 2},
		{"stop", "STOP", en.stopped, 0},
		{"stop again", "BAND", en.noAlerts, 0},
	}
	for _, st := range steps {
		if r := e.mustSend(from, st.body); r.Text != st.want {
			t.Fatalf("%s: %q\nwant %q", st.name, r.Text, st.want)
		}
		_, n, err := as.Subscriber(context.Background(), hash)
		if st.watches == 0 {
			wantCode(t, st.name+": Subscriber", err, khabardar.ENOTFOUND)
			continue
		}
		if err != nil || n != st.watches {
			t.Fatalf("%s: %d watches, %v; want %d", st.name, n, err, st.watches)
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, "3001234567") || strings.Contains(logs, "1234567") {
		t.Error("a number in the logs")
	}
}

// TestAlertSealedNumber: the subscriber is kept as their hash, their
// number sealed (it opens to the number, and holds none of its digits),
// in the language they chose.
func TestAlertSealedNumber(t *testing.T) {
	e := newEnv(t, generous, withAlerts)
	const from = "923001234567"
	e.mustSend(from, "URDU")
	if r := e.mustSend(from, "KHABAR"); !r.UCS2 {
		t.Errorf("an Urdu subscriber's confirmation is not UCS-2: %q", r.Text)
	}
	sub, _, err := e.cfg.Alerts.Subscriber(context.Background(), e.svc.SenderHash(from))
	if err != nil {
		t.Fatal(err)
	}
	if sub.Lang != khabardar.LangUrdu || bytes.Contains(sub.Sealed, []byte("3001234567")) {
		t.Errorf("subscriber %+v", sub.Lang)
	}
	number, err := e.cfg.Sealer.Open(sub.ID, sub.Sealed)
	want, _ := identifier.Parse(identifier.Phone, "03001234567")
	if err != nil || number != want {
		t.Errorf("the sealed number opens to another: %v", err)
	}
}

// TestAlertsOff: without a store and sealer for alerts, ALERT says so and
// stores nothing; STOP still answers.
func TestAlertsOff(t *testing.T) {
	e := newEnv(t, ratelimit.Config{SMSSender: "100-H", SMSGateway: "1000-H"})
	en := textsFor(khabardar.LangEnglish)
	for body, want := range map[string]string{"ALERT": en.alertsOff, "ALERTS": en.alertsOff, "STOP": en.noAlerts} {
		if r := e.mustSend("+923001234567", body); r.Text != want {
			t.Errorf("%s: %q, want %q", body, r.Text, want)
		}
	}
	if as, ok := e.store.(khabardar.AlertStore); ok {
		if st, _ := as.AlertStats(context.Background()); st != (khabardar.AlertStats{}) {
			t.Errorf("alerts off, yet the store holds %+v", st)
		}
	}
}

// TestAlertFromLandline: alerts go by SMS to a Pakistani mobile number.
func TestAlertFromLandline(t *testing.T) {
	e := newEnv(t, generous, withAlerts)
	if r := e.mustSend("+4420791234567", "ALERT"); r.Text != textsFor("en").alertNeedsMobile {
		t.Errorf("ALERT from a foreign number: %q", r.Text)
	}
}

// TestAlertDailyLimit: subscriptions are counted per sender a day, apart
// from the messages.
func TestAlertDailyLimit(t *testing.T) {
	e := newEnv(t, ratelimit.Config{SMSSender: "100-H", SMSGateway: "1000-H", AlertSubscribe: "2-D"}, withAlerts)
	en := textsFor(khabardar.LangEnglish)
	for i, want := range []string{en.subscribed("number"), en.subscribed("CNIC"), en.alertDaily} {
		body := []string{"ALERT", "ALERT " + testCNIC, "ALERT IMEI " + testIMEI}[i]
		if r := e.mustSend("+923001234567", body); r.Text != want {
			t.Errorf("%s: %q, want %q", body, r.Text, want)
		}
	}
}
