package sms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ratelimit"
)

// SenderPurpose is the hashing.Key.Keyed purpose of sender hashes: the only
// form of a sender's number that counters and preferences are keyed by.
const SenderPurpose = "sms-sender"

// MessagePurpose is the hashing.Key.Keyed purpose of message hashes: the
// only form of a gateway's message ID (Twilio's MessageSid) that is stored.
const MessagePurpose = "sms-message"

// ReplayWindow is how long a gateway message ID is remembered, so that a
// replay of its request gets silence. Twilio retries for minutes at most,
// Kannel for http-request-retry × http-queue-delay; a captured request
// replayed a day later is answered again, but is a day stale to whoever
// replays it, and the sender's limit bounds the answers.
const ReplayWindow = 24 * time.Hour

// Config is what a Service needs. Store, Key, Layout, Limiter and SiteURL
// are required.
type Config struct {
	Store khabardar.Store
	// Prefs keeps each sender's reply language. Default: Store, which both
	// store adapters make a PrefStore.
	Prefs khabardar.PrefStore
	// PrefRetention is how long a sender's language choice is kept after
	// their last message. Default khabardar.SMSPrefRetention, a year.
	PrefRetention time.Duration
	// Seen remembers the gateway message IDs answered in the last
	// ReplayWindow (Replayed). Default: Store, which both store adapters
	// make a ReplayStore.
	Seen   khabardar.ReplayStore
	Key    *hashing.Key
	Layout khabardar.Layout // the store's; its KeyID must be Key's
	// Limiter charges every message to its sender and its gateway
	// (ratelimit.Config SMSSender, SMSGateway). Required: SMS is never
	// unlimited.
	Limiter *ratelimit.Limiter
	// SiteURL is the website replies point to, e.g. "khabardar.pk". Replies
	// show it without "https://" (SiteAddress), in at most MaxSiteLen
	// characters of the GSM 7-bit default alphabet, no spaces.
	SiteURL string
	Log     *slog.Logger     // default slog.Default()
	Now     func() time.Time // default time.Now

	// Alerts keeps subscriptions (ALERT, STOP, ALERTS) and Sealer seals
	// subscribers' numbers; both nil: alerts are off, and ALERT says so.
	Alerts     khabardar.AlertStore
	Sealer     *alerts.Sealer
	MaxWatches int // per subscriber; default khabardar.MaxWatches
}

// Message is one SMS as a gateway delivers it.
type Message struct {
	Gateway string // which webhook it came through, e.g. "twilio", "kannel": ratelimit.ValidGatewayName
	From    string // the sender's number as the gateway writes it: +923001234567, 923001234567, 03001234567
	Body    string
	// WhatsApp says the message came by WhatsApp (the Cloud API, or
	// Twilio's WhatsApp sender): replies need not fit an SMS segment.
	WhatsApp bool
}

// Reply is the answer to send back, one SMS segment long.
type Reply struct {
	Text   string
	Lang   string // khabardar.LangEnglish or LangUrdu
	UCS2   bool   // Text must be sent as UCS-2 (Kannel coding=2); else GSM 7-bit
	Silent bool   // send nothing: a sender already told they are over their limit
}

// Service answers SMS. It is safe for concurrent use.
type Service struct {
	store   khabardar.Store
	prefs   khabardar.PrefStore
	retain  time.Duration // of preferences
	seen    khabardar.ReplayStore
	key     *hashing.Key
	sender  *hashing.Keyed
	message *hashing.Keyed
	layout  khabardar.Layout
	limiter *ratelimit.Limiter
	site    string // as shown
	log     *slog.Logger
	now     func() time.Time

	alerts     khabardar.AlertStore // nil: alerts are off
	sealer     *alerts.Sealer
	maxWatches int
}

// New checks cfg and returns a Service, or an EINVALID error naming the
// field that is wrong.
func New(cfg Config) (*Service, error) {
	bad := func(format string, args ...any) (*Service, error) {
		return nil, khabardar.Errorf(khabardar.EINVALID, "sms: "+format, args...)
	}
	if cfg.Prefs == nil {
		cfg.Prefs, _ = cfg.Store.(khabardar.PrefStore)
	}
	if cfg.Seen == nil {
		cfg.Seen, _ = cfg.Store.(khabardar.ReplayStore)
	}
	if cfg.PrefRetention == 0 {
		cfg.PrefRetention = khabardar.SMSPrefRetention
	}
	site := SiteAddress(cfg.SiteURL)
	switch {
	case cfg.Store == nil:
		return bad("no store")
	case cfg.Prefs == nil:
		return bad("no preference store, and the store is not one")
	case cfg.Seen == nil:
		return bad("no store of answered messages, and the store is not one")
	case khabardar.CheckTTL(cfg.PrefRetention) != nil:
		return bad("the preference retention %v is under a millisecond", cfg.PrefRetention)
	case cfg.Key == nil:
		return bad("no key")
	case cfg.Limiter == nil:
		return bad("no rate limiter: the SMS channel is never unlimited")
	case cfg.Layout.Validate() != nil:
		return bad("%s", khabardar.ErrorMessage(cfg.Layout.Validate()))
	case cfg.Layout.KeyID != cfg.Key.ID():
		return bad("the layout is for key %s, not the key given (%s)", cfg.Layout.KeyID, cfg.Key.ID())
	case site == "":
		return bad("no site URL for replies to point to")
	case len(site) > MaxSiteLen:
		return bad("the site address %q is longer than %d characters without its scheme, which replies have no room for", site, MaxSiteLen)
	case strings.ContainsFunc(site, func(r rune) bool { return Septets(r) != 1 || unicode.IsSpace(r) }):
		return bad("the site address %q has a space or a character outside the GSM 7-bit default alphabet", site)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if (cfg.Alerts == nil) != (cfg.Sealer == nil) {
		return bad("alerts need both a store and a sealer")
	}
	if cfg.MaxWatches == 0 {
		cfg.MaxWatches = khabardar.MaxWatches
	}
	return &Service{
		alerts: cfg.Alerts, sealer: cfg.Sealer, maxWatches: cfg.MaxWatches,
		store: cfg.Store, prefs: cfg.Prefs, retain: cfg.PrefRetention, seen: cfg.Seen,
		key: cfg.Key, sender: cfg.Key.Keyed(SenderPurpose), message: cfg.Key.Keyed(MessagePurpose),
		layout: cfg.Layout, limiter: cfg.Limiter, site: site, log: cfg.Log, now: cfg.Now,
	}, nil
}

// SenderHash returns the keyed hash a sender is counted and remembered by:
// of the canonical number if From is a Pakistani mobile number (so that
// +92300…, 92300… and 0300… are one sender), else of From as written.
func (s *Service) SenderHash(from string) string {
	_, h, _ := s.senderOf(strings.TrimSpace(from))
	return h
}

// senderOf returns the sender's hash and, if from is a Pakistani mobile
// number, the number; else the error saying why it is none.
func (s *Service) senderOf(from string) (own identifier.ID, hash string, err error) {
	own, err = identifier.Parse(identifier.Phone, identifier.Raw(from))
	if err == nil {
		return own, s.sender.Hex(own.Canonical()), nil
	}
	return own, s.sender.Hex([]byte("raw:" + from)), err
}

// Replayed reports whether the gateway delivered a message with this ID in
// the last ReplayWindow, and remembers it if not, by its keyed hash
// (MessagePurpose) only. A webhook calls it once the request is known to
// be authentic (a request anyone can forge must not fill the store) and
// before Handle, which it skips for a replay: a replay gets silence and
// costs the sender and the gateway nothing, so whoever captured a signed
// request learns nothing more from it and cannot use it to exhaust the
// sender's limit. Of concurrent deliveries of one ID, one is not a replay.
//
// EINVALID for a gateway name that is not ratelimit.ValidGatewayName or an
// ID that is not 1 to 64 printable ASCII characters (the webhook checks the
// gateway's own form first). EUNAVAILABLE when the store cannot be reached
// (or ctx ends): then the message must not be answered, but refused so that
// the gateway delivers it again later.
func (s *Service) Replayed(ctx context.Context, gateway, id string) (bool, error) {
	switch {
	case !ratelimit.ValidGatewayName(gateway):
		return false, khabardar.Errorf(khabardar.EINVALID, "sms: the gateway name is not 1 to 32 lowercase letters, digits and dashes")
	case id == "" || len(id) > maxMessageID || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }):
		return false, khabardar.Errorf(khabardar.EINVALID, "sms: the message ID is not 1 to %d printable ASCII characters", maxMessageID)
	}
	// The gateway is hashed in, so that two gateways' IDs never collide.
	first, err := s.seen.FirstSeen(ctx, s.message.Hex([]byte(gateway+"\x00"+id)), ReplayWindow)
	if err != nil {
		code := khabardar.EINTERNAL
		if khabardar.ErrorCode(err) == khabardar.EUNAVAILABLE ||
			errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			code = khabardar.EUNAVAILABLE
		}
		return false, fmt.Errorf("%w: %w", khabardar.Errorf(code, "sms: checking for a replayed message failed"), err)
	}
	return !first, nil
}

// maxMessageID bounds a gateway's message ID: Twilio's are 34 characters,
// Kannel's 36.
const maxMessageID = 64

// maxFrom bounds a sender address: E.164 has at most 15 digits, and
// alphanumeric senders 11 characters.
const maxFrom = 64

// Handle answers one message. It charges the sender's limit, then the
// gateway's, before anything else; then it parses the body and, for a
// check, evaluates the identifier itself.
//
// The error is for the caller's logs and metrics, the Reply for the person:
// a store or limiter that cannot be reached gives a reply to try later and
// an EUNAVAILABLE error, a fault of ours the same reply and EINTERNAL, a
// message without a valid gateway name or sender a Silent reply and EINVALID.
// Nothing of the sender or the body is in the error, or in the log line
// Handle writes (the command, the kind checked and the outcome).
func (s *Service) Handle(ctx context.Context, m Message) (Reply, error) {
	from := strings.TrimSpace(m.From)
	switch {
	case !ratelimit.ValidGatewayName(m.Gateway):
		return Reply{Silent: true}, khabardar.Errorf(khabardar.EINVALID, "sms: the gateway name is not 1 to 32 lowercase letters, digits and dashes")
	case from == "" || len(from) > maxFrom:
		return Reply{Silent: true}, khabardar.Errorf(khabardar.EINVALID, "sms: the message has no sender, or one longer than %d bytes", maxFrom)
	}
	h := &handling{s: s, m: m, lang: defaultLanguage(m.Body)}
	reply, err := h.run(ctx, from)
	h.logOutcome(ctx, err)
	return reply, err
}

// handling is one message on its way through Handle, with what is known of
// it for the log line.
type handling struct {
	s       *Service
	m       Message
	hash    string
	lang    string
	action  string // the command, "" before parsing
	kind    identifier.Kind
	outcome string
}

func (h *handling) run(ctx context.Context, from string) (Reply, error) {
	s := h.s
	own, hash, ownErr := s.senderOf(from)
	h.hash = hash

	// Limits first: a refused message costs no parse, no store read and no
	// evaluation.
	senderID := s.limiter.Sender(h.hash)
	d, err := s.limiter.Take(ctx, ratelimit.SMSSender, senderID, 1)
	if err != nil {
		return h.unavailable("charging the sender's limit", err)
	}
	if !d.Allowed {
		return h.refused(ctx, ratelimit.SMSSender, senderID, d)
	}
	d, err = s.limiter.Take(ctx, ratelimit.SMSGateway, s.limiter.Gateway(h.m.Gateway), 1)
	if err != nil {
		return h.unavailable("charging the gateway's limit", err)
	}
	if !d.Allowed {
		// The notice is per sender, so that each person waiting for the
		// gateway hears once when to come back.
		return h.refused(ctx, ratelimit.SMSGateway, senderID, d)
	}

	cmd := Parse(h.m.Body)
	h.action, h.kind = cmd.Action.String(), cmd.ID.Kind()
	if err := h.language(ctx); err != nil {
		return h.unavailable("reading the sender's language", err)
	}
	t := textsFor(h.lang)
	switch cmd.Action {
	case Check:
		return h.check(ctx, cmd.ID)
	case CheckSender:
		if ownErr != nil {
			h.kind = identifier.Phone
			return h.text("sender_not_mobile", t.notMobile), nil
		}
		return h.check(ctx, own)
	case Phone:
		if ownErr == nil && cmd.ID == own {
			return h.check(ctx, own)
		}
		return h.text("other_phone", t.otherPhone), nil
	case Language:
		if err := s.prefs.SetSMSLanguage(ctx, h.hash, cmd.Lang, s.retain); err != nil {
			return h.unavailable("saving the sender's language", err)
		}
		h.lang = cmd.Lang
		return h.text("language", textsFor(cmd.Lang).switched), nil
	case Invalid:
		h.kind = cmd.Kind
		return h.text("invalid_"+string(cmd.Reason), t.invalidText(cmd.Kind, cmd.Reason, s.site)), nil
	case Subscribe:
		return h.subscribe(ctx, cmd.ID, own, ownErr)
	case Unsubscribe:
		return h.unsubscribe(ctx)
	case ListAlerts:
		return h.listAlerts(ctx)
	}
	if h.m.WhatsApp {
		return h.text("help", t.helpLong(s.site)), nil // room for every command
	}
	return h.text("help", t.help(s.site)), nil // Help, and Unknown: what to send
}

// check evaluates id as the browser would, here on the server: its VOPRF
// output's bucket, the entry with its suffix, the listings that entry names.
func (h *handling) check(ctx context.Context, id identifier.ID) (Reply, error) {
	s, t := h.s, textsFor(h.lang)
	h.kind = id.Kind()
	x, err := s.key.Exposure(id, s.layout)
	if err != nil {
		return h.fail(khabardar.EINTERNAL, "hashing the identifier", err)
	}
	// The catalogue first: with no listing loaded, "not found" would be
	// false comfort.
	listings, err := s.store.Listings(ctx)
	if err != nil {
		return h.unavailable("reading the listings", err)
	}
	cat := khabardar.Summarize(listings)
	if cat.Empty() {
		return h.text("no_listings", t.noListings(s.site)), nil
	}
	entries, err := s.store.Bucket(ctx, x.Prefix)
	if err != nil {
		return h.unavailable("reading the bucket", err)
	}
	i, ok := slices.BinarySearchFunc(entries, x.Suffix, func(e khabardar.Entry, suffix []byte) int {
		return bytes.Compare(e.Suffix, suffix)
	})
	if !ok {
		return h.text("not_found", t.notFoundText(id.Kind(), cat, s.site)), nil
	}
	n, categories := 0, map[string]bool{}
	var found []*khabardar.Listing
	for _, l := range listings {
		// A listing the entry names but the catalogue no longer has is
		// being removed, and a fabricated one is no evidence of a sale:
		// neither is counted, as on the website.
		if !slices.Contains(entries[i].Listings, l.ID) || l.Fabricated {
			continue
		}
		n++
		found = append(found, l)
		for _, c := range l.Categories {
			categories[c.Category] = true
		}
	}
	if n == 0 {
		return h.text("not_found", t.notFoundText(id.Kind(), cat, s.site)), nil
	}
	if h.m.WhatsApp {
		// No segment to fit: the listings, what they sell and for how
		// much, and what to do.
		return h.text("found", t.foundLong(id.Kind(), found, s.site)), nil
	}
	return h.text("found", t.foundText(id.Kind(), n, topCategory(categories), s.site)), nil
}

// refused answers a message a limit refused: the first refusal in the
// window is told when to try again, the rest get silence.
func (h *handling) refused(ctx context.Context, c ratelimit.Class, id ratelimit.Identity, d ratelimit.Decision) (Reply, error) {
	first, err := h.s.limiter.Notice(ctx, c, id, d)
	if err != nil {
		return h.unavailable("counting the limit notice", err)
	}
	if !first {
		h.outcome = "silenced_" + string(c)
		return Reply{Silent: true}, nil
	}
	// The language matters only here; a store that cannot tell it does
	// not stop the notice.
	_ = h.language(ctx)
	at := d.Reset
	if now := h.s.now(); at.Before(now) {
		at = now
	}
	return h.text("limited_"+string(c), textsFor(h.lang).limited(clock(at))), nil
}

// language sets h.lang to the sender's choice, or keeps the default for the
// message if they made none.
func (h *handling) language(ctx context.Context) error {
	lang, err := h.s.prefs.SMSLanguage(ctx, h.hash, h.s.retain)
	switch khabardar.ErrorCode(err) {
	case "":
		h.lang = lang
	case khabardar.ENOTFOUND:
	default:
		return err
	}
	return nil
}

func (h *handling) text(outcome, text string) Reply {
	h.outcome = outcome
	return Reply{Text: text, Lang: h.lang, UCS2: Encoding(text) == UCS2}
}

// unavailable answers that the service has a problem and returns err as
// EUNAVAILABLE if it is an outage (the store or the counters cannot be
// reached, or the caller gave up waiting) and EINTERNAL otherwise.
func (h *handling) unavailable(op string, err error) (Reply, error) {
	code := khabardar.EINTERNAL
	if khabardar.ErrorCode(err) == khabardar.EUNAVAILABLE ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = khabardar.EUNAVAILABLE
	}
	return h.fail(code, op, err)
}

func (h *handling) fail(code, op string, err error) (Reply, error) {
	h.outcome = "unavailable"
	return h.text("unavailable", textsFor(h.lang).unavailable),
		fmt.Errorf("%w: %w", khabardar.Errorf(code, "sms: %s failed", op), err)
}

// logOutcome writes the one line Handle logs: no sender, no body, no
// identifier, not even the sender's hash.
func (h *handling) logOutcome(ctx context.Context, err error) {
	level, attrs := slog.LevelInfo, []slog.Attr{
		slog.String("gateway", h.m.Gateway),
		slog.String("command", h.action),
		slog.String("outcome", h.outcome),
		slog.String("lang", h.lang),
	}
	if h.kind != identifier.Unknown {
		attrs = append(attrs, slog.String("kind", h.kind.String()))
	}
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("code", khabardar.ErrorCode(err)), slog.String("error", khabardar.ErrorMessage(err)))
	}
	h.s.log.LogAttrs(ctx, level, "sms", attrs...)
}

// defaultLanguage is the reply language of a sender who never chose one:
// Urdu if they wrote Urdu letters, since they evidently read them, else
// English. Digits alone do not count: Urdu digits are often pasted from a
// document.
func defaultLanguage(body string) string {
	if len(body) <= MaxBodyBytes && strings.ContainsFunc(body, func(r rune) bool {
		return unicode.Is(unicode.Arabic, r) && unicode.IsLetter(r)
	}) {
		return khabardar.LangUrdu
	}
	return khabardar.LangEnglish
}

// subscribe watches id (the sender's own number if zero) for the sender:
// the watch is the identifier's VOPRF output, as exposures are stored, and
// the sender is kept as their hash and their number sealed.
func (h *handling) subscribe(ctx context.Context, id, own identifier.ID, ownErr error) (Reply, error) {
	s, t := h.s, textsFor(h.lang)
	switch {
	case s.alerts == nil:
		return h.text("alerts_off", t.alertsOff), nil
	case ownErr != nil: // an alert goes by SMS to a Pakistani mobile number
		h.kind = identifier.Phone
		return h.text("alert_sender_not_mobile", t.alertNeedsMobile), nil
	case id.IsZero():
		id = own
	case id.Kind() == identifier.Phone && id != own:
		h.kind = identifier.Phone
		return h.text("other_phone", t.otherPhone), nil
	}
	h.kind = id.Kind()
	d, err := s.limiter.Take(ctx, ratelimit.AlertSubscribe, s.limiter.Sender(h.hash), 1)
	if err != nil {
		return h.unavailable("charging the sender's subscriptions", err)
	}
	if !d.Allowed {
		return h.text("alert_daily_limit", t.alertDaily), nil
	}
	x, err := s.key.Exposure(id, s.layout)
	if err != nil {
		return h.fail(khabardar.EINTERNAL, "hashing the identifier", err)
	}
	sub := khabardar.Subscriber{ID: h.hash, Sealed: s.sealer.Seal(h.hash, own), Lang: h.lang}
	_, err = s.alerts.Watch(ctx, sub, khabardar.Watch{Prefix: x.Prefix, Suffix: x.Suffix, Kind: id.Kind()}, s.maxWatches)
	switch khabardar.ErrorCode(err) {
	case "":
	case khabardar.ECONFLICT:
		return h.text("alert_limit", t.alertLimit(s.maxWatches)), nil
	default:
		return h.unavailable("saving the watch", err)
	}
	return h.text("subscribed", t.subscribed(t.kinds[id.Kind()])), nil
}

// unsubscribe forgets the sender's subscription, watches and queued alerts.
func (h *handling) unsubscribe(ctx context.Context) (Reply, error) {
	s, t := h.s, textsFor(h.lang)
	if s.alerts == nil {
		return h.text("no_alerts", t.noAlerts), nil
	}
	found, err := s.alerts.Unsubscribe(ctx, h.hash)
	if err != nil {
		return h.unavailable("removing the subscriber", err)
	}
	if !found {
		return h.text("no_alerts", t.noAlerts), nil
	}
	return h.text("unsubscribed", t.stopped), nil
}

// listAlerts says how many watches the sender has, never which.
func (h *handling) listAlerts(ctx context.Context) (Reply, error) {
	s, t := h.s, textsFor(h.lang)
	if s.alerts == nil {
		return h.text("alerts_off", t.alertsOff), nil
	}
	_, n, err := s.alerts.Subscriber(ctx, h.hash)
	switch khabardar.ErrorCode(err) {
	case "", khabardar.ENOTFOUND:
	default:
		return h.unavailable("reading the subscriber", err)
	}
	if n == 0 {
		return h.text("no_alerts", t.noAlerts), nil
	}
	return h.text("alert_count", t.alertCount(n)), nil
}
