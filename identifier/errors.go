package identifier

// Reason says why a value was rejected. Reasons are stable snake_case codes:
// clients, metrics and tests match on them.
type Reason string

// The reasons a value is rejected.
const (
	// ReasonEmpty: nothing left after trimming, or no digits at all.
	ReasonEmpty Reason = "empty"
	// ReasonScientific: a spreadsheet turned the number into scientific
	// notation, which has lost digits. Never guess them.
	ReasonScientific Reason = "scientific_notation"
	// ReasonDecimal: a spreadsheet number with a decimal part such as ".0";
	// taken as digits it would be one digit too long and could pass as
	// another kind.
	ReasonDecimal Reason = "decimal_number"
	// ReasonBadCharacter: a letter or a symbol other than a separator.
	ReasonBadCharacter Reason = "bad_character"
	// ReasonLength: the wrong number of digits for the kind.
	ReasonLength Reason = "bad_length"
	// ReasonCNICRegion: a CNIC's first digit, its province, cannot be 0.
	ReasonCNICRegion Reason = "bad_region"
	// ReasonCheckDigit: a 15-digit IMEI whose Luhn check digit is wrong.
	ReasonCheckDigit Reason = "bad_check_digit"
	// ReasonNotMobile: a Pakistani number that is not a mobile number, such
	// as a landline.
	ReasonNotMobile Reason = "not_mobile"
	// ReasonUnallocated: looks like a mobile number (3XX XXXXXXX) but no
	// network uses its prefix.
	ReasonUnallocated Reason = "unallocated"
	// ReasonNotPakistani: a phone number of another country.
	ReasonNotPakistani Reason = "not_pakistani"
	// ReasonUnrecognised: the kind was to be detected and the value looks
	// like no kind.
	ReasonUnrecognised Reason = "unrecognised"
	// ReasonKindMismatch: the value carries a canonical prefix ("cnic:", …)
	// of another kind than the one asked for.
	ReasonKindMismatch Reason = "kind_mismatch"
	// ReasonAmbiguous: the kind was to be detected and the digits fit two
	// kinds, e.g. 13 digits 92 03XX XXXXXXX: a CNIC, or +92 and a number
	// that kept its leading 0. Never guess: the kind must be given.
	ReasonAmbiguous Reason = "ambiguous"
)

// Reasons lists every Reason, so that counters can be keyed by them.
var Reasons = []Reason{
	ReasonEmpty,
	ReasonScientific,
	ReasonDecimal,
	ReasonBadCharacter,
	ReasonLength,
	ReasonCNICRegion,
	ReasonCheckDigit,
	ReasonNotMobile,
	ReasonUnallocated,
	ReasonNotPakistani,
	ReasonUnrecognised,
	ReasonKindMismatch,
	ReasonAmbiguous,
}

// Message returns a fixed English sentence for the reason, fit to show the
// person who typed the value. It never depends on the value.
func (r Reason) Message() string {
	switch r {
	case ReasonEmpty:
		return "the value is empty"
	case ReasonScientific:
		return "the value is in scientific notation, which has lost digits; format the column as text and export it again"
	case ReasonDecimal:
		return "the value is a decimal number; format the column as text and export it again"
	case ReasonBadCharacter:
		return "the value contains a character that is not a digit or a separator"
	case ReasonLength:
		return "the value has the wrong number of digits"
	case ReasonCNICRegion:
		return "a CNIC cannot start with 0"
	case ReasonCheckDigit:
		return "the IMEI's check digit is wrong; look for a typing mistake"
	case ReasonNotMobile:
		return "the number is not a Pakistani mobile number; it may be a landline"
	case ReasonUnallocated:
		return "no Pakistani mobile network uses this number's prefix"
	case ReasonNotPakistani:
		return "the number is not a Pakistani number"
	case ReasonUnrecognised:
		return "the value is not a CNIC, a mobile number or an IMEI"
	case ReasonKindMismatch:
		return "the value is labelled as another kind of identifier"
	case ReasonAmbiguous:
		return "the value could be a CNIC or a mobile number; say which it is"
	}
	return "the value is not a valid identifier"
}

// ParseError is the error of Parse and Scan. It holds no part of the value.
type ParseError struct {
	// Kind is the kind asked for or detected; Unknown if none was.
	Kind Kind
	// Reason says why the value was rejected.
	Reason Reason
}

// Error returns a fixed sentence for the kind and reason, never the value.
func (e *ParseError) Error() string {
	if in, ok := InfoOf(e.Kind); ok && e.Reason == ReasonLength {
		return in.Length
	}
	return e.Reason.Message()
}

func fail(k Kind, r Reason) (ID, error) { return ID{}, &ParseError{Kind: k, Reason: r} }
