package identifier

import (
	"errors"
	"testing"
)

// Seed corpora also live in testdata/fuzz/FuzzParse and testdata/fuzz/FuzzScan;
// f.Add here covers the spec cases.

func FuzzParse(f *testing.F) {
	for _, file := range []string{"identifiers.json", "extra_cases.json"} {
		for _, c := range loadCases(f, file) {
			k, _ := ParseKind(c.Kind)
			f.Add(uint8(k), c.Input)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, in string) {
		k := Kind(kind % 5) // 4 is no kind: Parse must reject it, not panic
		id, err := Parse(k, Raw(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if !id.IsZero() {
				t.Fatal("error with a non-zero ID")
			}
			assertNoDigitsOf(t, in, err.Error())
			return
		}
		canon := string(id.Canonical())
		if !canonicalRE.MatchString(canon) {
			t.Fatalf("Parse(%v, %q) = %q: not a canonical form", k, in, canon)
		}
		if k != Unknown && id.Kind() != k {
			t.Fatalf("Parse(%v, %q) has kind %v", k, in, id.Kind())
		}
		for _, k2 := range []Kind{Unknown, id.Kind()} {
			if again, err := Parse(k2, Raw(canon)); err != nil || again != id {
				t.Fatalf("Parse(%v, %q) = %q, %v; want itself", k2, canon, again.Canonical(), err)
			}
		}
	})
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"Rs 500 location of 0300-1234567, CNIC ۳۵۲۰۲-۱۲۳۴۵۶۷-۱",
		"[12/03/2024 21:41:07] Seller: CNIC 35202-1234567-1 aur mobile +92 321 7654321, IMEI 352099001761481",
		"0300 1234567 0321 7654321 35-209900-176148-2 +49 151 12345678",
		"1. 35202 1234567 1 (+92) 300-1234567 10:30",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		Scan(text, func(id ID, err error) bool {
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || !id.IsZero() {
					t.Fatalf("Scan(%q): error %v with ID zero=%v", text, err, id.IsZero())
				}
				return true
			}
			canon := string(id.Canonical())
			if !canonicalRE.MatchString(canon) {
				t.Fatalf("Scan(%q) yielded %q: not a canonical form", text, canon)
			}
			for _, k := range []Kind{Unknown, id.Kind()} {
				if again, err := Parse(k, Raw(canon)); err != nil || again != id {
					t.Fatalf("Scan(%q) yielded %q, which parses to %q, %v", text, canon, again.Canonical(), err)
				}
			}
			return true
		})
	})
}
