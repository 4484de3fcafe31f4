package identifier

import "unicode/utf8"

const (
	// minScanDigits: shorter digit runs are dates, times, prices and counts,
	// not identifiers, and not worth a rejection either.
	minScanDigits = 10
	// maxSpanDigits is the longest identifier, an IMEISV. A single digit
	// group may be longer (and is rejected); groups joined by separators
	// never are.
	maxSpanDigits = 16
	// maxGap is how many separator characters may stand between two digit
	// groups of one identifier, as ") " in "+92 (300) 123-4567" or " - ".
	maxGap = 3
)

// Scan finds identifiers in free text, such as a line of a WhatsApp chat
// export, and calls yield for each in order: with the ID, or with a
// *ParseError for a candidate of 10 or more digits that is no valid
// identifier. It stops when yield returns false.
//
// A candidate is a run of digit groups (ASCII, Urdu, Arabic-Indic or
// full-width digits) joined by a few separators: spaces, dashes, dots,
// slashes, parentheses; a leading '+' marks an international number. As
// identifiers are written with spaces too ("0300 1234567", "35202 1234567 1"),
// a run can hold several identifiers and unrelated numbers. It is cut left to
// right, each time taking the longest groups that parse as one identifier and
// whose group boundaries fall where that kind is usually split: 5-7-1 for a
// CNIC, 2-6-6-1 or 8-7 for an IMEI, after the prefix and operator code for a
// phone number. So "1. 35202-1234567-1" yields a CNIC, not a 14-digit IMEI.
//
// Digits glued to Latin letters ("abc123", hashes, "3.5E+12") or forming a
// time ("10:30") are not candidates.
//
// Kinds whose values hold letters (identifier.Info's find) are looked for
// after the digit runs, so their identifiers come last.
func Scan(text string, yield func(ID, error) bool) {
	stopped := false
	sc := scanner{yield: func(id ID, err error) bool {
		if !yield(id, err) {
			stopped = true
		}
		return !stopped
	}}
	sc.scan(text)
	for _, k := range Kinds {
		in := kinds[k]
		if in.find == nil || stopped {
			continue
		}
		for _, m := range in.find.FindAllString(text, -1) {
			if !yield(in.text(m)) {
				return
			}
		}
	}
}

// scanner holds the run being collected: its digits, normalised to ASCII,
// and where each of its groups ends.
type scanner struct {
	digits []byte
	ends   []int // ends[g] is the offset in digits where group g ends
	plus   bool  // the run began with '+'
	yield  func(ID, error) bool
}

func (sc *scanner) scan(text string) {
	var (
		inGroup  bool
		tainted  bool // the current group is glued to a word or is part of a time
		gap      int  // separator characters since the run's last group
		prev     rune = ' '
		prevDig  bool // whether the rune before prev was a digit
		nextPlus bool // a '+' just started a new run
	)
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		if isIgnorable(r) {
			continue
		}
		d, isDigit := digitOf(r)
		switch {
		case isDigit && !inGroup:
			inGroup = true
			if sc.digits == nil { // allocated only for text with digits
				sc.digits, sc.ends = make([]byte, 0, 64), make([]int, 0, 16)
			}
			tainted = isWordChar(prev) || prev == ':' && prevDig
			switch {
			case nextPlus:
				sc.plus, nextPlus = true, false
			case len(sc.ends) > 0 && (gap > maxGap || tainted) && !sc.flush():
				return
			}
			if !tainted {
				sc.digits = append(sc.digits, d)
			}
		case isDigit:
			if !tainted {
				sc.digits = append(sc.digits, d)
			}
		default:
			if inGroup {
				inGroup, gap = false, 0
				if !tainted && (isWordChar(r) || r == ':' && digitNext(text[i:])) {
					tainted = true
				}
				if tainted {
					sc.digits = sc.digits[:sc.start(len(sc.ends))] // drop the group
					if len(sc.ends) > 0 && !sc.flush() {           // the run ends before it
						return
					}
				} else {
					sc.ends = append(sc.ends, len(sc.digits))
				}
			}
			switch {
			case isRunSeparator(r):
				gap++
			case (r == '+' || r == '＋') && !isDigitRune(prev):
				if len(sc.ends) > 0 && !sc.flush() {
					return
				}
				nextPlus = digitNext(text[i:])
			default:
				if len(sc.ends) > 0 && !sc.flush() {
					return
				}
				nextPlus = false
			}
		}
		prevDig = isDigitRune(prev)
		prev = r
	}
	if inGroup && !tainted {
		sc.ends = append(sc.ends, len(sc.digits))
	}
	if len(sc.ends) > 0 {
		sc.flush()
	}
}

// flush segments the collected run, yields what it holds and empties it. It
// returns false if yield asked to stop.
func (sc *scanner) flush() bool {
	ok := sc.segment()
	sc.digits, sc.ends, sc.plus = sc.digits[:0], sc.ends[:0], false
	return ok
}

// segment cuts the run into identifiers, left to right, longest first.
// Groups between identifiers are reported as rejections if they hold a
// candidate of their own.
func (sc *scanner) segment() bool {
	rest := 0 // first group not yet yielded or reported
	for i := 0; i < len(sc.ends); {
		j, id, ok := sc.longestAt(i)
		if !ok {
			i++
			continue
		}
		if rest < i && !sc.reject(rest, i) {
			return false
		}
		if !sc.yield(id, nil) {
			return false
		}
		i, rest = j, j
	}
	return rest == len(sc.ends) || sc.reject(rest, len(sc.ends))
}

// start returns where group g begins in digits.
func (sc *scanner) start(g int) int {
	if g == 0 {
		return 0
	}
	return sc.ends[g-1]
}

// maxEnd returns the largest j ≤ b such that groups [i, j) hold at most
// maxSpanDigits digits, or i+1 if group i alone holds more. It bounds the work
// per group whatever the run's length.
func (sc *scanner) maxEnd(i, b int) int {
	lo, j := sc.start(i), i+1
	for j < b && sc.ends[j]-lo <= maxSpanDigits {
		j++
	}
	return j
}

// span returns the digits of groups [i, j), whether they begin with '+', and
// the kind they are a candidate for: Unknown if they are none. A lone group
// is always a candidate; its kind may be Unknown.
func (sc *scanner) span(i, j int) (d []byte, plus bool, k Kind, ok bool) {
	lo := sc.start(i)
	d, plus = sc.digits[lo:sc.ends[j-1]], sc.plus && i == 0
	k = detect(d, plus)
	if j == i+1 {
		return d, plus, k, true
	}
	ok = k != Unknown && len(d) <= maxSpanDigits && plausible(k, d, plus, sc.ends[i:j-1], lo)
	return d, plus, k, ok
}

// longestAt returns the longest identifier made of groups [i, j). A
// candidate that fails for another reason than its length stops the search:
// "35-209900-176148-2" has a wrong check digit and is no 14-digit IMEI
// followed by a 2.
func (sc *scanner) longestAt(i int) (int, ID, bool) {
	for j := sc.maxEnd(i, len(sc.ends)); j > i; j-- {
		d, plus, k, ok := sc.span(i, j)
		if len(d) < minScanDigits {
			break
		}
		if !ok || k == Unknown || len(d) > maxSpanDigits {
			continue
		}
		id, err := parseDigits(k, d, plus)
		if err == nil {
			return j, id, true
		}
		if err.(*ParseError).Reason != ReasonLength {
			break
		}
	}
	return 0, ID{}, false
}

// reject yields the errors of the candidates among groups [a, b), which hold
// no identifier: for each, the longest from the left, then on after it.
func (sc *scanner) reject(a, b int) bool {
	for s := a; s < b; {
		e, err := sc.failingAt(s, b)
		if err == nil {
			s++
			continue
		}
		if !sc.yield(ID{}, err) {
			return false
		}
		s = e
	}
	return true
}

func (sc *scanner) failingAt(s, b int) (int, error) {
	for e := sc.maxEnd(s, b); e > s; e-- {
		d, plus, k, ok := sc.span(s, e)
		if len(d) < minScanDigits {
			break
		}
		if !ok {
			continue
		}
		// A span that parses was passed over for a longer one that failed.
		if _, err := parseDigits(k, d, plus); err != nil {
			return e, err
		}
	}
	return 0, nil
}

// plausible reports whether the group boundaries cuts (offsets in the run,
// base being the span's start) fall where people split an identifier of kind
// k with digits d.
func plausible(k Kind, d []byte, plus bool, cuts []int, base int) bool {
	if plus {
		return true // an explicit international number: its grouping varies by country
	}
	var at [4]int
	switch k {
	case CNIC:
		at = [4]int{5, 12, 12, 12} // 35202-1234567-1
	case IMEI:
		at = [4]int{2, 8, 14, 14} // 35-209900-176148-1, 35209900 1761481, IMEISV -07
	case Phone:
		p := 0 // length of the prefix before the operator code
		switch {
		case len(d) >= 4 && d[0] == '0' && d[1] == '0' && d[2] == '9' && d[3] == '2':
			p = 4
		case d[0] == '0' && d[1] == '0':
			return false // another country's number, without '+': too ambiguous in free text
		case d[0] == '0':
			p = 1
		case len(d) == 12 && d[0] == '9':
			p = 2
		}
		at = [4]int{p, p + 3, p + 6, p + 7} // 0300 1234567, 0300 123 4567, 0300 1234 567
	default:
		return false
	}
	for _, c := range cuts {
		if c -= base; c != at[0] && c != at[1] && c != at[2] && c != at[3] {
			return false
		}
	}
	return true
}

// isRunSeparator reports the characters that may join digit groups inside
// free text: separators and spaces, but not tabs or line breaks, which part
// cells and lines.
func isRunSeparator(r rune) bool {
	switch {
	case r == ' ', r == 0xA0, 0x2000 <= r && r <= 0x200A, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return isSeparator(r)
}

func isWordChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_'
}

func isDigitRune(r rune) bool {
	_, ok := digitOf(r)
	return ok
}

// digitNext reports whether s begins with a digit, invisible characters aside.
func digitNext(s string) bool {
	for _, r := range s {
		if !isIgnorable(r) {
			return isDigitRune(r)
		}
	}
	return false
}

// FindIndex returns where the first candidate of kind k stands in text, as
// a two-element slice of byte offsets, for the kinds whose values hold
// letters (an SMS names one among words); nil for other kinds or none.
func FindIndex(k Kind, text string) []int {
	if in, ok := InfoOf(k); ok && in.find != nil {
		return in.find.FindStringIndex(text)
	}
	return nil
}
