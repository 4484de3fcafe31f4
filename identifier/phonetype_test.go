package identifier

import (
	"math/rand/v2"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// TestTypeByPrefix: for 10-digit national numbers beginning with 3, the
// memo by first three digits gives libphonenumber's own answer. The
// metadata is checked to be what the memo relies on (a library update that
// changes Pakistan's patterns fails here, to be looked at), and the answers
// are compared on every prefix with random and extreme suffixes.
func TestTypeByPrefix(t *testing.T) {
	c, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	var pk *phonenumbers.PhoneMetadata
	for _, md := range c.GetMetadata() {
		if md.GetId() == "PK" {
			pk = md
		}
	}
	if pk == nil {
		t.Fatal("no metadata for PK")
	}
	if got := pk.GetMobile().GetNationalNumberPattern(); got != `3(?:[0-247]\d|3[0-79]|55|64)\d{7}` {
		t.Errorf("PK mobile pattern is now %q: check that the type of 3XXXXXXXXX still depends on the first three digits alone", got)
	}
	// The checker itself, on patterns whose answer is known.
	for pat, want := range map[string]bool{
		pk.GetMobile().GetNationalNumberPattern(): true, `(?:2[25]|4[0146-9])\d{7}`: false, `[24-9]\d{8}`: false,
		`[2-8]\d{3}`: true, `800\d{5}(?:\d{3})?`: false, `(?:1|3)\d`: true, `(?:12)?3\d`: true,
	} {
		if got := canBeginWith3(pat); got != want {
			t.Fatalf("canBeginWith3(%q) = %v", pat, got)
		}
	}
	for name, d := range map[string]*phonenumbers.PhoneNumberDesc{
		"fixed line": pk.GetFixedLine(), "toll free": pk.GetTollFree(), "premium rate": pk.GetPremiumRate(),
		"shared cost": pk.GetSharedCost(), "voip": pk.GetVoip(), "personal": pk.GetPersonalNumber(),
		"pager": pk.GetPager(), "uan": pk.GetUan(), "voicemail": pk.GetVoicemail(),
	} {
		if p := d.GetNationalNumberPattern(); p != "" && p != "NA" && canBeginWith3(p) {
			t.Errorf("PK %s pattern %q may match a number beginning with 3", name, p)
		}
	}

	r := rand.New(rand.NewPCG(1, 2))
	for p := range 100 {
		for i := range 200 {
			suffix := uint64(r.IntN(10_000_000))
			switch i {
			case 0:
				suffix = 0
			case 1:
				suffix = 9_999_999
			}
			n := 3_000_000_000 + uint64(p)*10_000_000 + suffix
			want := phonenumbers.GetNumberType(&phonenumbers.PhoneNumber{CountryCode: proto.Int32(pkCallingCode), NationalNumber: proto.Uint64(n)})
			if got := typeByPrefix()[p]; got != want {
				t.Fatalf("%d: memo says type %v, libphonenumber %v", n, got, want)
			}
		}
	}
}

// canBeginWith3 reports whether a pattern's alternatives can start with the
// digit 3: a leading literal other than 3, or a class without 3, cannot.
// It is conservative: anything it does not understand counts as "can".
func canBeginWith3(p string) bool {
	for _, alt := range topLevelAlternatives(p) {
		if first(alt) {
			return true
		}
	}
	return false
}

// first reports whether one alternative can begin with 3.
func first(alt string) bool {
	switch {
	case alt == "":
		return true
	case alt[0] >= '0' && alt[0] <= '9':
		return alt[0] == '3'
	case alt[0] == '[':
		end := 1
		for end < len(alt) && alt[end] != ']' {
			end++
		}
		class := alt[1:end]
		for i := 0; i < len(class); i++ {
			if i+2 < len(class) && class[i+1] == '-' {
				if class[i] <= '3' && '3' <= class[i+2] {
					return true
				}
				i += 2
			} else if class[i] == '3' {
				return true
			}
		}
		return false
	case len(alt) > 3 && alt[:3] == "(?:":
		depth, end := 0, 0
		for i := 0; i < len(alt); i++ {
			if alt[i] == '(' {
				depth++
			} else if alt[i] == ')' {
				depth--
				if depth == 0 {
					end = i
					break
				}
			}
		}
		if end+1 < len(alt) && (alt[end+1] == '?' || alt[end+1] == '*') {
			return true // an optional group: what follows could come first
		}
		return canBeginWith3(alt[3:end])
	}
	return true
}

// topLevelAlternatives splits p at the | outside any group.
func topLevelAlternatives(p string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '|':
			if depth == 0 {
				out = append(out, p[start:i])
				start = i + 1
			}
		}
	}
	return append(out, p[start:])
}
