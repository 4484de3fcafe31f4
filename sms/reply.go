package sms

import (
	"strconv"
	"strings"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// Every reply text, in both languages, is in this file. Each must fit one
// SMS segment with the longest values it can carry (reply_test.go measures
// them all): English in GSM-7, at most 160 septets, so it uses no character
// outside the GSM 03.38 tables and none of the extension table; Urdu in
// UCS-2, at most 70 code units.
//
// Urdu replies write numbers and times with Western digits (99, 14:05), as
// Pakistani networks, banks and PTA do in Urdu SMS: they are what people
// type, and every phone that shows Urdu letters has their glyphs, while the
// Urdu digits ۴ ۵ ۶ (U+06F4–U+06F6) are missing from many feature phones'
// fonts or shown in their Arabic shapes. Latin keywords (ME, ENG, CNIC, IMEI)
// stay Latin because that is what is typed back.

// PKT is Pakistan Standard Time, UTC+5 all year: Pakistan has no daylight
// saving time, so a fixed zone needs no tz database.
var PKT = time.FixedZone("PKT", 5*3600)

// MaxSiteLen is the longest site address a reply shows, after SiteAddress
// drops the scheme: "khabardar.example.pk".
const MaxSiteLen = 20

// maxShownCount is the largest listing count a reply shows as a number;
// more is written "99+".
const maxShownCount = 99

// SiteAddress returns the site address as replies show it: siteURL without
// a leading "https://" or "http://". Phones that can open links make one of
// a bare domain; on the rest it is typed, and the scheme is 8 characters an
// Urdu reply has no room for.
func SiteAddress(siteURL string) string {
	for _, scheme := range []string{"https://", "http://"} {
		if len(siteURL) >= len(scheme) && strings.EqualFold(siteURL[:len(scheme)], scheme) {
			return siteURL[len(scheme):]
		}
	}
	return siteURL
}

// CategoryRank orders listing categories from the most to the least
// sensitive; a "found" reply names the first one any matching listing
// offers. Where someone is now (location) can get them hurt today; call
// records (cdr) show whom they talk to and where they have been; travel
// history shows their movements abroad; bank details open fraud; a family
// tree exposes their relatives; a CNIC copy lets someone impersonate them
// (SIMs are issued on one); SIM ownership and IMEI details tie a number or a
// handset to them; anything else comes last.
var CategoryRank = []string{"location", "cdr", "travel", "bank", "family_tree", "cnic_copy", "sim_ownership", "imei", "other"}

// texts holds one language's replies.
type texts struct {
	kinds      map[identifier.Kind]string // what was checked: "CNIC", "IMEI", "number"
	categories map[string]string          // CategoryRank names as shown

	found       func(kind string, n int, count, category, site string) string
	notFound    func(kind, site string) string
	help        func(site string) string
	limited     func(hhmm string) string
	switched    string // the language is now this one
	otherPhone  string // a number that is not the sender's
	notMobile   string // ME from a sender that is not a Pakistani mobile number
	unavailable string
	// invalid values, by what helps to say
	cnicFormat, cnicRegion, imeiFormat, imeiCheck, ambiguous, several string
}

var english = texts{
	kinds: map[identifier.Kind]string{identifier.CNIC: "CNIC", identifier.IMEI: "IMEI", identifier.Phone: "number"},
	categories: map[string]string{
		"location": "live location", "cdr": "call records", "travel": "travel history",
		"bank": "bank details", "family_tree": "family tree", "cnic_copy": "CNIC copies",
		"sim_ownership": "SIM ownership", "imei": "IMEI details", "other": "other data",
	},
	found: func(kind string, n int, count, category, site string) string {
		listings := "listings"
		if n == 1 {
			listings = "listing"
		}
		return "Khabardar: this " + kind + " is in " + count + " " + listings + " selling personal data, incl. " +
			category + ". See details and what to do: " + site
	},
	notFound: func(kind, site string) string {
		return "Khabardar: this " + kind + " is in no data-for-sale listing we know of. That is not proof it is safe: new leaks appear. Tips: " + site
	},
	help: func(site string) string {
		return "Khabardar checks if your data is sold. Send your CNIC (13 digits), IMEI (dial *#06#) or ME for this number. URDU for Urdu. " + site
	},
	limited: func(hhmm string) string {
		return "Too many messages right now. Please try again after " + hhmm + " Pakistan time."
	},
	switched:    "OK, replies will be in English. Send URDU for Urdu.",
	otherPhone:  "You can only check your own number: send ME from that phone. To check a CNIC or IMEI, send it here.",
	notMobile:   "ME checks the Pakistani mobile number you send from, and this message came from another. You can still send a CNIC or IMEI.",
	unavailable: "Khabardar has a problem right now. Please try again later.",
	cnicFormat:  "A CNIC has 13 digits. Send it like this: CNIC XXXXX-XXXXXXX-X",
	cnicRegion:  "A CNIC never starts with 0. Please check the number and send it again.",
	imeiFormat:  "An IMEI has 15 digits: dial *#06# to see it. Send it like this: IMEI then the 15 digits",
	imeiCheck:   "This IMEI has a typing mistake. Dial *#06# to see it and send: IMEI then the 15 digits",
	ambiguous:   "If this is a CNIC, send it like this: CNIC XXXXX-XXXXXXX-X. A number can only be checked by sending ME from it.",
	several:     "Please send one CNIC or IMEI per message.",
}

var urdu = texts{
	kinds: map[identifier.Kind]string{identifier.CNIC: "شناختی کارڈ", identifier.IMEI: "IMEI", identifier.Phone: "نمبر"},
	categories: map[string]string{
		// At most 9 characters: the "found" reply has no room for more.
		"location": "لوکیشن", "cdr": "کال ڈیٹا", "travel": "سفری ڈیٹا",
		"bank": "بینک ڈیٹا", "family_tree": "فیملی ٹری", "cnic_copy": "کارڈ کاپی",
		"sim_ownership": "سم ملکیت", "imei": "IMEI ڈیٹا", "other": "دیگر ڈیٹا",
	},
	found: func(kind string, n int, count, category, site string) string {
		ads := "اشتہاروں"
		if n == 1 {
			ads = "اشتہار"
		}
		return count + " " + ads + " میں ملا، " + category + " سمیت۔ تفصیل و حل: " + site
	},
	notFound: func(kind, site string) string {
		return "کسی معلوم اشتہار میں نہیں ملا، مگر یہ حفاظت کی ضمانت نہیں۔"
	},
	help: func(site string) string {
		return "شناختی کارڈ، IMEI (*#06#) یا اپنے نمبر کے لیے ME بھیجیں۔ انگریزی: ENG"
	},
	limited: func(hhmm string) string {
		return "ابھی بہت زیادہ پیغامات ہیں۔ " + hhmm + " کے بعد دوبارہ بھیجیں۔"
	},
	switched:    "ٹھیک ہے، اب جواب اردو میں آئیں گے۔ انگریزی کے لیے ENG بھیجیں۔",
	otherPhone:  "صرف اپنا نمبر چیک ہو سکتا ہے: اسی فون سے ME بھیجیں۔",
	notMobile:   "ME صرف پاکستانی موبائل سے بھیجیں۔ شناختی کارڈ یا IMEI بھیج سکتے ہیں۔",
	unavailable: "ابھی سروس میں خرابی ہے۔ کچھ دیر بعد دوبارہ بھیجیں۔",
	cnicFormat:  "شناختی کارڈ کے 13 ہندسے ہوتے ہیں۔ یوں بھیجیں: CNIC XXXXX-XXXXXXX-X",
	cnicRegion:  "شناختی کارڈ نمبر 0 سے شروع نہیں ہوتا۔ نمبر دیکھ کر دوبارہ بھیجیں۔",
	imeiFormat:  "IMEI کے 15 ہندسے ہوتے ہیں۔ *#06# ملا کر دیکھیں اور بھیجیں۔",
	imeiCheck:   "IMEI میں غلطی ہے۔ *#06# ملا کر دیکھیں اور دوبارہ بھیجیں۔",
	ambiguous:   "اگر یہ شناختی کارڈ ہے تو یوں بھیجیں: CNIC XXXXX-XXXXXXX-X",
	several:     "ایک پیغام میں ایک ہی شناختی کارڈ یا IMEI بھیجیں۔",
}

var languages = map[string]*texts{khabardar.LangEnglish: &english, khabardar.LangUrdu: &urdu}

// textsFor returns lang's texts, English for anything else.
func textsFor(lang string) *texts {
	if t, ok := languages[lang]; ok {
		return t
	}
	return &english
}

// showCount writes a listing count, "99+" past maxShownCount.
func showCount(n int) string {
	if n > maxShownCount {
		return strconv.Itoa(maxShownCount) + "+"
	}
	return strconv.Itoa(n)
}

// clock writes the time a limit ends, in Pakistan time, rounded up to the
// minute so that "after 14:05" is never early.
func clock(t time.Time) string {
	if r := t.Truncate(time.Minute); r.Before(t) {
		t = r.Add(time.Minute)
	}
	return t.In(PKT).Format("15:04")
}

// topCategory returns the most sensitive of categories by CategoryRank, ""
// if none is ranked.
func topCategory(categories map[string]bool) string {
	for _, c := range CategoryRank {
		if categories[c] {
			return c
		}
	}
	return ""
}

func (t *texts) foundText(k identifier.Kind, n int, category, site string) string {
	name, ok := t.categories[category]
	if !ok {
		name = t.categories["other"]
	}
	return t.found(t.kinds[k], n, showCount(n), name, site)
}

// invalidText returns the reply to a value that does not parse: what helps
// for the kind and reason, the help text when there is nothing better.
func (t *texts) invalidText(k identifier.Kind, r identifier.Reason, site string) string {
	switch {
	case r == ReasonSeveral:
		return t.several
	case r == identifier.ReasonAmbiguous:
		return t.ambiguous
	case k == identifier.Phone:
		return t.otherPhone
	case k == identifier.CNIC && r == identifier.ReasonCNICRegion:
		return t.cnicRegion
	case k == identifier.CNIC:
		return t.cnicFormat
	case k == identifier.IMEI && r == identifier.ReasonCheckDigit:
		return t.imeiCheck
	case k == identifier.IMEI:
		return t.imeiFormat
	}
	return t.help(site)
}
