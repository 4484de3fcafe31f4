package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/wire"
)

// statusOf is the one table from error codes (package wire: the codes and
// their meanings are the public protocol's) to HTTP statuses. A code not in
// it is a 500.
var statusOf = map[string]int{
	wire.CodeInvalid:              http.StatusBadRequest,
	wire.CodeMalformedJSON:        http.StatusBadRequest,
	wire.CodeUnknownField:         http.StatusBadRequest,
	wire.CodeEmptyBatch:           http.StatusBadRequest,
	wire.CodeBatchTooLarge:        http.StatusBadRequest,
	wire.CodeBadElement:           http.StatusBadRequest,
	wire.CodeBadPrefix:            http.StatusBadRequest,
	wire.CodeUnauthorized:         http.StatusUnauthorized,
	wire.CodeForbidden:            http.StatusForbidden,
	wire.CodeWrongCode:            http.StatusForbidden,
	wire.CodeNotFound:             http.StatusNotFound,
	wire.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	wire.CodeRequestTimeout:       http.StatusRequestTimeout,
	wire.CodeConflict:             http.StatusConflict,
	wire.CodeKeyRotated:           http.StatusConflict,
	wire.CodeBodyTooLarge:         http.StatusRequestEntityTooLarge,
	wire.CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	wire.CodeUnsupportedEncoding:  http.StatusUnsupportedMediaType,
	wire.CodeRateLimited:          http.StatusTooManyRequests,
	wire.CodeHeadersTooLarge:      http.StatusRequestHeaderFieldsTooLarge,
	wire.CodeInternal:             http.StatusInternalServerError,
	wire.CodeLayoutMismatch:       http.StatusInternalServerError,
	wire.CodeNeedsMigration:       http.StatusInternalServerError,
	wire.CodeUnavailable:          http.StatusServiceUnavailable,
}

// fiberErrors turns fiber's and fasthttp's own errors (no route, wrong
// method, body over the server's limit, …) into our codes. Their messages
// are replaced, never passed on: fiber's "Cannot GET /v1/buckets/3fa9" names
// the path, and fasthttp's parse errors quote the request.
var fiberErrors = map[int]*khabardar.Error{
	http.StatusNotFound:                    {Code: khabardar.ENOTFOUND, Message: "no such endpoint; see /v1/openapi.yaml"},
	http.StatusMethodNotAllowed:            {Code: wire.CodeMethodNotAllowed, Message: "the endpoint does not take this method; see /v1/openapi.yaml"},
	http.StatusRequestEntityTooLarge:       {Code: wire.CodeBodyTooLarge, Message: "the request body is too large"},
	http.StatusRequestTimeout:              {Code: wire.CodeRequestTimeout, Message: "the request did not arrive in time"},
	http.StatusRequestHeaderFieldsTooLarge: {Code: wire.CodeHeadersTooLarge, Message: "the request headers are too large"},
}

// errorHandler writes err as an error body with the status of its code.
// Messages are *khabardar.Error messages, which never hold request data; any
// other error becomes "internal error" and is logged.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		if known, ok := fiberErrors[fe.Code]; ok {
			err = known
		} else if fe.Code >= 500 {
			err = khabardar.Errorf(khabardar.EINTERNAL, "internal error")
		} else {
			// fasthttp's "cannot parse the request" and the like.
			err = khabardar.Errorf(khabardar.EINVALID, "the request cannot be parsed")
		}
	}
	body := wire.ErrorBody{Error: wire.ErrorDetail{Code: khabardar.ErrorCode(err), Message: khabardar.ErrorMessage(err)}}
	status, ok := statusOf[body.Error.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.logFailure(c, body.Error.Code, err) // faults.go: never a line per request
	}
	switch body.Error.Code {
	case wire.CodeUnauthorized:
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="khabardar"`)
	case wire.CodeUnsupportedEncoding:
		// RFC 9110 §15.5.16: a 415 for a content coding names the ones
		// accepted, which tells it apart from a 415 for the media type.
		c.Set(fiber.HeaderAcceptEncoding, "identity")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if routeOf(c) == "unrouted" {
		// fasthttp refused the request before routing (body over the
		// server's limit, unparsable head): observe never sees it, nor
		// does the middleware that sets the security headers.
		s.metrics.observe("unrouted", "OTHER", status, 0)
		s.logRequest(slog.LevelInfo, slog.String("route", "unrouted"), slog.Int("status", status))
		for _, kv := range securityHeaderList {
			c.Response().Header.SetCanonical(kv[0], kv[1])
		}
		if status == http.StatusRequestEntityTooLarge {
			// The client may still be sending the body fasthttp refused.
			lingerOnClose(c.Context())
		}
	}
	return c.Status(status).JSON(body)
}
