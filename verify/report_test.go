package verify

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/khabardar/khabardar/internal/fixture"
)

// testReport is a report of a 40%-known sample with sequential CNICs mixed
// in, and the values it was made of.
func testReport(t *testing.T, lookup bool) (*Report, []string) {
	t.Helper()
	w := newWorld(3, 5000, map[string]float64{"old-shop": 0.4})
	s := w.sample(4, 300)
	var values []string
	for _, id := range s.IDs {
		values = append(values, string(id.Canonical()))
	}
	for _, v := range fixture.SequentialCNICs(3520212345671, 40) {
		s.Rows++
		s.Add(valueOf(v))
		values = append(values, v)
	}
	s.Files = []string{"sample.csv"}
	var o *Origin
	if lookup {
		ids, distinct := Choose(s, 0, 1)
		cat := append([]ListingRef{{"evil", `<script>alert(1)</script><img src="https://x.example/a.png">`}}, catalogue...)
		got := Origins(distinct, w.lookup(ids), cat)
		o = &got
	}
	return NewReport(s, Assess(s), o, &Server{URL: "http://127.0.0.1:8080", KeyID: "0123456789abcdef", Fingerprint: "ab:cd"}, nil), values
}

// TestReportJSON pins the --json shape the issue asks for.
func TestReportJSON(t *testing.T) {
	for _, lookup := range []bool{true, false} {
		r, values := testReport(t, lookup)
		var buf bytes.Buffer
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Sample struct {
				Rows        *int `json:"rows"`
				Identifiers struct {
					CNIC, Phone, IMEI *int
				} `json:"identifiers"`
			} `json:"sample"`
			Plausibility struct {
				Verdict string   `json:"verdict"`
				Reasons []string `json:"reasons"`
			} `json:"plausibility"`
			Listings []struct {
				ID      string    `json:"id"`
				Matched *int      `json:"matched"`
				Share   *float64  `json:"share"`
				CI95    []float64 `json:"ci95"`
			} `json:"listings"`
			NewShare *float64 `json:"new_share"`
		}
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%v\n%s", err, buf.String())
		}
		s := got.Sample
		if s.Rows == nil || *s.Rows != 340 || s.Identifiers.CNIC == nil || s.Identifiers.Phone == nil || s.Identifiers.IMEI == nil ||
			*s.Identifiers.CNIC+*s.Identifiers.Phone+*s.Identifiers.IMEI != 340 {
			t.Errorf("sample: %s", buf.String()[:200])
		}
		if got.Plausibility.Verdict != Suspicious || len(got.Plausibility.Reasons) == 0 {
			t.Errorf("plausibility: %+v", got.Plausibility)
		}
		raw := map[string]json.RawMessage{}
		json.Unmarshal(buf.Bytes(), &raw)
		if lookup {
			if len(got.Listings) != 4 || got.NewShare == nil {
				t.Fatalf("listings %d, new_share %v", len(got.Listings), got.NewShare)
			}
			for _, l := range got.Listings {
				if l.ID == "" || l.Matched == nil || l.Share == nil || len(l.CI95) != 2 || l.CI95[0] > *l.Share || *l.Share > l.CI95[1] {
					t.Errorf("listing %+v", l)
				}
			}
		} else if string(raw["listings"]) != "[]" || string(raw["new_share"]) != "null" {
			t.Errorf("offline: listings %s, new_share %s", raw["listings"], raw["new_share"])
		}
		assertNoValues(t, buf.String(), values)
	}
}

// TestReportHTML: the page is self-contained (no script, nothing fetched,
// a CSP forbidding fetches), draws the chart, escapes the server's text and
// holds no value.
func TestReportHTML(t *testing.T) {
	r, values := testReport(t, true)
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf, time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	AssertSelfContained(t, page)
	for _, want := range []string{
		"<svg", `class="bar"`, `class="whisker"`, "in no known listing", "2025-03-01 12:00 UTC",
		"Real? SUSPICIOUS", "New? PARTLY KNOWN", "&lt;script&gt;alert(1)&lt;/script&gt;", "sequences_cnic",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(page, `<rect class="bar`); n != 5 { // 4 listings and "in none"
		t.Errorf("%d bars, want 5", n)
	}
	assertNoValues(t, page, values)

	offline, _ := testReport(t, false)
	buf.Reset()
	if err := offline.WriteHTML(&buf, time.Now()); err != nil {
		t.Fatal(err)
	}
	AssertSelfContained(t, buf.String())
	if !strings.Contains(buf.String(), "Not looked up") || strings.Contains(buf.String(), "<svg") {
		t.Error("offline page")
	}
}

// AssertSelfContained fails if an HTML page could fetch anything or run
// script: see selfContained.
func AssertSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, p := range selfContained(page) {
		t.Error(p)
	}
}

// selfContained lists what could make a page fetch or run something: a
// script, link, iframe, object, embed, img (or other fetching) element; a
// src, href, srcset, xlink:href, poster, action, data or event attribute in
// any tag; a CSS url() or @import; no CSP forbidding every fetch. Text is
// escaped, so every "<" starts a real tag.
func selfContained(page string) []string {
	var problems []string
	badTag := regexp.MustCompile(`(?i)^<\s*/?\s*(script|link|iframe|frame|object|embed|base|img|image|use|audio|video|source|track|form)\b`)
	badAttr := regexp.MustCompile(`(?i)\s(src|href|srcset|xlink:href|poster|action|formaction|data|background|ping|on[a-z]+)\s*=`)
	for _, tag := range regexp.MustCompile(`<[^>]*>`).FindAllString(page, -1) {
		if badTag.MatchString(tag) || badAttr.MatchString(tag) || strings.Contains(strings.ToLower(tag), "refresh") {
			problems = append(problems, "a tag could fetch or run something: "+tag)
		}
	}
	if m := regexp.MustCompile(`(?i)url\s*\(|@import`).FindString(page); m != "" {
		problems = append(problems, "the CSS could fetch: "+m)
	}
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
		problems = append(problems, "no CSP forbids fetches")
	}
	return problems
}

// TestSelfContainedCheck: the check can fail.
func TestSelfContainedCheck(t *testing.T) {
	const csp = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`
	tests := []struct {
		name string
		page string
		ok   bool
	}{
		{"clean", csp + `<p class="x">a &lt;img src=x&gt; in text</p><svg><rect x="1"/></svg>`, true},
		{"no CSP", `<p>hi</p>`, false},
		{"script", csp + `<script>1</script>`, false},
		{"image", csp + `<img alt="" src="https://example.com/a.png">`, false},
		{"stylesheet", csp + `<link rel="stylesheet" href="https://example.com/a.css">`, false},
		{"CSS url", csp + `<style>body{background:url(https://example.com/a.png)}</style>`, false},
		{"SVG image", csp + `<svg><image href="https://example.com/a.png"/></svg>`, false},
		{"event handler", csp + `<body onload="x()">`, false},
		{"link in an anchor", csp + `<a href="https://example.com/">x</a>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := selfContained(tt.page); (len(got) == 0) != tt.ok {
				t.Errorf("problems %q, want ok=%v", got, tt.ok)
			}
		})
	}
}

func TestReportText(t *testing.T) {
	r, values := testReport(t, true)
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Plausibility: SUSPICIOUS", "old-shop", "in no listing", "Origin: PARTLY KNOWN", "sequences_cnic", "95% CI", "Looked up at http://127.0.0.1:8080 with key 0123456789abcdef"} {
		if !strings.Contains(out, want) {
			t.Errorf("the text lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\x00") {
		t.Error("control characters reach the terminal")
	}
	assertNoValues(t, out, values)
}
