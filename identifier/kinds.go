package identifier

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// MaxKinds bounds the kinds there can ever be: stored records give a kind 4
// bits (package internal/record), and arrays indexed by Kind (such as
// khabardar.Counts) have this length. Kind 0 is Unknown.
const MaxKinds = 16

// Info is what every package needs to know about one kind of identifier,
// so that adding a kind is a row of the table below plus its parser, not
// edits across packages. The frontend's kind table is generated from it.
type Info struct {
	Kind Kind
	// Name is the kind in canonical forms ("cnic:…"), JSON keys, Redis
	// fields, CLI flags and URLs. Never changes once data is stored.
	Name string
	// Aliases are other names ParseKind accepts.
	Aliases []string
	// Label and LabelUR name the kind to a person: "CNIC", "شناختی کارڈ".
	Label, LabelUR string
	// Plural is the English plural for counts: "mobile numbers".
	Plural string
	// SMSWords are lower-case words that say an SMS names this kind
	// ("imei 35209…"); English, Roman Urdu and Urdu script.
	SMSWords []string
	// Headers are spreadsheet column headers that name this kind, written
	// as a person would type them; ingest normalises them. Contains, if
	// set, makes any header containing it name this kind ("deviceimei2").
	Headers  []string
	Contains string
	// InputMode is the keyboard a phone shows for the kind's box on the
	// website: "numeric" unless set ("tel", "text").
	InputMode string
	// Length says what a value of this kind looks like, for ReasonLength.
	Length string
	// Fixed is what every canonical value of the kind has after "name:"
	// ("+92" for a phone); the rest is its body.
	Fixed string
	// Block says how values are numbered, for verify's test of counted-up
	// samples: the body's first Block.Prefix characters name a block of
	// Block.Size values, numbered by the digits after them.
	Block Block

	// For a kind whose values hold letters, which the digit parser
	// refuses: text parses a trimmed value without its "name:" prefix;
	// looks says whether a value given without a kind is of this kind;
	// find finds candidates in free text (Scan).
	text  func(s string) (ID, error)
	looks func(s string) bool
	find  *regexp.Regexp
}

// Block is a numbering block: see Info.Block.
type Block struct {
	Prefix int
	Size   float64
}

// kinds is the table, indexed by Kind. Order is the display order, and
// kinds' numbers are stored in records: append, never reorder.
var kinds = [...]Info{
	CNIC: {
		Kind: CNIC, Name: "cnic", Label: "CNIC", LabelUR: "شناختی کارڈ", Plural: "CNICs",
		SMSWords: strings.Fields("cnic nic id idcard card shanakhti shanakhati shanaakhti شناختی کارڈ"),
		Headers: []string{"cnic", "nic", "nicop", "cnic nicop", "id card", "identity card", "national id card",
			"national identity card", "national id", "cnic card", "computerised national identity card",
			"computerized national identity card", "shanakhti card", "شناختی کارڈ", "شناختی", "قومی شناختی کارڈ",
			"شناختی کارڈ نمبر"},
		Length: "a CNIC has 13 digits",
		Block:  Block{5, 1e8}, // area code; serial and gender digit
	},
	Phone: {
		Kind: Phone, Name: "phone", Aliases: []string{"mobile", "msisdn"}, Label: "mobile number", LabelUR: "موبائل نمبر",
		Plural: "mobile numbers", InputMode: "tel",
		SMSWords: strings.Fields("number nmbr nambar numbr nomber mobile mob phone fone cell sim نمبر موبائل فون سم"),
		Headers: []string{"mobile", "phone", "cell", "cellphone", "msisdn", "contact", "number", "mob", "mobile phone",
			"telephone", "tel", "ph", "phn", "whatsapp", "sim", "sim number", "aparty", "bparty", "contact number",
			"موبائل", "موبایل", "فون", "رابطہ", "نمبر", "موبائل فون", "سم", "فون نمبر"},
		Length: "a Pakistani mobile number has 11 digits, like 03XX-XXXXXXX",
		Fixed:  "+92",
		Block:  Block{3, 1e7}, // 3XY prefix; subscriber number
	},
	IMEI: {
		Kind: IMEI, Name: "imei", Label: "IMEI", LabelUR: "IMEI", Plural: "IMEIs",
		SMSWords: strings.Fields("imei imie emei"),
		Headers:  []string{"imei", "device imei", "imeisv"}, Contains: "imei",
		Length: "an IMEI has 15 digits (14 without the check digit, 16 for an IMEISV)",
		Block:  Block{8, 1e6}, // TAC; serial
	},
	Passport: {
		Kind: Passport, Name: "passport", Label: "passport number", LabelUR: "پاسپورٹ نمبر", Plural: "passport numbers",
		InputMode: "text",
		SMSWords:  strings.Fields("passport pasport passprt paasport pp پاسپورٹ"),
		Headers: []string{"passport", "passport no", "passport number", "passport num", "pp no", "travel document",
			"پاسپورٹ", "پاسپورٹ نمبر"},
		Length: "a Pakistani passport number has 2 letters and 7 digits",
		Block:  Block{2, 1e7}, // the letters; the digits
		text:   parsePassport, looks: looksLikePassport, find: passportInText,
	},
}

// Kinds lists the known kinds in the table's order.
var Kinds = func() []Kind {
	var ks []Kind
	for _, in := range kinds {
		if in.Kind != Unknown {
			ks = append(ks, in.Kind)
		}
	}
	return ks
}()

// InfoOf returns the table row of k; ok is false for Unknown and for a
// number that is no kind.
func InfoOf(k Kind) (Info, bool) {
	if int(k) >= len(kinds) || kinds[k].Kind == Unknown {
		return Info{}, false
	}
	return kinds[k], true
}

// Known reports whether k is a kind of the table (not Unknown).
func (k Kind) Known() bool { _, ok := InfoOf(k); return ok }

// ErrUnknownKind is returned by ParseKind and Kind.UnmarshalText for a name
// that is not a kind. It does not repeat the name: a caller that swapped its
// arguments might have passed an identifier.
var ErrUnknownKind = errors.New("identifier: unknown kind: want " + NameList())

// NameList lists the kinds' names for messages: "cnic, phone or imei".
func NameList() string {
	var names []string
	for _, k := range Kinds {
		names = append(names, kinds[k].Name)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// String returns the kind's name as used in canonical forms and APIs: "cnic",
// "phone", "imei", and "" for Unknown.
func (k Kind) String() string {
	if k == Unknown {
		return ""
	}
	if in, ok := InfoOf(k); ok {
		return in.Name
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind returns the kind named by s (its name or an alias),
// case-insensitively. "" is Unknown.
func ParseKind(s string) (Kind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Unknown, nil
	}
	for _, k := range Kinds {
		in := kinds[k]
		if s == in.Name {
			return k, nil
		}
		for _, a := range in.Aliases {
			if s == a {
				return k, nil
			}
		}
	}
	return Unknown, ErrUnknownKind
}

// MarshalText implements encoding.TextMarshaler with the kind's name.
func (k Kind) MarshalText() ([]byte, error) {
	if k != Unknown && !k.Known() {
		return nil, ErrUnknownKind
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what
// ParseKind accepts.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
