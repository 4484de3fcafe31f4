package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar/sms"
)

// fakeGraph is a stand-in for Meta's Graph API: it checks the bearer token
// and records each message sent; fail, if set, answers a request's status.
type fakeGraph struct {
	*httptest.Server
	mu   sync.Mutex
	sent []struct{ To, Text string }
	fail func(n int) int // the status for the n-th request (0: 200)
	reqs int
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.reqs++
		if r.Header.Get("Authorization") != "Bearer graph-token" || r.URL.Path != "/1234567890/messages" {
			http.Error(w, `{"error":{"code":190}}`, http.StatusUnauthorized)
			return
		}
		if g.fail != nil {
			if s := g.fail(g.reqs); s != 0 {
				w.WriteHeader(s)
				return
			}
		}
		var m struct {
			To   string `json:"to"`
			Text struct {
				Body string `json:"body"`
			} `json:"text"`
		}
		json.NewDecoder(r.Body).Decode(&m)
		g.sent = append(g.sent, struct{ To, Text string }{m.To, m.Text.Body})
		fmt.Fprint(w, `{"messages":[{"id":"wamid.x"}]}`)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *fakeGraph) wait(t *testing.T, n int) []struct{ To, Text string } {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		g.mu.Lock()
		got := append([]struct{ To, Text string }(nil), g.sent...)
		g.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d WhatsApp replies within 20 s, want %d", len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waMessage is one text message of a notification.
type waMessage struct{ id, from, text, kind string }

// notify posts a notification holding msgs, signed with secret.
func notify(t *testing.T, base, secret string, msgs ...waMessage) int {
	t.Helper()
	var ms []map[string]any
	for _, m := range msgs {
		kind := m.kind
		if kind == "" {
			kind = "text"
		}
		ms = append(ms, map[string]any{"id": m.id, "from": m.from, "timestamp": "1733200000", "type": kind,
			"text": map[string]string{"body": m.text}})
	}
	body, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": "WABA", "changes": []any{
			map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp", "messages": ms}},
			map[string]any{"field": "messages", "value": map[string]any{"statuses": []any{map[string]any{"id": "wamid.s", "status": "read"}}}},
		}}}})
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/whatsapp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Hub-Signature-256", sms.WhatsAppSignature(secret, body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestWhatsApp runs the WhatsApp Cloud API channel on each store with the
// real binary and a fake Graph API: the verification handshake; forged
// notifications refused and charging nothing; found, not found, ME, Urdu,
// HELP and a non-text message; 50 messages in one notification answered
// once each, and once only when delivered again; a Graph API failing
// with 500 then taking the reply; and no identifier or number in the logs.
func TestWhatsApp(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		graph := newFakeGraph(t)
		const secret = "meta-app-secret"
		c.env = append(c.env, "KHABARDAR_WHATSAPP_APP_SECRET="+secret, "KHABARDAR_WHATSAPP_VERIFY_TOKEN=verify-me",
			"KHABARDAR_WHATSAPP_ACCESS_TOKEN=graph-token", "KHABARDAR_WHATSAPP_PHONE_NUMBER_ID=1234567890",
			"KHABARDAR_WHATSAPP_GRAPH_URL="+graph.URL, "KHABARDAR_PUBLIC_URL=https://khabardar.example.pk")
		c.addListing("sentinels")
		s := sentinels
		c.ingest("sentinels", c.write("leak.csv", "name,cnic,mobile\n"+fmt.Sprintf("a,%s,%s\n", s[0].typed, s[1].typed)))
		srv := startServe(t, c, "--rate-sms-sender", "4-H")

		for _, tt := range []struct {
			query string
			code  int
			body  string
		}{
			{"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 200, "1158201444"},
			{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444", 403, ""},
			{"hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1", 403, ""},
		} {
			resp, err := http.Get(srv.base + "/v1/whatsapp?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code || (tt.body != "" && string(b) != tt.body) {
				t.Errorf("handshake %s: %d %q", tt.query, resp.StatusCode, b)
			}
		}

		owner := "923217654321" // s[1], in the listing; WhatsApp writes numbers without +
		for range 5 {
			if code := notify(t, srv.base, "not-the-secret", waMessage{"wamid.forged", owner, "ME", ""}); code != 403 {
				t.Fatalf("a forged notification: %d, want 403", code)
			}
		}
		if code := notify(t, srv.base, "", waMessage{"wamid.unsigned", owner, "ME", ""}); code != 403 {
			t.Fatalf("an unsigned notification: %d", code)
		}
		// None of the forged ones was charged: the sender's 4 an hour are
		// all there.
		notify(t, srv.base, secret,
			waMessage{"wamid.1", owner, "ME", ""},
			waMessage{"wamid.2", owner, s[0].typed, ""},
			waMessage{"wamid.3", owner, "42101-1111111-1", ""},
			waMessage{"wamid.4", owner, "", "image"})
		got := graph.wait(t, 4)
		want := []string{"number is in 1 listing", "CNIC is in 1 listing", "none of the", "STOP ends alerts"}
		for i, r := range got[:4] {
			if r.To != owner || !strings.Contains(r.Text, want[i]) {
				t.Errorf("reply %d to %s: %q, want it to contain %q", i, r.To, r.Text, want[i])
			}
		}

		// Urdu, from another number; then 50 messages at once from 50
		// numbers, and the same notification again.
		urdu := "923001234567"
		notify(t, srv.base, secret, waMessage{"wamid.u1", urdu, "URDU", ""}, waMessage{"wamid.u2", urdu, "HELP", ""})
		got = graph.wait(t, 6)
		if !strings.Contains(got[4].Text, "اردو") || !strings.Contains(got[5].Text, "شناختی") {
			t.Errorf("Urdu replies: %q %q", got[4].Text, got[5].Text)
		}
		var burst []waMessage
		for i := range 50 {
			burst = append(burst, waMessage{fmt.Sprintf("wamid.b%02d", i), fmt.Sprintf("9230012%05d", i), "HELP", ""})
		}
		notify(t, srv.base, secret, burst...)
		notify(t, srv.base, secret, burst...)
		got = graph.wait(t, 56)
		time.Sleep(time.Second)
		got = graph.wait(t, 56)
		to := map[string]int{}
		for _, r := range got[6:] {
			to[r.To]++
		}
		if len(got) != 56 || len(to) != 50 {
			t.Errorf("the burst: %d replies to %d numbers, want 50 to 50", len(got)-6, len(to))
		}

		// The Graph API fails once with 500: the reply is retried and sent
		// once.
		graph.mu.Lock()
		first := graph.reqs + 1
		graph.fail = func(n int) int {
			if n == first {
				return 500
			}
			return 0
		}
		graph.mu.Unlock()
		notify(t, srv.base, secret, waMessage{"wamid.r1", "923331112222", "HELP", ""})
		got = graph.wait(t, 57)
		time.Sleep(3 * time.Second) // past another retry
		if got = graph.wait(t, 57); len(got) != 57 {
			t.Errorf("after a 500: %d replies, want one more", len(got)-56)
		}
		scan(t, "serve's logs", []byte(srv.stop(t)))
	})
}

// TestWhatsAppSim drives both WhatsApp gateways with sms-sim: through
// Twilio (from whatsapp:NUMBER, so ME checks the number) and through the
// Cloud API (a signed notification; sms-sim's fake Graph API prints what it
// received).
func TestWhatsAppSim(t *testing.T) {
	c := newCLI(t, "")
	graphAddr := freeAddr(t)
	c.env = append(c.env, "KHABARDAR_TWILIO_AUTH_TOKEN=twilio-token",
		"KHABARDAR_WHATSAPP_APP_SECRET=meta-app-secret", "KHABARDAR_WHATSAPP_VERIFY_TOKEN=verify-me",
		"KHABARDAR_WHATSAPP_ACCESS_TOKEN=graph-token", "KHABARDAR_WHATSAPP_PHONE_NUMBER_ID=1234567890",
		"KHABARDAR_WHATSAPP_GRAPH_URL=http://"+graphAddr, "KHABARDAR_PUBLIC_URL=https://khabardar.example.pk")
	c.addListing("sentinels")
	s := sentinels
	c.ingest("sentinels", c.write("leak.csv", "name,cnic,mobile\n"+fmt.Sprintf("a,%s,%s\n", s[0].typed, s[1].typed)))
	srv := startServe(t, c)
	sim := func(gateway, from, lines string, extra ...string) string {
		t.Helper()
		args := append([]string{"sms-sim", "--server", srv.base, "--public-url", "https://khabardar.example.pk",
			"--gateway", gateway, "--from", from}, extra...)
		out, errs, code := c.runWithInput(lines, args...)
		if code != 0 {
			t.Fatalf("sms-sim --gateway %s: exit %d\n%s%s", gateway, code, out, errs)
		}
		return out
	}
	out := sim("twilio-whatsapp", "+923217654321", "ME\n"+s[0].typed+"\n42101-1111111-1\nURDU\nHELP\n")
	for _, want := range []string{"this number is in 1 listing", "this CNIC is in 1 listing", "668", "none of the", "اردو", "شناختی"} {
		if !strings.Contains(out, want) {
			t.Errorf("twilio-whatsapp: the replies lack %q:\n%s", want, out)
		}
	}
	// The number chose Urdu through Twilio: the choice is the number's, on
	// every channel, until it sends ENG.
	out = sim("whatsapp", "+923217654321", "ME\nENG\nME\nHELP\n", "--graph-listen", graphAddr)
	if strings.Count(out, "[Graph API: POST /1234567890/messages to 923217654321]") != 4 || !strings.Contains(out, "میں ملا") ||
		!strings.Contains(out, "this number is in 1 listing") || !strings.Contains(out, "STOP ends alerts") {
		t.Errorf("whatsapp through sms-sim:\n%s", out)
	}
	scan(t, "serve's logs", []byte(srv.stop(t)))
}

// TestWhatsAppGraphTimeout: a Graph API that never answers in time gets
// each reply tried three times, then given up, logged without its content.
func TestWhatsAppGraphTimeout(t *testing.T) {
	hang := make(chan struct{})
	var mu sync.Mutex
	n := 0
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer graph.Close()
	defer close(hang) // before Close, which waits for the handlers
	c := newCLI(t, "")
	const secret = "meta-app-secret"
	c.env = append(c.env, "KHABARDAR_WHATSAPP_APP_SECRET="+secret, "KHABARDAR_WHATSAPP_VERIFY_TOKEN=verify-me",
		"KHABARDAR_WHATSAPP_ACCESS_TOKEN=graph-token", "KHABARDAR_WHATSAPP_PHONE_NUMBER_ID=1234567890",
		"KHABARDAR_WHATSAPP_GRAPH_URL="+graph.URL, "KHABARDAR_WHATSAPP_TIMEOUT=300ms",
		"KHABARDAR_PUBLIC_URL=https://khabardar.example.pk")
	c.addListing("sentinels")
	s := sentinels
	c.ingest("sentinels", c.write("leak.csv", "cnic\n"+s[0].typed+"\n"))
	srv := startServe(t, c)
	if code := notify(t, srv.base, secret, waMessage{"wamid.t1", "923217654321", s[0].typed, ""}); code != 200 {
		t.Fatalf("notification: %d", code)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(srv.logs.String(), "whatsapp: a reply was not sent") {
		if time.Now().After(deadline) {
			t.Fatal("no give-up logged within 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	tried := n
	mu.Unlock()
	if tried != 3 {
		t.Errorf("the Graph API was tried %d times, want 3", tried)
	}
	scan(t, "serve's logs", []byte(srv.stop(t)))
}
