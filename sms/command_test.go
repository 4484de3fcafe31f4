package sms

import (
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

// Synthetic identifiers, used across the tests. None is anyone's: the CNIC
// and IMEI are the identifier package's examples, the numbers are on
// prefixes libphonenumber calls mobile.
const (
	testCNIC  = "35202-1234567-1"
	testIMEI  = "352099001761481"
	testPhone = "0300-1234567"
)

func mustParse(t testing.TB, k identifier.Kind, raw string) identifier.ID {
	t.Helper()
	id, err := identifier.Parse(k, identifier.Raw(raw))
	if err != nil {
		t.Fatalf("test identifier of kind %v does not parse: %v", k, err)
	}
	return id
}

func TestParse(t *testing.T) {
	cnic := Command{Action: Check, ID: mustParse(t, identifier.CNIC, testCNIC)}
	imei := Command{Action: Check, ID: mustParse(t, identifier.IMEI, testIMEI)}
	passport := Command{Action: Check, ID: mustParse(t, identifier.Passport, "AB1234567")}
	phone := Command{Action: Phone, ID: mustParse(t, identifier.Phone, testPhone)}
	mine := Command{Action: CheckSender}
	help := Command{Action: Help}
	unknown := Command{Action: Unknown}
	urduLang := Command{Action: Language, Lang: "ur"}
	englishLang := Command{Action: Language, Lang: "en"}
	invalid := func(k identifier.Kind, r identifier.Reason) Command {
		return Command{Action: Invalid, Kind: k, Reason: r}
	}

	tests := []struct {
		name string
		body string
		want Command
	}{
		// The sender's own number.
		{"empty", "", mine},
		{"spaces and a line break", "  \r\n ", mine},
		{"only a bidirectional mark", "\u200f", mine},
		{"ME", "ME", mine},
		{"me lower case", "me", mine},
		{"Me with spaces and a full stop", "  Me. ", mine},
		{"MERA", "MERA", mine},
		{"mera number", "mera number", mine},
		{"Mera No", "Mera No", mine},
		{"MERA NO with extra spaces", "MERA    NO", mine},
		{"my number", "MY NUMBER", mine},
		{"my no.", "my no.", mine},
		{"mera number check karo", "mera number check karo", mine},
		{"number alone", "Number?", mine},
		{"urdu mera number", "میرا نمبر", mine},
		{"urdu mera number, arabic yeh", "ميرا نمبر", mine},
		{"urdu with a full stop", "میرا نمبر۔", mine},

		// Help and unknown words.
		{"HELP", "HELP", help},
		{"help?", "help?", help},
		{"Madad", "Madad", help},
		{"urdu madad", "مدد", help},
		{"only a question mark", "?", help},
		{"only filler", "check", unknown},
		{"a greeting", "Assalam o alaikum", unknown},
		{"words we do not know", "kya hal hai", unknown},
		{"too long", strings.Repeat("a", MaxBodyBytes+1), unknown},

		// Language.
		{"URDU", "URDU", urduLang},
		{"urdu please", "urdu please", urduLang},
		{"in urdu", "Urdu me", urduLang},
		{"urdu in urdu", "اردو", urduLang},
		{"ENGLISH", "ENGLISH", englishLang},
		{"ENG", "ENG", englishLang},
		{"english in urdu", "انگریزی", englishLang},
		{"english mein", "English mein", englishLang},
		{"both languages", "urdu english", unknown},

		// CNICs.
		{"cnic with dashes", testCNIC, cnic},
		{"cnic digits only", "3520212345671", cnic},
		{"CNIC keyword", "CNIC " + testCNIC, cnic},
		{"cnic keyword lower case", "cnic " + testCNIC, cnic},
		{"cnic canonical-looking", "cnic:" + testCNIC, cnic},
		{"CNIC: with spaces between groups", "CNIC: 35202 1234567 1", cnic},
		{"cnic glued to its keyword", "CNIC35202-1234567-1", cnic},
		{"cnic no", "cnic no " + testCNIC, cnic},
		{"cnic with a full stop", "  " + testCNIC + ".  ", cnic},
		{"urdu digits", "۳۵۲۰۲-۱۲۳۴۵۶۷-۱", cnic},
		{"arabic-indic digits", "٣٥٢٠٢-١٢٣٤٥٦٧-١", cnic},
		{"roman urdu sentence", "Mera CNIC " + testCNIC + " hai, check karein", cnic},
		{"shanakhti card", "shanakhti card " + testCNIC, cnic},
		{"urdu keyword and digits", "شناختی کارڈ ۳۵۲۰۲۱۲۳۴۵۶۷۱", cnic},
		{"the same cnic twice", testCNIC + ", " + testCNIC, cnic},
		{"quoted", "\"" + testCNIC + "\"", cnic},

		// IMEIs.
		{"IMEI keyword", "IMEI " + testIMEI, imei},
		{"imei grouped", "imei: 35-209900-176148-1", imei},
		{"bare imei", testIMEI, imei},
		{"bare imeisv", "3520990017614800", imei},
		{"IMEI1 from a dual-sim screen", "IMEI1 " + testIMEI, imei},
		{"IMEI1: from a dual-sim screen", "IMEI1: " + testIMEI, imei},
		{"imei in a sentence", "mera imei " + testIMEI + " hai", imei},
		{"urdu digits imei", "IMEI ۳۵۲۰۹۹۰۰۱۷۶۱۴۸۱", imei},

		// Phone numbers: checked only if they are the sender's.
		{"a number", testPhone, phone},
		{"international", "+92 300 1234567", phone},
		{"0092", "0092-300-1234567", phone},
		{"mera number and a number", "mera number 0300 1234567", phone},
		{"ME and a number", "ME " + testPhone, phone},
		{"arabic-indic number", "٠٣٠٠١٢٣٤٥٦٧", phone},
		{"number in a sentence", "please check 0300-1234567 thanks", phone},

		// Invalid values carry the reason, never the value.
		{"CNIC alone", "CNIC", invalid(identifier.CNIC, identifier.ReasonEmpty)},
		{"IMEI alone", "imei", invalid(identifier.IMEI, identifier.ReasonEmpty)},
		{"IMEI1 alone", "IMEI1", invalid(identifier.IMEI, identifier.ReasonEmpty)},
		{"cnic too short", "CNIC 35202-123456-1", invalid(identifier.CNIC, identifier.ReasonLength)},
		{"cnic too long", "CNIC 35202-12345678-1", invalid(identifier.CNIC, identifier.ReasonLength)},
		{"cnic starting with 0", "CNIC 05202-1234567-1", invalid(identifier.CNIC, identifier.ReasonCNICRegion)},
		{"cnic with a letter", "CNIC 35202-12345x7-1", invalid(identifier.CNIC, identifier.ReasonBadCharacter)},
		{"imei check digit", "IMEI 352099001761482", invalid(identifier.IMEI, identifier.ReasonCheckDigit)},
		{"passport", "PASSPORT AB1234567", passport},
		{"passport lower case with dash", "passport ab-1234567 please", passport},
		{"passport alone", "AB1234567", passport},
		{"passport in Urdu words", "پاسپورٹ AB 1234567 چیک کریں", passport},
		{"passport keyword alone", "PASSPORT", invalid(identifier.Passport, identifier.ReasonEmpty)},
		{"passport too short", "PASSPORT AB12345", invalid(identifier.Passport, identifier.ReasonLength)},
		{"alert", "ALERT", Command{Action: Subscribe}},
		{"alert me", "alert me", Command{Action: Subscribe}},
		{"khabar mera number", "Khabar mera number", Command{Action: Subscribe}},
		{"alert a CNIC", "ALERT " + testCNIC, Command{Action: Subscribe, ID: cnic.ID}},
		{"alert an IMEI", "alert imei " + testIMEI, Command{Action: Subscribe, ID: imei.ID}},
		{"alert a passport", "ALERT PASSPORT AB1234567", Command{Action: Subscribe, ID: passport.ID}},
		{"alert a number", "khabar " + testPhone, Command{Action: Subscribe, ID: phone.ID}},
		{"alert cnic without one", "ALERT CNIC", invalid(identifier.CNIC, identifier.ReasonEmpty)},
		{"alert a bad CNIC", "ALERT 05202-1234567-1", invalid(identifier.CNIC, identifier.ReasonCNICRegion)},
		{"stop", "STOP", Command{Action: Unsubscribe}},
		{"band", "band", Command{Action: Unsubscribe}},
		{"band in Urdu", "بند", Command{Action: Unsubscribe}},
		{"alerts", "ALERTS", Command{Action: ListAlerts}},
		{"list", "list", Command{Action: ListAlerts}},
		{"bare imei check digit", "352099001761482", invalid(identifier.IMEI, identifier.ReasonCheckDigit)},
		{"imei too short", "IMEI 35209900176", invalid(identifier.IMEI, identifier.ReasonLength)},
		{"ambiguous 13 digits", "9203001234567", invalid(identifier.Unknown, identifier.ReasonAmbiguous)},
		{"ambiguous in a sentence", "check 9203001234567 please", invalid(identifier.Unknown, identifier.ReasonAmbiguous)},
		{"scientific notation", "3.52021E+12", invalid(identifier.Unknown, identifier.ReasonScientific)},
		{"too few digits", "12345", invalid(identifier.Unknown, identifier.ReasonUnrecognised)},
		{"two cnics", testCNIC + " 35202-7654321-3", invalid(identifier.Unknown, ReasonSeveral)},
		{"a cnic and a number", testCNIC + " aur " + testPhone, invalid(identifier.Unknown, ReasonSeveral)},
		{"foreign number", "+1 415 555 2671", invalid(identifier.Phone, identifier.ReasonNotPakistani)},
		{"landline after number", "number 042-35761234", invalid(identifier.Phone, identifier.ReasonNotMobile)},
		{"bare landline", "042-1234567", invalid(identifier.Phone, identifier.ReasonNotMobile)},
		{"bare 8-digit landline", "042 35761234", invalid(identifier.Phone, identifier.ReasonNotMobile)},
		{"short number after mera number", "mera number 0300-123456", invalid(identifier.Phone, identifier.ReasonLength)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.body)
			if got != tt.want {
				t.Fatalf("Parse = {%v %v %q %v %q} (canonical %q), want {%v %v %q %v %q} (canonical %q)",
					got.Action, got.ID.Kind(), got.Lang, got.Kind, got.Reason, got.ID.Canonical(),
					tt.want.Action, tt.want.ID.Kind(), tt.want.Lang, tt.want.Kind, tt.want.Reason, tt.want.ID.Canonical())
			}
		})
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{Unknown: "unknown", Check: "check", CheckSender: "check_sender", Phone: "phone",
		Help: "help", Language: "language", Invalid: "invalid", 99: "action(99)"} {
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", a, got, want)
		}
	}
}

// FuzzParse checks that Parse never panics and returns a well-formed
// Command, the same for upper and lower case. Seeds: testdata/fuzz/FuzzParse
// and every TestParse body.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "ME", "mera number", "URDU", "اردو", testCNIC, "CNIC " + testCNIC, "۳۵۲۰۲-۱۲۳۴۵۶۷-۱",
		testIMEI, "IMEI1 " + testIMEI, testPhone, "9203001234567", testCNIC + " aur " + testPhone, "CNIC 35202-12345x7-1"} {
		f.Add(s)
	}
	reasons := map[identifier.Reason]bool{ReasonSeveral: true}
	for _, r := range identifier.Reasons {
		reasons[r] = true
	}
	f.Fuzz(func(t *testing.T, body string) {
		c := Parse(body)
		if again := Parse(body); again != c {
			t.Fatalf("Parse(%q) is not deterministic", body)
		}
		ok := true
		switch c.Action {
		case Check:
			ok = (c.ID.Kind() == identifier.CNIC || c.ID.Kind() == identifier.IMEI) && c.Lang == "" && c.Reason == ""
		case Phone:
			ok = c.ID.Kind() == identifier.Phone && c.Lang == "" && c.Reason == ""
		case Language:
			ok = c.ID.IsZero() && (c.Lang == "en" || c.Lang == "ur") && c.Reason == ""
		case Invalid:
			ok = c.ID.IsZero() && c.Lang == "" && reasons[c.Reason] && c.Kind <= identifier.IMEI
		case Unknown, CheckSender, Help:
			ok = c == Command{Action: c.Action}
		default:
			ok = false
		}
		if !ok {
			t.Fatalf("Parse(%q) = %+v: malformed", body, c)
		}
		if c.Action == Check || c.Action == Phone {
			if again, err := identifier.Parse(c.ID.Kind(), identifier.Raw(c.ID.Canonical())); err != nil || again != c.ID {
				t.Fatalf("Parse(%q) gave an ID whose canonical form does not parse back", body)
			}
		}
		if isASCII(body) {
			if up, low := Parse(strings.ToUpper(body)), Parse(strings.ToLower(body)); up != low {
				t.Fatalf("Parse(%q): upper case %+v, lower case %+v", body, up, low)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
