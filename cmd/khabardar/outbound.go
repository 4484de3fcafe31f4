package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/internal/quiet"
	"github.com/khabardar/khabardar/sms"
)

// registerAlerts adds the alert settings' flags to fs: every one but the
// secrets (KHABARDAR_ALERTS_SECRET, KHABARDAR_KANNEL_SENDSMS_PASSWORD,
// KHABARDAR_TWILIO_AUTH_TOKEN), which come from the environment only.
func (c *Config) registerAlerts(fs *pflag.FlagSet) {
	fs.StringVar(&c.AlertsQuietHours, "alerts-quiet-hours", c.AlertsQuietHours, "send no alert SMS in these hours, HH:MM-HH:MM Pakistan time (UTC+5), or off (env KHABARDAR_ALERTS_QUIET_HOURS)")
	fs.StringVar(&c.KannelSendURL, "kannel-sendsms-url", c.KannelSendURL, "send alerts through Kannel's sendsms interface at this `URL`, e.g. http://127.0.0.1:13013/cgi-bin/sendsms; its password from KHABARDAR_KANNEL_SENDSMS_PASSWORD (env KHABARDAR_KANNEL_SENDSMS_URL)")
	fs.StringVar(&c.KannelSendUser, "kannel-sendsms-user", c.KannelSendUser, "Kannel's sendsms-user to send alerts as (env KHABARDAR_KANNEL_SENDSMS_USER)")
	fs.StringVar(&c.KannelSendFrom, "kannel-sendsms-from", c.KannelSendFrom, "the short code or sender ID alerts come from through Kannel; default: the sendsms-user's default-sender (env KHABARDAR_KANNEL_SENDSMS_FROM)")
	fs.StringVar(&c.TwilioAccountSID, "twilio-account-sid", c.TwilioAccountSID, "send alerts through Twilio's Messages API as this account (AC…), with KHABARDAR_TWILIO_AUTH_TOKEN; used when no Kannel sendsms URL is set (env KHABARDAR_TWILIO_ACCOUNT_SID)")
	fs.StringVar(&c.TwilioFrom, "twilio-from", c.TwilioFrom, "what Twilio alerts come from: an E.164 number, a Messaging Service SID (MG…) or an alphanumeric sender ID (env KHABARDAR_TWILIO_FROM)")
	fs.DurationVar(&c.AlertsRetry, "alerts-retry", c.AlertsRetry, "the wait after an alert's first failed send (the gateway down), doubling with each failure up to 6h; 12 failures drop it, 1s to 1h (env KHABARDAR_ALERTS_RETRY)")
	fs.DurationVar(&c.AlertsLease, "alerts-lease", c.AlertsLease, "how long an alert a replica claimed is its own; one that dies sending it leaves it to be sent again after this, 1s to 1h (env KHABARDAR_ALERTS_LEASE)")
	fs.DurationVar(&c.AlertsPoll, "alerts-poll", c.AlertsPoll, "how often serve looks for queued alerts, 100ms to 10m; an ingest through the admin socket also wakes it (env KHABARDAR_ALERTS_POLL)")
	fs.StringVar(&c.TwilioAPIURL, "twilio-api-url", c.TwilioAPIURL, "Twilio's API base `URL`, to point tests at a fake (env KHABARDAR_TWILIO_API_URL)")
}

// smsSender builds the gateway alerts are sent through: Kannel's sendsms
// interface if its URL is set, else Twilio's Messages API if the account
// SID, the auth token and From are set, else nil. A gateway that is half
// configured (a Kannel URL without a user, an account SID without From, …)
// is an error, whichever one is used: the operator meant something.
func (c *Config) smsSender() (sms.Sender, error) {
	kannel, err := c.kannelSender()
	if err != nil {
		return nil, err
	}
	twilio, err := c.twilioSender()
	if err != nil {
		return nil, err
	}
	switch {
	case kannel != nil:
		return kannel, nil
	case twilio != nil:
		return twilio, nil
	}
	return nil, nil
}

// kannelSender is the Kannel Sender, nil if none of its settings is set.
func (c *Config) kannelSender() (*sms.Kannel, error) {
	if c.KannelSendURL == "" && c.KannelSendUser == "" && c.KannelSendPassword == "" && c.KannelSendFrom == "" {
		return nil, nil
	}
	switch {
	case c.KannelSendURL == "":
		return nil, fmt.Errorf("Kannel sending needs --kannel-sendsms-url (KHABARDAR_KANNEL_SENDSMS_URL), such as http://127.0.0.1:13013/cgi-bin/sendsms, with its user and password")
	case c.KannelSendUser == "":
		return nil, fmt.Errorf("Kannel sending needs --kannel-sendsms-user (KHABARDAR_KANNEL_SENDSMS_USER): a sendsms-user of smsbox")
	case c.KannelSendPassword == "":
		return nil, fmt.Errorf("Kannel sending needs KHABARDAR_KANNEL_SENDSMS_PASSWORD, the sendsms-user's password (environment only)")
	}
	if err := checkSendURL("--kannel-sendsms-url", c.KannelSendURL, "the user in --kannel-sendsms-user and the password in KHABARDAR_KANNEL_SENDSMS_PASSWORD"); err != nil {
		return nil, err
	}
	if f := c.KannelSendFrom; len(f) > 20 || strings.ContainsFunc(f, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("--kannel-sendsms-from must be a short code or sender ID of at most 20 characters")
	}
	return &sms.Kannel{SendURL: c.KannelSendURL, Username: c.KannelSendUser, Password: c.KannelSendPassword, From: c.KannelSendFrom}, nil
}

// twilioSender is the Twilio Sender, nil unless the account SID or From is
// set: the auth token alone is the inbound webhook's.
func (c *Config) twilioSender() (*sms.Twilio, error) {
	if c.TwilioAccountSID == "" && c.TwilioFrom == "" {
		return nil, nil
	}
	switch {
	case c.TwilioAccountSID == "":
		return nil, fmt.Errorf("Twilio sending needs --twilio-account-sid (KHABARDAR_TWILIO_ACCOUNT_SID) with --twilio-from")
	case !sms.ValidAccountSID(c.TwilioAccountSID):
		return nil, fmt.Errorf("--twilio-account-sid must be AC and 32 hex digits, as Twilio's console shows it")
	case c.TwilioAuthToken == "":
		return nil, fmt.Errorf("Twilio sending needs KHABARDAR_TWILIO_AUTH_TOKEN, the account's auth token (environment only)")
	case c.TwilioFrom == "":
		return nil, fmt.Errorf("Twilio sending needs --twilio-from (KHABARDAR_TWILIO_FROM): an E.164 number such as +15005550006, a Messaging Service SID (MG…) or a sender ID")
	case !validTwilioFrom(c.TwilioFrom):
		return nil, fmt.Errorf("--twilio-from must be an E.164 number such as +15005550006, a Messaging Service SID (MG and 32 hex digits) or an alphanumeric sender ID of at most 11 characters")
	}
	api := c.TwilioAPIURL
	if api == "" {
		api = sms.DefaultTwilioAPI
	}
	if err := checkSendURL("--twilio-api-url", api, "the account SID in --twilio-account-sid and the token in KHABARDAR_TWILIO_AUTH_TOKEN"); err != nil {
		return nil, err
	}
	return &sms.Twilio{AuthToken: c.TwilioAuthToken, PublicURL: c.PublicURL, AccountSID: c.TwilioAccountSID, From: c.TwilioFrom, APIURL: api}, nil
}

// checkSendURL accepts an absolute http(s) URL with no credentials, query
// or fragment: the credentials have their own settings, and the password's
// is a secret that a flag would show.
func checkSendURL(flag, s, credentials string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%s must be an http or https URL", flag)
	case u.User != nil:
		return fmt.Errorf("%s must hold no user or password: put them in %s", flag, credentials)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return fmt.Errorf("%s must have no query string: Khabardar adds the message's fields", flag)
	}
	return nil
}

// validTwilioFrom accepts what Twilio takes as a message's sender: an
// E.164 number, a Messaging Service SID, or an alphanumeric sender ID (1 to
// 11 letters, digits and spaces, at least one letter).
func validTwilioFrom(from string) bool {
	if sms.ValidMessagingServiceSID(from) {
		return true
	}
	if d, ok := strings.CutPrefix(from, "+"); ok {
		return len(d) >= 8 && len(d) <= 15 && d[0] != '0' && strings.Trim(d, "0123456789") == ""
	}
	if len(from) > 11 || strings.TrimSpace(from) != from {
		return false
	}
	letter := false
	for _, r := range from {
		switch {
		case r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z':
			letter = true
		case r >= '0' && r <= '9' || r == ' ':
		default:
			return false
		}
	}
	return letter
}

// alertsConfig is what serve knows of alerts at start.
type alertsConfig struct {
	Sender  sms.Sender  // nil when off
	Gateway string      // the Sender's gateway, "kannel" or "twilio"; "" when off
	Quiet   quiet.Hours // when no alert is sent
	Off     string      // why alerts are off; "" when on
}

// alerts checks the alert settings (the gateways, the quiet hours) and
// says whether alerts are on, through which gateway, and if not, why.
func (c *Config) alerts() (alertsConfig, error) {
	if c.AlertsPoll < 100*time.Millisecond || c.AlertsPoll > 10*time.Minute {
		return alertsConfig{}, fmt.Errorf("--alerts-poll must be from 100ms to 10m, not %v", c.AlertsPoll)
	}
	if c.AlertsRetry < time.Second || c.AlertsRetry > time.Hour {
		return alertsConfig{}, fmt.Errorf("--alerts-retry must be from 1s to 1h, not %v", c.AlertsRetry)
	}
	if c.AlertsLease < time.Second || c.AlertsLease > time.Hour {
		return alertsConfig{}, fmt.Errorf("--alerts-lease must be from 1s to 1h, not %v", c.AlertsLease)
	}
	q, err := quiet.Parse(c.AlertsQuietHours)
	if err != nil {
		return alertsConfig{}, fmt.Errorf("--alerts-quiet-hours (KHABARDAR_ALERTS_QUIET_HOURS): %v", err)
	}
	sender, err := c.smsSender()
	if err != nil {
		return alertsConfig{}, err
	}
	if c.AlertsSecret != "" && len(c.AlertsSecret) < alerts.MinSecretLen {
		return alertsConfig{}, fmt.Errorf("KHABARDAR_ALERTS_SECRET must be at least %d bytes, such as openssl rand -base64 32 prints: it keys the sealing of subscribers' numbers", alerts.MinSecretLen)
	}
	a := alertsConfig{Quiet: q}
	switch {
	case c.AlertsSecret == "" && sender == nil:
		a.Off = "KHABARDAR_ALERTS_SECRET is not set and no SMS gateway to send through is configured (KHABARDAR_KANNEL_SENDSMS_URL or KHABARDAR_TWILIO_ACCOUNT_SID)"
	case c.AlertsSecret == "":
		a.Off = "KHABARDAR_ALERTS_SECRET is not set"
	case sender == nil:
		a.Off = "no SMS gateway to send through is configured: set KHABARDAR_KANNEL_SENDSMS_URL (with _USER and _PASSWORD) or KHABARDAR_TWILIO_ACCOUNT_SID (with KHABARDAR_TWILIO_AUTH_TOKEN and KHABARDAR_TWILIO_FROM)"
	default:
		a.Sender = sender
		a.Gateway = sender.(sms.Gateway).Name()
	}
	return a, nil
}

// logAlerts says at start whether alerts are on, through which gateway and
// with which quiet hours, or why they are off; never a secret.
func (c *Config) logAlerts(a alertsConfig, log *slog.Logger) {
	if a.Sender == nil {
		log.Info("alerts are off", "reason", a.Off)
		return
	}
	attrs := []any{"gateway", a.Gateway, "quiet_hours", a.Quiet.String()}
	if c.KannelSendURL != "" && c.TwilioAccountSID != "" {
		attrs = append(attrs, "unused", "twilio") // Kannel wins when both are set
	}
	log.Info("alerts are on", attrs...)
	if tw, ok := a.Sender.(*sms.Twilio); ok && plainRemote(tw.APIURL) {
		log.Warn("the Twilio API URL is plain http to another host: the auth token crosses the network in clear", "gateway", "twilio")
	}
	if k, ok := a.Sender.(*sms.Kannel); ok && plainRemote(k.SendURL) {
		log.Warn("the Kannel sendsms URL is plain http to another host: the password, numbers and texts cross the network in clear", "gateway", "kannel")
	}
}

// plainRemote reports whether s is an http:// URL to a host other than
// loopback.
func plainRemote(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
