package sms

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/khabardar/khabardar"
)

// DefaultTwilioAPI is the base URL of Twilio's REST API, Twilio.APIURL's
// default.
const DefaultTwilioAPI = "https://api.twilio.com"

// TwilioBodyLimit is the most characters Twilio takes in one message's
// Body (it splits them into up to 10 segments).
const TwilioBodyLimit = 1600

var _ Sender = (*Twilio)(nil)

// Send sends text to the number to through Twilio's Messages API:
// POST {APIURL}/2010-04-01/Accounts/{AccountSID}/Messages.json with Basic
// auth (AccountSID, AuthToken) and the form fields To, Body and From, or
// MessagingServiceSid when From is a Messaging Service's SID (MG…). Twilio
// answers 201 once it has queued the message, which Send takes as sent.
//
// Every error is a *SendError (ErrPermanent or ErrRetryable), whose Code
// is Twilio's error code when it gave one: permanent EINVALID for a number
// that is not E.164 (+ and 8 to 15 digits), an empty text or one over
// TwilioBodyLimit characters, before any request, or when Twilio refuses
// the message (400 and other 4xx: 21211 an invalid To, 21610 a recipient
// who sent STOP, 21614 not a mobile number, …); permanent EINTERNAL when
// AccountSID, AuthToken or From is not set, or Twilio refuses the
// credentials (401, 403) or answers 404 or a redirect; retryable
// EUNAVAILABLE when Twilio cannot be reached, ctx ends first, or it
// answers 429 (with RetryAfter if it says) or 5xx. Twilio's own error
// message is never kept: it quotes the number.
func (t *Twilio) Send(ctx context.Context, to, text string) error {
	const what = "Twilio's Messages API"
	if t.AccountSID == "" || t.AuthToken == "" || t.From == "" {
		return permanent("twilio", khabardar.EINTERNAL, 0, "Twilio sending needs the account SID, the auth token and a From number or Messaging Service")
	}
	if !validE164(to) || text == "" || utf8.RuneCountInString(text) > TwilioBodyLimit {
		return permanent("twilio", khabardar.EINVALID, 0, "a Twilio SMS needs an E.164 number (+ and digits) and a text of 1 to %d characters", TwilioBodyLimit)
	}
	base := t.APIURL
	if base == "" {
		base = DefaultTwilioAPI
	}
	form := url.Values{"To": {to}, "Body": {text}}
	if ValidMessagingServiceSID(t.From) {
		form.Set("MessagingServiceSid", t.From)
	} else {
		form.Set("From", t.From)
	}
	endpoint := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(t.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return permanent("twilio", khabardar.EINTERNAL, 0, "the Twilio API URL is not a URL")
	}
	req.SetBasicAuth(t.AccountSID, t.AuthToken)
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Accept", "application/json")
	resp, body, err := do(ctx, t.Client, "twilio", what, req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 == 2 {
		return nil
	}
	// Twilio's error: {"code": 21211, "message": "The 'To' number … is not
	// a valid phone number.", "more_info": …, "status": 400}. Only the
	// code is kept.
	var answer struct {
		Code int `json:"code"`
	}
	json.Unmarshal(body, &answer) // not JSON (a proxy's page): no code
	e := statusError("twilio", what, resp, codeDetail(answer.Code))
	e.Code = answer.Code
	return e
}

// validE164 reports whether to is an E.164 number as Twilio takes it: +
// and 8 to 15 digits, the first not 0.
func validE164(to string) bool {
	d, ok := strings.CutPrefix(to, "+")
	if !ok || len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return false
	}
	return validNumber(d)
}

// ValidAccountSID reports whether sid has the form of a Twilio account
// SID: AC and 32 hex digits.
func ValidAccountSID(sid string) bool {
	return len(sid) == 34 && sid[:2] == "AC" && isHex(sid[2:])
}

// ValidMessagingServiceSID reports whether sid has the form of a Twilio
// Messaging Service SID, MG and 32 hex digits: a Twilio From that Send
// passes as MessagingServiceSid, so that the service picks the number.
func ValidMessagingServiceSID(sid string) bool {
	return len(sid) == 34 && sid[:2] == "MG" && isHex(sid[2:])
}
