package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/internal/redisurl"
	"github.com/khabardar/khabardar/sms"
)

// TestSMS runs the SMS channel end to end on both stores: `khabardar serve`
// with both gateways configured, `khabardar sms-sim` posting signed
// messages over loopback, requests that are not authentic, the per-sender
// limit, and then a scan of the server's logs and the store for the
// identifiers and the sender's number.
func TestSMS(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.addListing("sentinels")
		s := sentinels
		c.ingest("sentinels", c.write("leak.csv", "name,cnic,mobile,imei\n"+fmt.Sprintf("a,%s,%s,%s\n", s[0].typed, s[1].typed, s[3].typed)))

		const (
			public = "https://khabardar.example.pk" // as behind a proxy: Twilio signs this, not the loopback address
			token  = "test-twilio-auth-token"
			secret = "test-kannel-secret"
		)
		c.env = append(c.env, "KHABARDAR_TWILIO_AUTH_TOKEN="+token, "KHABARDAR_SMS_SECRET="+secret)
		srv := startServe(t, c, "--public-url", public, "--rate-sms-sender", "12-H")
		owner := "+923217654321" // s[1], whose number is in the listing

		// sim sends each line as one message and returns the replies.
		sim := func(t *testing.T, gateway, from string, lines ...string) []string {
			t.Helper()
			out, errs, code := c.runWithInput(strings.Join(lines, "\n")+"\n",
				"sms-sim", "--server", srv.base, "--public-url", public, "--gateway", gateway, "--from", from)
			if code != 0 {
				t.Fatalf("sms-sim exit %d\nstdout: %s\nstderr: %s", code, out, errs)
			}
			var replies []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.HasPrefix(l, "  [") {
					replies = append(replies, l)
				}
			}
			if len(replies) != len(lines) {
				t.Fatalf("%d replies to %d messages:\n%s", len(replies), len(lines), out)
			}
			return replies
		}

		t.Run("twilio commands", func(t *testing.T) {
			tests := []struct{ send, want string }{
				{"CNIC " + s[0].typed, "this CNIC is in 1 listing"},
				{asciiDigits(s[0].typed), "this CNIC is in 1 listing"},
				{"cnic 35202-1234568-1", "this CNIC is in none of the 1 sale listing we know (newest " + time.Now().UTC().Format("2 Jan 2006") + ")"},
				{"IMEI " + s[3].typed, "this IMEI is in 1 listing"},
				{"ME", "this number is in 1 listing"},
				{"", "this number is in 1 listing"}, // an empty message checks the sender too
				{"URDU", "اردو"},
				{"mera number", "اشتہار"},
				{"ENGLISH", "replies will be in English"},
				{"madad", "Send your CNIC"},
				{"0300 1234567", "only check your own number"},
				{"IMEI 12345", "An IMEI has 15 digits"},
			}
			var lines []string
			for _, tt := range tests {
				lines = append(lines, tt.send)
			}
			replies := sim(t, "twilio", owner, lines...)
			for i, tt := range tests {
				if !strings.Contains(replies[i], tt.want) {
					t.Errorf("%q: reply %q, want it to contain %q", tt.send, replies[i], tt.want)
				}
			}
		})

		t.Run("kannel", func(t *testing.T) {
			out, errs, code := c.runWithInput("URDU\nME\n", "sms-sim", "--server", srv.base, "--gateway", "kannel", "--from", "03331234567")
			if code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			if strings.Count(out, "[UCS-2") != 2 || !strings.Contains(out, "ہمارے 1 اشتہار میں نہیں") {
				t.Errorf("Urdu replies, marked UCS-2, and not found; got:\n%s", out)
			}
		})

		t.Run("not authentic", func(t *testing.T) {
			from := "+923005550123"
			form := url.Values{"From": {from}, "To": {"+15005550006"}, "Body": {"ME"}}
			signed := sms.TwilioSignature(token, public+"/v1/sms/twilio", form)
			tests := []struct {
				name, method, path, signature string
				body                          url.Values
			}{
				{"twilio, no signature", "POST", "/v1/sms/twilio", "", form},
				{"twilio, wrong token", "POST", "/v1/sms/twilio", sms.TwilioSignature("other", public+"/v1/sms/twilio", form), form},
				{"twilio, signed for the loopback URL", "POST", "/v1/sms/twilio", sms.TwilioSignature(token, srv.base+"/v1/sms/twilio", form), form},
				{"twilio, body changed after signing", "POST", "/v1/sms/twilio", signed, url.Values{"From": {from}, "To": {"+15005550006"}, "Body": {"HELP"}}},
				{"kannel, no secret", "GET", "/v1/sms/kannel?" + url.Values{"from": {from}, "text": {"ME"}}.Encode(), "", nil},
				{"kannel, wrong secret", "GET", "/v1/sms/kannel?" + url.Values{"from": {from}, "text": {"ME"}, "secret": {"guess"}}.Encode(), "", nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					for range 20 { // far over the sender's limit, were they counted
						req, _ := http.NewRequest(tt.method, srv.base+tt.path, strings.NewReader(tt.body.Encode()))
						if tt.body != nil {
							req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						}
						if tt.signature != "" {
							req.Header.Set("X-Twilio-Signature", tt.signature)
						}
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						var e struct{ Error struct{ Code string } }
						json.NewDecoder(resp.Body).Decode(&e)
						resp.Body.Close()
						if resp.StatusCode != 403 || e.Error.Code != "forbidden" {
							t.Fatalf("%d %q, want 403 forbidden", resp.StatusCode, e.Error.Code)
						}
					}
				})
			}
			// Nothing was counted: the sender still has a full quota.
			if r := sim(t, "twilio", from, "ME"); !strings.Contains(r[0], "this number is in none of the 1 sale listing we know") {
				t.Errorf("after refused requests: %q", r[0])
			}
		})

		t.Run("sender limit", func(t *testing.T) {
			lines := make([]string, 14)
			for i := range lines {
				lines[i] = "HELP"
			}
			replies := sim(t, "twilio", "+923451234567", lines...)
			for i, r := range replies[:12] {
				if !strings.Contains(r, "Send your CNIC") {
					t.Errorf("message %d of 12 allowed: %q", i+1, r)
				}
			}
			if !strings.Contains(replies[12], "try again after") || replies[13] != "(no reply)" {
				t.Errorf("over the limit: %q, then %q; want one notice, then silence", replies[12], replies[13])
			}
			if r := sim(t, "twilio", "+923125550199", "HELP"); !strings.Contains(r[0], "Send your CNIC") {
				t.Errorf("another sender: %q", r[0])
			}
		})

		// A signed request captured (by a proxy's log, a leaked capture)
		// and replayed: once answered, then silence, and the real sender
		// keeps their quota.
		replaySID := "SM" + testHex(16)
		t.Run("twilio replay", func(t *testing.T) {
			from := "+923009998877"
			form := url.Values{"From": {from}, "To": {"+15005550006"}, "Body": {"ME"}, "NumSegments": {"1"}, "NumMedia": {"0"},
				"MessageSid": {replaySID}, "AccountSid": {"AC" + strings.Repeat("0", 32)}}
			signature := sms.TwilioSignature(token, public+"/v1/sms/twilio", form)
			post := func(client *http.Client) (int, string, error) {
				req, err := http.NewRequest("POST", srv.base+"/v1/sms/twilio", strings.NewReader(form.Encode()))
				if err != nil {
					return 0, "", err
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", signature)
				resp, err := client.Do(req)
				if err != nil {
					return 0, "", err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b), err
			}
			// 20 deliveries at once, from four source addresses.
			var (
				wg               sync.WaitGroup
				mu               sync.Mutex
				replies, silence []string
			)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status, body, err := post(clientFrom(t, fmt.Sprintf("127.0.0.%d", 1+i%4)))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil || status != 200:
						t.Errorf("delivery %d: %d %q %v", i, status, body, err)
					case body == string(sms.TwiML("")):
						silence = append(silence, body)
					default:
						replies = append(replies, body)
					}
				}()
			}
			wg.Wait()
			if len(replies) != 1 || len(silence) != 19 || !strings.Contains(replies[0], "this number is in none of the 1 sale listing we know") {
				t.Fatalf("20 deliveries of one message: %d replies and %d silences, want 1 and 19; replies: %q", len(replies), len(silence), replies)
			}
			// Later, one at a time from yet other addresses: still silence.
			for i := range 3 {
				if status, body, err := post(clientFrom(t, fmt.Sprintf("127.0.0.%d", 5+i))); err != nil || status != 200 || body != string(sms.TwiML("")) {
					t.Fatalf("replay %d: %d %q %v", 21+i, status, body, err)
				}
			}
			// The sender was charged once: 11 of the 12 an hour are left,
			// and the real sender is served.
			lines := make([]string, 12)
			for i := range lines {
				lines[i] = "HELP"
			}
			r := sim(t, "twilio", from, lines...)
			for i, reply := range r[:11] {
				if !strings.Contains(reply, "Send your CNIC") {
					t.Fatalf("the sender's message %d after the replays: %q", i+1, reply)
				}
			}
			if !strings.Contains(r[11], "try again after") {
				t.Errorf("the sender's 12th message after the replays: %q, want the limit notice", r[11])
			}
		})

		t.Run("twilio MessageSid", func(t *testing.T) {
			post := func(form url.Values, signed bool) (int, string) {
				req, _ := http.NewRequest("POST", srv.base+"/v1/sms/twilio", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if signed {
					req.Header.Set("X-Twilio-Signature", sms.TwilioSignature(token, public+"/v1/sms/twilio", form))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			msg := func(sid string) url.Values {
				v := url.Values{"From": {"+923006665544"}, "To": {"+15005550006"}, "Body": {"HELP"}}
				if sid != "" {
					v.Set("MessageSid", sid)
				}
				return v
			}
			for name, sid := range map[string]string{
				"none": "", "one short": "SM" + testHex(16)[1:], "an account SID": "AC" + testHex(16), "not hex": "SM" + strings.Repeat("z", 32),
			} {
				status, body := post(msg(sid), true)
				var e struct{ Error struct{ Code string } }
				json.Unmarshal([]byte(body), &e)
				if status != 400 || e.Error.Code != "invalid" {
					t.Errorf("MessageSid %s: %d %q, want 400 invalid", name, status, body)
				}
			}
			// An unsigned request records nothing: the MessageSid it names
			// is answered when Twilio's signed request comes.
			fresh := "SM" + testHex(16)
			if status, _ := post(msg(fresh), false); status != 403 {
				t.Fatalf("unsigned: %d, want 403", status)
			}
			if status, body := post(msg(fresh), true); status != 200 || !strings.Contains(body, "Send your CNIC") {
				t.Fatalf("signed, after an unsigned request with its MessageSid: %d %q", status, body)
			}
		})

		t.Run("kannel retry", func(t *testing.T) {
			// Kannel sends the same %I when it retries a request.
			h := testHex(16)
			q := url.Values{"from": {"03214445566"}, "text": {"HELP"}, "secret": {secret},
				"id": {h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]}}
			var got []string
			for range 3 {
				resp, err := http.Get(srv.base + "/v1/sms/kannel?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%d %s", resp.StatusCode, b)
				}
				got = append(got, string(b))
			}
			if !strings.Contains(got[0], "Send your CNIC") || got[1] != "" || got[2] != "" {
				t.Fatalf("a message delivered three times: %q, want one reply, then nothing", got)
			}
		})

		logs := srv.stop(t)
		// What is kept about SMS users expires: in Redis, each language
		// choice a year after the sender's last message, each message's
		// record after a day.
		if u := storeURL(c); u != "" {
			rdb, err := redisurl.Client(u, false)
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			kinds := map[string]struct {
				n   int
				ttl time.Duration
			}{"khb:p:": {ttl: 365 * 24 * time.Hour}, "khb:r:": {ttl: 24 * time.Hour}}
			for k := range redistest.Dump(t, u) {
				prefix := k[:min(len(k), 6)]
				kind, ok := kinds[prefix]
				if !ok {
					continue
				}
				kind.n++
				kinds[prefix] = kind
				if ttl := rdb.PTTL(context.Background(), k).Val(); ttl > kind.ttl || ttl < kind.ttl-10*time.Minute {
					t.Errorf("%s… has a TTL of %v, want %v", prefix, ttl, kind.ttl)
				}
			}
			if kinds["khb:p:"].n < 2 || kinds["khb:r:"].n < 20 {
				t.Errorf("%d preference and %d message keys: the check looks in the wrong place", kinds["khb:p:"].n, kinds["khb:r:"].n)
			}
		}
		scan(t, "serve's logs", []byte(logs))
		scan(t, "everything printed", c.output.Bytes())
		scan(t, "the store", c.storeBytes())
		for _, number := range []string{"3217654321", "3005550123", "3451234567", "3331234567", "3125550199", "3009998877", "3006665544", "3214445566"} {
			if strings.Contains(logs, number) || strings.Contains(string(c.storeBytes()), number) {
				t.Errorf("a sender's number %s is in the logs or the store", number)
			}
		}
		// Nor is a message's ID: it is stored as a keyed hash.
		for _, form := range []string{replaySID, replaySID[2:], strings.ToUpper(replaySID[2:])} {
			if strings.Contains(logs, form) || strings.Contains(string(c.storeBytes()), form) {
				t.Errorf("the replayed MessageSid is in the logs or the store as %q", form)
			}
		}
	})
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip (127.0.0.0/8 is all loopback on Linux), as requests
// from another host would.
// TestSMSEmptyCatalogue: a server with no listings answers every check
// through both gateways with the one-segment "cannot tell" reply, in the
// sender's language, never "not found".
func TestSMSEmptyCatalogue(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	const public = "https://khabardar.example.pk"
	c.env = append(c.env, "KHABARDAR_TWILIO_AUTH_TOKEN=test-token", "KHABARDAR_SMS_SECRET=test-secret")
	srv := startServe(t, c, "--public-url", public)
	tests := []struct {
		gateway, lines string
		want           []string
	}{
		{"twilio", "CNIC 35202-1234567-1\nME\n", []string{"Khabardar has no data-for-sale listings loaded yet, so a check cannot tell you anything now"}},
		{"kannel", "URDU\nME\n", []string{"ابھی کوئی اشتہار لوڈ نہیں، اس لیے کچھ نہیں بتا سکتے۔", "[UCS-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.gateway, func(t *testing.T) {
			out, errs, code := c.runWithInput(tt.lines, "sms-sim", "--server", srv.base, "--public-url", public, "--gateway", tt.gateway, "--from", "+923001234567")
			if code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("replies lack %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "none of the") || strings.Contains(out, "میں نہیں (") || strings.Contains(out, "[2 segments") {
				t.Errorf("a not-found or a two-segment reply from an empty catalogue:\n%s", out)
			}
		})
	}
}

func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// testHex returns n random bytes in hex.
func testHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
