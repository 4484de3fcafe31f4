// Package khabardar holds Khabardar's domain types: listings, exposures,
// buckets, the Store interface every storage adapter implements, and the one
// error type that the HTTP layer maps to status codes in one table.
//
// It imports no framework and no storage library: adapters live in packages
// named after their technology (boltstore, redisstore), the keyed hashing in
// hashing, input parsing in identifier.
package khabardar

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients and tests match on them.
const (
	ECONFLICT       = "conflict"        // the request conflicts with stored state
	EINTERNAL       = "internal"        // a fault of ours; the message says nothing of the input
	EINVALID        = "invalid"         // the input is malformed or fails validation
	ENOTFOUND       = "not_found"       // no such listing, key, …
	EUNAVAILABLE    = "unavailable"     // a dependency (the store) cannot be reached
	ELAYOUTMISMATCH = "layout_mismatch" // the store was written with another key or bucket layout
	EMIGRATE        = "needs_migration" // the store is in an older record format: run khabardar migrate
)

// Error is Khabardar's one error type. Message is safe to show a user: it
// never holds a raw or canonical identifier, an IP address or a phone number.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("khabardar: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message. Never
// pass an identifier, canonical string or unkeyed hash as an argument.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the user-facing message of err: the *Error's message,
// or a generic text for internal errors, whose detail belongs in logs only.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
