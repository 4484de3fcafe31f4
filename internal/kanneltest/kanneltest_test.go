package kanneltest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// TestRoundTrip: an MO reaches the get-url, its reply (UCS-2 when the
// service says so) reaches the phone, and sendsms reaches it too.
func TestRoundTrip(t *testing.T) {
	got := make(chan url.Values, 4)
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Kannel-Coding", "2")
		fmt.Fprint(w, "جواب: reply")
	}))
	defer svc.Close()
	k := New(t)
	k.Start(Config{GetURL: svc.URL + "/sms?from=%p&text=%a&id=%I", SendUser: "alerts", SendPassword: "pw"})
	k.SendMO("03001234567", "8484", "hello there")
	select {
	case q := <-got:
		if q.Get("from") != "03001234567" || q.Get("text") != "hello there" || q.Get("id") == "" {
			t.Errorf("the service got %v", q)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the MO did not reach the service")
	}
	if m := k.MT(15 * time.Second); m.Coding != "ucs-2" || m.Text != "جواب: reply" || m.To != "03001234567" {
		t.Errorf("the reply reached the phone as %+v", m)
	}
	resp, err := http.Get(k.SendURL() + "?username=alerts&password=pw&to=03001234567&text=" + url.QueryEscape("an alert"))
	if err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("sendsms: %v %v", resp, err)
	}
	resp.Body.Close()
	if m := k.MT(15 * time.Second); m.Text != "an alert" {
		t.Errorf("the sendsms message reached the phone as %+v", m)
	}
	logs := k.Logs()
	if !bytes.Contains(logs, []byte("Sent SMS")) {
		t.Errorf("no access log read:\n%s", logs)
	}
	for _, s := range []string{"03001234567", "1234567", "hello", "an alert", "reply", "جواب"} {
		if bytes.Contains(logs, []byte(s)) {
			t.Errorf("Kannel's logs hold %q", s)
		}
	}
}

// TestRetries: with Retries, a get-url that fails is requested again with
// the same message ID, and the phone gets the one reply.
func TestRetries(t *testing.T) {
	ids := make(chan string, 4)
	var n atomic.Int32
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids <- r.URL.Query().Get("id")
		if n.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "answered")
	}))
	defer svc.Close()
	k := Start(t, Config{GetURL: svc.URL + "/sms?from=%p&text=%a&id=%I", Retries: 2})
	k.SendMO("03001234567", ShortCode, "hello")
	if m := k.MT(15 * time.Second); m.Text != "answered" {
		t.Errorf("the phone got %+v", m)
	}
	if first, again := <-ids, <-ids; first == "" || first != again {
		t.Errorf("requested with ID %q, then %q", first, again)
	}
	k.NoMT(500 * time.Millisecond)
}
