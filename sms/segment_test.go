package sms

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func TestEncoding(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Coding
	}{
		{"empty", "", GSM7},
		{"ascii letters", "Khabardar 123", GSM7},
		{"basic table symbols", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", GSM7},
		{"line breaks", "a\nb\r", GSM7},
		{"extension table", "{}[]~\\^|€\f", GSM7},
		{"star and hash", "*#06#", GSM7},
		{"backtick is not gsm", "`", UCS2},
		{"small c cedilla is not gsm", "ç", UCS2},
		{"tab is not gsm", "\t", UCS2},
		{"curly quote", "it’s", UCS2},
		{"urdu", "اردو", UCS2},
		{"urdu digits", "۳۵۲", UCS2},
		{"emoji", "😀", UCS2},
		{"bad utf-8", "\xff", UCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Encoding(tt.text); got != tt.want {
				t.Fatalf("Encoding = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLength(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	alef := func(n int) string { return strings.Repeat("ا", n) }
	smile := func(n int) string { return strings.Repeat("😀", n) }
	tests := []struct {
		name            string
		text            string
		units, segments int
	}{
		{"empty", "", 0, 0},
		{"one", "a", 1, 1},
		{"160 septets", a(160), 160, 1},
		{"161 septets", a(161), 161, 2},
		{"two full parts", a(306), 306, 2},
		{"one more", a(307), 307, 3},
		{"extension counts 2", a(158) + "€", 160, 1},
		{"extension past the limit", a(159) + "{", 161, 2},
		{"escape never split", a(152) + "€" + a(152), 306, 3},
		{"escape fills a part", a(151) + "€" + a(153), 306, 2},
		{"70 ucs2", alef(70), 70, 1},
		{"71 ucs2", alef(71), 71, 2},
		{"two ucs2 parts", alef(134), 134, 2},
		{"three ucs2 parts", alef(135), 135, 3},
		{"one urdu letter makes it ucs2", a(69) + "ا", 70, 1},
		{"160 latin letters and one urdu: three ucs2 parts", a(160) + "ا", 161, 3},
		{"surrogate pairs count 2", smile(35), 70, 1},
		{"36 emoji", smile(36), 72, 2},
		{"surrogate pair never split", alef(66) + smile(3), 72, 2},
		{"surrogate pair at a boundary", alef(66) + smile(1) + alef(67), 135, 3},
		{"bad utf-8 is one unit", "\xff\xfe", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units, segments := Length(tt.text)
			if units != tt.units || segments != tt.segments {
				t.Fatalf("Length = %d units, %d segments; want %d, %d", units, segments, tt.units, tt.segments)
			}
		})
	}
}

// FuzzLength checks Length against a plain count of the text's units and
// the bounds any split into parts must meet. Seeds: testdata/fuzz/FuzzLength.
func FuzzLength(f *testing.F) {
	for _, s := range []string{"", "ME", "€{}", strings.Repeat("a", 161), strings.Repeat("ا", 71), "😀a\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		units, segments := Length(text)
		coding := Encoding(text)
		want := 0
		for _, r := range text {
			if coding == GSM7 {
				if Septets(r) == 0 {
					t.Fatalf("Encoding(%q) = gsm7 with %U, which has no GSM code", text, r)
				}
				want += Septets(r)
			}
		}
		single, part := GSM7Single, GSM7Part
		if coding == UCS2 {
			want = len(utf16.Encode([]rune(text)))
			single, part = UCS2Single, UCS2Part
		}
		switch {
		case units != want:
			t.Fatalf("Length(%q) = %d units, want %d", text, units, want)
		case (text == "") != (units == 0) || (units == 0) != (segments == 0):
			t.Fatalf("Length(%q) = %d units, %d segments", text, units, segments)
		case units > 0 && units <= single && segments != 1:
			t.Fatalf("Length(%q): %d units in %d segments, want 1", text, units, segments)
		case units > single && (segments < (units+part-1)/part || segments > (units+part-2)/(part-1)):
			// Each part holds at most part units and, as only a 2-unit
			// character can be pushed on, at least part-1.
			t.Fatalf("Length(%q): %d units in %d segments of %d", text, units, segments, part)
		}
	})
}
