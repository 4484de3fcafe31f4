package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/wire"
)

// codeSender keeps the SMS it is asked to send.
type codeSender struct {
	mu   sync.Mutex
	msgs []string
}

func (c *codeSender) Send(_ context.Context, to, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, to+" "+text)
	return nil
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

func (c *codeSender) lastCode(t *testing.T) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.msgs) == 0 {
		t.Fatal("no SMS sent")
	}
	code := sixDigits.FindString(c.msgs[len(c.msgs)-1])
	if code == "" {
		t.Fatalf("no code in %q", c.msgs[len(c.msgs)-1])
	}
	return code
}

func alertsEnv(t *testing.T, rcEdit func(*ratelimit.Config)) (*env, *codeSender) {
	send := &codeSender{}
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) {
		sealer, err := alerts.NewSealer([]byte(strings.Repeat("a", alerts.MinSecretLen)))
		if err != nil {
			t.Fatal(err)
		}
		c.Alerts = &AlertsConfig{Store: c.Store.(khabardar.AlertStore), Sealer: sealer, Sender: send,
			Numbers: c.Key.Keyed(sms.SenderPurpose), Codes: c.Key.Keyed("alert-code")}
		if rcEdit != nil {
			rcEdit(rc)
		}
	})
	return e, send
}

// watchOf is the watch a browser sends for id: its VOPRF output split.
func (e *env) watchOf(id identifier.ID) wire.AlertWatch {
	x, err := e.key.Exposure(id, e.layout)
	if err != nil {
		e.t.Fatal(err)
	}
	return wire.AlertWatch{Prefix: x.Prefix, Suffix: hex.EncodeToString(x.Suffix), Kind: id.Kind().String()}
}

func TestAlertSignUp(t *testing.T) {
	e, send := alertsEnv(t, nil)
	cnic := mustID(t, identifier.CNIC, "35202-1234567-1")
	subscribe := func(code string, watches ...wire.AlertWatch) response {
		b, _ := json.Marshal(wire.AlertSubscribeRequest{AlertPerson: wire.AlertPerson{Number: "0300-1234567", Lang: "ur"}, Code: code, Watches: watches})
		return e.post(wire.RouteAlertSubscribe, string(b))
	}
	var cfg wire.Config
	json.Unmarshal(e.get(wire.RouteConfig).body, &cfg)
	if !cfg.Alerts {
		t.Error("/v1/config does not say alerts are on")
	}
	if r := e.post(wire.RouteAlertCode, `{"number":"0300-1234567","lang":"ur"}`); r.status != 202 {
		t.Fatalf("code: %d %s", r.status, r.body)
	}
	code := send.lastCode(t)
	if !strings.HasPrefix(send.msgs[0], "+923001234567 ") {
		t.Errorf("the code went to %q", strings.Fields(send.msgs[0])[0])
	}
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	if r := subscribe(wrong, e.watchOf(cnic)); r.status != 403 || errorCode(r) != wire.CodeWrongCode {
		t.Fatalf("a wrong code: %d %s", r.status, r.body)
	}
	r := subscribe(code, e.watchOf(cnic))
	var ok wire.AlertSubscribeResponse
	if r.status != 200 || json.Unmarshal(r.body, &ok) != nil || ok.Watching != 1 {
		t.Fatalf("the right code: %d %s", r.status, r.body)
	}
	if r := subscribe(code, e.watchOf(cnic)); r.status != 404 {
		t.Errorf("a code used twice: %d %s", r.status, r.body)
	}
	as := e.cfg.Alerts.Store
	id := e.cfg.Alerts.Numbers.Hex([]byte("phone:+923001234567"))
	sub, n, err := as.Subscriber(context.Background(), id)
	if err != nil || n != 1 || sub.Lang != "ur" {
		t.Fatalf("the subscriber: %v %d %v", sub.Lang, n, err)
	}
	// The watch is the browser's VOPRF output: an ingest of the CNIC
	// alerts them.
	e.ingest("shop", cnic)
	x, _ := e.key.Exposure(cnic, e.layout)
	if q, err := as.MatchWatches(context.Background(), "shop", []khabardar.Exposure{x}); err != nil || q != 1 {
		t.Errorf("MatchWatches: %d %v", q, err)
	}
	for _, m := range send.msgs {
		if strings.Contains(m, "3520212345671") {
			t.Error("the CNIC in an SMS")
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func errorCode(r response) string {
	var b wire.ErrorBody
	json.Unmarshal(r.body, &b)
	return b.Error.Code
}

// TestAlertCodeLimits: codes to one number, and codes asked by one
// client, are limited; five wrong guesses use a code up.
func TestAlertCodeLimits(t *testing.T) {
	e, send := alertsEnv(t, func(rc *ratelimit.Config) { rc.AlertCode = "2-H"; rc.AlertCodeIP = "4-H" })
	ask := func(number string) response {
		return e.post(wire.RouteAlertCode, `{"number":"`+number+`","lang":"en"}`)
	}
	for i, tt := range []struct {
		number string
		status int
	}{
		{"0300-1234567", 202}, {"0300-1234567", 202}, {"0300-1234567", 429}, // the number's 2
		{"0321-7654321", 202}, {"0333-1111111", 429}, // the client's 4, the refused one counted
	} {
		if r := ask(tt.number); r.status != tt.status {
			t.Fatalf("ask %d: %d %s, want %d", i, r.status, r.body, tt.status)
		}
	}
	if len(send.msgs) != 3 {
		t.Errorf("%d codes sent, want 3", len(send.msgs))
	}
	code := send.lastCode(t) // 0321's
	w := e.watchOf(mustID(t, identifier.CNIC, "35202-1234567-1"))
	for range CodeAttempts {
		b, _ := json.Marshal(wire.AlertSubscribeRequest{AlertPerson: wire.AlertPerson{Number: "0321-7654321", Lang: "en"}, Code: fmt.Sprintf("%06d", (atoi(code)+7)%1_000_000), Watches: []wire.AlertWatch{w}})
		e.post(wire.RouteAlertSubscribe, string(b))
	}
	b, _ := json.Marshal(wire.AlertSubscribeRequest{AlertPerson: wire.AlertPerson{Number: "0321-7654321", Lang: "en"}, Code: code, Watches: []wire.AlertWatch{w}})
	if r := e.post(wire.RouteAlertSubscribe, string(b)); r.status != 404 {
		t.Errorf("the right code after %d wrong: %d %s", CodeAttempts, r.status, r.body)
	}
}

// TestAlertRequestsRefused: what the endpoints refuse, before anything is
// sent or stored.
func TestAlertRequestsRefused(t *testing.T) {
	e, send := alertsEnv(t, nil)
	long := `{"number":"0300-1234567","lang":"en","x":"` + strings.Repeat("a", 5000) + `"}`
	for _, tt := range []struct {
		name, path, body, ct string
		status               int
		code                 string
	}{
		{"not JSON", wire.RouteAlertCode, `number=0300`, "application/x-www-form-urlencoded", 415, wire.CodeUnsupportedMediaType},
		{"broken JSON", wire.RouteAlertCode, `{"number":`, "application/json", 400, wire.CodeMalformedJSON},
		{"unknown field", wire.RouteAlertCode, `{"number":"0300-1234567","lang":"en","ip":"1.2.3.4"}`, "application/json", 400, wire.CodeUnknownField},
		{"too large", wire.RouteAlertCode, long, "application/json", 413, wire.CodeBodyTooLarge},
		{"landline", wire.RouteAlertCode, `{"number":"042-35761234","lang":"en"}`, "application/json", 400, wire.CodeInvalid},
		{"bad language", wire.RouteAlertCode, `{"number":"0300-1234567","lang":"fr"}`, "application/json", 400, wire.CodeInvalid},
		{"no watches", wire.RouteAlertSubscribe, `{"number":"0300-1234567","code":"123456","lang":"en","watches":[]}`, "application/json", 400, wire.CodeInvalid},
		{"a raw CNIC as a watch", wire.RouteAlertSubscribe, `{"number":"0300-1234567","code":"123456","lang":"en","watches":[{"prefix":"3520","suffix":"212345671","kind":"cnic"}]}`, "application/json", 400, wire.CodeInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(tt.path, tt.body, "Content-Type", tt.ct)
			if r.status != tt.status || errorCode(r) != tt.code {
				t.Errorf("%d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if strings.Contains(string(r.body), "1234567") {
				t.Error("the answer repeats the number")
			}
		})
	}
	if len(send.msgs) != 0 {
		t.Errorf("%d SMS sent for refused requests", len(send.msgs))
	}
	if strings.Contains(e.logs.String(), "1234567") {
		t.Error("a number in the logs")
	}
}

// TestAlertsOffNoRoutes: without alerts the endpoints do not exist.
func TestAlertsOffNoRoutes(t *testing.T) {
	e := newEnv(t)
	if r := e.post(wire.RouteAlertCode, `{"number":"0300-1234567","lang":"en"}`); r.status != 404 {
		t.Errorf("%d", r.status)
	}
	if strings.Contains(string(e.get(wire.RouteConfig).body), "alerts") {
		t.Error("/v1/config mentions alerts while they are off")
	}
}
