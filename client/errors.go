package client

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/wire"
)

// ErrMalformed is wrapped by every error about a response that does not
// follow the API: not JSON, a missing or undecodable field, a wrong count.
var ErrMalformed = errors.New("client: malformed server response")

// ErrBadProof is wrapped when the server's evaluation does not prove that it
// used the public key it publishes at /v1/config: its answer cannot be
// trusted, and nothing further is asked of it. It is hashing.ErrBadProof.
var ErrBadProof = hashing.ErrBadProof

// errStaleKey says an answer was made under another key than the cached
// config's: Check refetches the config and starts over, once.
var errStaleKey = errors.New("client: the server's key changed during the check; try again")

// BucketBitsError is returned when a server's /v1/config asks for bucket
// prefixes of more bits than the client accepts (DefaultMaxBucketBits unless
// WithMaxBucketBits or WithUnsafeMaxBucketBits says otherwise). The prefix is
// what the server learns about each value checked, so nothing is evaluated
// or fetched: a compromised or coerced server could otherwise ask for 32
// bits and learn the value. Its message is in plain words.
type BucketBitsError struct {
	Server string // the server's URL, without credentials
	Bits   int    // the bucket bits the server asked for
	Max    int    // the most this client accepts
}

func (e *BucketBitsError) Error() string {
	if e.Bits <= DefaultMaxBucketBits {
		return fmt.Sprintf("client: the server at %s asks for %d-bit bucket numbers, more than the %d this client was told to accept, so nothing was looked up. "+
			"At %d bits %s possible mobile numbers share a bucket; at %d bits, %s.",
			e.Server, e.Bits, e.Max, e.Max, About(MobileNumbersPerBucket(e.Max)), e.Bits, About(MobileNumbersPerBucket(e.Bits)))
	}
	at := fmt.Sprintf("at %d bits %s share one", e.Bits, About(MobileNumbersPerBucket(e.Bits)))
	if MobileNumbersPerBucket(e.Bits) < 2 {
		at = fmt.Sprintf("at %d bits the bucket number alone can single out the number checked", e.Bits)
	}
	return fmt.Sprintf("client: the server at %s asks for %d-bit bucket numbers, more than the %d this client accepts, so nothing was looked up. "+
		"The bucket number is what the server learns about each value checked: at %d bits %s possible mobile numbers share one; %s. "+
		"A server that asks for this is misconfigured, or trying to learn who checks what.",
		e.Server, e.Bits, e.Max, e.Max, About(MobileNumbersPerBucket(e.Max)), at)
}

// About writes a count for people, to two significant figures: "about
// 6,900", "about 27", "fewer than one".
func About(x float64) string {
	if x < 1 {
		return "fewer than one"
	}
	// Two significant figures.
	scale := 1.0
	for x/scale >= 100 {
		scale *= 10
	}
	n := int64(math.Round(x/scale) * scale)
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return "about " + s
}

// APIError is an error answer of the server: its HTTP status and the code
// (one of wire.Codes, e.g. wire.CodeKeyRotated) and message of its
// {"error":{"code","message"}} body (wire.ErrorBody). Code is "" when the body
// was not that JSON (a proxy's error page, say) and Message is then the
// status text.
type APIError struct {
	Status  int
	Code    string
	Message string
	Route   string // the route pattern asked, e.g. "/v1/buckets/{prefix}": never the path itself
}

func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(e.Status), " ", "_"))
	}
	return fmt.Sprintf("khabardar server: %s: %d %s: %s", e.Route, e.Status, code, e.Message)
}

// RateLimitError is a 429 answer. errors.As finds its APIError too.
type RateLimitError struct {
	APIError
	// RetryAfter is how long the server asked to wait, from its Retry-After
	// header; zero when it did not say.
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s)", e.APIError.Error(), e.RetryAfter)
	}
	return e.APIError.Error()
}

// Unwrap returns the APIError, so errors.As(err, &apiErr) works for both.
func (e *RateLimitError) Unwrap() error { return &e.APIError }

// apiError builds the error for a non-200 response.
func apiError(route string, resp *http.Response, body []byte, now time.Time) error {
	e := APIError{Status: resp.StatusCode, Route: route}
	var eb wire.ErrorBody
	if decodeJSON(body, &eb) == nil && eb.Error.Code != "" {
		e.Code, e.Message = clean(eb.Error.Code, 64), clean(eb.Error.Message, 300)
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return &RateLimitError{APIError: e, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
	}
	return &e
}

// retryAfter reads a Retry-After header: delta-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 32); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// clean keeps a server-supplied string printable and short: it is shown on
// a terminal, where control characters could rewrite what the user sees.
func clean(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			b.WriteRune('?')
		}
	}
	return b.String()
}

// malformed wraps ErrMalformed. The detail may quote the server's text (a
// JSON decoding error does), so it is cleaned like a server message.
func malformed(route, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, route, clean(fmt.Sprintf(format, args...), 300))
}
