package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
)

// TestSMSWebhooks checks the webhooks' HTTP contract; the commands and
// replies are sms's tests, the whole channel cmd/khabardar's TestSMS.
func TestSMSWebhooks(t *testing.T) {
	const public, token, secret = "https://khabardar.example.pk", "tok", "sec"
	withSMS := func(c *Config, rc *ratelimit.Config) {
		rc.SMSSender = "2-H"
	}
	e := newEnv(t, withSMS)
	svc, err := sms.New(sms.Config{Store: e.store, Key: e.key, Layout: e.layout, Limiter: e.limiter, SiteURL: public, Log: e.cfg.Log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.SMS, cfg.TwilioAuthToken, cfg.SMSSecret, cfg.SMSPublicURL = svc, token, secret, public+"/"
	e.srv = New(cfg)
	off := newEnv(t) // no SMS configured

	twilio := func(from, body, signature, contentType string) *http.Request {
		form := url.Values{"From": {from}, "Body": {body}, "To": {"+15005550006"}}
		if signature == "sign" {
			signature = sms.TwilioSignature(token, public+"/v1/sms/twilio", form)
		}
		r := httptest.NewRequest("POST", "/v1/sms/twilio", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", contentType)
		if signature != "" {
			r.Header.Set("X-Twilio-Signature", signature)
		}
		return r
	}
	kannel := func(method string, q url.Values, header string) *http.Request {
		var r *http.Request
		if method == "GET" {
			r = httptest.NewRequest("GET", "/v1/sms/kannel?"+q.Encode(), nil)
		} else {
			r = httptest.NewRequest("POST", "/v1/sms/kannel", strings.NewReader(q.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if header != "" {
			r.Header.Set("X-Khabardar-Secret", header)
		}
		return r
	}
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		env         *env
		req         *http.Request
		status      int
		code        string // error code, for errors
		contentType string
		body        string // a substring of the body; "" for an empty body
		coding      string // X-Kannel-Coding
	}{
		{"not configured: twilio", off, twilio("+923001234567", "HELP", "sign", form), 404, "not_found", "", "", ""},
		{"not configured: kannel", off, kannel("GET", url.Values{"from": {"+923001234567"}, "text": {"HELP"}, "secret": {secret}}, ""), 404, "not_found", "", "", ""},
		{"twilio: JSON body", e, twilio("+923001234567", "HELP", "sign", "application/json"), 415, CodeUnsupportedMediaType, "", "", ""},
		{"twilio: unsigned", e, twilio("+923001234567", "HELP", "", form), 403, CodeForbidden, "", "", ""},
		{"twilio: bad signature", e, twilio("+923001234567", "HELP", "AAAA", form), 403, CodeForbidden, "", "", ""},
		{"twilio: help", e, twilio("+923001234567", "HELP", "sign", form), 200, "", "text/xml; charset=utf-8", "<Response><Message>Khabardar checks", ""},
		{"kannel: GET", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {secret}}, ""), 200, "", "text/plain; charset=utf-8", "Khabardar checks", "0"},
		{"kannel: POST, secret in a header", e, kannel("POST", url.Values{"from": {"+923001234568"}, "text": {"URDU"}}, secret), 200, "", "text/plain; charset=utf-8", "اردو", "2"},
		{"kannel: over the limit, told once", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {secret}}, ""), 200, "", "text/plain; charset=utf-8", "بعد", "2"},
		{"kannel: then silence", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {secret}}, ""), 200, "", "text/plain; charset=utf-8", "", ""},
		{"kannel: wrong secret", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {"x"}}, ""), 403, CodeForbidden, "", "", ""},
		{"kannel: no secret", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}}, ""), 403, CodeForbidden, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.env.do(tt.req)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("%d %q, want %d %q: %s", r.status, r.code(), tt.status, tt.code, r.body)
			}
			if tt.code != "" {
				return
			}
			if ct := r.header.Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.body == "" && len(r.body) != 0 || !strings.Contains(string(r.body), tt.body) {
				t.Errorf("body %q, want %q", r.body, tt.body)
			}
			if c := r.header.Get("X-Kannel-Coding"); c != tt.coding {
				t.Errorf("X-Kannel-Coding %q, want %q", c, tt.coding)
			}
		})
	}
	if m := e.scrape(); !strings.Contains(m, `khabardar_sms_messages_total{gateway="kannel",outcome="silent"} 1`) {
		t.Errorf("metrics do not count the silent reply")
	}
}
