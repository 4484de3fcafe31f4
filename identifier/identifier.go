// Package identifier turns what people type and what leaks contain into
// canonical identifiers: a CNIC, a Pakistani mobile number, a device IMEI or
// a Pakistani passport number.
//
// Canonical forms are the exact bytes later fed to the VOPRF:
//
//	cnic:<13 digits>
//	phone:<E.164, +923XXXXXXXXX>
//	imei:<14 digits: TAC + serial, check digit and software version dropped>
//	passport:<2 capital letters and 7 digits>
//
// Raw input and canonical identifiers are types of their own that redact
// themselves in fmt, log/slog and JSON, so a value cannot reach a log or an
// error message by accident. Errors carry a stable Reason and never the value.
//
// Parse reads one value, such as a form field or a spreadsheet cell; Scan
// finds identifiers in free text, such as a chat export.
package identifier

// Kind is the kind of an identifier.
type Kind uint8

const (
	// Unknown asks Parse to detect the kind from the value.
	Unknown Kind = iota
	// CNIC is a Computerised National Identity Card number, 13 digits.
	CNIC
	// Phone is a Pakistani mobile number.
	Phone
	// IMEI is a device's International Mobile Equipment Identity.
	IMEI
	// Passport is a Pakistani passport number: two letters, seven digits.
	Passport
)

// ID is a canonical identifier. The zero ID is no identifier. IDs are
// comparable: equal IDs are the same identifier, so they work as map keys.
//
// An ID redacts itself in fmt, log/slog and JSON; only Canonical reveals it.
type ID struct {
	kind  Kind
	canon string // the whole canonical form, prefix included
}

// Kind returns the identifier's kind, Unknown for the zero ID.
func (id ID) Kind() Kind { return id.kind }

// Canonical returns the canonical form, e.g. "phone:+923001234567": exactly
// the bytes fed to the VOPRF. It is nil for the zero ID.
func (id ID) Canonical() []byte {
	if id.canon == "" {
		return nil
	}
	return []byte(id.canon)
}

// AppendCanonical appends the canonical form to dst, for callers that hash
// many identifiers and want to reuse a buffer.
func (id ID) AppendCanonical(dst []byte) []byte { return append(dst, id.canon...) }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id.canon == "" }
