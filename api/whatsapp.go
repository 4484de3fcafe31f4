package api

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/sms"
)

// The WhatsApp Cloud API webhook. GET answers Meta's verification
// handshake; POST takes a signed notification, checked (X-Hub-Signature-256
// over the raw body, in constant time) before anything else, so a forged
// one costs nothing: no parsing, no limit charged, no store read. Each
// message is answered once (its ID through the replay store, as SMS), by
// the SMS service, as a message of gateway "whatsapp": limits and language
// are per sender, shared with the same number's SMS. The replies go back
// through the Graph API from a goroutine, with bounded retries; the webhook
// answers 200 at once.

// whatsAppSendTries bounds the Graph API attempts of one reply, a second
// apart, then twice that.
const whatsAppSendTries = 3

func (s *Server) whatsAppVerify(c *fiber.Ctx) error {
	q := smsRequest(c).Query
	challenge, ok := s.cfg.WhatsApp.Verify(q)
	if !ok {
		return errSMSForbidden
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	return c.SendString(challenge)
}

func (s *Server) whatsAppNotify(c *fiber.Ctx) error {
	body := c.Request().Body()
	if !s.cfg.WhatsApp.Authentic(body, string(c.Request().Header.Peek("X-Hub-Signature-256"))) {
		return errSMSForbidden
	}
	msgs, err := sms.DecodeWhatsApp(body)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	for _, m := range msgs {
		replay, err := s.replayed(ctx, "whatsapp", m.ID)
		if err != nil {
			return err // Meta delivers the notification again later
		}
		if replay {
			continue
		}
		reply := s.handleSMS(ctx, sms.Message{Gateway: "whatsapp", From: m.From, Body: m.Text, WhatsApp: true})
		if reply.Silent {
			continue
		}
		select {
		case s.waReplies <- waReply{m.From, reply.Text}:
		default:
			s.metrics.sms.WithLabelValues("whatsapp", "send_dropped").Inc()
			s.log.Warn("whatsapp: the reply queue is full; a reply was dropped")
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendStatus(fiber.StatusOK)
}

// waReply is a reply waiting for the Graph API.
type waReply struct{ to, text string }

// whatsAppQueue is how many replies may wait; past it, one is dropped
// (and counted) rather than the webhook slowed: Meta would redeliver.
const whatsAppQueue = 4096

// whatsAppSender sends the queued replies one after another, so that one
// person's replies arrive in the order of their messages.
func (s *Server) whatsAppSender() {
	for r := range s.waReplies {
		s.sendWhatsApp(r.to, r.text)
	}
}

// sendWhatsApp sends one reply, retrying what may succeed later.
func (s *Server) sendWhatsApp(to, text string) {
	wait := time.Second
	for try := 1; ; try++ {
		timeout := s.cfg.WhatsApp.Timeout
		if timeout == 0 {
			timeout = 10 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := s.cfg.WhatsApp.Send(ctx, to, text)
		cancel()
		switch {
		case err == nil:
			s.metrics.sms.WithLabelValues("whatsapp", "sent").Inc()
			return
		case try == whatsAppSendTries || !isRetryable(err):
			s.metrics.sms.WithLabelValues("whatsapp", "send_failed").Inc()
			s.log.Warn("whatsapp: a reply was not sent", "tries", try, "error", khabardar.ErrorMessage(err))
			return
		}
		time.Sleep(wait)
		wait *= 2
	}
}

func isRetryable(err error) bool {
	var se *sms.SendError
	return errors.As(err, &se) && se.Retryable
}
