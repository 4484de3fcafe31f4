package identifier

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDigits bounds the digits Parse keeps: no identifier form has more than
// 16 (IMEISV) and a phone number with an international prefix at most 17.
const maxDigits = 20

// Parse returns the canonical identifier of kind k in raw, or a *ParseError.
// With k Unknown the kind is detected from the value.
//
// Parse accepts what people type and leaks contain: surrounding spaces and
// quotes, a spreadsheet's leading apostrophe or ="…" formula, separators
// (spaces, dashes, dots, slashes, parentheses), Urdu, Arabic-Indic and
// full-width digits, and the canonical form itself. It never guesses digits:
// scientific notation, letters and wrong lengths are rejected.
func Parse(k Kind, raw Raw) (ID, error) {
	if k != Unknown && !k.Known() {
		return fail(k, ReasonUnrecognised)
	}
	s := trim(string(raw))
	if s == "" {
		return fail(k, ReasonEmpty)
	}
	if pk, rest, ok := cutKindPrefix(s); ok {
		if k != Unknown && k != pk {
			return fail(k, ReasonKindMismatch)
		}
		k, s = pk, trim(rest)
	}
	if in, ok := InfoOf(k); ok && in.text != nil {
		return in.text(s)
	}
	if k == Unknown {
		for _, tk := range Kinds {
			if in := kinds[tk]; in.looks != nil && in.looks(s) {
				return in.text(s)
			}
		}
	}

	var buf [maxDigits]byte
	n, plus := 0, false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		if d, ok := digitOf(r); ok {
			if n < len(buf) {
				buf[n] = d
			}
			n++
			continue
		}
		switch {
		case isSeparator(r) || unicode.IsSpace(r) || isIgnorable(r):
		case (r == '+' || r == '＋') && n == 0 && !plus:
			plus = true
		default:
			// Checked only here, off the common path: these inputs hold letters.
			if isScientific(s) {
				return fail(k, ReasonScientific)
			}
			return fail(k, ReasonBadCharacter)
		}
	}
	switch {
	case n == 0:
		return fail(k, ReasonEmpty)
	case isDecimal(s):
		return fail(k, ReasonDecimal)
	case n > len(buf):
		if k == Unknown {
			if k = detect(buf[:2], plus); k != Phone { // only an international prefix says what it is
				return fail(Unknown, ReasonUnrecognised)
			}
		}
		return fail(k, ReasonLength)
	}
	return parseDigits(k, buf[:n], plus)
}

// parseDigits parses normalised ASCII digits; plus reports a leading '+'.
// It does not retain d.
func parseDigits(k Kind, d []byte, plus bool) (ID, error) {
	if k == Unknown {
		if k = detect(d, plus); k == Unknown {
			return fail(Unknown, ReasonUnrecognised)
		}
		if k == CNIC && d[0] == '9' && d[1] == '2' && d[2] == '0' && d[3] == '3' {
			return fail(Unknown, ReasonAmbiguous)
		}
	}
	switch k {
	case CNIC:
		switch {
		case plus:
			return fail(k, ReasonBadCharacter)
		case len(d) != 13:
			return fail(k, ReasonLength)
		case d[0] == '0':
			return fail(k, ReasonCNICRegion)
		}
		return ID{kind: CNIC, canon: "cnic:" + string(d)}, nil
	case IMEI:
		if plus {
			return fail(k, ReasonBadCharacter)
		}
		switch len(d) {
		case 14, 16: // TAC + serial; an IMEISV's 2 software-version digits are not the device's
		case 15:
			if !luhn(d) {
				return fail(k, ReasonCheckDigit)
			}
		default:
			return fail(k, ReasonLength)
		}
		return ID{kind: IMEI, canon: "imei:" + string(d[:14])}, nil
	case Phone:
		return parsePhone(d, plus)
	}
	return fail(k, ReasonUnrecognised)
}

// detect returns the kind that normalised digits have the shape of, or
// Unknown.
func detect(d []byte, plus bool) Kind {
	n := len(d)
	switch {
	case plus || n >= 2 && d[0] == '0' && d[1] == '0':
		return Phone // international prefix; 0092 + 10 digits is 14 long, like an IMEI
	case n == 13:
		return CNIC
	case n == 14 || n == 15 || n == 16:
		return IMEI
	case n == 11 && d[0] == '0' && d[1] == '3',
		n == 12 && d[0] == '9' && d[1] == '2' && d[2] == '3',
		n == 10 && d[0] == '3':
		return Phone
	case (n == 10 || n == 11) && d[0] == '0',
		n == 12 && d[0] == '9' && d[1] == '2':
		// A national number with its trunk 0 (042-1234567) or 92 without
		// the plus: a phone number, though not a mobile one. Detected as a
		// phone so that every surface answers not_mobile, not unrecognised.
		return Phone
	}
	return Unknown
}

// luhn reports whether d, check digit last, passes the Luhn check.
func luhn(d []byte) bool {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if (len(d)-1-i)%2 == 1 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// digitOf maps the digit scripts people use in Pakistan to ASCII.
func digitOf(r rune) (byte, bool) {
	switch {
	case '0' <= r && r <= '9':
		return byte(r), true
	case r < 0x660:
	case r <= 0x669: // Arabic-Indic
		return byte(r-0x660) + '0', true
	case 0x6F0 <= r && r <= 0x6F9: // Extended Arabic-Indic, as Urdu keyboards type
		return byte(r-0x6F0) + '0', true
	case 0xFF10 <= r && r <= 0xFF19: // full-width, from East Asian input methods and some PDFs
		return byte(r-0xFF10) + '0', true
	}
	return 0, false
}

// isSeparator reports the punctuation people put between digit groups. Spaces
// are handled by callers: Parse takes all, Scan only those within a line.
func isSeparator(r rune) bool {
	switch r {
	case '-', '.', '/', '(', ')',
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', // hyphens and dashes
		'\u2212', '\uFE63', '\uFF0D', // minus signs
		'\uFF0E', '\uFF0F', '\uFF08', '\uFF09': // full-width . / ( )
		return true
	}
	return false
}

// isIgnorable reports invisible formatting characters: zero-width spaces and
// joiners, the BOM, soft hyphens and bidirectional marks, which Urdu text and
// WhatsApp exports put around and inside numbers.
func isIgnorable(r rune) bool {
	switch {
	case r < 0xAD:
		return false
	case r == 0xAD, r == 0x61C, r == 0x180E, r == 0xFEFF,
		0x200B <= r && r <= 0x200F,
		0x202A <= r && r <= 0x202E,
		0x2060 <= r && r <= 0x2064,
		0x2066 <= r && r <= 0x2069:
		return true
	}
	return false
}

func isQuote(r rune) bool {
	switch r {
	case '"', '\'', '`', '\u2018', '\u2019', '\u201A', '\u201B', '\u201C', '\u201D',
		'\u201E', '\u201F', '\u00AB', '\u00BB', '\u2032', '\u2033', '\uFF02', '\uFF07':
		return true
	}
	return false
}

func isBlank(r rune) bool { return unicode.IsSpace(r) || isIgnorable(r) }

func isBlankOrQuote(r rune) bool { return isBlank(r) || isQuote(r) }

// trim removes what surrounds a value in the wild: spaces, invisible
// characters, quotes, a spreadsheet's leading apostrophe (a quote too) and the
// ="…" of an Excel text formula, in any nesting.
func trim(s string) string {
	for {
		t := strings.TrimFunc(s, isBlank)
		if len(t) > 1 && t[0] == '=' {
			if r, _ := utf8.DecodeRuneInString(t[1:]); isQuote(r) {
				t = t[1:]
			}
		}
		t = strings.TrimFunc(t, isBlankOrQuote)
		if len(t) == len(s) {
			return t
		}
		s = t
	}
}

// asciiEqualFold is strings.EqualFold for ASCII only: under Unicode
// folding "ſ" (long s) would spell "paſſport", which the website's port
// does not accept.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// maxNameLen is the longest kind name.
var maxNameLen = func() int {
	n := 0
	for _, k := range Kinds {
		n = max(n, len(kinds[k].Name))
	}
	return n
}()

// cutKindPrefix splits a canonical-form prefix ("cnic:", "phone:", "imei:",
// any case) off s.
func cutKindPrefix(s string) (Kind, string, bool) {
	i := strings.IndexByte(s, ':')
	if i < 1 || i > maxNameLen {
		return Unknown, s, false
	}
	for _, k := range Kinds {
		if asciiEqualFold(s[:i], k.String()) {
			return k, s[i+1:], true
		}
	}
	return Unknown, s, false
}

// isScientific reports a number in scientific notation, as spreadsheets show
// long numbers: mantissa with an optional decimal point or comma, E, an
// optionally signed exponent.
func isScientific(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	mant, point := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			mant++
			continue
		case (c == '.' || c == ',') && !point:
			point = true
			continue
		}
		break
	}
	if mant == 0 || i == len(s) || s[i]|0x20 != 'e' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	exp := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		exp++
	}
	return exp > 0 && i == len(s)
}

// isDecimal reports ASCII digits, one decimal point and one to three more
// digits, as a spreadsheet exports a number cell ("3001234567.0") or an
// amount: "352021234567.1" is a number with a fraction, not a dotted CNIC.
// Dots as separators split groups of 4 or more digits ("0300.1234567").
func isDecimal(s string) bool {
	i := strings.IndexByte(s, '.')
	if i <= 0 || len(s)-i-1 < 1 || len(s)-i-1 > 3 {
		return false
	}
	for j := 0; j < len(s); j++ {
		if c := s[j]; j != i && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
