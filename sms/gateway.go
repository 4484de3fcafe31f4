package sms

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// Gateway is one SMS gateway's webhook: how its requests prove where they
// come from, where their message is, and how a reply goes back. The HTTP
// layer mounts each configured Gateway at /v1/sms/{Name} with one handler,
// so a new gateway is one file in this package (and its settings in
// cmd/khabardar) that implements it.
//
// Methods are called in order, each only if the one before succeeded:
// Authenticate, Decode, then (after Service.Replayed and Service.Handle)
// Render. Implementations must be safe for concurrent use and never put
// the sender, the body or a secret in an error.
type Gateway interface {
	// Name is the gateway's path segment (/v1/sms/twilio), the
	// Message.Gateway of what it delivers and its label in metrics and rate
	// limits: ratelimit.ValidGatewayName, and unique among the configured
	// gateways.
	Name() string

	// Methods are the HTTP methods its webhook takes, such as POST.
	Methods() []string

	// Authenticate checks that r was sent by the gateway (a signature, a
	// shared secret), before anything is read from it. It returns nil for an
	// authentic request; a *MediaTypeError for a body the gateway never
	// sends, which cannot be authenticated (the HTTP layer answers 415);
	// ErrForbidden otherwise (403). It costs nothing but the check: no rate
	// limit, no store.
	Authenticate(r *Request) error

	// Decode returns the message an authentic request carries, Gateway left
	// for the caller to set, and the gateway's ID of it for
	// Service.Replayed: "" only where the gateway may omit it. An ID that is
	// missing where the gateway always sends one, or not of its form, is an
	// EINVALID *khabardar.Error whose message is stable (the HTTP layer
	// answers 400), so that a forged or mangled ID is never remembered.
	Decode(r *Request) (m Message, id string, err error)

	// Render writes reply in the gateway's format. A Silent reply is the
	// gateway's way to send nothing, still a success so that it does not
	// retry.
	Render(reply Reply) Response
}

// Sender is a Gateway that can also send a message on its own, not as the
// answer to one: alerts (Kannel through its sendsms interface, Twilio
// through its Messages API). Send returns nil once the gateway took the
// message (not once it was delivered); any error is a *SendError, which
// errors.Is finds as ErrPermanent (EINVALID for a number or text it
// refuses, EINTERNAL for credentials or a URL it does not take) or as
// ErrRetryable (EUNAVAILABLE: it cannot be reached, timed out, is
// rate-limited or fails), for the caller to try again later with backoff.
// ctx bounds the request. Errors and logs never hold to, text or a secret.
type Sender interface {
	Send(ctx context.Context, to, text string) error
}

// Request is a webhook request as a Gateway sees it, built by the HTTP
// layer from its framework's request, so that this package needs none.
type Request struct {
	Method      string
	RequestURI  string      // the path and query as received, not decoded: what a signature covers
	ContentType string      // the Content-Type header, parameters included
	Header      http.Header // the request's headers
	Query       url.Values  // the decoded query string
	// Form is the decoded body of an application/x-www-form-urlencoded
	// request, empty for any other; Body is the body as sent, for gateways
	// that sign its bytes (valid only during the call).
	Form url.Values
	Body []byte
}

// Response is a rendered reply: what the webhook answers the gateway.
type Response struct {
	Status      int         // 0 is 200
	ContentType string      // "" sends none
	Header      http.Header // the gateway's own headers, such as X-Kannel-Coding; may be nil
	Body        []byte
}

// ErrForbidden is Authenticate's error for a request that is not the
// gateway's: a signature that does not verify, a secret that does not
// match, none at all.
var ErrForbidden = errors.New("sms: the request is not from the gateway")

// MediaTypeError is Authenticate's error for a request whose Content-Type
// the gateway never sends: its signature could not even be computed.
// Message says what the gateway sends, fit for the client.
type MediaTypeError struct{ Message string }

func (e *MediaTypeError) Error() string { return "sms: " + e.Message }
