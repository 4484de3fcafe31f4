package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/alerts"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/wire"
)

// Alerts from the website. After a check, a person may ask to be told by
// SMS when a new listing holds what they checked: they give a mobile
// number, receive a 6-digit code there, and send it back with the VOPRF
// outputs their browser already holds for the identifiers checked (never
// the identifiers). The number must reach us, since an SMS cannot be sent
// to a hash: it is kept sealed (package alerts), found by its keyed hash.
//
// The code flow resists SMS-bombing (someone typing another's number over
// and over): codes to one number and codes asked for by one client are
// limited (ratelimit AlertCode, AlertCodeIP), a code lasts CodeTTL, allows
// CodeAttempts guesses and is compared in constant time by the store.

// AlertsConfig turns alerts on in the API; nil leaves them off (no routes,
// and /v1/config says alerts: false).
type AlertsConfig struct {
	Store  khabardar.AlertStore
	Sealer *alerts.Sealer
	Sender sms.Sender
	// Numbers hashes a subscriber's canonical number: the SMS sender hash
	// (hashing.Key.Keyed(sms.SenderPurpose)), so that STOP by SMS finds a
	// subscriber made on the website.
	Numbers *hashing.Keyed
	// Codes keys the digests of confirmation codes.
	Codes      *hashing.Keyed
	MaxWatches int // default khabardar.MaxWatches
}

// CodeTTL is how long a confirmation code is good; CodeAttempts how many
// guesses one gets.
const (
	CodeTTL      = 10 * time.Minute
	CodeAttempts = 5
)

// alertBodyLimit bounds both request bodies: a number, a code and a few
// watches.
const alertBodyLimit = 4 << 10

// decodeStrict decodes one JSON object with no unknown field into v.
func decodeStrict(c *fiber.Ctx, v any) error {
	if !isJSON(c.Request().Header.ContentType()) {
		return khabardar.Errorf(wire.CodeUnsupportedMediaType, "send the body as Content-Type: application/json")
	}
	body := c.Request().Body()
	if len(body) > alertBodyLimit {
		return khabardar.Errorf(wire.CodeBodyTooLarge, "the body is over %d bytes", alertBodyLimit)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return khabardar.Errorf(wire.CodeMalformedJSON, "the body is not one JSON object")
		}
		return khabardar.Errorf(wire.CodeUnknownField, "the body has a field this endpoint does not define, or a value of the wrong type")
	}
	if dec.More() {
		return khabardar.Errorf(wire.CodeMalformedJSON, "the body holds more than one JSON value")
	}
	return nil
}

// alertNumber parses the number a person gave for alerts and hashes it.
func (s *Server) alertNumber(raw, lang string) (identifier.ID, string, error) {
	number, err := identifier.Parse(identifier.Phone, identifier.Raw(raw))
	if err != nil {
		var pe *identifier.ParseError
		errors.As(err, &pe)
		return identifier.ID{}, "", khabardar.Errorf(wire.CodeInvalid, "number: %s (%s)", pe.Error(), pe.Reason)
	}
	if !khabardar.ValidLang(lang) {
		return identifier.ID{}, "", khabardar.Errorf(wire.CodeInvalid, "lang must be en or ur")
	}
	return number, s.cfg.Alerts.Numbers.Hex(number.Canonical()), nil
}

func (s *Server) codeDigest(id, code string) []byte {
	return []byte(s.cfg.Alerts.Codes.Hex([]byte(id + ":" + code)))
}

// decodeAlert decodes an alert request into req, whose person is p, and
// parses and hashes p's number: how both endpoints begin.
func (s *Server) decodeAlert(c *fiber.Ctx, req any, p *wire.AlertPerson) (identifier.ID, string, error) {
	if err := decodeStrict(c, req); err != nil {
		return identifier.ID{}, "", err
	}
	return s.alertNumber(p.Number, p.Lang)
}

// alertCode is POST /v1/alerts/code.
func (s *Server) alertCode(c *fiber.Ctx) error {
	var req wire.AlertCodeRequest
	number, id, err := s.decodeAlert(c, &req, &req.AlertPerson)
	if err != nil {
		return err
	}
	a := s.cfg.Alerts
	if s.cfg.Limiter != nil {
		// The client first: a client over its limit charges no number.
		if err := s.charge(c, ratelimit.AlertCodeIP, caller{id: s.anonymous(c)}, 1); err != nil {
			return err
		}
		if err := s.charge(c, ratelimit.AlertCode, caller{id: s.cfg.Limiter.Sender(id)}, 1); err != nil {
			return err
		}
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	if err := a.Store.PutAlertCode(c.UserContext(), id, s.codeDigest(id, code), time.Now().Add(CodeTTL)); err != nil {
		return err
	}
	msg := sms.CodeText(req.Lang, code)
	if err := a.Sender.Send(c.UserContext(), string(number.Canonical()[len("phone:"):]), msg.Text); err != nil {
		s.log.Warn("alerts: a confirmation code was not sent", "error", khabardar.ErrorMessage(err))
		return khabardar.Errorf(wire.CodeUnavailable, "the SMS could not be sent now; try again later")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusAccepted).JSON(wire.AlertCodeResponse{Sent: true, ExpiresIn: int(CodeTTL / time.Second)})
}

// alertSubscribe is POST /v1/alerts/subscribe.
func (s *Server) alertSubscribe(c *fiber.Ctx) error {
	var req wire.AlertSubscribeRequest
	number, id, err := s.decodeAlert(c, &req, &req.AlertPerson)
	if err != nil {
		return err
	}
	a := s.cfg.Alerts
	max := a.MaxWatches
	if max == 0 {
		max = khabardar.MaxWatches
	}
	if len(req.Code) != 6 || len(req.Watches) == 0 || len(req.Watches) > max {
		return khabardar.Errorf(wire.CodeInvalid, "send the 6-digit code and 1 to %d watches", max)
	}
	watches := make([]khabardar.Watch, len(req.Watches))
	for i, w := range req.Watches {
		k, err := identifier.ParseKind(w.Kind)
		suffix, herr := hex.DecodeString(w.Suffix)
		if err != nil || k == identifier.Unknown || herr != nil || !s.cfg.Layout.ValidPrefix(w.Prefix) || len(suffix) != s.cfg.Layout.SuffixBytes {
			return khabardar.Errorf(wire.CodeInvalid, "watch %d is not a bucket prefix, a suffix of %d bytes in hex and a kind", i, s.cfg.Layout.SuffixBytes)
		}
		watches[i] = khabardar.Watch{Prefix: w.Prefix, Suffix: suffix, Kind: k}
	}
	ok, err := a.Store.CheckAlertCode(c.UserContext(), id, s.codeDigest(id, req.Code), time.Now(), CodeAttempts)
	switch {
	case khabardar.ErrorCode(err) == khabardar.ENOTFOUND:
		return khabardar.Errorf(wire.CodeNotFound, "no code is waiting for this number, or it expired or was guessed wrong %d times: ask for a new one", CodeAttempts)
	case err != nil:
		return err
	case !ok:
		return khabardar.Errorf(wire.CodeWrongCode, "the code does not match")
	}
	sub := khabardar.Subscriber{ID: id, Sealed: a.Sealer.Seal(id, number), Lang: req.Lang}
	n := 0
	for _, w := range watches {
		if n, err = a.Store.Watch(c.UserContext(), sub, w, max); err != nil {
			if khabardar.ErrorCode(err) == khabardar.ECONFLICT {
				return khabardar.Errorf(wire.CodeConflict, "this number already watches %d identifiers, the most allowed: send STOP by SMS to start again", max)
			}
			return err
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(wire.AlertSubscribeResponse{Watching: n})
}
