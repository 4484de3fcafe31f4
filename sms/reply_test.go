package sms

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// longestSite is the longest site address a reply shows (MaxSiteLen once
// SiteAddress drops the scheme), as an operator would configure it.
const longestSite = "https://khabardar.example.pk"

// allReplies renders every reply of t with the longest values it can carry,
// and with the shortest, keyed by a name for the report.
func allReplies(t *texts, site string) map[string]string {
	site = SiteAddress(site)
	out := map[string]string{
		"help":          t.help(site),
		"switched":      t.switched,
		"other phone":   t.otherPhone,
		"not mobile":    t.notMobile,
		"unavailable":   t.unavailable,
		"no listings":   t.noListings(site),
		"limited 23:59": t.limited(clock(time.Date(2025, 12, 31, 18, 58, 1, 0, time.UTC))),
		"alert limit":   t.alertLimit(khabardar.MaxWatches),
		"alert count 1": t.alertCount(1),
		"alert count 5": t.alertCount(khabardar.MaxWatches),
		"stopped":       t.stopped,
		"no alerts":     t.noAlerts,
		"alerts off":    t.alertsOff,
		"alert mobile":  t.alertNeedsMobile,
		"alert daily":   t.alertDaily,
		"code":          t.code("123456"),
	}
	for _, k := range identifier.Kinds {
		for _, n := range []int{1, 9, 99, 100, 12345} {
			for _, c := range CategoryRank {
				out[fmt.Sprintf("found %s %d %s", k, n, c)] = t.foundText(k, n, c, site)
			}
		}
		for _, n := range []int{1, 9, 99, 100, 12345} {
			longest := khabardar.Catalogue{Listings: n, NewestAdded: khabardar.Date{Time: time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)}}
			out[fmt.Sprintf("not found %s %d", k, n)] = t.notFoundText(k, longest, site)
		}
		for _, r := range append(identifier.Reasons, ReasonSeveral) {
			out[fmt.Sprintf("invalid %s %s", k, r)] = t.invalidText(k, r, site)
		}
		out["subscribed "+k.String()] = t.subscribed(t.kinds[k])
		for _, c := range CategoryRank {
			out[fmt.Sprintf("alert %s %s", k, c)] = t.alert(t.kinds[k], t.categories[c], site)
		}
	}
	for _, r := range append(identifier.Reasons, ReasonSeveral) {
		out["invalid unknown "+string(r)] = t.invalidText(identifier.Unknown, r, site)
	}
	return out
}

// TestRepliesFitOneSegment measures every reply in every language with the
// longest realistic values: the longest site address allowed, a count past
// 99, every category, the latest time of day.
func TestRepliesFitOneSegment(t *testing.T) {
	if n := len(SiteAddress(longestSite)); n != MaxSiteLen {
		t.Fatalf("the test's site address shows %d characters, want the longest allowed, %d", n, MaxSiteLen)
	}
	for lang, tx := range languages {
		replies := allReplies(tx, longestSite)
		names := make([]string, 0, len(replies))
		for name := range replies {
			names = append(names, name)
		}
		sort.Strings(names)
		longest := map[string]int{} // template → its longest rendering, for the log
		for _, name := range names {
			text := replies[name]
			units, segments := Length(text)
			wantCoding, limit := GSM7, GSM7Single
			if lang == khabardar.LangUrdu {
				wantCoding, limit = UCS2, UCS2Single
			}
			if got := Encoding(text); got != wantCoding {
				t.Errorf("%s %s is %v, want %v: %q", lang, name, got, wantCoding, text)
			}
			if segments != 1 || units > limit {
				t.Errorf("%s %s: %d units in %d segments, want at most %d in one: %q", lang, name, units, segments, limit, text)
			}
			if lang == khabardar.LangEnglish && strings.ContainsAny(text, gsm7Extension) {
				t.Errorf("%s %s uses an extension-table character: %q", lang, name, text)
			}
			if lang == khabardar.LangUrdu && !strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Arabic, r) }) {
				t.Errorf("%s %s has no Urdu letter: %q", lang, name, text)
			}
			key := strings.Fields(name)[0]
			if units > longest[key] {
				longest[key] = units
			}
		}
		t.Logf("%s: longest %v", lang, longest)
	}
}

func TestRepliesPrint(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("prints every reply with -v")
	}
	for _, lang := range []string{"en", "ur"} {
		seen := map[string]bool{}
		replies := allReplies(languages[lang], longestSite)
		names := make([]string, 0, len(replies))
		for n := range replies {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if text := replies[n]; !seen[text] {
				seen[text] = true
				u, _ := Length(text)
				t.Logf("%s %-40s %3d  %s", lang, n, u, text)
			}
		}
	}
}

// TestEveryKindHasTexts: a kind added to identifier's table must come with
// its words in every reply language, or SMS users would get a blank.
func TestEveryKindHasTexts(t *testing.T) {
	for lang, tx := range languages {
		for _, k := range identifier.Kinds {
			if tx.kinds[k] == "" {
				t.Errorf("%s: no name for kind %s", lang, k)
			}
			if k != identifier.Phone && tx.invalid[k][""] == "" {
				t.Errorf("%s: no reply for an invalid %s", lang, k)
			}
		}
	}
}
