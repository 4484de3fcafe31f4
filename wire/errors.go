package wire

import "github.com/khabardar/khabardar"

// Error codes. They are stable: clients and tests match on them, and
// openapi.yaml lists them. The first seven are khabardar's own (package
// khabardar's E… codes), the others the HTTP layer's.
const (
	CodeInvalid        = khabardar.EINVALID        // the request is not valid
	CodeNotFound       = khabardar.ENOTFOUND       // no such endpoint or listing
	CodeConflict       = khabardar.ECONFLICT       // the request conflicts with the server's state
	CodeUnavailable    = khabardar.EUNAVAILABLE    // the store or another dependency cannot be reached
	CodeInternal       = khabardar.EINTERNAL       // the server failed
	CodeLayoutMismatch = khabardar.ELAYOUTMISMATCH // the store was written under another layout
	CodeNeedsMigration = khabardar.EMIGRATE        // the store needs khabardar migrate (a server never starts on one)

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
	CodeWrongCode            = "wrong_code"             // an alert confirmation code that does not match
)

// Codes lists every error code above.
var Codes = []string{
	CodeInvalid, CodeNotFound, CodeConflict, CodeUnavailable, CodeInternal, CodeLayoutMismatch, CodeNeedsMigration,
	CodeMalformedJSON, CodeUnknownField, CodeEmptyBatch, CodeBatchTooLarge, CodeBadElement, CodeBadPrefix,
	CodeKeyRotated, CodeUnauthorized, CodeRateLimited, CodeBodyTooLarge, CodeUnsupportedMediaType,
	CodeUnsupportedEncoding, CodeMethodNotAllowed, CodeRequestTimeout, CodeHeadersTooLarge, CodeForbidden,
	CodeWrongCode,
}

// ErrorBody is every error response: {"error":{"code":…,"message":…}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is an error's code (one of Codes) and a message for people,
// which never holds request data.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
