package verify

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzAssess feeds arbitrary values, one per line, through Assess, Origins
// and every report format: nothing panics, the verdicts are from their sets,
// every share lies in its interval, and no output holds a valid identifier's
// digits.
func FuzzAssess(f *testing.F) {
	f.Add("35202-1234567-1\n0300-1234567\n352099001761481")
	f.Add(strings.Join(realistic(1, 40, 30, 20), "\n"))
	f.Add(strings.Join(seq("3520210000001", 1, 30), "\n"))
	f.Add("3.52021E+12\n\n۰۳۰۰-۱۲۳۴۵۶۷\ncnic:4210111111111\nimei:49015420323751")
	f.Add("999999999999999\n0000000000000\n03999999999")
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(in, "\n")
		if len(lines) > 2000 {
			lines = lines[:2000]
		}
		s := NewSample()
		for _, l := range lines {
			s.Rows++
			s.Add(valueOf(l))
		}
		p := Assess(s)
		switch p.Verdict {
		case Plausible, TooFew, Suspicious, Fabricated:
		default:
			t.Fatalf("verdict %q", p.Verdict)
		}
		// Every other identifier is "found" in one listing.
		ids, distinct := Choose(s, 0, 1)
		found := make([][]string, len(ids))
		for i := range found {
			if i%2 == 0 {
				found[i] = []string{"l"}
			}
		}
		o := Origins(distinct, found, []ListingRef{{"l", "L"}})
		for _, l := range o.Listings {
			if l.CI95[0] > l.Share || l.Share > l.CI95[1] || l.CI95[0] < 0 || l.CI95[1] > 1 {
				t.Fatalf("share %v outside [%v, %v]", l.Share, l.CI95[0], l.CI95[1])
			}
		}
		r := NewReport(s, p, &o, nil, nil)
		var out bytes.Buffer
		if err := r.WriteText(&out); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteJSON(&out); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteHTML(&out, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		for _, id := range s.IDs {
			d := digits(id)
			if strings.Contains(text, d) || strings.Contains(text, string(id.Canonical())) {
				t.Fatalf("an identifier of kind %v appears in the report", id.Kind())
			}
		}
	})
}
