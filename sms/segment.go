package sms

import "unicode/utf16"

// This file counts SMS segments by hand: the libraries that do it
// (github.com/warthog618/sms, github.com/linxGnu/gosmpp) are refused by this
// project's Go module proxy, and the tables are short and fixed by 3GPP
// TS 23.038 (GSM 03.38).

// Coding is the character coding a gateway sends a text in.
type Coding uint8

const (
	// GSM7 is the GSM 03.38 default alphabet: 160 septets in one segment,
	// an extension-table character taking two.
	GSM7 Coding = iota
	// UCS2 is UTF-16: 70 code units in one segment. Any character outside
	// the GSM 7-bit tables forces it for the whole text.
	UCS2
)

func (c Coding) String() string {
	if c == UCS2 {
		return "ucs2"
	}
	return "gsm7"
}

// Segment sizes. A text longer than one segment is split into parts that
// each give up 7 septets or 3 code units to the concatenation header.
const (
	GSM7Single = 160
	GSM7Part   = 153
	UCS2Single = 70
	UCS2Part   = 67
)

// gsm7Basic is the default alphabet in code order; 0x1B, the escape to the
// extension table, is no character and stands as U+FFFF.
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\uFFFFÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsm7Extension holds the characters of the extension table, each sent as
// the escape and a second septet: form feed ^ { } \ [ ~ ] | €.
const gsm7Extension = "\f^{}\\[~]|€"

// septets[r] is how many septets r takes in GSM7: 1 or 2, 0 for a rune with
// no GSM 7-bit code. Every rune of both tables is below U+20AD.
var septets = func() map[rune]uint8 {
	m := make(map[rune]uint8, 138)
	for _, r := range gsm7Basic {
		if r != 0xFFFF {
			m[r] = 1
		}
	}
	for _, r := range gsm7Extension {
		m[r] = 2
	}
	return m
}()

// Septets returns how many septets r takes in the GSM 7-bit alphabet: 1 for
// the default alphabet, 2 for the extension table, 0 if it has no code (the
// text must then go as UCS2).
func Septets(r rune) int { return int(septets[r]) }

// Encoding returns the coding a text must be sent in: GSM7 if every
// character has a GSM 7-bit code, else UCS2. Bytes that are not UTF-8 count
// as U+FFFD, which forces UCS2.
func Encoding(text string) Coding {
	for _, r := range text {
		if septets[r] == 0 {
			return UCS2
		}
	}
	return GSM7
}

// Length returns the size of text in its coding (septets for GSM7, UTF-16
// code units for UCS2) and how many segments it is sent in: 0 for the empty
// text, 1 up to GSM7Single or UCS2Single units, else as many parts of
// GSM7Part or UCS2Part units as it takes, never splitting an escaped
// character or a surrogate pair between two parts.
func Length(text string) (units, segments int) {
	coding := Encoding(text)
	single, part := GSM7Single, GSM7Part
	if coding == UCS2 {
		single, part = UCS2Single, UCS2Part
	}
	fill := 0 // units in the current part
	segments = 0
	for _, r := range text {
		n := int(septets[r])
		if coding == UCS2 {
			n = utf16.RuneLen(r) // range yields U+FFFD for bad bytes, never a surrogate
		}
		units += n
		if segments == 0 || fill+n > part {
			segments++
			fill = 0
		}
		fill += n
	}
	if units <= single {
		return units, min(segments, 1)
	}
	return units, segments
}
