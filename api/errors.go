package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
)

// Error codes of the HTTP layer, beside khabardar's own (invalid, not_found,
// conflict, unavailable, internal, layout_mismatch). They are stable: clients
// and tests match on them, and openapi.yaml lists them.
const (
	CodeMalformedJSON        = "malformed_json"         // the body is not one JSON value
	CodeUnknownField         = "unknown_field"          // the body has a field the endpoint does not define
	CodeEmptyBatch           = "empty_batch"            // "blinded" is empty
	CodeBatchTooLarge        = "batch_too_large"        // more elements than the caller's max batch
	CodeBadElement           = "bad_element"            // an element is not a valid blinded ristretto255 element
	CodeBadPrefix            = "bad_prefix"             // a bucket prefix of the wrong form
	CodeKeyRotated           = "key_rotated"            // the request names a key that is no longer the server's
	CodeUnauthorized         = "unauthorized"           // a malformed, unknown or revoked API key
	CodeRateLimited          = "rate_limited"           // over a rate limit; see Retry-After
	CodeBodyTooLarge         = "body_too_large"         // the body is over the caller's limit
	CodeUnsupportedMediaType = "unsupported_media_type" // the body is not application/json
	CodeUnsupportedEncoding  = "unsupported_encoding"   // the body has a Content-Encoding (compressed)
	CodeMethodNotAllowed     = "method_not_allowed"     // the route exists for another method
	CodeRequestTimeout       = "request_timeout"        // the request did not arrive in time
	CodeHeadersTooLarge      = "headers_too_large"      // the request headers are too large
	CodeForbidden            = "forbidden"              // an SMS webhook request that is not signed by the gateway
)

// statusOf is the one table from error codes to HTTP statuses. A code not in
// it is a 500.
var statusOf = map[string]int{
	khabardar.EINVALID:        http.StatusBadRequest,
	CodeMalformedJSON:         http.StatusBadRequest,
	CodeUnknownField:          http.StatusBadRequest,
	CodeEmptyBatch:            http.StatusBadRequest,
	CodeBatchTooLarge:         http.StatusBadRequest,
	CodeBadElement:            http.StatusBadRequest,
	CodeBadPrefix:             http.StatusBadRequest,
	CodeUnauthorized:          http.StatusUnauthorized,
	CodeForbidden:             http.StatusForbidden,
	khabardar.ENOTFOUND:       http.StatusNotFound,
	CodeMethodNotAllowed:      http.StatusMethodNotAllowed,
	CodeRequestTimeout:        http.StatusRequestTimeout,
	khabardar.ECONFLICT:       http.StatusConflict,
	CodeKeyRotated:            http.StatusConflict,
	CodeBodyTooLarge:          http.StatusRequestEntityTooLarge,
	CodeUnsupportedMediaType:  http.StatusUnsupportedMediaType,
	CodeUnsupportedEncoding:   http.StatusUnsupportedMediaType,
	CodeRateLimited:           http.StatusTooManyRequests,
	CodeHeadersTooLarge:       http.StatusRequestHeaderFieldsTooLarge,
	khabardar.EINTERNAL:       http.StatusInternalServerError,
	khabardar.ELAYOUTMISMATCH: http.StatusInternalServerError,
	khabardar.EUNAVAILABLE:    http.StatusServiceUnavailable,
}

// fiberErrors turns fiber's and fasthttp's own errors (no route, wrong
// method, body over the server's limit, …) into our codes. Their messages
// are replaced, never passed on: fiber's "Cannot GET /v1/buckets/3fa9" names
// the path, and fasthttp's parse errors quote the request.
var fiberErrors = map[int]*khabardar.Error{
	http.StatusNotFound:                    {Code: khabardar.ENOTFOUND, Message: "no such endpoint; see /v1/openapi.yaml"},
	http.StatusMethodNotAllowed:            {Code: CodeMethodNotAllowed, Message: "the endpoint does not take this method; see /v1/openapi.yaml"},
	http.StatusRequestEntityTooLarge:       {Code: CodeBodyTooLarge, Message: "the request body is too large"},
	http.StatusRequestTimeout:              {Code: CodeRequestTimeout, Message: "the request did not arrive in time"},
	http.StatusRequestHeaderFieldsTooLarge: {Code: CodeHeadersTooLarge, Message: "the request headers are too large"},
}

// errorBody is every error response: {"error":{"code","message"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
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
	body := errorBody{Error: errorDetail{Code: khabardar.ErrorCode(err), Message: khabardar.ErrorMessage(err)}}
	status, ok := statusOf[body.Error.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.logFailure(c, body.Error.Code, err) // faults.go: never a line per request
	}
	switch body.Error.Code {
	case CodeUnauthorized:
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="khabardar"`)
	case CodeUnsupportedEncoding:
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
