package sms

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/khabardar/khabardar"
)

// Kannel is a Kannel-style sms-service, GET or POST /v1/sms/kannel: its
// get-url (or post-url form) carries the sender in "from", the text in
// "text", its message ID (%I) in "id" if the operator passes it, and the
// shared secret in "secret" or the X-Khabardar-Secret header, since Kannel
// cannot sign. The reply is the SMS text as plain UTF-8 with
// X-Kannel-Coding; an empty body sends nothing (Kannel's omit-empty).
type Kannel struct {
	Secret string // the shared secret; empty refuses every request

	// The sendsms interface (a sendsms-port of Kannel's smsbox), for Send:
	// its URL, such as http://127.0.0.1:13013/cgi-bin/sendsms (a URL with
	// no path gets /cgi-bin/sendsms), a sendsms-user's credentials, and
	// From, the short code or sender ID ("" leaves it to the sendsms-user's
	// default-sender). Client nil is one with a 10-second timeout that
	// follows no redirects.
	SendURL            string
	Username, Password string
	From               string
	Client             *http.Client
}

var (
	_ Gateway = (*Kannel)(nil)
	_ Sender  = (*Kannel)(nil)

	errKannelID = khabardar.Errorf(khabardar.EINVALID, "id is not a Kannel message ID (%%I: a UUID)")
)

func (*Kannel) Name() string      { return "kannel" }
func (*Kannel) Methods() []string { return []string{http.MethodGet, http.MethodPost} }

// Authenticate compares the secret (ValidSecret), from the header or else
// the arguments. Any media type is taken: a GET has none, and a POST that
// is not a form still has its query string.
func (k *Kannel) Authenticate(r *Request) error {
	secret := r.Header.Get("X-Khabardar-Secret")
	if secret == "" {
		secret = kannelArg(r, "secret")
	}
	if !ValidSecret(k.Secret, secret) {
		return ErrForbidden
	}
	return nil
}

// Decode reads from and text. The id is optional, as the get-url passes it
// only if the operator wrote %I in it; one that is there must be
// ValidKannelID.
func (*Kannel) Decode(r *Request) (Message, string, error) {
	id := kannelArg(r, "id")
	if id != "" && !ValidKannelID(id) {
		return Message{}, "", errKannelID
	}
	return Message{From: kannelArg(r, "from"), Body: kannelArg(r, "text")}, id, nil
}

// Render answers the text with its X-Kannel-Coding, or an empty body for a
// Silent reply.
func (*Kannel) Render(reply Reply) Response {
	resp := Response{ContentType: "text/plain; charset=utf-8"}
	if reply.Silent {
		return resp
	}
	resp.Header = http.Header{"X-Kannel-Coding": {reply.KannelCoding()}}
	resp.Body = []byte(reply.Text)
	return resp
}

// kannelArg returns the argument from the query string, else the posted
// form: a get-url sends the one, a post-url the other.
func kannelArg(r *Request, name string) string {
	if v := r.Query.Get(name); v != "" {
		return v
	}
	return r.Form.Get(name)
}

// ValidSecret reports whether got is the shared secret want, for gateways
// that cannot sign their requests (a Kannel sms-service passes it in its
// get-url). It compares SHA-256 digests in constant time, so neither the
// secret's bytes nor its length show in the timing; an empty want is never
// matched, so an unset secret refuses every request.
func ValidSecret(want, got string) bool {
	if want == "" {
		return false
	}
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(w[:], g[:]) == 1
}

// KannelCoding is the X-Kannel-Coding header value an sms-service reply
// needs: 2 (UCS-2) for a UCS2 reply, 0 (GSM 7-bit) otherwise.
func (r Reply) KannelCoding() string {
	if r.UCS2 {
		return "2"
	}
	return "0"
}

// ValidKannelID reports whether id has the form of the message ID a Kannel
// sms-service passes with %I (its internal message ID): a UUID, 8-4-4-4-12
// hex digits. Kannel sends the same ID again when it retries a request
// (http-request-retry), so Service.Replayed answers it once.
func ValidKannelID(id string) bool {
	parts := strings.Split(id, "-")
	if len(parts) != 5 {
		return false
	}
	for i, n := range []int{8, 4, 4, 4, 12} {
		if len(parts[i]) != n || !isHex(parts[i]) {
			return false
		}
	}
	return true
}

// Send asks Kannel's sendsms interface to send text to the number to:
// GET {SendURL}?username=&password=&from=&to=&text=&charset=UTF-8&coding=,
// coding 2 (UCS-2) when the text needs it, as Encoding says. Kannel
// answers 202 once it has queued the message ("0: Accepted for delivery",
// "3: Queued for later delivery"), which Send takes as sent.
//
// Every error is a *SendError (ErrPermanent or ErrRetryable):
// permanent EINVALID for a number that is not digits (an optional + first)
// or an empty text, before any request, or when Kannel refuses the message
// (400 and other 4xx); permanent EINTERNAL when SendURL is not set or not
// a URL, Kannel refuses the credentials (401, 403) or answers 404 or a
// redirect; retryable EUNAVAILABLE when Kannel cannot be reached (refused
// connection, timeout, ctx done) or fails (5xx: bearerbox down, queue
// full). Errors never hold the URL, which carries the number, the text and
// the password.
func (k *Kannel) Send(ctx context.Context, to, text string) error {
	const what = "Kannel's sendsms"
	if k.SendURL == "" {
		return permanent("kannel", khabardar.EINTERNAL, 0, "no Kannel sendsms URL is configured")
	}
	if !validNumber(to) || text == "" {
		return permanent("kannel", khabardar.EINVALID, 0, "an SMS needs a number of digits and a text")
	}
	u, err := url.Parse(k.SendURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return permanent("kannel", khabardar.EINTERNAL, 0, "the Kannel sendsms URL is not an http(s) URL")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/cgi-bin/sendsms"
	}
	coding := "0"
	if Encoding(text) == UCS2 {
		coding = "2"
	}
	q := url.Values{"username": {k.Username}, "password": {k.Password}, "to": {to},
		"text": {text}, "charset": {"UTF-8"}, "coding": {coding}}
	if k.From != "" {
		q.Set("from", k.From)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return permanent("kannel", khabardar.EINTERNAL, 0, "the Kannel sendsms URL is not a URL")
	}
	resp, _, err := do(ctx, k.Client, "kannel", what, req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return statusError("kannel", what, resp, "")
}

// validNumber reports whether to is 1 to 20 digits, with an optional + first.
func validNumber(to string) bool {
	to = strings.TrimPrefix(to, "+")
	if to == "" || len(to) > 20 {
		return false
	}
	for i := 0; i < len(to); i++ {
		if to[i] < '0' || to[i] > '9' {
			return false
		}
	}
	return true
}
