package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// Report is everything verify says about a sample. It holds counts, shares,
// test statistics, file base names and the server's listing metadata: never
// a value.
type Report struct {
	Sample       SampleSummary  `json:"sample"`
	Plausibility Plausibility   `json:"plausibility"`
	Listings     []ListingShare `json:"listings"`  // [] when nothing was looked up
	NewShare     *float64       `json:"new_share"` // null when nothing was looked up
	Origin       *Origin        `json:"origin,omitempty"`
	Server       *Server        `json:"server,omitempty"`
	Notes        []string       `json:"notes,omitempty"` // how the lookups went: subsampled, cut short
}

// SampleSummary counts what the sample holds.
type SampleSummary struct {
	Files       []string       `json:"files"`
	Rows        int            `json:"rows"`
	Values      int            `json:"values"`
	Judged      int            `json:"judged"`      // values the tests looked at: those a spreadsheet damaged are left out (valid_share's n)
	Identifiers Kinds          `json:"identifiers"` // valid, repeats included
	Distinct    int            `json:"distinct"`
	Rejected    map[string]int `json:"rejected"` // by reason code
}

// Kinds counts identifiers by kind; its JSON has a key per kind name.
type Kinds = khabardar.Counts

// kindCounts lists c's counts with the kinds' plural names, in table order.
func kindCounts(c Kinds) []string {
	out := make([]string, 0, len(identifier.Kinds))
	for _, k := range identifier.Kinds {
		in, _ := identifier.InfoOf(k)
		out = append(out, num(int(c[k]))+" "+in.Plural)
	}
	return out
}

// Server is the server the lookups were verified against.
type Server struct {
	URL         string `json:"url"` // without credentials
	KeyID       string `json:"key_id"`
	Fingerprint string `json:"fingerprint"`
}

// NewReport assembles a report; origin is nil when nothing was looked up.
func NewReport(s *Sample, p Plausibility, origin *Origin, server *Server, notes []string) *Report {
	distinct := map[string]bool{}
	for _, id := range s.IDs {
		distinct[string(id.Canonical())] = true
	}
	r := &Report{
		Sample: SampleSummary{
			Files: append([]string{}, s.Files...), Rows: s.Rows, Values: s.Values, Judged: s.Values - damaged(s),
			Identifiers: s.Counts(), Distinct: len(distinct), Rejected: map[string]int{},
		},
		Plausibility: p,
		Listings:     []ListingShare{},
		Origin:       origin,
		Server:       server,
		Notes:        notes,
	}
	clear(distinct)
	for reason, n := range s.Rejected {
		r.Sample.Rejected[string(reason)] = n
	}
	if origin != nil && origin.LookedUp > 0 {
		r.Listings = origin.Listings
		ns := origin.NewShare
		r.NewShare = &ns
	}
	return r
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "p < 1e-12" reads better than "p \u003c 1e-12"
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a terminal: the sample, the verdict and
// its reasons, every test, and each listing's share.
func (r *Report) WriteText(w io.Writer) error {
	s := r.Sample
	var b strings.Builder
	judged := ""
	if s.Judged != s.Values {
		judged = fmt.Sprintf(" (%s judged; %s lost digits in a spreadsheet)", num(s.Judged), num(s.Values-s.Judged))
	}
	fmt.Fprintf(&b, "Sample: %s: %s rows, %s values%s; %s (%s distinct)",
		strings.Join(printableAll(s.Files), ", "), num(s.Rows), num(s.Values), judged, strings.Join(kindCounts(s.Identifiers), ", "), num(s.Distinct))
	if n := sumValues(s.Rejected); n > 0 {
		var parts []string
		for _, reason := range sortedReasons(s.Rejected) {
			parts = append(parts, fmt.Sprintf("%s %d", reason, s.Rejected[reason]))
		}
		fmt.Fprintf(&b, "; %s not identifiers (%s)", num(n), strings.Join(parts, ", "))
	}
	b.WriteString("\n\n")

	p := r.Plausibility
	fmt.Fprintf(&b, "Plausibility: %s\n", strings.ToUpper(words(p.Verdict)))
	for _, reason := range p.Reasons {
		fmt.Fprintf(&b, "  - %s\n", reason)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TEST\tN\tRESULT\t")
	for _, f := range p.Findings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", f.Test, num(f.N), levelWord(f.Level))
	}
	tw.Flush()

	if o := r.Origin; o != nil && o.LookedUp > 0 {
		fmt.Fprintf(&b, "\nKnown listings: %s of %s distinct identifiers looked up, blinded\n", num(o.LookedUp), num(o.Distinct))
		rows := [][5]string{{"LISTING", "MATCHED", "SHARE", "95% CI", ""}}
		for _, l := range o.Listings {
			rows = append(rows, [5]string{printable(l.ID), num(l.Matched), pct(l.Share), ci(l.CI95[0], l.CI95[1]), bar(l.Share)})
		}
		rows = append(rows, [5]string{"in no listing", num(o.New), pct(o.NewShare), ci(o.NewCI95[0], o.NewCI95[1]), bar(o.NewShare)})
		width := 0
		for _, r := range rows {
			width = max(width, len([]rune(r[0])))
		}
		for _, r := range rows {
			pad := strings.Repeat(" ", width-len([]rune(r[0])))
			fmt.Fprintf(&b, "  %s%s  %7s  %6s  %11s  %s\n", r[0], pad, r[1], r[2], r[3], r[4])
		}
		fmt.Fprintf(&b, "\nOrigin: %s\n  %s\n", strings.ToUpper(words(o.Verdict)), o.Summary)
	} else if o != nil && o.Verdict == OriginNoListings {
		fmt.Fprintf(&b, "\nOrigin: %s\n  %s\n", strings.ToUpper(words(o.Verdict)), o.Summary)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	if r.Server != nil {
		fmt.Fprintf(&b, "\nLooked up at %s with key %s (fingerprint %s); every answer was proven to use it.\n", printable(r.Server.URL), r.Server.KeyID, r.Server.Fingerprint)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func levelWord(l Level) string {
	switch l {
	case LevelFabricated:
		return "FABRICATED"
	case LevelSuspicious:
		return "SUSPICIOUS"
	case LevelNote:
		return "note"
	case LevelTooFew:
		return "too few to judge"
	}
	return "ok"
}

// bar draws a share as 20 cells.
func bar(x float64) string {
	n := int(x*20 + 0.5)
	return strings.Repeat("█", n) + strings.Repeat("·", 20-n)
}

// num writes n with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func sortedReasons(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	return keys
}

// printable drops control characters from text that came from a file name
// or the server, which could otherwise rewrite the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
}

func printableAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = printable(s)
	}
	return out
}

// words turns a verdict code into words: too_few -> too few.
func words(code string) string { return strings.ReplaceAll(code, "_", " ") }
