package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
)

// smsEnabled reports whether any SMS gateway's secret is configured: the
// channel is off unless an operator turns it on.
func (c *Config) smsEnabled() bool { return c.TwilioAuthToken != "" || c.SMSSecret != "" }

// checkSMS validates the SMS settings: a gateway needs the public URL it
// calls (Twilio signs it; replies name the site).
func (c *Config) checkSMS() error {
	if !c.smsEnabled() {
		return nil
	}
	if c.PublicURL == "" {
		return fmt.Errorf("the SMS channel needs --public-url (KHABARDAR_PUBLIC_URL), the base URL the gateway calls, such as https://khabardar.pk")
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
func (c *Config) smsService(e *env, limiter *ratelimit.Limiter, log *slog.Logger) (*sms.Service, error) {
	if !c.smsEnabled() {
		return nil, nil
	}
	return sms.New(sms.Config{
		Store: e.store, Key: e.key, Layout: e.layout, Limiter: limiter,
		SiteURL: c.PublicURL, Log: log,
	})
}

const smsSimUsage = `khabardar sms-sim --from NUMBER [--server URL] [--gateway twilio|kannel] [--public-url URL]

Sends each line of standard input to a running server as one SMS from
NUMBER, signed as the gateway would sign it, and prints the reply. An empty
line is an empty message (which checks NUMBER itself, like ME). "/from
NUMBER" switches the sender; "/quit" or end of input stops.

The gateway's secret comes from the environment, as serve reads it:
KHABARDAR_TWILIO_AUTH_TOKEN for twilio (the default), KHABARDAR_SMS_SECRET
for kannel. Twilio signs the public URL (--public-url, KHABARDAR_PUBLIC_URL;
default: --server).

`

func cmdSMSSim(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("sms-sim", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), smsSimUsage)
		fs.PrintDefaults()
	}
	server := fs.String("server", envOr("KHABARDAR_SERVER", DefaultServer), "the Khabardar server's URL (env KHABARDAR_SERVER)")
	from := fs.String("from", "", "the sender's number, e.g. +923001234567 (required)")
	gateway := fs.String("gateway", "twilio", "sign and format requests as this gateway: twilio or kannel")
	public := fs.String("public-url", cfg.PublicURL, "the public base URL the server validates Twilio signatures against (env KHABARDAR_PUBLIC_URL; default --server)")
	if err := parse(fs, args); err != nil {
		return err
	}
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
	case "kannel":
		if sim.secret = cfg.SMSSecret; sim.secret == "" {
			return usageError{"set KHABARDAR_SMS_SECRET to the secret the server uses"}
		}
		sim.send = sim.kannel
	default:
		return usageError{"--gateway must be twilio or kannel"}
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

// smsSim posts messages as a gateway would.
type smsSim struct {
	server, public, from, secret string
	http                         *http.Client
	send                         func(ctx context.Context, body string) (reply string, ucs2 bool, err error)
}

// twilio posts the message as Twilio's inbound webhook does, signed with
// the auth token, and reads the TwiML reply.
func (s *smsSim) twilio(ctx context.Context, body string) (string, bool, error) {
	const path = "/v1/sms/twilio"
	form := url.Values{
		"From": {s.from}, "To": {"+15005550006"}, "Body": {body}, "NumSegments": {"1"}, "NumMedia": {"0"},
		"MessageSid": {"SM" + randomHex(16)}, "AccountSid": {"AC" + strings.Repeat("0", 32)},
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.server+"/v1/sms/kannel?"+q.Encode(), nil)
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
