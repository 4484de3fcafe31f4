package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/khabardar/khabardar"
)

// WhatsApp is the WhatsApp Cloud API (Meta) channel. Meta verifies the
// webhook once (Verify), then posts signed notifications (Authentic,
// DecodeWhatsApp) holding any number of messages; each reply goes back
// through the Graph API (Send), not in the webhook's answer, which must be
// a quick 200.
type WhatsApp struct {
	AppSecret     string        // signs notifications: X-Hub-Signature-256
	VerifyToken   string        // the token of the verification handshake
	AccessToken   string        // the Graph API bearer token
	PhoneNumberID string        // the business number's ID, in the Graph API's path
	GraphURL      string        // default DefaultGraphURL; tests point it at a fake
	Timeout       time.Duration // one Graph API request's bound; default 10 s
	Client        *http.Client
}

// DefaultGraphURL is Meta's versioned Graph API.
const DefaultGraphURL = "https://graph.facebook.com/v21.0"

// WhatsAppBodyLimit is the most characters of a WhatsApp text message.
const WhatsAppBodyLimit = 4096

var _ Sender = (*WhatsApp)(nil)

// Verify answers Meta's verification handshake (GET with hub.mode,
// hub.verify_token and hub.challenge): the challenge to echo, and whether
// the token is ours (compared in constant time).
func (w *WhatsApp) Verify(q url.Values) (string, bool) {
	ok := q.Get("hub.mode") == "subscribe" && w.VerifyToken != "" &&
		subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(w.VerifyToken)) == 1
	return q.Get("hub.challenge"), ok
}

// Authentic reports whether header, X-Hub-Signature-256, is "sha256=" and
// the hex HMAC-SHA256 of the raw body under the app secret, compared in
// constant time. It is checked before anything reads the body.
func (w *WhatsApp) Authentic(body []byte, header string) bool {
	sig, ok := strings.CutPrefix(header, "sha256=")
	got, err := hex.DecodeString(sig)
	if !ok || err != nil || w.AppSecret == "" {
		return false
	}
	mac := hmac.New(sha256.New, []byte(w.AppSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// WhatsAppSignature is the X-Hub-Signature-256 Meta sends with body, for
// tests and sms-sim.
func WhatsAppSignature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WhatsAppMessage is one message of a notification: its ID (for answering
// it once), the sender's number (E.164), and its text; Text is "HELP" for
// a message that is not text (an image, a voice note): it gets the help.
type WhatsAppMessage struct {
	ID, From, Text string
}

// notification is the part of a whatsapp_business_account notification
// that matters here; status updates (sent, delivered, read) are ignored.
type notification struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Messages []struct {
					ID   string `json:"id"`
					From string `json:"from"`
					Type string `json:"type"`
					Text struct {
						Body string `json:"body"`
					} `json:"text"`
				} `json:"messages"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// DecodeWhatsApp reads a notification's messages, in order. EINVALID for a
// body that is not a whatsapp_business_account notification; a message
// without an ID or a sender is left out.
func DecodeWhatsApp(body []byte) ([]WhatsAppMessage, error) {
	var n notification
	if err := json.Unmarshal(body, &n); err != nil || n.Object != "whatsapp_business_account" {
		return nil, khabardar.Errorf(khabardar.EINVALID, "the body is not a whatsapp_business_account notification")
	}
	var out []WhatsAppMessage
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			if c.Field != "" && c.Field != "messages" {
				continue
			}
			for _, m := range c.Value.Messages {
				if m.ID == "" || len(m.ID) > 256 || m.From == "" || len(m.From) > maxFrom {
					continue
				}
				text := m.Text.Body
				if m.Type != "text" {
					text = "HELP"
				}
				out = append(out, WhatsAppMessage{ID: m.ID, From: "+" + strings.TrimPrefix(m.From, "+"), Text: text})
			}
		}
	}
	return out, nil
}

// Send sends text to the number to (E.164) through the Graph API:
// POST {GraphURL}/{PhoneNumberID}/messages with the bearer token. Errors are
// *SendError, as for the SMS gateways: permanent for 4xx (a number that is
// not on WhatsApp, a bad token), retryable for 429, 5xx, a timeout or no
// connection. They never hold the number, the text or the token.
func (w *WhatsApp) Send(ctx context.Context, to, text string) error {
	const what = "the WhatsApp Graph API"
	if w.AccessToken == "" || w.PhoneNumberID == "" {
		return permanent("whatsapp", khabardar.EINTERNAL, 0, "WhatsApp sending needs the access token and the phone number ID")
	}
	if !validE164(to) || text == "" || len([]rune(text)) > WhatsAppBodyLimit {
		return permanent("whatsapp", khabardar.EINVALID, 0, "a WhatsApp message needs an E.164 number and a text of 1 to %d characters", WhatsAppBodyLimit)
	}
	base := w.GraphURL
	if base == "" {
		base = DefaultGraphURL
	}
	body, _ := json.Marshal(map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": strings.TrimPrefix(to, "+"),
		"type": "text", "text": map[string]any{"preview_url": true, "body": text},
	})
	endpoint := strings.TrimRight(base, "/") + "/" + url.PathEscape(w.PhoneNumberID) + "/messages"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return permanent("whatsapp", khabardar.EINTERNAL, 0, "the Graph API URL is not a URL")
	}
	req.Header.Set("Authorization", "Bearer "+w.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, _, err := do(ctx, w.Client, "whatsapp", what, req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return statusError("whatsapp", what, resp, "")
}
