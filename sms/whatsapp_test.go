package sms

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

func TestWhatsAppVerifyAndSignature(t *testing.T) {
	w := &WhatsApp{AppSecret: "app-secret", VerifyToken: "verify-me"}
	for _, tt := range []struct {
		name  string
		query string
		ok    bool
	}{
		{"right token", "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42", true},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=verify-you&hub.challenge=42", false},
		{"no mode", "hub.verify_token=verify-me&hub.challenge=42", false},
	} {
		q, _ := url.ParseQuery(tt.query)
		if c, ok := w.Verify(q); ok != tt.ok || (ok && c != "42") {
			t.Errorf("%s: %q %v", tt.name, c, ok)
		}
	}
	if _, ok := (&WhatsApp{}).Verify(url.Values{"hub.mode": {"subscribe"}}); ok {
		t.Error("an empty verify token verifies")
	}
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	sig := WhatsAppSignature("app-secret", body)
	for _, tt := range []struct {
		name   string
		w      *WhatsApp
		body   []byte
		header string
		ok     bool
	}{
		{"signed", w, body, sig, true},
		{"another secret", w, body, WhatsAppSignature("other", body), false},
		{"body changed", w, append([]byte(" "), body...), sig, false},
		{"no prefix", w, body, strings.TrimPrefix(sig, "sha256="), false},
		{"not hex", w, body, "sha256=zz", false},
		{"none", w, body, "", false},
		{"no secret configured", &WhatsApp{}, body, WhatsAppSignature("", body), false},
	} {
		if ok := tt.w.Authentic(tt.body, tt.header); ok != tt.ok {
			t.Errorf("%s: Authentic %v", tt.name, ok)
		}
	}
}

func TestDecodeWhatsApp(t *testing.T) {
	body := `{"object":"whatsapp_business_account","entry":[
	 {"changes":[{"field":"messages","value":{"messages":[
	   {"id":"wamid.1","from":"923001234567","type":"text","text":{"body":"ME"}},
	   {"id":"wamid.2","from":"923001234567","type":"image","image":{"id":"x"}},
	   {"id":"","from":"923001234567","type":"text","text":{"body":"no id"}}]}},
	  {"field":"messages","value":{"statuses":[{"id":"wamid.9","status":"read"}]}}]},
	 {"changes":[{"field":"messages","value":{"messages":[{"id":"wamid.3","from":"923217654321","type":"text","text":{"body":"URDU"}}]}}]}]}`
	got, err := DecodeWhatsApp([]byte(body))
	want := []WhatsAppMessage{{"wamid.1", "+923001234567", "ME"}, {"wamid.2", "+923001234567", "HELP"}, {"wamid.3", "+923217654321", "URDU"}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("%+v %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{`{"object":"page","entry":[]}`, `not json`, `[]`} {
		if _, err := DecodeWhatsApp([]byte(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

// FuzzDecodeWhatsApp: whatever Meta (or a forger who has the secret) posts,
// DecodeWhatsApp returns messages with IDs and E.164-looking senders, or
// an error, and never panics.
func FuzzDecodeWhatsApp(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"id":"a","from":"923001234567","type":"text","text":{"body":"ME"}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, err := DecodeWhatsApp(body)
		if err != nil {
			return
		}
		for _, m := range msgs {
			if m.ID == "" || !strings.HasPrefix(m.From, "+") {
				t.Fatalf("a message without an ID or a sender: %+v", m)
			}
		}
	})
}

func TestWhatsAppSend(t *testing.T) {
	status := http.StatusOK
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.WriteHeader(status)
	}))
	defer srv.Close()
	w := &WhatsApp{AccessToken: "graph-token", PhoneNumberID: "1234567890", GraphURL: srv.URL}
	ctx := context.Background()
	if err := w.Send(ctx, "+923001234567", "hello"); err != nil {
		t.Fatal(err)
	}
	if got.URL.Path != "/1234567890/messages" || got.Header.Get("Authorization") != "Bearer graph-token" {
		t.Errorf("request %s %v", got.URL.Path, got.Header)
	}
	for _, tt := range []struct {
		status    int
		permanent bool
	}{{400, true}, {401, true}, {429, false}, {500, false}} {
		status = tt.status
		err := w.Send(ctx, "+923001234567", "hello")
		if errors.Is(err, ErrPermanent) != tt.permanent || errors.Is(err, ErrRetryable) == tt.permanent {
			t.Errorf("%d: %v", tt.status, err)
		}
		if err != nil && (strings.Contains(err.Error(), "3001234567") || strings.Contains(err.Error(), "graph-token") || strings.Contains(err.Error(), "hello")) {
			t.Errorf("%d: the error holds the number, the token or the text: %v", tt.status, err)
		}
	}
	if err := w.Send(ctx, "03001234567", "hello"); !errors.Is(err, ErrPermanent) {
		t.Errorf("a number that is not E.164: %v", err)
	}
}

// TestWhatsAppFoundReply: through WhatsApp a found reply names each
// listing with what it sells and for how much, then the steps for the
// kind and the report to NCCIA, in the sender's language, never the value.
func TestWhatsAppFoundReply(t *testing.T) {
	e := newEnv(t, generous)
	cnic := mustParse(t, identifier.CNIC, testCNIC)
	e.ingest(listing("shop", "location", "cdr"), cnic)
	r, err := e.svc.Handle(context.Background(), Message{Gateway: "whatsapp", From: "+923001234567", Body: "CNIC " + testCNIC, WhatsApp: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"this CNIC is in 1 listing", "Listing shop: live location Rs 500", "668", "1799", SiteAddress(testSite)} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("the reply lacks %q:\n%s", want, r.Text)
		}
	}
	if strings.Contains(r.Text, "1234567") {
		t.Error("the reply repeats the CNIC")
	}
	e.svc.Handle(context.Background(), Message{Gateway: "whatsapp", From: "+923001234567", Body: "URDU", WhatsApp: true})
	r, _ = e.svc.Handle(context.Background(), Message{Gateway: "whatsapp", From: "+923001234567", Body: "CNIC " + testCNIC, WhatsApp: true})
	if !strings.Contains(r.Text, "668") || !strings.Contains(r.Text, "روپے") {
		t.Errorf("the Urdu reply:\n%s", r.Text)
	}
}
