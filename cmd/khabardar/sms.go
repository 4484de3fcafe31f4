package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/api"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/wire"
)

// smsGateways builds the SMS gateways whose secrets are configured: the one
// place that turns settings into webhooks. A gateway is off until an
// operator sets its secret; adding one is a case here and its settings.
func (c *Config) smsGateways() []sms.Gateway {
	var gs []sms.Gateway
	if c.TwilioAuthToken != "" {
		gs = append(gs, &sms.Twilio{AuthToken: c.TwilioAuthToken, PublicURL: c.PublicURL})
	}
	if c.SMSSecret != "" {
		gs = append(gs, &sms.Kannel{Secret: c.SMSSecret})
	}
	return gs
}

// whatsApp is the WhatsApp Cloud API channel when its app secret, verify
// token and access token are set, else nil.
func (c *Config) whatsApp() *sms.WhatsApp {
	if c.WhatsAppAppSecret == "" || c.WhatsAppVerifyToken == "" || c.WhatsAppAccessToken == "" {
		return nil
	}
	return &sms.WhatsApp{AppSecret: c.WhatsAppAppSecret, VerifyToken: c.WhatsAppVerifyToken,
		AccessToken: c.WhatsAppAccessToken, PhoneNumberID: c.WhatsAppPhoneNumberID, GraphURL: c.WhatsAppGraphURL,
		Timeout: c.WhatsAppTimeout}
}

// smsEnabled reports whether any SMS gateway, or WhatsApp, is configured:
// the channel is off unless an operator turns it on.
func (c *Config) smsEnabled() bool { return len(c.smsGateways()) > 0 || c.whatsApp() != nil }

// checkSMS validates the SMS settings: a gateway needs the public URL it
// calls (Twilio signs it; replies name the site).
func (c *Config) checkSMS() error {
	if !c.smsEnabled() {
		return nil
	}
	if c.PublicURL == "" {
		return fmt.Errorf("the SMS channel needs --public-url (KHABARDAR_PUBLIC_URL), the base URL the gateway calls, such as https://khabardar.pk")
	}
	if c.whatsApp() != nil && c.WhatsAppPhoneNumberID == "" {
		return fmt.Errorf("WhatsApp needs KHABARDAR_WHATSAPP_PHONE_NUMBER_ID, the business number's ID the replies are sent from")
	}
	return checkPublicURL(c.PublicURL)
}

// checkPublicURL accepts an absolute http(s) URL with no path, query or
// fragment: Twilio signs the base plus the webhook's path.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("--public-url must be a base URL such as https://khabardar.pk, with no path or query")
	}
	return nil
}

// smsService builds the SMS service when a gateway is configured, else nil.
// With alerts on (a, from Config.alerts), ALERT and STOP keep subscribers
// in the store, sealed with sealer.
func (c *Config) smsService(e *env, limiter *ratelimit.Limiter, a alertsConfig, sealer *alerts.Sealer, log *slog.Logger) (*sms.Service, error) {
	if !c.smsEnabled() {
		return nil, nil
	}
	cfg := sms.Config{
		Store: e.store, Key: e.key, Layout: e.layout, Limiter: limiter,
		SiteURL: c.PublicURL, Log: log,
	}
	if a.Sender != nil {
		as, ok := e.store.(khabardar.AlertStore)
		if !ok {
			return nil, fmt.Errorf("this store keeps no alerts")
		}
		cfg.Alerts, cfg.Sealer = as, sealer
	}
	return sms.New(cfg)
}

// alertWorker is serve's sender of queued alerts, nil with alerts off.
func (c *Config) alertWorker(e *env, limiter *ratelimit.Limiter, a alertsConfig, sealer *alerts.Sealer, log *slog.Logger) *sms.AlertWorker {
	if a.Sender == nil {
		return nil
	}
	as, _ := e.store.(khabardar.AlertStore)
	w := &sms.AlertWorker{
		Store: as, Listings: e.store, Sealer: sealer, Sender: a.Sender, Gateway: a.Gateway,
		Limiter: limiter, SiteURL: c.PublicURL, Log: log, Poll: c.AlertsPoll, Lease: c.AlertsLease, Retry: c.AlertsRetry,
	}
	if !a.Quiet.Off() {
		w.Quiet = a.Quiet.Next
	}
	return w
}

const smsSimLong = `Sends each line of standard input to a running server as one SMS from
NUMBER, signed as the gateway would sign it, and prints the reply. An empty
line is an empty message (which checks NUMBER itself, like ME). "/from
NUMBER" switches the sender; "/quit" or end of input stops.

The gateway's secret comes from the environment, as serve reads it:
KHABARDAR_TWILIO_AUTH_TOKEN for twilio (the default) and twilio-whatsapp (a
WhatsApp message through Twilio, from whatsapp:NUMBER), KHABARDAR_SMS_SECRET
for kannel, KHABARDAR_WHATSAPP_APP_SECRET for whatsapp (the Cloud API: a
signed notification; the reply comes back through the Graph API, so
--graph-listen ADDR serves a fake one there, and serve must run with
KHABARDAR_WHATSAPP_GRAPH_URL=http://ADDR). Twilio signs the public URL
(--public-url, KHABARDAR_PUBLIC_URL; default: --server).
`

func cmdSMSSim(fs *pflag.FlagSet, cfg *Config) runFunc {
	server := fs.String("server", envOr("KHABARDAR_SERVER", DefaultServer), "the Khabardar server's `URL` (env KHABARDAR_SERVER)")
	from := fs.String("from", "", "the sender's number, e.g. +923001234567 (required)")
	gateway := fs.String("gateway", "twilio", "sign and format requests as this gateway: twilio, kannel, twilio-whatsapp (a WhatsApp message through Twilio) or whatsapp (the Cloud API)")
	graph := fs.String("graph-listen", "", "whatsapp: serve a fake Graph API on this `ADDR` (run serve with KHABARDAR_WHATSAPP_GRAPH_URL=http://ADDR) and print the replies it receives")
	public := fs.String("public-url", cfg.PublicURL, "the public base URL the server validates Twilio signatures against (env KHABARDAR_PUBLIC_URL; default --server)")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if *from == "" {
			return usageError{"--from NUMBER is required: the sender whose messages to simulate"}
		}
		if *public == "" {
			*public = *server
		}
		sim := &smsSim{server: strings.TrimRight(*server, "/"), public: strings.TrimRight(*public, "/"), from: *from,
			http: &http.Client{Timeout: 30 * time.Second}}
		switch *gateway {
		case "twilio":
			if sim.secret = cfg.TwilioAuthToken; sim.secret == "" {
				return usageError{"set KHABARDAR_TWILIO_AUTH_TOKEN to the token the server uses"}
			}
			sim.send = sim.twilio
		case "twilio-whatsapp":
			if sim.secret = cfg.TwilioAuthToken; sim.secret == "" {
				return usageError{"set KHABARDAR_TWILIO_AUTH_TOKEN to the token the server uses"}
			}
			sim.whatsapp = true
			sim.send = sim.twilio
		case "kannel":
			if sim.secret = cfg.SMSSecret; sim.secret == "" {
				return usageError{"set KHABARDAR_SMS_SECRET to the secret the server uses"}
			}
			sim.send = sim.kannel
		case "whatsapp":
			if sim.secret = cfg.WhatsAppAppSecret; sim.secret == "" {
				return usageError{"set KHABARDAR_WHATSAPP_APP_SECRET to the app secret the server uses"}
			}
			if *graph == "" {
				return usageError{"--graph-listen ADDR is required with --gateway whatsapp: the replies come back through the Graph API, which the server must be pointed at (KHABARDAR_WHATSAPP_GRAPH_URL=http://ADDR)"}
			}
			stop, err := sim.listenGraph(*graph, stdout)
			if err != nil {
				return err
			}
			defer stop()
			sim.send = sim.cloud
		default:
			return usageError{"--gateway must be twilio, kannel, twilio-whatsapp or whatsapp"}
		}

		in := bufio.NewScanner(os.Stdin)
		interactive := isTerminal(os.Stdin)
		for {
			if interactive {
				fmt.Fprint(stdout, "sms> ")
			}
			if !in.Scan() {
				return in.Err()
			}
			line := in.Text()
			switch {
			case line == "/quit":
				return nil
			case strings.HasPrefix(line, "/from "):
				sim.from = strings.TrimSpace(strings.TrimPrefix(line, "/from "))
				continue
			}
			text, ucs2, err := sim.send(ctx, line)
			if err != nil {
				return err
			}
			if text == "" {
				fmt.Fprintln(stdout, "(no reply)")
				continue
			}
			units, segments := sms.Length(text)
			coding := "GSM-7"
			if ucs2 || sms.Encoding(text) == sms.UCS2 {
				coding = "UCS-2"
			}
			fmt.Fprintf(stdout, "%s\n  [%s, %d units, %d segment(s)]\n", text, coding, units, segments)
		}
	}
}

// smsSim posts messages as a gateway would.
type smsSim struct {
	server, public, from, secret string
	http                         *http.Client
	send                         func(ctx context.Context, body string) (reply string, ucs2 bool, err error)
	whatsapp                     bool        // twilio: a WhatsApp message, from whatsapp:NUMBER
	graphReplies                 chan string // whatsapp: what the fake Graph API received
}

// listenGraph serves a fake Graph API on addr: each message the server
// sends is printed (recipient and text, as the Graph API got them) and
// handed to cloud as the reply.
func (s *smsSim) listenGraph(addr string, stdout io.Writer) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--graph-listen %s: %v", addr, err)
	}
	s.graphReplies = make(chan string, 64)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			To   string `json:"to"`
			Text struct {
				Body string `json:"body"`
			} `json:"text"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&m); err != nil {
			http.Error(w, "not a message", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(stdout, "  [Graph API: POST %s to %s]\n", r.URL.Path, m.To)
		select {
		case s.graphReplies <- m.Text.Body:
		default:
		}
		fmt.Fprint(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.sim"}]}`)
	})}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// cloud posts the message as the WhatsApp Cloud API's notification, signed
// with the app secret, and waits for the reply at the fake Graph API.
func (s *smsSim) cloud(ctx context.Context, body string) (string, bool, error) {
	note, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": "0", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"messages": []any{map[string]any{"id": "wamid.sim" + randomHex(12), "from": strings.TrimPrefix(s.from, "+"),
				"timestamp": fmt.Sprint(time.Now().Unix()), "type": "text", "text": map[string]string{"body": body}}},
		}}}}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.server+wire.RouteWhatsApp, bytes.NewReader(note))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", sms.WhatsAppSignature(s.secret, note))
	if _, err := s.do(req); err != nil {
		return "", false, err
	}
	select {
	case r := <-s.graphReplies:
		return r, false, nil
	case <-time.After(15 * time.Second):
		return "", false, nil // no reply: a limit's silence, or the server's Graph URL is not this one
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
}

// twilio posts the message as Twilio's inbound webhook does, signed with
// the auth token, and reads the TwiML reply.
func (s *smsSim) twilio(ctx context.Context, body string) (string, bool, error) {
	const path = wire.RouteSMSTwilio
	form := url.Values{
		"From": {s.from}, "To": {"+15005550006"}, "Body": {body}, "NumSegments": {"1"}, "NumMedia": {"0"},
		"MessageSid": {"SM" + randomHex(16)}, "AccountSid": {"AC" + strings.Repeat("0", 32)},
	}
	if s.whatsapp {
		form.Set("From", "whatsapp:"+s.from)
		form.Set("To", "whatsapp:+14155238886")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.server+path, strings.NewReader(form.Encode()))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sms.TwilioSignature(s.secret, s.public+path, form))
	resp, err := s.do(req)
	if err != nil {
		return "", false, err
	}
	var twiml struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(resp, &twiml); err != nil {
		return "", false, fmt.Errorf("the server's reply is not TwiML: %v", err)
	}
	return strings.Join(twiml.Messages, "\n"), false, nil
}

// randomHex returns n random bytes in hex: each simulated message has its
// own gateway ID, as each real one does (a repeated ID is a replay).
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// kannel calls the sms-service URL as Kannel's get-url would, with the
// message ID (%I) that lets the server answer a retried request once.
func (s *smsSim) kannel(ctx context.Context, body string) (string, bool, error) {
	u := randomHex(16) // as Kannel's %I writes its message's UUID
	id := u[:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:]
	q := url.Values{"from": {s.from}, "text": {body}, "secret": {s.secret}, "id": {id}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.server+wire.RouteSMSKannel+"?"+q.Encode(), nil)
	if err != nil {
		return "", false, err
	}
	var coding string
	resp, err := s.doHeader(req, &coding)
	if err != nil {
		return "", false, err
	}
	return string(resp), coding == "2", nil
}

func (s *smsSim) do(req *http.Request) ([]byte, error) { return s.doHeader(req, nil) }

// doHeader sends req and returns the body of a 200; coding, if not nil,
// receives X-Kannel-Coding.
func (s *smsSim) doHeader(req *http.Request, coding *string) ([]byte, error) {
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the server cannot be reached: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if coding != nil {
		*coding = resp.Header.Get("X-Kannel-Coding")
	}
	return body, nil
}

// isTerminal reports whether f is a character device (a terminal): then the
// simulator shows a prompt.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// apiAlerts turns on the website's alert sign-up when alerts are on.
func (c *Config) apiAlerts(e *env, a alertsConfig, sealer *alerts.Sealer) *api.AlertsConfig {
	if a.Sender == nil {
		return nil
	}
	as, _ := e.store.(khabardar.AlertStore)
	return &api.AlertsConfig{Store: as, Sealer: sealer, Sender: a.Sender,
		Numbers: e.key.Keyed(sms.SenderPurpose), Codes: e.key.Keyed("alert-code")}
}
