package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar/sms"
)

const (
	testAccount  = "AC0123456789abcdef0123456789abcdef"
	testService  = "MG0123456789abcdef0123456789abcdef"
	testToken    = "twilio-auth-token-secret"
	testPassword = "kannel-sendsms-password-secret"
	testAlerts   = "alerts-secret-0123456789abcdef0123456789"
	testSendsms  = "http://127.0.0.1:13013/cgi-bin/sendsms"
)

// outboundEnv is an environment with the alert settings given as
// NAME=value pairs on top of none.
func outboundEnv(t *testing.T, pairs ...string) *Config {
	t.Helper()
	env := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		env[k] = v
	}
	c, err := newConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	kannelEnv = []string{"KHABARDAR_KANNEL_SENDSMS_URL=" + testSendsms, "KHABARDAR_KANNEL_SENDSMS_USER=khabardar",
		"KHABARDAR_KANNEL_SENDSMS_PASSWORD=" + testPassword, "KHABARDAR_KANNEL_SENDSMS_FROM=8484"}
	twilioEnv = []string{"KHABARDAR_TWILIO_ACCOUNT_SID=" + testAccount, "KHABARDAR_TWILIO_AUTH_TOKEN=" + testToken,
		"KHABARDAR_TWILIO_FROM=+15005550006"}
)

func with(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

// TestSMSSender checks which gateway alerts go through, and that every
// half-configured gateway and bad quiet hours are refused with a message
// that names the setting and holds no secret.
func TestSMSSender(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		gateway string // the Sender's Name; "" for none
		errHas  string // a part of the error; "" for none
		off     string // a part of the reason alerts are off; "" for on
	}{
		{"nothing set", nil, "", "", "KHABARDAR_ALERTS_SECRET is not set and no SMS gateway"},
		{"inbound Twilio only: no sender", []string{"KHABARDAR_TWILIO_AUTH_TOKEN=" + testToken}, "", "", "no SMS gateway"},
		{"secret, no gateway", []string{"KHABARDAR_ALERTS_SECRET=" + testAlerts}, "", "", "no SMS gateway to send through"},
		{"kannel, no secret", kannelEnv, "kannel", "", "KHABARDAR_ALERTS_SECRET is not set"},
		{"kannel", with(kannelEnv, "KHABARDAR_ALERTS_SECRET="+testAlerts), "kannel", "", ""},
		{"kannel without from", with(kannelEnv[:3], "KHABARDAR_ALERTS_SECRET="+testAlerts), "kannel", "", ""},
		{"kannel base URL", with(kannelEnv[1:], "KHABARDAR_KANNEL_SENDSMS_URL=https://sms.example.pk:13013", "KHABARDAR_ALERTS_SECRET="+testAlerts), "kannel", "", ""},
		{"twilio", with(twilioEnv, "KHABARDAR_ALERTS_SECRET="+testAlerts), "twilio", "", ""},
		{"twilio messaging service", with(twilioEnv[:2], "KHABARDAR_TWILIO_FROM="+testService, "KHABARDAR_ALERTS_SECRET="+testAlerts), "twilio", "", ""},
		{"twilio sender ID", with(twilioEnv[:2], "KHABARDAR_TWILIO_FROM=Khabardar", "KHABARDAR_ALERTS_SECRET="+testAlerts), "twilio", "", ""},
		{"both: kannel wins", with(with(kannelEnv, twilioEnv...), "KHABARDAR_ALERTS_SECRET="+testAlerts), "kannel", "", ""},

		{"kannel URL without user", []string{"KHABARDAR_KANNEL_SENDSMS_URL=" + testSendsms, "KHABARDAR_KANNEL_SENDSMS_PASSWORD=" + testPassword}, "", "--kannel-sendsms-user", ""},
		{"kannel URL without password", []string{"KHABARDAR_KANNEL_SENDSMS_URL=" + testSendsms, "KHABARDAR_KANNEL_SENDSMS_USER=khabardar"}, "", "KHABARDAR_KANNEL_SENDSMS_PASSWORD", ""},
		{"kannel user without URL", kannelEnv[1:], "", "--kannel-sendsms-url", ""},
		{"kannel from only", []string{"KHABARDAR_KANNEL_SENDSMS_FROM=8484"}, "", "--kannel-sendsms-url", ""},
		{"kannel URL not a URL", with(kannelEnv[1:], "KHABARDAR_KANNEL_SENDSMS_URL=127.0.0.1:13013"), "", "http or https URL", ""},
		{"kannel URL with credentials", with(kannelEnv[1:], "KHABARDAR_KANNEL_SENDSMS_URL=http://u:"+testPassword+"@127.0.0.1:13013/cgi-bin/sendsms"), "", "no user or password", ""},
		{"kannel URL with a query", with(kannelEnv[1:], "KHABARDAR_KANNEL_SENDSMS_URL="+testSendsms+"?password="+testPassword), "", "no query string", ""},
		{"kannel from too long", with(kannelEnv[:3], "KHABARDAR_KANNEL_SENDSMS_FROM=KhabardarAlertsForPakistan"), "", "--kannel-sendsms-from", ""},
		{"half kannel beside a whole twilio", with(twilioEnv, "KHABARDAR_KANNEL_SENDSMS_URL="+testSendsms), "", "--kannel-sendsms-user", ""},
		{"twilio SID without from", twilioEnv[:2], "", "--twilio-from", ""},
		{"twilio SID without token", []string{"KHABARDAR_TWILIO_ACCOUNT_SID=" + testAccount, "KHABARDAR_TWILIO_FROM=+15005550006"}, "", "KHABARDAR_TWILIO_AUTH_TOKEN", ""},
		{"twilio from without SID", []string{"KHABARDAR_TWILIO_AUTH_TOKEN=" + testToken, "KHABARDAR_TWILIO_FROM=+15005550006"}, "", "--twilio-account-sid", ""},
		{"twilio SID malformed", with(twilioEnv[1:], "KHABARDAR_TWILIO_ACCOUNT_SID=AC123"), "", "AC and 32 hex digits", ""},
		{"twilio from not E.164", with(twilioEnv[:2], "KHABARDAR_TWILIO_FROM=03001234567"), "", "--twilio-from must be", ""},
		{"twilio sender ID too long", with(twilioEnv[:2], "KHABARDAR_TWILIO_FROM=KhabardarAlerts"), "", "--twilio-from must be", ""},
		{"twilio API URL malformed", with(twilioEnv, "KHABARDAR_TWILIO_API_URL=api.twilio.com"), "", "--twilio-api-url", ""},

		{"quiet hours off", with(kannelEnv, "KHABARDAR_ALERTS_SECRET="+testAlerts, "KHABARDAR_ALERTS_QUIET_HOURS=off"), "kannel", "", ""},
		{"quiet hours malformed", with(kannelEnv, "KHABARDAR_ALERTS_QUIET_HOURS=10pm-8am"), "", "--alerts-quiet-hours", ""},
		{"alerts secret too short", with(kannelEnv, "KHABARDAR_ALERTS_SECRET=short-secret"), "", "at least 32 bytes", ""},
		{"quiet hours with equal ends", []string{"KHABARDAR_ALERTS_QUIET_HOURS=22:00-22:00"}, "", "same time", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := outboundEnv(t, tt.env...)
			a, err := c.alerts()
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("alerts() = %+v, %v; want an error saying %q", a, err, tt.errHas)
				}
				for _, secret := range []string{testToken, testPassword, testAlerts} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("the error %q holds a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.smsSender()
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if s != nil {
				got = s.(sms.Gateway).Name()
			}
			if got != tt.gateway {
				t.Fatalf("smsSender = %q, want %q", got, tt.gateway)
			}
			if tt.off == "" {
				if a.Sender == nil || a.Gateway != tt.gateway || a.Off != "" {
					t.Fatalf("alerts() = %+v, want on through %s", a, tt.gateway)
				}
			} else if a.Sender != nil || a.Gateway != "" || !strings.Contains(a.Off, tt.off) {
				t.Fatalf("alerts() = %+v, want off because %q", a, tt.off)
			}
			switch s := s.(type) {
			case *sms.Kannel:
				if s.SendURL != c.KannelSendURL || s.Username != c.KannelSendUser || s.Password != testPassword || s.From != c.KannelSendFrom {
					t.Errorf("kannel %+v", s)
				}
			case *sms.Twilio:
				if s.AccountSID != testAccount || s.AuthToken != testToken || s.From != c.TwilioFrom || s.APIURL != sms.DefaultTwilioAPI {
					t.Errorf("twilio %+v", s)
				}
			}
		})
	}
}

// TestAlertsFlags: each non-secret setting has its serve flag, which wins
// over the environment, and no secret has one.
func TestAlertsFlags(t *testing.T) {
	c := outboundEnv(t, with(twilioEnv, "KHABARDAR_TWILIO_API_URL=http://127.0.0.1:1", "KHABARDAR_ALERTS_QUIET_HOURS=off")...)
	if c.AlertsQuietHours != "off" || c.TwilioAPIURL != "http://127.0.0.1:1" || c.TwilioFrom != "+15005550006" {
		t.Fatalf("from the environment: %+v", c)
	}
	if d := outboundEnv(t); d.AlertsQuietHours != "22:00-08:00" || d.TwilioAPIURL != "https://api.twilio.com" {
		t.Fatalf("defaults: quiet hours %q, Twilio API %q", d.AlertsQuietHours, d.TwilioAPIURL)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.registerServe(fs)
	err := fs.Parse([]string{"--kannel-sendsms-url", testSendsms, "--kannel-sendsms-user", "u", "--kannel-sendsms-from", "8484",
		"--twilio-account-sid", "ACffffffffffffffffffffffffffffffff", "--twilio-from", "Khabardar", "--twilio-api-url", "http://127.0.0.1:2",
		"--alerts-quiet-hours", "23:00-07:00"})
	if err != nil {
		t.Fatal(err)
	}
	if c.KannelSendURL != testSendsms || c.KannelSendUser != "u" || c.KannelSendFrom != "8484" || c.TwilioAccountSID != "ACffffffffffffffffffffffffffffffff" ||
		c.TwilioFrom != "Khabardar" || c.TwilioAPIURL != "http://127.0.0.1:2" || c.AlertsQuietHours != "23:00-07:00" {
		t.Fatalf("flags did not win: %+v", c)
	}
	for _, secret := range []string{"alerts-secret", "kannel-sendsms-password", "twilio-auth-token"} {
		if fs.Lookup(secret) != nil {
			t.Errorf("--%s is a flag: secrets come from the environment only", secret)
		}
	}
}

// TestLogAlerts: the start line says whether alerts are on, through which
// gateway, or why not, and never a secret.
func TestLogAlerts(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"off", []string{"KHABARDAR_ALERTS_SECRET=" + testAlerts}, []string{`msg="alerts are off"`, "no SMS gateway"}},
		{"kannel", with(kannelEnv, "KHABARDAR_ALERTS_SECRET="+testAlerts), []string{`msg="alerts are on"`, "gateway=kannel", "quiet_hours=22:00-08:00"}},
		{"twilio", with(twilioEnv, "KHABARDAR_ALERTS_SECRET="+testAlerts), []string{"gateway=twilio", "quiet_hours=22:00-08:00"}},
		{"both", with(with(kannelEnv, twilioEnv...), "KHABARDAR_ALERTS_SECRET="+testAlerts, "KHABARDAR_ALERTS_QUIET_HOURS=off"),
			[]string{"gateway=kannel", "unused=twilio", "quiet_hours=off"}},
		{"remote plain http", with(kannelEnv[1:], "KHABARDAR_KANNEL_SENDSMS_URL=http://10.0.0.5:13013/cgi-bin/sendsms", "KHABARDAR_ALERTS_SECRET="+testAlerts),
			[]string{"plain http to another host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := outboundEnv(t, tt.env...)
			a, err := c.alerts()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			c.logAlerts(a, slog.New(slog.NewTextHandler(&buf, nil)))
			out := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("the log lacks %q:\n%s", w, out)
				}
			}
			for _, secret := range []string{testToken, testPassword, testAlerts} {
				if strings.Contains(out, secret) {
					t.Errorf("the log holds a secret:\n%s", out)
				}
			}
		})
	}
}
