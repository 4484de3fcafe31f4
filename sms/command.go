package sms

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// Action is what a message asks for.
type Action uint8

const (
	// Unknown: nothing understood; answered with the help text.
	Unknown Action = iota
	// Check: check Command.ID, a CNIC or an IMEI.
	Check
	// CheckSender: check the number the message came from (ME, an empty
	// message). Sending from a number is the only proof of owning it, so it
	// is the only number SMS can check.
	CheckSender
	// Phone: Command.ID is a mobile number. It is checked only if it is the
	// sender's own; any other gets the reply that a number is checked by
	// sending ME from it.
	Phone
	// Help: HELP, MADAD.
	Help
	// Language: switch replies to Command.Lang (URDU, ENGLISH).
	Language
	// Invalid: a value that does not parse; Command.Kind and Command.Reason
	// say why, never the value.
	Invalid
	// Subscribe: ALERT, KHABAR; watch Command.ID for new listings, or the
	// sender's own number if it is zero (ALERT, ALERT ME).
	Subscribe
	// Unsubscribe: STOP, BAND; end every alert and forget the sender.
	Unsubscribe
	// ListAlerts: ALERTS, LIST; how many watches the sender has.
	ListAlerts
)

var actionNames = [...]string{"unknown", "check", "check_sender", "phone", "help", "language", "invalid",
	"subscribe", "unsubscribe", "list_alerts"}

// String returns the action's name, fit for logs and metrics.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// ReasonSeveral is the Invalid reason of a message holding more than one
// identifier: one check per message, so that every reply answers one
// question and every message is one guess.
const ReasonSeveral identifier.Reason = "several_values"

// Command is a parsed message. It holds an identifier only as an
// identifier.ID, which redacts itself in logs.
type Command struct {
	Action Action
	ID     identifier.ID     // Check, Phone
	Lang   string            // Language: khabardar.LangEnglish or LangUrdu
	Kind   identifier.Kind   // Invalid: the kind asked for or detected, Unknown if none
	Reason identifier.Reason // Invalid
}

// MaxBodyBytes bounds the messages Parse reads: ten concatenated segments of
// Urdu are about 1,300 bytes of UTF-8. A longer body is no SMS and is
// answered with the help text.
const MaxBodyBytes = 4096

// Parse reads what someone texted. It is case-insensitive and takes English
// and Roman Urdu keywords, Urdu ones, and digits in any script people type
// (identifier.Parse normalises them):
//
//	(empty), ME, MERA, MERA NUMBER, MY NO, میرا نمبر   CheckSender
//	35202-1234567-1, CNIC 35202…, shanakhti card …     Check a CNIC
//	IMEI 35209900…, or 15 digits alone                 Check an IMEI
//	0300-1234567, MERA NUMBER 0300…                    Phone
//	HELP, MADAD, مدد                                   Help
//	URDU, اردو / ENGLISH, ENG, انگریزی                  Language
//
// A bare IMEI is accepted because that is how people already send one to
// 8484 (PTA's DIRBS), copied from *#06#. Keywords may be followed by words
// such as "check karo" or "please", and a value may sit among words ("mera
// cnic 35202-1234567-1 hai"): each run of digits between words is read on
// its own. A value that does not parse is Invalid with its reason, never
// guessed at; two or more values are Invalid with ReasonSeveral.
func Parse(body string) Command {
	if len(body) > MaxBodyBytes {
		return Command{Action: Unknown}
	}
	if strings.TrimFunc(body, isBlank) == "" {
		return Command{Action: CheckSender}
	}
	// A kind whose values hold letters is found by its own pattern: the
	// digit runs below would take its letters for words.
	for _, k := range identifier.Kinds {
		if loc := identifier.FindIndex(k, body); loc != nil {
			if id, err := identifier.Parse(k, identifier.Raw(body[loc[0]:loc[1]])); err == nil {
				return alertValue(commandFor(id), words(body[:loc[0]]))
			}
		}
	}
	i := valueStart(body)
	if i < 0 {
		return alertWords(parseWords(words(body)), words(body))
	}
	return alertValue(parseValue(kindOf(words(body[:i])), body[i:]), words(body[:i]))
}

// alertWords turns a message without a value into an alert command when its
// first word asks for one: STOP, ALERTS, or ALERT (the sender's own number:
// ALERT, ALERT ME, KHABAR MERA NUMBER).
func alertWords(cmd Command, ws []string) Command {
	if len(ws) == 0 {
		return cmd
	}
	switch lookup(ws[0]) {
	case wStop:
		return Command{Action: Unsubscribe}
	case wList:
		return Command{Action: ListAlerts}
	case wAlert:
		for _, w := range ws[1:] {
			if c := lookup(w); c != wSender && c != wPhone && c != wFiller && c != wAlert {
				if k := kindOfClass(c); k != identifier.Unknown {
					// ALERT CNIC with no value: say what to send.
					return Command{Action: Invalid, Kind: k, Reason: identifier.ReasonEmpty}
				}
				return cmd
			}
		}
		return Command{Action: Subscribe}
	}
	return cmd
}

// alertValue turns a check into a subscription when the words before the
// value start with ALERT: ALERT 35202-…, ALERT IMEI 35…; a number other than
// the sender's own cannot be watched, as it cannot be checked.
func alertValue(cmd Command, before []string) Command {
	if len(before) == 0 || lookup(before[0]) != wAlert {
		return cmd
	}
	switch cmd.Action {
	case Check, Phone:
		return Command{Action: Subscribe, ID: cmd.ID}
	}
	return cmd
}

// Word classes.
type class uint8

const (
	wOther   class = iota
	wFiller        // check, please, hai
	wSender        // me, mera, my
	wHelp          // help, madad
	wUrdu          // urdu
	wEnglish       // english, eng
	wAlert         // alert, khabar: subscribe
	wStop          // stop, band: unsubscribe
	wList          // alerts, list: count the watches
	// wKind + k: a word that names kind k (identifier.Info.SMSWords):
	// "cnic", "imei", "number" (a phone).
	wKind
)

// wPhone is the class of the words that name a phone number.
const wPhone = wKind + class(identifier.Phone)

// kindOfClass returns the kind a word of class c names, Unknown if none.
func kindOfClass(c class) identifier.Kind {
	if c < wKind {
		return identifier.Unknown
	}
	return identifier.Kind(c - wKind)
}

// vocabulary maps lower-case words, Urdu letters normalised (see words), to
// their class.
var vocabulary = func() map[string]class {
	m := map[string]class{}
	for c, ws := range map[class]string{
		wFiller: "check chk chek chck karo kro krdo kardo karen kren karein kar do please plz pls kindly is hai hain ka ki ke ko in mein main " +
			"no num the of for sms send bhejo " +
			"چیک کریں کرو کر دیں ہے کا کی کے کو میں براہ کرم مہربانی",
		wSender:  "me mera meraa meri mira my mine apna apni میرا میری اپنا اپنی",
		wHelp:    "help madad maddad mdd info menu مدد",
		wUrdu:    "urdu urdo urdoo ordu ur اردو",
		wEnglish: "english eng en angrezi angraizi angrazi inglish انگریزی انگلش",
		wAlert:   "alert alrt notify khabar batana btana bataye batayen اطلاع خبر بتائیں",
		wStop:    "stop band bnd unsubscribe cancel khatam بند ختم",
		wList:    "alerts list alertlist فہرست",
	} {
		for _, w := range strings.Fields(ws) {
			m[w] = c
		}
	}
	for _, k := range identifier.Kinds {
		in, _ := identifier.InfoOf(k)
		for _, w := range in.SMSWords {
			m[w] = wKind + class(k)
		}
	}
	return m
}()

// words splits s into lower-case words: punctuation, symbols and spaces
// part them, invisible formatting characters (bidirectional marks,
// zero-width spaces) vanish, and Arabic letter forms that Arabic keyboards
// type for Urdu ones (ي ى ك) become the Urdu ones.
func words(s string) []string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
			continue
		case r == 'ي' || r == 'ى':
			r = 'ی'
		case r == 'ك':
			r = 'ک'
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r):
			r = ' '
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return strings.Fields(b.String())
}

// lookup returns the class of w, or of w without the digits it ends with
// ("imei1", "imei2").
func lookup(w string) class {
	if c, ok := vocabulary[w]; ok {
		return c
	}
	return vocabulary[strings.TrimRight(w, "0123456789")]
}

// parseWords reads a message without a value.
func parseWords(ws []string) Command {
	var has [wKind + identifier.MaxKinds]bool
	named := identifier.Unknown // a kind other than phone, named without a value
	for _, w := range ws {
		c := lookup(w)
		has[c] = true
		if k := kindOfClass(c); k != identifier.Unknown && k != identifier.Phone {
			named = k
		}
	}
	switch {
	case has[wOther]:
		return Command{Action: Unknown}
	case has[wUrdu] && has[wEnglish]:
		return Command{Action: Unknown}
	case has[wUrdu]:
		return Command{Action: Language, Lang: khabardar.LangUrdu}
	case has[wEnglish]:
		return Command{Action: Language, Lang: khabardar.LangEnglish}
	case has[wHelp]:
		return Command{Action: Help}
	case named != identifier.Unknown:
		return Command{Action: Invalid, Kind: named, Reason: identifier.ReasonEmpty}
	case has[wSender] || has[wPhone]:
		return Command{Action: CheckSender}
	}
	if len(ws) == 0 { // only punctuation, such as "?"
		return Command{Action: Help}
	}
	return Command{Action: Unknown} // only filler, such as "check"
}

// kindOf returns the kind named by the words before a value: any other
// kind's keyword wins over a phone one, which is also a word for "number"
// ("cnic no", "my imei"); Unknown if none.
func kindOf(ws []string) identifier.Kind {
	k := identifier.Unknown
	for _, w := range ws {
		switch c := lookup(w); {
		case c == wSender || c == wPhone:
			k = identifier.Phone
		case kindOfClass(c) != identifier.Unknown:
			return kindOfClass(c)
		}
	}
	return k
}

// valueStart returns the index of the first digit of s (any script), or of
// a plus sign just before one; -1 if s has no digit. One or two digits
// glued to a word and ending it, as in "IMEI1 35…" copied from a dual-SIM
// phone's *#06# screen, belong to the word.
func valueStart(s string) int {
	plus, prevLetter := -1, false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsDigit(r):
			if prevLetter {
				if n := gluedDigits(s[i:]); n > 0 {
					i += n
					continue
				}
			}
			if plus >= 0 {
				return plus
			}
			return i
		case r == '+' || r == '＋':
			plus = i
		case !unicode.Is(unicode.Cf, r):
			plus = -1
		}
		prevLetter = unicode.IsLetter(r)
		i += size
	}
	return -1
}

// gluedDigits returns the length of the one or two digits s starts with if
// a space, a colon or the end follows them, else 0.
func gluedDigits(s string) int {
	n := 0
	for n < len(s) && n < 3 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 || n > 2 {
		return 0
	}
	if n < len(s) && s[n] != ' ' && s[n] != ':' {
		return 0
	}
	return n
}

// parseValue reads the value part of a message, kind being what its
// keywords asked for (Unknown: detect it).
func parseValue(kind identifier.Kind, value string) Command {
	id, err := identifier.Parse(kind, identifier.Raw(value))
	if err == nil {
		return commandFor(id)
	}
	whole := parseError(err, kind)
	// Words around the value, or several values: read each run of digits
	// and separators on its own. A run that does not parse is never cut
	// into one that does: Scan would take "35202-12345678-1" for the CNIC
	// 35202-1234567-8, a check of someone else. Scan only tells whether a
	// run holds two identifiers.
	var (
		ids      []identifier.ID
		worst    *identifier.ParseError
		most     = -1
		failedID bool // a run long enough to be an identifier did not parse
	)
	for _, run := range runs(value) {
		id, err := identifier.Parse(kind, identifier.Raw(run))
		if err == nil {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
			continue
		}
		if scanCount(run) >= 2 {
			return Command{Action: Invalid, Kind: kind, Reason: ReasonSeveral}
		}
		d := digits(run)
		failedID = failedID || d >= minIDDigits
		if d > most {
			worst, most = parseError(err, kind), d
		}
	}
	switch {
	case len(ids) > 1 || len(ids) == 1 && failedID:
		return Command{Action: Invalid, Kind: kind, Reason: ReasonSeveral}
	case len(ids) == 1:
		return commandFor(ids[0])
	case worst != nil && whole.Reason == identifier.ReasonBadCharacter:
		// The letters were words around the value: its own error says more.
		whole = worst
	}
	return Command{Action: Invalid, Kind: whole.Kind, Reason: whole.Reason}
}

// minIDDigits is the fewest digits of any identifier form (a mobile number
// without its 0): shorter runs are times, prices and counts.
const minIDDigits = 10

// runs splits s into runs of digits (any script), the separators people
// put between digit groups, spaces and plus signs. Words and other
// punctuation part them; a lone letter between digits ("12345x7", a typo)
// does not, so that the run is rejected with it.
func runs(s string) []string {
	var out []string
	start := -1
	prev := rune(-1)
	for i, r := range s {
		in := inRun(r)
		if !in && unicode.IsLetter(r) && unicode.IsDigit(prev) {
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			in = unicode.IsDigit(next)
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			out = append(out, s[start:i])
			start = -1
		}
		prev = r
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func inRun(r rune) bool {
	switch {
	case unicode.IsDigit(r), unicode.Is(unicode.Pd, r), unicode.Is(unicode.Cf, r), r == ' ', r == '\u00a0':
		return true
	}
	return strings.ContainsRune("+＋./()−．／（）", r)
}

// digits counts the digits of s, in any script.
func digits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// scanCount returns how many distinct identifiers Scan finds in s, up to 2.
func scanCount(s string) int {
	var first identifier.ID
	n := 0
	identifier.Scan(s, func(id identifier.ID, err error) bool {
		if err == nil && id != first {
			if n == 0 {
				first = id
			}
			n++
		}
		return n < 2
	})
	return n
}

// parseError returns err as a *ParseError; kind and "unrecognised" for any
// other error, which identifier.Parse does not return.
func parseError(err error, kind identifier.Kind) *identifier.ParseError {
	var pe *identifier.ParseError
	if errors.As(err, &pe) {
		return pe
	}
	return &identifier.ParseError{Kind: kind, Reason: identifier.ReasonUnrecognised}
}

func commandFor(id identifier.ID) Command {
	if id.Kind() == identifier.Phone {
		return Command{Action: Phone, ID: id}
	}
	return Command{Action: Check, ID: id}
}

func isBlank(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }
