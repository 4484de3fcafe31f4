package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/khabardar/khabardar"
)

// ErrPermanent and ErrRetryable classify every error a Sender's Send
// returns: errors.Is(err, ErrPermanent) for a message that sending again
// will not get through (a number or text the gateway refuses, credentials
// or a URL it does not take), errors.Is(err, ErrRetryable) for one it may
// take later (it could not be reached, timed out, was rate-limited or
// failed: 429, 5xx). Exactly one of the two matches a Send error. An
// outbox worker retries the second kind with backoff and drops, or parks,
// the first; errors.As with *SendError gives the details.
var (
	ErrPermanent = errors.New("sms: the gateway will not take this message")
	ErrRetryable = errors.New("sms: the gateway may take this message later")
)

// SendError is the error of a Send that did not hand the message over. Its
// text is its *khabardar.Error's (which errors.As and khabardar.ErrorCode
// find too: EINVALID for the number or text, EINTERNAL for the
// configuration, EUNAVAILABLE for the gateway): never the number, the
// text, a URL or a secret.
type SendError struct {
	Gateway    string        // the Sender's Name: "kannel", "twilio"
	Status     int           // the gateway's HTTP status; 0 if it gave none
	Code       int           // the gateway's own error code, such as Twilio's 21211; 0 if none
	Retryable  bool          // sending again later may succeed
	RetryAfter time.Duration // the gateway's Retry-After, for a 429 or 503; 0 if none

	err   *khabardar.Error
	cause error // what ended the request, if safe to hold: ctx.Err()
}

func (e *SendError) Error() string { return e.err.Error() }

// Unwrap gives the *khabardar.Error and, for a request that ctx ended,
// context.DeadlineExceeded or context.Canceled.
func (e *SendError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.err, e.cause}
	}
	return []error{e.err}
}

// Is matches ErrRetryable or ErrPermanent, as Retryable says.
func (e *SendError) Is(target error) bool {
	return target == ErrRetryable && e.Retryable || target == ErrPermanent && !e.Retryable
}

// Permanent reports whether sending the message again cannot succeed.
func (e *SendError) Permanent() bool { return !e.Retryable }

// permanent and retryable build a SendError; the message must hold
// nothing of the number, the text, the URL or a secret.
func permanent(gateway, code string, status int, format string, args ...any) *SendError {
	return &SendError{Gateway: gateway, Status: status, err: khabardar.Errorf(code, format, args...)}
}

func retryable(gateway string, status int, format string, args ...any) *SendError {
	return &SendError{Gateway: gateway, Status: status, Retryable: true, err: khabardar.Errorf(khabardar.EUNAVAILABLE, format, args...)}
}

// maxAnswer bounds what Send reads of a gateway's answer: Kannel's is a
// line, Twilio's a small JSON object.
const maxAnswer = 16 << 10

// sendClient is the client of a Sender whose Client is nil: a 10-second
// timeout (ctx can shorten it), and no redirects, which would carry the
// credentials somewhere else: a 3xx is a configuration error.
var sendClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do sends req and reads at most maxAnswer bytes of the answer. Its error
// (a *SendError, retryable) says only how the request failed, never
// err's text: a *url.Error holds the URL, which for Kannel holds the
// number, the text and the password.
func do(ctx context.Context, client *http.Client, gateway, what string, req *http.Request) (*http.Response, []byte, error) {
	if client == nil {
		client = sendClient
	}
	resp, err := client.Do(req)
	if err != nil {
		e := retryable(gateway, 0, "%s %s", what, transportFailure(err))
		if cerr := ctx.Err(); cerr != nil {
			e.cause = cerr
		}
		return nil, nil, e
	}
	defer resp.Body.Close()
	// The status says what happened; a body cut short by a read error
	// (or by ctx) changes nothing of it.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer)) // lets the connection be reused
	return resp, body, nil
}

// transportFailure says how a request failed without err's text.
func transportFailure(err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "did not answer in time"
	case errors.Is(err, context.Canceled):
		return "was not waited for (cancelled)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused the connection"
	case errors.As(err, &dns):
		return "cannot be found (DNS)"
	case errors.As(err, &ne) && ne.Timeout():
		return "did not answer in time"
	}
	return "cannot be reached"
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date; 0 if
// none or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// statusError classifies an HTTP status that is not a success, the same
// way for every gateway: 429 and 5xx retryable; 401, 403, 404 and 3xx
// permanent configuration errors (EINTERNAL: the credentials or the URL);
// any other 4xx a permanent refusal of this message (EINVALID). detail is
// added to the message, such as Twilio's error code.
func statusError(gateway, what string, resp *http.Response, detail string) *SendError {
	s := resp.StatusCode
	var e *SendError
	switch {
	case s == http.StatusTooManyRequests || s >= 500:
		e = retryable(gateway, s, "%s could not take the message now (%d%s)", what, s, detail)
		e.RetryAfter = retryAfter(resp.Header, time.Now())
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		e = permanent(gateway, khabardar.EINTERNAL, s, "%s refused the credentials (%d%s)", what, s, detail)
	case s == http.StatusNotFound || s/100 == 3:
		e = permanent(gateway, khabardar.EINTERNAL, s, "%s answered %d%s: check its URL", what, s, detail)
	case s/100 == 4:
		e = permanent(gateway, khabardar.EINVALID, s, "%s refused the message (%d%s)", what, s, detail)
	default: // 1xx that ended the request, or a status no gateway sends
		e = permanent(gateway, khabardar.EINTERNAL, s, "%s answered an unexpected %d%s", what, s, detail)
	}
	return e
}

// codeDetail formats a gateway's error code for a message: ", error 21211".
func codeDetail(code int) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprintf(", error %d", code)
}
