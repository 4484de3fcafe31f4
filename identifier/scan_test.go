package identifier

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// scanAll returns what Scan yields for text: canonical forms, and "!reason"
// for rejections.
func scanAll(t testing.TB, text string) []string {
	t.Helper()
	var got []string
	Scan(text, func(id ID, err error) bool {
		switch {
		case err != nil:
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if !id.IsZero() {
				t.Fatalf("error with a non-zero ID")
			}
			got = append(got, "!"+string(pe.Reason))
		case id.IsZero():
			t.Fatalf("zero ID without an error")
		default:
			got = append(got, string(id.Canonical()))
		}
		return true
	})
	return got
}

const (
	cnic1  = "cnic:3520212345671"
	phone1 = "phone:+923001234567"
	phone2 = "phone:+923217654321"
	imei1  = "imei:35209900176148"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"brief example", "Rs 500 location of 0300-1234567, CNIC ۳۵۲۰۲-۱۲۳۴۵۶۷-۱", []string{phone1, cnic1}},
		{"whatsapp android line", "12/03/2024, 9:41 pm - Ali Khan: bhai ye number 03001234567 ka data chahiye", []string{phone1}},
		{"whatsapp ios line", "[12/03/2024 21:41:07] Seller: CNIC 35202-1234567-1 aur mobile +92 321 7654321, IMEI 352099001761481", []string{cnic1, phone2, imei1}},
		{"urdu text", "یہ نمبر ۰۳۰۰۱۲۳۴۵۶۷ اور شناختی کارڈ ۳۵۲۰۲۱۲۳۴۵۶۷۱ ہے", []string{phone1, cnic1}},
		{"urdu with bidi marks", "\u200fنمبر: \u200e+92 300 1234567\u200e \u200fقیمت ۵۰۰ روپے", []string{phone1}},
		{"arabic-indic digits", "رقم ٠٣٠٠١٢٣٤٥٦٧", []string{phone1}},
		{"full-width digits", "電話 ０３００－１２３４５６７", []string{phone1}},
		{"numbered list cnic", "1. 35202-1234567-1", []string{cnic1}},
		{"numbered list phone", "2) 0300 1234567", []string{phone1}},
		{"numbered list spaces", "1 35202 1234567 1", []string{cnic1}},
		{"price before phone", "Rs 500 0300-1234567", []string{phone1}},
		{"two phones with spaces", "0300 1234567 0321 7654321", []string{phone1, phone2}},
		{"two phones with slash", "03001234567/03217654321", []string{phone1, phone2}},
		{"cnic then phone", "35202 1234567 1 03001234567", []string{cnic1, phone1}},
		{"phone then digit", "0300 1234567 8", []string{phone1}},
		{"international then digit", "+92 300 1234567 1", []string{phone1}},
		{"international in parentheses", "call (+92) 300-1234567 now", []string{phone1}},
		{"labels with colons", "CNIC:3520212345671 Mob:03001234567 IMEI:35-209900-176148-1", []string{cnic1, phone1, imei1}},
		{"imeisv", "IMEISV 35 209900 176148 07", []string{imei1}},
		{"imei 8-7", "imei 35209900 1761481.", []string{imei1}},
		{"tab separated", "3520212345671\t03001234567\t352099001761481", []string{cnic1, phone1, imei1}},
		{"whatsapp link", "https://wa.me/923001234567?text=hi", []string{phone1}},
		{"spreadsheet decimal", "3520212345671.0", []string{cnic1}},
		{"time before phone", "10:30 0300 1234567", []string{phone1}},
		{"0092", "0092-300-1234567", []string{phone1}},
		{"dropped zero", "mera number 3001234567 hai", []string{phone1}},

		{"listing", "1. 35202-1234567-1 0300 1234567 IMEI 352099001761481 | 2. 42101-7654321-3 +92 321 7654321", []string{cnic1, phone1, imei1, "cnic:4210176543213", phone2}},
		{"dates and prices", "Price Rs 1,500 per number, 2024-01-15 10:30, total 25000, 15/01/2024", nil},
		{"short numbers", "500 600 700 800 900", nil},
		{"hash", "txn e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", nil},
		{"order id", "order ABC1234567890123 shipped", nil},
		{"scientific", "3.52021E+12", nil},
		{"plus glued to digits", "500+1000 = 1500", nil},
		{"empty", "", nil},
		{"no digits", "koi number nahi", nil},

		{"unallocated", "number 03381234567 band hai", []string{"!unallocated"}},
		{"unallocated after price", "Rs 500 03381234567", []string{"!unallocated"}},
		{"unallocated grouped", "0338 1234567", []string{"!unallocated"}},
		{"foreign", "+49 151 12345678", []string{"!not_pakistani"}},
		{"bad check digit", "IMEI 35-209900-176148-2", []string{"!bad_check_digit"}},
		{"bad region", "05202-1234567-1", []string{"!bad_region"}},
		{"long digit run", "ref 1234567890123456789", []string{"!unrecognised"}},
		{"landline", "0421234567", []string{"!not_mobile"}},
		{"international too short", "+92 300 123456", []string{"!bad_length"}},
		{"rejection between ids", "03001234567 03381234567 03217654321", []string{phone1, "!unallocated", phone2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanAll(t, tt.text)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Scan(%q)\n got  %q\n want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestScanStops(t *testing.T) {
	text := "03001234567 03381234567 03217654321 3520212345671"
	for stopAfter := 1; stopAfter <= 4; stopAfter++ {
		calls := 0
		Scan(text, func(ID, error) bool {
			calls++
			return calls < stopAfter
		})
		if calls != stopAfter {
			t.Errorf("stop after %d: %d calls", stopAfter, calls)
		}
	}
}

// TestScanMatchesParse checks that every accepted spec input, alone or in a
// sentence, is found by Scan as Parse finds it.
func TestScanMatchesParse(t *testing.T) {
	for _, file := range []string{"identifiers.json", "extra_cases.json"} {
		for i, c := range loadCases(t, file) {
			if c.Canonical == "" || strings.ContainsAny(c.Input, "\"'“”=:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				continue // quoting, prefixes and labels are Parse's business
			}
			t.Run(caseName(i, c), func(t *testing.T) {
				for _, text := range []string{c.Input, "bechna hai " + c.Input + " Rs 500 only", "۔" + c.Input + "،"} {
					if got := scanAll(t, text); !slices.Equal(got, []string{c.Canonical}) {
						t.Errorf("Scan(%q) = %q, want %q", text, got, c.Canonical)
					}
				}
			})
		}
	}
}

func TestScanLongRun(t *testing.T) {
	// A long run of short groups must take linear time and find nothing.
	text := strings.Repeat("1 ", 200000)
	if got := scanAll(t, text); len(got) != 0 {
		t.Fatalf("got %d results", len(got))
	}
	// A long run of identifiers finds them all.
	text = strings.Repeat("0300 1234567 ", 1000)
	if got := scanAll(t, text); len(got) != 1000 {
		t.Fatalf("got %d results", len(got))
	}
}
