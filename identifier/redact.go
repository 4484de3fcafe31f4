package identifier

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what a Raw or an ID prints as, whatever the verb or encoder.
const redacted = "[redacted]"

// Raw is a value as typed by a person or found in a leak, not yet parsed.
// It redacts itself in fmt (every verb), log/slog, encoding/json and
// encoding.TextMarshaler users; string(raw) is the only way to read it.
//
// Three ways around it remain, as for any string type: fmt prints unexported
// struct fields without calling their methods, %p and a misused %w print the
// value (go vet reports both), and encoding/json writes map keys of a string
// type as they are. Keep a Raw in exported fields and never key a map by it.
type Raw string

// String returns "[redacted]".
func (Raw) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Raw) GoString() string { return redacted }

// Format implements fmt.Formatter so that every verb, %x and %q included,
// prints "[redacted]"; a String method alone leaves %x and %d to reflection.
func (Raw) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer.
func (Raw) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns the JSON string "[redacted]".
func (Raw) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]".
func (Raw) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// String returns "[redacted]"; use Canonical for the value. As for Raw, fmt
// cannot redact an ID held in an unexported struct field.
func (ID) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (ID) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb prints "[redacted]".
func (ID) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer.
func (ID) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns the JSON string "[redacted]".
func (ID) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]"; it also covers ID as a JSON map key.
func (ID) MarshalText() ([]byte, error) { return []byte(redacted), nil }
