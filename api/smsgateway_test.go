package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/wire"
)

// fakeGateway is a third gateway, written as a new one would be: it only
// implements sms.Gateway, and is mounted through Config.SMSGateways alone.
// It takes GET /v1/sms/fake?from=&text=&id= with the key in X-Fake-Key
// (a body must be text/plain), and answers JSON-ish text with a 202.
type fakeGateway struct {
	decoded, rendered atomic.Int32
}

func (*fakeGateway) Name() string      { return "fake" }
func (*fakeGateway) Methods() []string { return []string{http.MethodGet} }

func (*fakeGateway) Authenticate(r *sms.Request) error {
	if r.ContentType != "" && r.ContentType != "text/plain" {
		return &sms.MediaTypeError{Message: "fake sends text/plain"}
	}
	if r.Header.Get("X-Fake-Key") != "k" {
		return sms.ErrForbidden
	}
	return nil
}

func (g *fakeGateway) Decode(r *sms.Request) (sms.Message, string, error) {
	g.decoded.Add(1)
	if r.Query.Get("id") == "" {
		return sms.Message{}, "", khabardar.Errorf(khabardar.EINVALID, "fake sends an id")
	}
	return sms.Message{From: r.Query.Get("from"), Body: r.Query.Get("text")}, r.Query.Get("id"), nil
}

func (g *fakeGateway) Render(reply sms.Reply) sms.Response {
	g.rendered.Add(1)
	if reply.Silent {
		return sms.Response{Status: http.StatusAccepted, ContentType: "application/x-fake"}
	}
	return sms.Response{Status: http.StatusAccepted, ContentType: "application/x-fake",
		Header: http.Header{"X-Fake": {"1"}}, Body: []byte("reply:" + reply.Text)}
}

// TestSMSGatewayList checks that a gateway is one sms.Gateway in
// Config.SMSGateways: mounted at /v1/sms/{Name} for its methods, refused
// with 403 when inauthentic before anything else (no parsing, no rate
// charge, no store), and otherwise run through the replay check, the
// service and its own Render, counted under its name.
func TestSMSGatewayList(t *testing.T) {
	const public = "https://khabardar.example.pk"
	fake := &fakeGateway{}
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) { rc.SMSSender = "1-H" })
	down := e.closedStore(t)                                                                   // it answers EUNAVAILABLE
	serve := func(seen khabardar.ReplayStore) *env { return e.withSMS(t, seen, public, fake) } // only the fake: twilio and kannel are off
	up, broken := serve(e.store), serve(down)

	req := func(method, key, contentType string, q url.Values) *http.Request {
		r := httptest.NewRequest(method, "/v1/sms/fake?"+q.Encode(), nil)
		if key != "" {
			r.Header.Set("X-Fake-Key", key)
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		return r
	}
	msg := func(id string) url.Values {
		return url.Values{"from": {"+923001234567"}, "text": {"HELP"}, "id": {id}}
	}

	// Inauthentic requests, many from one sender, on both servers: 403,
	// never decoded, nothing charged, the store never asked.
	for _, s := range []*env{up, broken} {
		for _, key := range []string{"", "wrong", "K"} {
			if r := s.do(req("GET", key, "", msg("a"))); r.status != 403 || r.code() != wire.CodeForbidden {
				t.Fatalf("key %q: %d %s, want 403 forbidden", key, r.status, r.body)
			}
		}
	}
	if n := fake.decoded.Load(); n != 0 {
		t.Fatalf("%d inauthentic requests decoded", n)
	}

	tests := []struct {
		name        string
		env         *env
		req         *http.Request
		status      int
		code        string
		contentType string
		body        string
	}{
		{"the gateway's media type is checked first", up, req("GET", "wrong", "application/json", msg("a")), 415, wire.CodeUnsupportedMediaType, "", ""},
		{"a method it does not take", up, req("POST", "k", "", msg("a")), 405, wire.CodeMethodNotAllowed, "", ""},
		{"a gateway not in the list", up, httptest.NewRequest("GET", "/v1/sms/kannel", nil), 404, khabardar.ENOTFOUND, "", ""},
		{"Decode's error is a 400", up, req("GET", "k", "", url.Values{"from": {"+923001234567"}}), 400, khabardar.EINVALID, "", ""},
		{"the replay store down: 503", broken, req("GET", "k", "", msg("b")), 503, khabardar.EUNAVAILABLE, "", ""},
		// The sender's limit is 1 an hour: the 403s above cost nothing.
		{"answered through its Render", up, req("GET", "k", "", msg("c")), 202, "", "application/x-fake", "reply:Khabardar checks"},
		{"its ID again: a replay, silent", up, req("GET", "k", "text/plain", msg("c")), 202, "", "application/x-fake", ""},
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
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if tt.body == "" && len(r.body) != 0 || !strings.HasPrefix(string(r.body), tt.body) {
				t.Errorf("body %q, want %q", r.body, tt.body)
			}
			if x := r.header.Get("X-Fake"); (x == "1") != (tt.body != "") {
				t.Errorf("X-Fake %q", x)
			}
		})
	}
	// Of all the requests to the server whose store is down, only the one
	// authentic request reached it.
	if m := broken.scrape(); !strings.Contains(m, `khabardar_dependency_errors_total{dependency="sms"} 1`) {
		t.Errorf("not exactly one request reached the replay store")
	}
	if n := fake.rendered.Load(); n != 2 {
		t.Errorf("Render called %d times, want 2", n)
	}
	for _, want := range []string{
		`khabardar_sms_messages_total{gateway="fake",outcome="replied"} 1`,
		`khabardar_sms_messages_total{gateway="fake",outcome="replay"} 1`,
	} {
		if !strings.Contains(up.scrape(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestSMSGatewayNames checks that New refuses a gateway list it could not
// serve as given: a name that cannot be a path segment and rate-limit key,
// or one name twice.
func TestSMSGatewayNames(t *testing.T) {
	e := newEnv(t)
	svc, err := sms.New(sms.Config{Store: e.store, Key: e.key, Layout: e.layout, Limiter: e.limiter, SiteURL: "khabardar.pk"})
	if err != nil {
		t.Fatal(err)
	}
	for name, gs := range map[string][]sms.Gateway{
		"twice":        {&sms.Kannel{Secret: "a"}, &sms.Kannel{Secret: "b"}},
		"invalid name": {namedGateway{"Bad/Name"}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("New did not panic")
				}
			}()
			cfg := e.cfg
			cfg.SMS, cfg.SMSGateways = svc, gs
			New(cfg)
		})
	}
}

// namedGateway is a Kannel under another name.
type namedGateway struct{ name string }

func (g namedGateway) Name() string                  { return g.name }
func (namedGateway) Methods() []string               { return []string{http.MethodGet} }
func (namedGateway) Authenticate(*sms.Request) error { return sms.ErrForbidden }
func (namedGateway) Decode(*sms.Request) (sms.Message, string, error) {
	return sms.Message{}, "", nil
}
func (namedGateway) Render(sms.Reply) sms.Response { return sms.Response{} }
