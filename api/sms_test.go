package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/wire"
)

// TestSMSWebhooks checks the webhooks' HTTP contract; the commands and
// replies are sms's tests, the whole channel e2e's TestSMS.
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
	cfg.SMS, cfg.SMSGateways = svc, []sms.Gateway{&sms.Twilio{AuthToken: token, PublicURL: public + "/"}, &sms.Kannel{Secret: secret}}
	e.srv = New(cfg)
	off := newEnv(t) // no SMS configured

	// twilioSID is Twilio's request for message sid ("" for none); twilio
	// is one for a new message.
	twilioSID := func(sid, from, body, signature, contentType string) *http.Request {
		form := url.Values{"From": {from}, "Body": {body}, "To": {"+15005550006"}}
		if sid != "" {
			form.Set("MessageSid", sid)
		}
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
	twilio := func(from, body, signature, contentType string) *http.Request {
		return twilioSID(newSID(), from, body, signature, contentType)
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
	const xml = "text/xml; charset=utf-8"
	replayed, fresh, kid := newSID(), newSID(), newKannelID()
	hex32 := strings.Repeat("0123456789abcdef", 2)
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
		{"twilio: JSON body", e, twilio("+923001234567", "HELP", "sign", "application/json"), 415, wire.CodeUnsupportedMediaType, "", "", ""},
		{"twilio: unsigned", e, twilio("+923001234567", "HELP", "", form), 403, wire.CodeForbidden, "", "", ""},
		{"twilio: bad signature", e, twilio("+923001234567", "HELP", "AAAA", form), 403, wire.CodeForbidden, "", "", ""},
		{"twilio: help", e, twilio("+923001234567", "HELP", "sign", form), 200, "", "text/xml; charset=utf-8", "<Response><Message>Khabardar checks", ""},
		{"kannel: GET", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {secret}}, ""), 200, "", "text/plain; charset=utf-8", "Khabardar checks", "0"},
		{"kannel: POST, secret in a header", e, kannel("POST", url.Values{"from": {"+923001234568"}, "text": {"URDU"}}, secret), 200, "", "text/plain; charset=utf-8", "اردو", "2"},
		{"kannel: over the limit, told once", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {secret}}, ""), 200, "", "text/plain; charset=utf-8", "بعد", "2"},
		{"kannel: then silence", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {secret}}, ""), 200, "", "text/plain; charset=utf-8", "", ""},
		{"kannel: wrong secret", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {"x"}}, ""), 403, wire.CodeForbidden, "", "", ""},
		{"kannel: no secret", e, kannel("GET", url.Values{"from": {"+923001234568"}, "text": {"HELP"}}, ""), 403, wire.CodeForbidden, "", "", ""},

		// Replays of a signed request: silence, and no charge. The sender's
		// limit is 2 an hour: the message and the one after it are
		// answered, only the third is over.
		{"twilio: a message", e, twilioSID(replayed, "+923001234569", "HELP", "sign", form), 200, "", xml, "<Message>Khabardar checks", ""},
		{"twilio: the same request replayed", e, twilioSID(replayed, "+923001234569", "HELP", "sign", form), 200, "", xml, "<Response/>", ""},
		{"twilio: replayed again", e, twilioSID(replayed, "+923001234569", "HELP", "sign", form), 200, "", xml, "<Response/>", ""},
		{"twilio: replayed a third time", e, twilioSID(replayed, "+923001234569", "HELP", "sign", form), 200, "", xml, "<Response/>", ""},
		{"twilio: the sender's next message, answered", e, twilio("+923001234569", "HELP", "sign", form), 200, "", xml, "<Message>Khabardar checks", ""},
		{"twilio: the one after, over the limit", e, twilio("+923001234569", "HELP", "sign", form), 200, "", xml, "try again after", ""},

		// The MessageSid is read only from an authentic request, and must
		// have Twilio's form.
		{"twilio: unsigned, no MessageSid", e, twilioSID("", "+923001234560", "HELP", "", form), 403, wire.CodeForbidden, "", "", ""},
		{"twilio: no MessageSid", e, twilioSID("", "+923001234560", "HELP", "sign", form), 400, khabardar.EINVALID, "", "", ""},
		{"twilio: MessageSid one short", e, twilioSID("SM"+hex32[1:], "+923001234560", "HELP", "sign", form), 400, khabardar.EINVALID, "", "", ""},
		{"twilio: MessageSid one long", e, twilioSID("SM"+hex32+"0", "+923001234560", "HELP", "sign", form), 400, khabardar.EINVALID, "", "", ""},
		{"twilio: an account SID", e, twilioSID("AC"+hex32, "+923001234560", "HELP", "sign", form), 400, khabardar.EINVALID, "", "", ""},
		{"twilio: lower-case prefix", e, twilioSID("sm"+hex32, "+923001234560", "HELP", "sign", form), 400, khabardar.EINVALID, "", "", ""},
		{"twilio: not hex", e, twilioSID("SM"+strings.Repeat("g", 32), "+923001234560", "HELP", "sign", form), 400, khabardar.EINVALID, "", "", ""},
		{"twilio: an MMS", e, twilioSID("MM"+hex32, "+923001234560", "HELP", "sign", form), 200, "", xml, "<Message>Khabardar checks", ""},
		{"twilio: unsigned, a fresh MessageSid", e, twilioSID(fresh, "+923001234561", "HELP", "", form), 403, wire.CodeForbidden, "", "", ""},
		{"twilio: badly signed, the same MessageSid", e, twilioSID(fresh, "+923001234561", "HELP", "AAAA", form), 403, wire.CodeForbidden, "", "", ""},
		{"twilio: signed, the same MessageSid: not a replay", e, twilioSID(fresh, "+923001234561", "HELP", "sign", form), 200, "", xml, "<Message>Khabardar checks", ""},

		// Kannel's message ID (%I), when the get-url passes it.
		{"kannel: wrong secret, an id", e, kannel("GET", url.Values{"from": {"+923001234562"}, "text": {"HELP"}, "secret": {"x"}, "id": {kid}}, ""), 403, wire.CodeForbidden, "", "", ""},
		{"kannel: an id", e, kannel("GET", url.Values{"from": {"+923001234562"}, "text": {"HELP"}, "secret": {secret}, "id": {kid}}, ""), 200, "", "text/plain; charset=utf-8", "Khabardar checks", "0"},
		{"kannel: the same id again, as Kannel retries", e, kannel("GET", url.Values{"from": {"+923001234562"}, "text": {"HELP"}, "secret": {secret}, "id": {kid}}, ""), 200, "", "text/plain; charset=utf-8", "", ""},
		{"kannel: the same id in a POST", e, kannel("POST", url.Values{"from": {"+923001234562"}, "text": {"HELP"}, "id": {kid}}, secret), 200, "", "text/plain; charset=utf-8", "", ""},
		{"kannel: an id that is no UUID", e, kannel("GET", url.Values{"from": {"+923001234562"}, "text": {"HELP"}, "secret": {secret}, "id": {"12345"}}, ""), 400, khabardar.EINVALID, "", "", ""},
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
	m := e.scrape()
	for _, want := range []string{
		`khabardar_sms_messages_total{gateway="kannel",outcome="silent"} 1`,
		`khabardar_sms_messages_total{gateway="kannel",outcome="replay"} 2`,
		`khabardar_sms_messages_total{gateway="twilio",outcome="replay"} 3`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// newSID returns a new Twilio MessageSid.
func newSID() string { return "SM" + randomHex(16) }

// newKannelID returns a new Kannel message ID (%I), a UUID.
func newKannelID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestSMSReplayStoreDown checks that a message whose ID cannot be checked
// for a replay is refused with 503, for the gateway to deliver it again
// later, rather than answered unchecked, and that it costs the sender
// nothing: once the store is back, the same message is answered.
func TestSMSReplayStoreDown(t *testing.T) {
	const public, token, secret = "https://khabardar.example.pk", "tok", "sec"
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) { rc.SMSSender = "1-H" })
	down := e.closedStore(t) // it answers EUNAVAILABLE
	serve := func(seen khabardar.ReplayStore) *env {
		return e.withSMS(t, seen, public, &sms.Twilio{AuthToken: token, PublicURL: public}, &sms.Kannel{Secret: secret})
	}
	sid, kid := newSID(), newKannelID()
	twilio := func() *http.Request {
		form := url.Values{"From": {"+923001234567"}, "Body": {"HELP"}, "MessageSid": {sid}}
		r := httptest.NewRequest("POST", "/v1/sms/twilio", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Twilio-Signature", sms.TwilioSignature(token, public+"/v1/sms/twilio", form))
		return r
	}
	kannel := func() *http.Request {
		q := url.Values{"from": {"+923001234568"}, "text": {"HELP"}, "secret": {secret}, "id": {kid}}
		return httptest.NewRequest("GET", "/v1/sms/kannel?"+q.Encode(), nil)
	}
	broken, back := serve(down), serve(e.store)
	for range 3 {
		for name, req := range map[string]*http.Request{"twilio": twilio(), "kannel": kannel()} {
			if r := broken.do(req); r.status != 503 || r.code() != khabardar.EUNAVAILABLE {
				t.Fatalf("%s with the store down: %d %q, want 503 unavailable", name, r.status, r.code())
			}
		}
	}
	if m := broken.scrape(); !strings.Contains(m, `khabardar_sms_messages_total{gateway="twilio",outcome="unchecked"} 3`) {
		t.Errorf("metrics do not count the unchecked messages")
	}
	// The outage is one line, not one per message (issue 11 item 11).
	if m := broken.scrape(); !strings.Contains(m, `khabardar_dependency_errors_total{dependency="sms"} 6`) ||
		!strings.Contains(m, `khabardar_dependency_up{dependency="sms"} 0`) {
		t.Errorf("metrics do not count the 6 messages the outage failed")
	}
	if n := strings.Count(e.logs.String(), `"msg":"dependency down`); n != 1 {
		t.Errorf("%d dependency-down lines for 6 messages, want 1:\n%s", n, e.logs)
	}
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if !strings.Contains(line, `"level":"DEBUG"`) && (strings.Contains(line, "request failed") || strings.Contains(line, `"status":503`)) {
			t.Errorf("a line for a failed message: %s", line)
		}
	}
	if r := back.do(twilio()); r.status != 200 || !strings.Contains(string(r.body), "<Message>Khabardar checks") {
		t.Errorf("twilio once the store is back: %d %s", r.status, r.body)
	}
	if r := back.do(kannel()); r.status != 200 || !strings.Contains(string(r.body), "Khabardar checks") {
		t.Errorf("kannel once the store is back: %d %s", r.status, r.body)
	}
}
