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
	date       string                     // time layout of a date in a reply

	found       func(kind string, n int, count, category, site string) string
	notFound    func(kind, site string, listings int, newest string) string
	noListings  func(site string) string // the catalogue is empty: a check tells nothing
	help        func(site string) string
	limited     func(hhmm string) string
	switched    string // the language is now this one
	otherPhone  string // a number that is not the sender's
	notMobile   string // ME from a sender that is not a Pakistani mobile number
	unavailable string
	// invalid values of a kind, by reason; reason "" for any other (the
	// value's format). Phone has none: a number is checked only by ME.
	invalid            map[identifier.Kind]map[identifier.Reason]string
	ambiguous, several string

	// alerts
	subscribed       func(kind string) string
	alertLimit       func(max int) string
	alertCount       func(n int) string
	stopped          string // STOP: everything deleted
	noAlerts         string // STOP or ALERTS from someone with none
	alertsOff        string // this deployment sends no alerts
	alertNeedsMobile string // ALERT from a sender that is no Pakistani mobile number
	alertDaily       string // over the subscriptions a sender may make in a day
	// WhatsApp, which has no segment to fit: a found reply's parts, and
	// the steps by kind (a CNIC's SIMs at 668, an IMEI at 8484, NCCIA at
	// 1799 for every kind).
	helpLong  func(site string) string
	foundHead func(kind string, n int) string
	rupees    func(n int64) string
	steps     map[identifier.Kind][]string
	report    string
	details   func(site string) string
	// code is the website's confirmation code for alerts.
	code func(code string) string
	// alert is the alert itself: a new listing selling categories holds
	// an identifier of the kind the subscriber watches.
	alert func(kind, categories, site string) string
}

var english = texts{
	kinds: map[identifier.Kind]string{identifier.CNIC: "CNIC", identifier.IMEI: "IMEI", identifier.Phone: "number", identifier.Passport: "passport"},
	date:  "2 Jan 2006",
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
	notFound: func(kind, site string, listings int, newest string) string {
		n := showCount(listings) + " sale listings"
		if listings == 1 {
			n = "1 sale listing"
		}
		return "Khabardar: this " + kind + " is in none of the " + n + " we know (newest " + newest + "). Not proof it is safe: new leaks appear. Tips: " + site
	},
	noListings: func(site string) string {
		return "Khabardar has no data-for-sale listings loaded yet, so a check cannot tell you anything now. Please try again later: " + site
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
	invalid: map[identifier.Kind]map[identifier.Reason]string{
		identifier.CNIC:     {"": "A CNIC has 13 digits. Send it like this: CNIC XXXXX-XXXXXXX-X", identifier.ReasonCNICRegion: "A CNIC never starts with 0. Please check the number and send it again."},
		identifier.IMEI:     {"": "An IMEI has 15 digits: dial *#06# to see it. Send it like this: IMEI then the 15 digits", identifier.ReasonCheckDigit: "This IMEI has a typing mistake. Dial *#06# to see it and send: IMEI then the 15 digits"},
		identifier.Passport: {"": "A Pakistani passport number has 2 letters and 7 digits. Send it like this: PASSPORT AB1234567"},
	},
	ambiguous: "If this is a CNIC, send it like this: CNIC XXXXX-XXXXXXX-X. A number can only be checked by sending ME from it.",
	several:   "Please send one CNIC or IMEI per message.",
	foundHead: func(kind string, n int) string {
		if n == 1 {
			return "Khabardar: this " + kind + " is in 1 listing of data for sale:"
		}
		return "Khabardar: this " + kind + " is in " + strconv.Itoa(n) + " listings of data for sale:"
	},
	rupees: func(n int64) string { return "Rs " + strconv.FormatInt(n, 10) },
	helpLong: func(site string) string {
		return "Khabardar tells you if your data is in a listing of data for sale. Send:\n" +
			"• ME: this number\n• your CNIC: 35202-1234567-1\n• IMEI and the 15 digits (dial *#06#)\n• PASSPORT and its number\n" +
			"• ALERT (or ALERT and a CNIC): a message if a new listing holds it; STOP ends alerts\n• URDU: replies in Urdu\n" + site
	},
	steps: map[identifier.Kind][]string{
		identifier.CNIC:  {"Send your CNIC number to 668 to see every SIM registered on it; have any that is not yours blocked at a franchise of that network (take your CNIC)."},
		identifier.Phone: {"Do not share codes or your CNIC with callers who quote your data: banks and officials never ask for them."},
		identifier.IMEI:  {"Check your phone's status with PTA: send the IMEI to 8484."},
	},
	report:  "Report the seller to the NCCIA: call 1799 or complain at nccia.gov.pk.",
	details: func(site string) string { return "Details and what to do: " + site },
	subscribed: func(kind string) string {
		return "Khabardar will SMS you if a new listing for sale holds your " + kind + ". Nothing else is sent. Send STOP to end alerts."
	},
	alertLimit: func(max int) string {
		return "You already watch " + strconv.Itoa(max) + ", the most allowed. Send STOP to end all alerts, then start again."
	},
	alertCount: func(n int) string {
		if n == 1 {
			return "You have 1 alert active. Send STOP to end it."
		}
		return "You have " + strconv.Itoa(n) + " alerts active. Send STOP to end them."
	},
	stopped:          "Alerts stopped. Khabardar deleted your number and what you watched. Send ALERT to start again.",
	noAlerts:         "You have no alerts. Send ALERT to be told if a new listing holds this number, or ALERT then a CNIC.",
	alertsOff:        "Alerts are not available yet. You can still check: send your CNIC, IMEI or ME.",
	alertNeedsMobile: "Alerts are sent by SMS to a Pakistani mobile number, and this message came from another.",
	alertDaily:       "That is as many alerts as can be set in one day. Please send it again tomorrow.",
	code: func(code string) string {
		return "Khabardar code " + code + ": enter it on the website to get alerts on this number. Did not ask? Ignore this SMS."
	},
	alert: func(kind, categories, site string) string {
		return "Khabardar: a new listing selling " + categories + " holds your " + kind + ". What to do: " + site + " Send STOP to end alerts."
	},
}

var urdu = texts{
	kinds: map[identifier.Kind]string{identifier.CNIC: "شناختی کارڈ", identifier.IMEI: "IMEI", identifier.Phone: "نمبر", identifier.Passport: "پاسپورٹ"},
	date:  "2/1/2006", // digits only: month names would not fit one UCS-2 segment
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
	notFound: func(kind, site string, listings int, newest string) string {
		ads := "اشتہاروں"
		if listings == 1 {
			ads = "اشتہار"
		}
		return "ہمارے " + showCount(listings) + " " + ads + " میں نہیں (تازہ " + newest + ")۔ یہ حفاظت کی ضمانت نہیں۔"
	},
	noListings: func(site string) string {
		return "ابھی کوئی اشتہار لوڈ نہیں، اس لیے کچھ نہیں بتا سکتے۔ بعد میں بھیجیں۔"
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
	invalid: map[identifier.Kind]map[identifier.Reason]string{
		identifier.CNIC:     {"": "شناختی کارڈ کے 13 ہندسے ہوتے ہیں۔ یوں بھیجیں: CNIC XXXXX-XXXXXXX-X", identifier.ReasonCNICRegion: "شناختی کارڈ نمبر 0 سے شروع نہیں ہوتا۔ نمبر دیکھ کر دوبارہ بھیجیں۔"},
		identifier.IMEI:     {"": "IMEI کے 15 ہندسے ہوتے ہیں۔ *#06# ملا کر دیکھیں اور بھیجیں۔", identifier.ReasonCheckDigit: "IMEI میں غلطی ہے۔ *#06# ملا کر دیکھیں اور دوبارہ بھیجیں۔"},
		identifier.Passport: {"": "پاسپورٹ نمبر: 2 حروف، 7 ہندسے۔ یوں بھیجیں: PASSPORT AB1234567"},
	},
	ambiguous: "اگر یہ شناختی کارڈ ہے تو یوں بھیجیں: CNIC XXXXX-XXXXXXX-X",
	several:   "ایک پیغام میں ایک ہی شناختی کارڈ یا IMEI بھیجیں۔",
	foundHead: func(kind string, n int) string {
		return "خبردار: یہ " + kind + " فروخت کے " + strconv.Itoa(n) + " اشتہار(وں) میں ملا:"
	},
	rupees: func(n int64) string { return strconv.FormatInt(n, 10) + " روپے" },
	helpLong: func(site string) string {
		return "خبردار بتاتا ہے کہ آپ کا ڈیٹا فروخت کے کسی اشتہار میں ہے یا نہیں۔ بھیجیں:\n" +
			"• ME: یہ نمبر\n• اپنا شناختی کارڈ نمبر\n• IMEI اور 15 ہندسے (*#06# ملائیں)\n• PASSPORT اور اس کا نمبر\n" +
			"• ALERT: نئے اشتہار میں ملا تو پیغام؛ STOP سے بند\n• ENG: انگریزی میں جواب\n" + site
	},
	steps: map[identifier.Kind][]string{
		identifier.CNIC:  {"اپنا شناختی کارڈ نمبر 668 پر بھیجیں اور دیکھیں کون سی سمیں اس پر ہیں؛ جو آپ کی نہیں وہ فرنچائز پر بند کروائیں (شناختی کارڈ ساتھ لے جائیں)۔"},
		identifier.Phone: {"آپ کا ڈیٹا بتا کر کال کرنے والوں کو کوڈ یا شناختی کارڈ نہ دیں: بینک اور سرکاری ادارے کبھی نہیں مانگتے۔"},
		identifier.IMEI:  {"PTA سے اپنے فون کی حیثیت دیکھیں: IMEI کو 8484 پر بھیجیں۔"},
	},
	report:  "بیچنے والے کی شکایت NCCIA سے کریں: 1799 پر کال کریں۔",
	details: func(site string) string { return "تفصیل اور کیا کریں: " + site },
	subscribed: func(kind string) string {
		return "آپ کا " + kind + " نئے اشتہار میں ملا تو بس ایک SMS آئے گا۔ بند: STOP"
	},
	alertLimit: func(max int) string {
		return "آپ پہلے ہی " + strconv.Itoa(max) + " چیزیں دیکھ رہے ہیں، حد پوری۔ سب بند: STOP"
	},
	alertCount: func(n int) string {
		return "آپ کے " + strconv.Itoa(n) + " الرٹ فعال ہیں۔ بند کرنے کو STOP بھیجیں۔"
	},
	stopped:          "الرٹ بند۔ آپ کا نمبر اور سب کچھ مٹا دیا گیا۔ دوبارہ: ALERT",
	noAlerts:         "آپ کا کوئی الرٹ نہیں۔ اس نمبر کے لیے ALERT بھیجیں۔",
	alertsOff:        "الرٹ ابھی دستیاب نہیں۔ چیک کے لیے شناختی کارڈ یا ME بھیجیں۔",
	alertNeedsMobile: "الرٹ صرف پاکستانی موبائل نمبر پر آتے ہیں۔",
	alertDaily:       "آج کے الرٹ پورے ہو گئے۔ کل دوبارہ بھیجیں۔",
	code: func(code string) string {
		return "خبردار کوڈ " + code + "۔ الرٹ کے لیے سائٹ پر لکھیں۔ نہ مانگا ہو تو چھوڑیں۔"
	},
	alert: func(kind, categories, site string) string {
		return kind + " نئے اشتہار میں (" + categories + ")۔ " + site + " بند:STOP"
	},
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

// notFoundText returns the reply to an identifier in no listing of c,
// naming how many listings and the newest one's date.
func (t *texts) notFoundText(k identifier.Kind, c khabardar.Catalogue, site string) string {
	return t.notFound(t.kinds[k], site, c.Listings, c.NewestAdded.Format(t.date))
}

func (t *texts) foundText(k identifier.Kind, n int, category, site string) string {
	name, ok := t.categories[category]
	if !ok {
		name = t.categories["other"]
	}
	return t.found(t.kinds[k], n, showCount(n), name, site)
}

// foundLong is WhatsApp's found reply: each listing with the categories it
// sells and their prices, then the steps for the kind and the report.
func (t *texts) foundLong(k identifier.Kind, listings []*khabardar.Listing, site string) string {
	var b strings.Builder
	b.WriteString(t.foundHead(t.kinds[k], len(listings)))
	for _, l := range listings {
		b.WriteString("\n• " + l.Title + ": ")
		for i, c := range l.Categories {
			if i > 0 {
				b.WriteString(", ")
			}
			name, ok := t.categories[c.Category]
			if !ok {
				name = t.categories["other"]
			}
			b.WriteString(name)
			if c.PricePKR > 0 {
				b.WriteString(" " + t.rupees(c.PricePKR))
			}
		}
	}
	n := 1
	for _, step := range append(append([]string{}, t.steps[k]...), t.report) {
		b.WriteString("\n" + strconv.Itoa(n) + ". " + step)
		n++
	}
	b.WriteString("\n" + t.details(site))
	return b.String()
}

// CodeText is the SMS that carries the website's confirmation code for
// alerts, in lang.
func CodeText(lang, code string) Reply {
	text := textsFor(lang).code(code)
	return Reply{Text: text, Lang: lang, UCS2: Encoding(text) == UCS2}
}

// AlertText is the alert sent to a subscriber in lang: a new listing whose
// categories include the most sensitive of categories holds an identifier
// of kind k they watch. It names neither the identifier nor the seller.
func AlertText(lang string, k identifier.Kind, categories []string, siteURL string) Reply {
	t := textsFor(lang)
	set := map[string]bool{}
	for _, c := range categories {
		set[c] = true
	}
	top := topCategory(set)
	name, ok := t.categories[top]
	if !ok {
		name = t.categories["other"]
	}
	text := t.alert(t.kinds[k], name, SiteAddress(siteURL))
	return Reply{Text: text, Lang: lang, UCS2: Encoding(text) == UCS2}
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
	}
	if m := t.invalid[k]; m != nil {
		if text, ok := m[r]; ok {
			return text
		}
		if text, ok := m[""]; ok {
			return text
		}
	}
	return t.help(site)
}
