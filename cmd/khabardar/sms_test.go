package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
				{"cnic 35202-1234568-1", "this CNIC is in no data-for-sale listing"},
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
			if strings.Count(out, "[UCS-2") != 2 || !strings.Contains(out, "نہیں ملا") {
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
			if r := sim(t, "twilio", from, "ME"); !strings.Contains(r[0], "this number is in no data-for-sale listing") {
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

		logs := srv.stop(t)
		scan(t, "serve's logs", []byte(logs))
		scan(t, "everything printed", c.output.Bytes())
		scan(t, "the store", c.storeBytes())
		for _, number := range []string{"3217654321", "3005550123", "3451234567", "3331234567", "3125550199"} {
			if strings.Contains(logs, number) || strings.Contains(string(c.storeBytes()), number) {
				t.Errorf("a sender's number %s is in the logs or the store", number)
			}
		}
	})
}
