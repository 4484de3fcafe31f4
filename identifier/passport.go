package identifier

import (
	"regexp"
	"unicode"
)

// Pakistani passport numbers are two letters and seven digits (AB1234567),
// printed on the data page and copied with CNICs by the same sellers. People
// type them in either case, with a space or a dash after the letters.

// passportInText finds passport numbers in free text and among an SMS's
// words: two letters, perhaps a space or dash, seven digits, standing alone.
var passportInText = regexp.MustCompile(`(?i)\b[a-z]{2}[ -]?[0-9]{7}\b`)

// parsePassport parses a trimmed value without its "passport:" prefix.
func parsePassport(s string) (ID, error) {
	var b [9]byte
	letters, digits := 0, 0
	for _, r := range s {
		switch d, isDigit := digitOf(r); {
		case isDigit:
			if digits < 7 && letters == 2 {
				b[2+digits] = d
			}
			digits++
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			if digits > 0 {
				return fail(Passport, ReasonBadCharacter) // letters after digits
			}
			if letters < 2 {
				b[letters] = byte(unicode.ToUpper(r))
			}
			letters++
		case isSeparator(r) || unicode.IsSpace(r) || isIgnorable(r):
		default:
			return fail(Passport, ReasonBadCharacter)
		}
	}
	switch {
	case letters == 0 && digits == 0:
		return fail(Passport, ReasonEmpty)
	case letters != 2 || digits != 7:
		return fail(Passport, ReasonLength)
	}
	return ID{kind: Passport, canon: "passport:" + string(b[:])}, nil
}

// looksLikePassport reports a value given without a kind that starts with
// two ASCII letters followed by six to eight digits and nothing else but
// separators: a passport number, or one with a digit too many or too few.
// A word and a number ("No 03001234567") has too many digits to be one.
func looksLikePassport(s string) bool {
	letters, digits := 0, 0
	for _, r := range s {
		switch _, isDigit := digitOf(r); {
		case isDigit:
			digits++
		case r < unicode.MaxASCII && unicode.IsLetter(r) && digits == 0:
			letters++
		case isSeparator(r) || unicode.IsSpace(r) || isIgnorable(r):
		default:
			return false
		}
	}
	return letters == 2 && digits >= 6 && digits <= 8
}
