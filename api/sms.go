package api

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/sms"
)

// The SMS webhooks move a gateway's request into an sms.Message and the
// sms.Reply back out, in the gateway's format. They are registered only
// when Config.SMS is set and the gateway's secret is configured, so a
// deployment without SMS answers them 404.
//
// A request that is not authentic (a Twilio signature that does not verify,
// a Kannel secret that does not match) is refused with 403 before anything
// else happens: no rate-limit charge, no parsing, no store access. An
// authentic request whose message was already answered (its gateway ID seen
// in the last sms.ReplayWindow: a replay by whoever captured it, or the
// gateway's own retry) gets silence, uncharged.
//
// The body and the sender never reach a log line or a metric: the request
// log has the route pattern only, and errors from sms.Service.Handle carry
// codes, not values.

var errSMSForbidden = khabardar.Errorf(CodeForbidden, "the request is not signed by the configured SMS gateway")

// twilioSMS is POST /v1/sms/twilio: Twilio's inbound message webhook
// (application/x-www-form-urlencoded with From, To, Body, …), signed in
// X-Twilio-Signature; the reply is TwiML.
func (s *Server) twilioSMS(c *fiber.Ctx) error {
	if !strings.HasPrefix(string(c.Request().Header.ContentType()), fiber.MIMEApplicationForm) {
		return khabardar.Errorf(CodeUnsupportedMediaType, "Twilio posts application/x-www-form-urlencoded")
	}
	// PostArgs parses the raw body: never decoded (checkRequest refused
	// any Content-Encoding), and never fiber's c.Body(), which decodes.
	form := url.Values{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) { form.Add(string(k), string(v)) })
	// Twilio signs the URL it was configured with: the public one, which a
	// proxy in front of this server may have rewritten on the way in.
	signed := s.cfg.SMSPublicURL + string(c.Request().URI().RequestURI())
	if !sms.ValidTwilio(s.cfg.TwilioAuthToken, signed, form, string(c.Request().Header.Peek("X-Twilio-Signature"))) {
		return errSMSForbidden
	}
	replay, err := s.replayed(c.UserContext(), "twilio", form.Get("MessageSid"), twilioID)
	if err != nil {
		return err
	}
	reply := sms.Reply{Silent: true}
	if !replay {
		reply = s.handleSMS(c.UserContext(), sms.Message{Gateway: "twilio", From: form.Get("From"), Body: form.Get("Body")})
	}
	c.Set(fiber.HeaderContentType, "text/xml; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	if reply.Silent {
		return c.Send(sms.TwiML(""))
	}
	return c.Send(sms.TwiML(reply.Text))
}

// kannelSMS is GET|POST /v1/sms/kannel: a Kannel-style sms-service, whose
// get-url (or post-url form) carries the sender in "from", the text in
// "text" and the shared secret in "secret" (or the X-Khabardar-Secret
// header). The reply is the SMS text as plain UTF-8, with X-Kannel-Coding
// 2 when it must go out as UCS-2 (Urdu script); an empty body means send
// nothing (Kannel's omit-empty).
func (s *Server) kannelSMS(c *fiber.Ctx) error {
	arg := func(name string) string {
		if v := c.Query(name); v != "" {
			return v
		}
		return string(c.Request().PostArgs().Peek(name))
	}
	secret := string(c.Request().Header.Peek("X-Khabardar-Secret"))
	if secret == "" {
		secret = arg("secret")
	}
	if !sms.ValidSecret(s.cfg.SMSSecret, secret) {
		return errSMSForbidden
	}
	replay, err := s.replayed(c.UserContext(), "kannel", arg("id"), kannelID)
	if err != nil {
		return err
	}
	reply := sms.Reply{Silent: true}
	if !replay {
		reply = s.handleSMS(c.UserContext(), sms.Message{Gateway: "kannel", From: arg("from"), Body: arg("text")})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	if reply.Silent {
		return c.Send(nil)
	}
	c.Set("X-Kannel-Coding", reply.KannelCoding())
	return c.SendString(reply.Text)
}

// gatewayID is the form of a gateway's message IDs.
type gatewayID struct {
	required bool // every request carries one
	valid    func(string) bool
	invalid  *khabardar.Error
}

var (
	twilioID = gatewayID{true, sms.ValidTwilioSID,
		khabardar.Errorf(khabardar.EINVALID, "MessageSid is not SM or MM and 32 hex digits, as Twilio sends it")}
	kannelID = gatewayID{false, sms.ValidKannelID,
		khabardar.Errorf(khabardar.EINVALID, "id is not a Kannel message ID (%%I: a UUID)")}
)

// replayed checks the gateway's ID of an authentic request's message
// (sms.Service.Replayed): true for a repeat within sms.ReplayWindow, which
// the webhook answers with silence and a 200, so that the gateway does not
// retry, without handling it. A missing or malformed ID is refused with 400
// (a request without one is answered as before where the gateway may omit
// it); a store that cannot tell gives EUNAVAILABLE, a 503, so that the
// gateway delivers the message again later rather than it being answered
// unchecked.
func (s *Server) replayed(ctx context.Context, gateway, id string, form gatewayID) (bool, error) {
	if id == "" && !form.required {
		return false, nil
	}
	if !form.valid(id) {
		return false, form.invalid
	}
	replay, err := s.cfg.SMS.Replayed(ctx, gateway, id)
	err = s.smsDep.track(err) // an outage: logged when it begins and ends, not per message
	switch {
	case err != nil:
		s.metrics.sms.WithLabelValues(gateway, "unchecked").Inc()
	case replay:
		s.metrics.sms.WithLabelValues(gateway, "replay").Inc()
	}
	return replay, err
}

// handleSMS runs the message through the SMS service. Its errors still come
// with a reply for the sender ("try later") and the gateway gets its 200:
// retrying a webhook would only send the same reply twice. They are
// counted here; an outage of the service's store or counters (EUNAVAILABLE)
// is logged when it begins and when it ends (faults.go), any other error by
// code at most once a second, so a flood of messages during an outage
// cannot flood the log.
func (s *Server) handleSMS(ctx context.Context, m sms.Message) sms.Reply {
	reply, err := s.cfg.SMS.Handle(ctx, m)
	outcome := "replied"
	var de *dependencyError
	switch err = s.smsDep.track(err); {
	case errors.As(err, &de):
		outcome = "error"
		de.dep.requestFailed()
	case err != nil:
		outcome = "error"
		if ok, left := s.faults.allow(); ok {
			s.log.Warn("sms: message not answered normally", "gateway", m.Gateway, "code", khabardar.ErrorCode(err), "suppressed", left)
		}
	case reply.Silent:
		outcome = "silent"
	}
	s.metrics.sms.WithLabelValues(m.Gateway, outcome).Inc()
	return reply
}
