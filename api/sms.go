package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/sms"
	"github.com/khabardar/khabardar/wire"
)

// The SMS webhooks move a gateway's request into an sms.Message and the
// sms.Reply back out, in the gateway's format. Each sms.Gateway in
// Config.SMSGateways is mounted at /v1/sms/{Name} with the one handler
// below, and only when Config.SMS is set, so a deployment without SMS (or
// without that gateway) answers 404. The gateways hold the formats and the
// secrets; this file holds what must be the same for every gateway: the
// order of the checks, what is charged, logged and counted.
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

var errSMSForbidden = khabardar.Errorf(wire.CodeForbidden, "the request is not signed by the configured SMS gateway")

// mountSMS mounts each configured gateway's webhook. A name that is no
// ratelimit.ValidGatewayName, or one given twice, is a programming error in
// the caller: it panics rather than serve a gateway under another's path.
func (s *Server) mountSMS() {
	if s.cfg.SMS == nil {
		return
	}
	seen := map[string]bool{}
	for _, g := range s.cfg.SMSGateways {
		name := g.Name()
		if !ratelimit.ValidGatewayName(name) || seen[name] {
			panic(fmt.Sprintf("api: SMS gateway name %q is invalid or repeated", name))
		}
		seen[name] = true
		h := s.smsWebhook(g)
		for _, method := range g.Methods() {
			if method == http.MethodGet {
				s.app.Get(wire.SMSPath(name), h) // and HEAD, as every GET route here
				continue
			}
			s.app.Add(method, wire.SMSPath(name), h)
		}
	}
}

// smsWebhook is the handler of gateway g's webhook.
func (s *Server) smsWebhook(g sms.Gateway) fiber.Handler {
	name := g.Name()
	return func(c *fiber.Ctx) error {
		r := smsRequest(c)
		if err := g.Authenticate(r); err != nil {
			var mt *sms.MediaTypeError
			if errors.As(err, &mt) {
				return khabardar.Errorf(wire.CodeUnsupportedMediaType, "%s", mt.Message)
			}
			return errSMSForbidden // ErrForbidden, or any other failure: never let it through
		}
		m, id, err := g.Decode(r)
		if err != nil {
			return err
		}
		replay, err := s.replayed(c.UserContext(), name, id)
		if err != nil {
			return err
		}
		reply := sms.Reply{Silent: true}
		if !replay {
			m.Gateway = name
			reply = s.handleSMS(c.UserContext(), m)
		}
		resp := g.Render(reply)
		// A reply says whether someone's identifier is exposed: no cache
		// between here and the gateway may keep it.
		c.Set(fiber.HeaderCacheControl, "no-store")
		if resp.ContentType != "" {
			c.Set(fiber.HeaderContentType, resp.ContentType)
		}
		for k, vs := range resp.Header {
			for _, v := range vs {
				c.Append(k, v)
			}
		}
		if resp.Status != 0 {
			c.Status(resp.Status)
		}
		return c.Send(resp.Body)
	}
}

// smsRequest copies what a gateway reads from the request. The form is
// fasthttp's PostArgs, parsed from the raw body (never decoded: checkRequest
// refused any Content-Encoding; and never fiber's c.Body(), which decodes),
// and only for a form's Content-Type. Body is valid until the handler
// returns.
func smsRequest(c *fiber.Ctx) *sms.Request {
	req := c.Request()
	r := &sms.Request{
		Method:      c.Method(),
		RequestURI:  string(req.URI().RequestURI()),
		ContentType: string(req.Header.ContentType()),
		Header:      http.Header{},
		Query:       url.Values{},
		Form:        url.Values{},
		Body:        req.Body(),
	}
	req.Header.VisitAll(func(k, v []byte) { r.Header.Add(string(k), string(v)) })
	req.URI().QueryArgs().VisitAll(func(k, v []byte) { r.Query.Add(string(k), string(v)) })
	req.PostArgs().VisitAll(func(k, v []byte) { r.Form.Add(string(k), string(v)) })
	return r
}

// replayed checks the gateway's ID of an authentic request's message
// (sms.Service.Replayed): true for a repeat within sms.ReplayWindow, which
// the webhook answers with silence and a 200, so that the gateway does not
// retry, without handling it. The gateway's Decode has already refused a
// missing or malformed ID with 400; an empty id is one the gateway may omit,
// and is answered as before. A store that cannot tell gives EUNAVAILABLE, a
// 503, so that the gateway delivers the message again later rather than it
// being answered unchecked.
func (s *Server) replayed(ctx context.Context, gateway, id string) (bool, error) {
	if id == "" {
		return false, nil
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
