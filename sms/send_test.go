package sms

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
)

const (
	sendSID      = "AC0123456789abcdef0123456789abcdef"
	sendToken    = "twilio-secret-token-9f3k"
	sendFrom     = "+15005550006"
	sendService  = "MG0123456789abcdef0123456789abcdef"
	sendUser     = "khabardar-sendsms"
	sendPassword = "kannel-secret-pw-7q2z"
	sendTo       = "+923001234567"
	sendText     = "Khabardar: your CNIC 35202-1234567-1 is in 2 listings"
)

// fakeGateway is an SMS gateway's sending API: it checks each request with
// check, records what it accepted, and answers as the test says.
type fakeGateway struct {
	srv *httptest.Server

	mu       sync.Mutex
	messages []url.Values // the accepted requests' fields
	requests int
	answer   func(w http.ResponseWriter, r *http.Request) // nil: accept
}

func newFakeGateway(t *testing.T, check func(r *http.Request) (url.Values, int, string)) *fakeGateway {
	f := &fakeGateway{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		answer := f.answer
		f.mu.Unlock()
		if answer != nil {
			answer(w, r)
			return
		}
		fields, status, body := check(r)
		if status/100 == 2 {
			f.mu.Lock()
			f.messages = append(f.messages, fields)
			f.mu.Unlock()
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGateway) reset(answer func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages, f.requests, f.answer = nil, 0, answer
}

func (f *fakeGateway) sent() ([]url.Values, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.messages, f.requests
}

// newFakeTwilio is Twilio's Messages API as Send uses it: Basic auth with
// the account SID and token, a form with To, Body and From or
// MessagingServiceSid; 201 and the message's JSON, or Twilio's error JSON.
func newFakeTwilio(t *testing.T) *fakeGateway {
	return newFakeGateway(t, func(r *http.Request) (url.Values, int, string) {
		const twilioErr = `{"code": %s, "message": "The 'To' number ` + sendTo + ` is not valid.", "more_info": "https://www.twilio.com/docs/errors/%s", "status": %s}`
		sid, token, ok := r.BasicAuth()
		switch {
		case !ok || sid != sendSID || token != sendToken:
			return nil, 401, `{"code": 20003, "message": "Authenticate", "status": 401}`
		case r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+sendSID+"/Messages.json":
			return nil, 404, `{"code": 20404, "message": "The requested resource was not found", "status": 404}`
		case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
			return nil, 400, `{"code": 21601, "status": 400}`
		}
		if err := r.ParseForm(); err != nil {
			return nil, 400, `{"code": 21601, "status": 400}`
		}
		f := r.PostForm
		if f.Get("To") == "" || f.Get("Body") == "" || (f.Get("From") == "") == (f.Get("MessagingServiceSid") == "") {
			return nil, 400, `{"code": 21604, "status": 400}`
		}
		if f.Get("To") == "+920000000000" {
			return nil, 400, strings.NewReplacer("%s", "21211").Replace(twilioErr)
		}
		return f, 201, `{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}`
	})
}

// newFakeKannel is Kannel's sendsms interface: GET /cgi-bin/sendsms with
// a sendsms-user's credentials; 202 "0: Accepted for delivery".
func newFakeKannel(t *testing.T) *fakeGateway {
	return newFakeGateway(t, func(r *http.Request) (url.Values, int, string) {
		q := r.URL.Query()
		switch {
		case r.URL.Path != "/cgi-bin/sendsms":
			return nil, 404, "Unknown service"
		case q.Get("username") != sendUser || q.Get("password") != sendPassword:
			return nil, 403, "Authorization failed for sendsms"
		case q.Get("to") == "" || q.Get("text") == "":
			return nil, 400, "Missing receiver number, rejected"
		}
		return q, 202, "0: Accepted for delivery"
	})
}

// sendCase is one Send outcome.
type sendCase struct {
	name   string
	answer func(w http.ResponseWriter, r *http.Request) // nil: the fake checks and accepts
	sender func(base string) Sender                     // the Sender, given the fake's URL
	to     string
	text   string
	ctx    time.Duration // a ctx timeout; 0 for none

	code      string // khabardar error code; "" for sent
	retryable bool
	status    int           // SendError.Status
	gwCode    int           // SendError.Code
	after     time.Duration // SendError.RetryAfter
	requests  int           // requests the fake saw; -1 for any
	deadline  bool          // errors.Is(err, context.DeadlineExceeded)
	want      url.Values    // fields of the sent message (a subset)
	absent    []string      // fields the sent message must not have
}

func answer(status int, header, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if k, v, ok := strings.Cut(header, ": "); ok {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// slow answers only when the client gives up, or after 5 seconds.
func slow(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body) // else net/http does not watch the connection, and Done waits
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// closedURL is the URL of a server that is no longer listening: its
// connections are refused.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// runSendCases runs each case against fake and checks the outcome, and
// that no error says the number, the text, a secret or the URL.
func runSendCases(t *testing.T, fake *fakeGateway, tests []sendCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.reset(tt.answer)
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			to, text := tt.to, tt.text
			if to == "" {
				to = sendTo
			}
			if text == "" {
				text = sendText
			}
			start := time.Now()
			err := tt.sender(fake.srv.URL).Send(ctx, to, text)
			if time.Since(start) > 3*time.Second {
				t.Errorf("Send took %v", time.Since(start))
			}
			msgs, requests := fake.sent()
			if tt.requests >= 0 && requests != tt.requests {
				t.Errorf("the gateway saw %d requests, want %d", requests, tt.requests)
			}
			if khabardar.ErrorCode(err) != tt.code {
				t.Fatalf("Send = %v, want code %q", err, tt.code)
			}
			if err == nil {
				if tt.answer != nil {
					return // the test's answer recorded nothing
				}
				if len(msgs) != 1 {
					t.Fatalf("sent %d messages, want 1", len(msgs))
				}
				for k := range tt.want {
					if msgs[0].Get(k) != tt.want.Get(k) {
						t.Errorf("%s = %q, want %q", k, msgs[0].Get(k), tt.want.Get(k))
					}
				}
				for _, k := range tt.absent {
					if msgs[0].Has(k) {
						t.Errorf("%s = %q, want none", k, msgs[0].Get(k))
					}
				}
				return
			}
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %T %v, want a *SendError", err, err)
			}
			if errors.Is(err, ErrRetryable) != tt.retryable || errors.Is(err, ErrPermanent) == tt.retryable ||
				se.Retryable != tt.retryable || se.Permanent() == tt.retryable {
				t.Errorf("Send = %v: retryable %v, permanent %v; want retryable %v", err,
					errors.Is(err, ErrRetryable), errors.Is(err, ErrPermanent), tt.retryable)
			}
			if se.Status != tt.status || se.Code != tt.gwCode || se.RetryAfter != tt.after {
				t.Errorf("Send = %+v: want status %d, code %d, retry after %v", se, tt.status, tt.gwCode, tt.after)
			}
			if errors.Is(err, context.DeadlineExceeded) != tt.deadline {
				t.Errorf("Send = %v: errors.Is DeadlineExceeded %v, want %v", err, !tt.deadline, tt.deadline)
			}
			host := strings.TrimPrefix(fake.srv.URL, "http://")
			for _, secret := range []string{to, strings.TrimPrefix(to, "+"), text, sendToken, sendPassword, sendUser, host, "cgi-bin", "Messages.json", "not valid"} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("the error %q says %q", err, secret)
				}
			}
		})
	}
}

func TestTwilioSend(t *testing.T) {
	fake := newFakeTwilio(t)
	twilio := func(base string) Sender {
		return &Twilio{AccountSID: sendSID, AuthToken: sendToken, From: sendFrom, APIURL: base}
	}
	with := func(f func(*Twilio)) func(string) Sender {
		return func(base string) Sender { tw := twilio(base).(*Twilio); f(tw); return tw }
	}
	urdu := "خبردار: آپ کا شناختی کارڈ 2 فہرستوں میں ہے"
	tests := []sendCase{
		{name: "201: sent from a number", sender: twilio, requests: 1,
			want: url.Values{"To": {sendTo}, "From": {sendFrom}, "Body": {sendText}}, absent: []string{"MessagingServiceSid"}},
		{name: "201: sent through a Messaging Service", sender: with(func(tw *Twilio) { tw.From = sendService }), requests: 1,
			want: url.Values{"MessagingServiceSid": {sendService}}, absent: []string{"From"}},
		{name: "201: Urdu text as UTF-8", sender: twilio, text: urdu, requests: 1, want: url.Values{"Body": {urdu}}},
		{name: "201: base URL with a trailing slash", sender: func(base string) Sender { return twilio(base + "/") }, requests: 1},
		{name: "400 21211: invalid number, permanent", sender: twilio, to: "+920000000000", requests: 1,
			code: khabardar.EINVALID, status: 400, gwCode: 21211},
		{name: "400 without JSON, permanent", sender: twilio, answer: answer(400, "", "<html>bad</html>"), requests: 1,
			code: khabardar.EINVALID, status: 400},
		{name: "401: wrong token, permanent", sender: with(func(tw *Twilio) { tw.AuthToken = "wrong-" + sendToken }), requests: 1,
			code: khabardar.EINTERNAL, status: 401, gwCode: 20003},
		{name: "404: wrong account, permanent", sender: with(func(tw *Twilio) { tw.APIURL += "/v2" }), requests: 1,
			code: khabardar.EINTERNAL, status: 404, gwCode: 20404},
		{name: "302: not followed, permanent", sender: twilio, answer: answer(302, "Location: http://127.0.0.1:1/x", ""), requests: 1,
			code: khabardar.EINTERNAL, status: 302},
		{name: "429: retryable, with Retry-After", sender: twilio, answer: answer(429, "Retry-After: 7", `{"code": 20429, "status": 429}`), requests: 1,
			code: khabardar.EUNAVAILABLE, retryable: true, status: 429, gwCode: 20429, after: 7 * time.Second},
		{name: "500: retryable", sender: twilio, answer: answer(500, "", `{"code": 20500, "status": 500}`), requests: 1,
			code: khabardar.EUNAVAILABLE, retryable: true, status: 500, gwCode: 20500},
		{name: "503 from a proxy: retryable", sender: twilio, answer: answer(503, "", "<html>Service Unavailable</html>"), requests: 1,
			code: khabardar.EUNAVAILABLE, retryable: true, status: 503},
		{name: "connection refused: retryable", sender: func(string) Sender { return twilio(closedURL(t)) }, requests: 0,
			code: khabardar.EUNAVAILABLE, retryable: true},
		{name: "slow server, ctx timeout: retryable", sender: twilio, answer: slow, ctx: 100 * time.Millisecond, requests: 1,
			code: khabardar.EUNAVAILABLE, retryable: true, deadline: true},
		{name: "not E.164: permanent, not sent", sender: twilio, to: "03001234567", requests: 0, code: khabardar.EINVALID},
		{name: "letters: permanent, not sent", sender: twilio, to: "+92300CALLME", requests: 0, code: khabardar.EINVALID},
		{name: "text over 1600 characters: permanent, not sent", sender: twilio, text: strings.Repeat("ا", TwilioBodyLimit+1), requests: 0, code: khabardar.EINVALID},
		{name: "no account SID: permanent, not sent", sender: with(func(tw *Twilio) { tw.AccountSID = "" }), requests: 0, code: khabardar.EINTERNAL},
		{name: "no From: permanent, not sent", sender: with(func(tw *Twilio) { tw.From = "" }), requests: 0, code: khabardar.EINTERNAL},
		{name: "API URL not a URL: permanent", sender: func(string) Sender { return twilio("http://[::1") }, requests: 0, code: khabardar.EINTERNAL},
	}
	runSendCases(t, fake, tests)
}

func TestKannelSendOutcomes(t *testing.T) {
	fake := newFakeKannel(t)
	kannel := func(base string) Sender {
		return &Kannel{SendURL: base + "/cgi-bin/sendsms", Username: sendUser, Password: sendPassword, From: "8484"}
	}
	with := func(f func(*Kannel)) func(string) Sender {
		return func(base string) Sender { k := kannel(base).(*Kannel); f(k); return k }
	}
	tests := []sendCase{
		{name: "202 accepted: sent", sender: kannel, requests: 1,
			want: url.Values{"to": {sendTo}, "text": {sendText}, "from": {"8484"}, "coding": {"0"}, "charset": {"UTF-8"}}},
		{name: "202 queued for later: sent", sender: kannel, answer: answer(202, "", "3: Queued for later delivery"), requests: 1, want: nil},
		{name: "Urdu: coding 2", sender: kannel, text: "آپ کا شناختی کارڈ", requests: 1, want: url.Values{"coding": {"2"}}},
		{name: "no From: the sendsms-user's default", sender: with(func(k *Kannel) { k.From = "" }), requests: 1, absent: []string{"from"}},
		{name: "base URL only: /cgi-bin/sendsms added", sender: with(func(k *Kannel) { k.SendURL = strings.TrimSuffix(k.SendURL, "/cgi-bin/sendsms") }), requests: 1},
		{name: "400: refused, permanent", sender: kannel, answer: answer(400, "", "Missing receiver number, rejected"), requests: 1,
			code: khabardar.EINVALID, status: 400},
		{name: "403: wrong password, permanent", sender: with(func(k *Kannel) { k.Password = "wrong-" + sendPassword }), requests: 1,
			code: khabardar.EINTERNAL, status: 403},
		{name: "404: wrong path, permanent", sender: with(func(k *Kannel) { k.SendURL += "x" }), requests: 1,
			code: khabardar.EINTERNAL, status: 404},
		{name: "503: sending failed, retryable", sender: kannel, answer: answer(503, "", "Sending failed."), requests: 1,
			code: khabardar.EUNAVAILABLE, retryable: true, status: 503},
		{name: "500: retryable", sender: kannel, answer: answer(500, "", ""), requests: 1,
			code: khabardar.EUNAVAILABLE, retryable: true, status: 500},
		{name: "connection refused: retryable", sender: func(string) Sender { return kannel(closedURL(t)) }, requests: 0,
			code: khabardar.EUNAVAILABLE, retryable: true},
		{name: "slow smsbox, ctx timeout: retryable", sender: kannel, answer: slow, ctx: 100 * time.Millisecond, requests: 1,
			code: khabardar.EUNAVAILABLE, retryable: true, deadline: true},
		{name: "not a number: permanent, not sent", sender: kannel, to: "0300-CALL-ME", requests: 0, code: khabardar.EINVALID},
		{name: "not configured: permanent", sender: func(string) Sender { return &Kannel{} }, requests: 0, code: khabardar.EINTERNAL},
		{name: "URL without a scheme: permanent", sender: with(func(k *Kannel) { k.SendURL = "127.0.0.1:13013/cgi-bin/sendsms" }), requests: 0,
			code: khabardar.EINTERNAL},
	}
	runSendCases(t, fake, tests)
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"none", "", 0},
		{"seconds", "30", 30 * time.Second},
		{"negative", "-5", 0},
		{"capped at a day", "999999", 24 * time.Hour},
		{"HTTP date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Fatalf("retryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}
