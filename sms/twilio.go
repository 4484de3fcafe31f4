package sms

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/khabardar/khabardar"
)

// Twilio is Twilio's inbound message webhook, POST /v1/sms/twilio: a form
// (From, To, Body, MessageSid, …) signed in X-Twilio-Signature with the
// account's auth token, answered with TwiML.
type Twilio struct {
	AuthToken string // the account's auth token; empty refuses every request
	// PublicURL is this server's base URL as Twilio calls it (scheme and
	// host, no path): Twilio signs the URL it was configured with, which a
	// proxy in front of this server may have rewritten on the way in.
	PublicURL string

	// For Send (twilio_send.go), alerts through the Messages API: the
	// account SID (AC…), which with AuthToken is the API's Basic auth; From,
	// the sending number in E.164 or a Messaging Service's SID (MG…); APIURL,
	// the API's base URL ("" is DefaultTwilioAPI; tests point it at a fake).
	// Client nil is one with a 10-second timeout that follows no redirects.
	AccountSID string
	From       string
	APIURL     string
	Client     *http.Client
}

var (
	_ Gateway = (*Twilio)(nil)

	errTwilioSID = khabardar.Errorf(khabardar.EINVALID, "MessageSid is not SM or MM and 32 hex digits, as Twilio sends it")
)

func (*Twilio) Name() string      { return "twilio" }
func (*Twilio) Methods() []string { return []string{http.MethodPost} }

// Authenticate verifies X-Twilio-Signature over the public URL and the
// posted form (ValidTwilio). Twilio posts nothing but a form: another
// media type is a *MediaTypeError.
func (t *Twilio) Authenticate(r *Request) error {
	if !strings.HasPrefix(r.ContentType, formType) {
		return &MediaTypeError{"Twilio posts " + formType}
	}
	signed := strings.TrimRight(t.PublicURL, "/") + r.RequestURI
	if !ValidTwilio(t.AuthToken, signed, r.Form, r.Header.Get("X-Twilio-Signature")) {
		return ErrForbidden
	}
	return nil
}

// Decode reads From and Body. Twilio sends a MessageSid with every message,
// so one that is missing or not ValidTwilioSID is refused.
func (*Twilio) Decode(r *Request) (Message, string, error) {
	sid := r.Form.Get("MessageSid")
	if !ValidTwilioSID(sid) {
		return Message{}, "", errTwilioSID
	}
	from := r.Form.Get("From")
	return Message{From: twilioSender(from), Body: r.Form.Get("Body"), WhatsApp: strings.HasPrefix(from, "whatsapp:")}, sid, nil
}

// twilioSender is the number a Twilio message came from. A WhatsApp message
// comes through the same webhook from "whatsapp:+923001234567": the number
// is the sender, so ME checks it, and its limits and language are the
// number's, shared with its SMS.
func twilioSender(from string) string {
	if rest, ok := strings.CutPrefix(from, "whatsapp:"); ok {
		return rest
	}
	return from
}

// Render answers TwiML: the reply as one <Message>, or an empty <Response/>
// for a Silent one.
func (*Twilio) Render(reply Reply) Response {
	text := reply.Text
	if reply.Silent {
		text = ""
	}
	return Response{ContentType: "text/xml; charset=utf-8", Body: TwiML(text)}
}

const formType = "application/x-www-form-urlencoded"

// TwilioSignature returns the X-Twilio-Signature Twilio sends with a webhook
// request to rawURL (the full URL Twilio was configured with, query string
// included) whose POSTed form fields are params: base64 of HMAC-SHA1, keyed
// with the account's auth token, of the URL followed by every field's name
// and value, fields sorted by name (byte order) and a repeated field's
// distinct values sorted, as twilio-python signs them. For a GET request,
// params is empty: the query string is in the URL.
func TwilioSignature(authToken, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(rawURL))
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Compact(slices.Sorted(slices.Values(params[name])))
		for _, v := range values {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidTwilio reports whether signature is Twilio's for this request. Like
// Twilio's own libraries it also accepts the signature of the URL with the
// scheme's default port added (https :443, http :80) or with its port
// removed, since what Twilio signed depends on how the URL was configured
// and proxies add or drop ports. The comparison takes constant time; an
// empty token or signature is never valid.
func ValidTwilio(authToken, rawURL string, params url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	valid := 0
	for _, u := range []string{rawURL, withPort(rawURL), withoutPort(rawURL)} {
		valid |= subtle.ConstantTimeCompare([]byte(TwilioSignature(authToken, u, params)), []byte(signature))
	}
	return valid == 1
}

// splitHost cuts rawURL around its host[:port], without parsing and
// re-encoding it (the signature is over the bytes Twilio used). ok is
// false for a URL without "://".
func splitHost(rawURL string) (scheme, before, hostport, after string, ok bool) {
	i := strings.Index(rawURL, "://")
	if i <= 0 {
		return "", "", "", "", false
	}
	scheme = strings.ToLower(rawURL[:i])
	start := i + 3
	end := len(rawURL)
	if j := strings.IndexAny(rawURL[start:], "/?#"); j >= 0 {
		end = start + j
	}
	authority := rawURL[start:end]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 { // user:password@
		start += at + 1
	}
	return scheme, rawURL[:start], rawURL[start:end], rawURL[end:], true
}

// portIndex returns the index of the ':' before a port in hostport, -1 if
// it has none (an IPv6 literal's colons are inside brackets).
func portIndex(hostport string) int {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.LastIndexByte(hostport, ']') > i {
		return -1
	}
	return i
}

// withPort returns rawURL with its scheme's default port if it names none.
func withPort(rawURL string) string {
	scheme, before, hostport, after, ok := splitHost(rawURL)
	if !ok || hostport == "" || portIndex(hostport) >= 0 {
		return rawURL
	}
	switch scheme {
	case "https":
		return before + hostport + ":443" + after
	case "http":
		return before + hostport + ":80" + after
	}
	return rawURL
}

// withoutPort returns rawURL without the port it names, if any.
func withoutPort(rawURL string) string {
	_, before, hostport, after, ok := splitHost(rawURL)
	if !ok {
		return rawURL
	}
	if i := portIndex(hostport); i >= 0 {
		return before + hostport[:i] + after
	}
	return rawURL
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>`

// TwiML returns the TwiML response that sends text as the reply SMS, or an
// empty <Response/> (no reply) for "": what a Silent Reply answers. Text is
// XML-escaped; characters XML cannot hold become U+FFFD.
func TwiML(text string) []byte {
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	if text == "" {
		b.WriteString("<Response/>")
		return b.Bytes()
	}
	b.WriteString("<Response><Message>")
	xml.EscapeText(&b, []byte(text)) // writes to a bytes.Buffer: no error
	b.WriteString("</Message></Response>")
	return b.Bytes()
}

// ValidTwilioSID reports whether sid has the form of the MessageSid Twilio
// posts with an inbound message: SM (an SMS) or MM (an MMS) and 32 hex
// digits. It is what Service.Replayed remembers a Twilio message by.
func ValidTwilioSID(sid string) bool {
	return len(sid) == 34 && (sid[:2] == "SM" || sid[:2] == "MM") && isHex(sid[2:])
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
