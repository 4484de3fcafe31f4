package verify

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ingest"
	"github.com/khabardar/khabardar/internal/fixture"
)

// sampleOf builds a sample from values as a reader would yield them, the
// kind detected per value.
func sampleOf(values ...string) *Sample {
	s := NewSample()
	for _, v := range values {
		s.Rows++
		s.Add(ingest.Value{Raw: identifier.Raw(v)})
	}
	return s
}

func gen(r *rand.Rand, n int, f func(*rand.Rand) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(r)
	}
	return out
}

// realistic is a sample shaped like real data: 300 CNICs, 200 mobile
// numbers and 100 IMEIs by default.
func realistic(seed uint64, cnics, phones, imeis int) []string {
	r := fixture.NewRand(seed)
	var out []string
	out = append(out, gen(r, cnics, fixture.RealisticCNIC)...)
	out = append(out, gen(r, phones, fixture.RealisticPhone)...)
	out = append(out, gen(r, imeis, fixture.RealisticIMEI)...)
	return out
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestAssess runs Assess on generated samples whose truth is known: each must
// get its verdict, and the tests that should fire must fire at their level.
func TestAssess(t *testing.T) {
	r := fixture.NewRand(42)
	women := func(r *rand.Rand) string { // a realistic CNIC with an even gender digit
		c := fixture.RealisticCNIC(r)
		return c[:len(c)-1] + fmt.Sprint(2*(1+r.IntN(4)))
	}
	sindh := func(r *rand.Rand) string {
		for {
			if c := fixture.RealisticCNIC(r); c[0] == '4' {
				return c
			}
		}
	}
	onePrefix := func(r *rand.Rand) string { return "0300-" + fmt.Sprintf("%07d", r.IntN(10_000_000)) }
	oneTAC := func(r *rand.Rand) string {
		body := fmt.Sprintf("35209900%06d", r.IntN(1_000_000))
		return body + fmt.Sprint(fixture.Luhn(body))
	}
	randomTAC := func(r *rand.Rand) string { // valid check digits, random type codes
		body := fmt.Sprintf("%014d", r.Int64N(100_000_000_000_000))
		return body + fmt.Sprint(fixture.Luhn(body))
	}
	unlisted := func(r *rand.Rand) string {
		c := fixture.RealisticCNIC(r)
		if r.IntN(4) == 0 {
			return "9" + c[1:]
		}
		return c
	}
	padded := realistic(3, 150, 100, 0)
	padded = append(padded, padded[:60]...)

	tests := []struct {
		name    string
		values  []string
		verdict string
		want    map[string]Level // tests that must have these levels
	}{
		{"realistic", realistic(1, 300, 200, 100), Plausible, map[string]Level{
			"valid_share": LevelOK, "cnic_province": LevelOK, "cnic_area_digits": LevelOK, "cnic_gender": LevelOK,
			"cnic_last_digit_zero": LevelOK, "phone_prefixes": LevelOK, "imei_check_digit": LevelOK, "imei_reporting_body": LevelOK,
			"imei_tac_diversity": LevelOK, "duplicates": LevelOK, "sequences_cnic": LevelOK, "sequences_phone": LevelOK, "sequences_imei": LevelOK,
		}},
		{"realistic, small: too few to judge", realistic(2, 8, 3, 1), TooFew, map[string]Level{
			"valid_share": LevelTooFew, "cnic_province": LevelTooFew, "phone_prefixes": LevelTooFew, "imei_check_digit": LevelTooFew, "sequences_cnic": LevelTooFew,
		}},
		{"one region only: noted, not suspicious", gen(r, 200, sindh), Plausible, map[string]Level{"cnic_province": LevelNote}},
		{"sequential CNICs", fixture.SequentialCNICs(3520212345671, 200), Fabricated, map[string]Level{
			"sequences_cnic": LevelFabricated, "cnic_last_digit_zero": LevelSuspicious,
		}},
		{"sequential run inside real data", cat(realistic(4, 300, 0, 0), fixture.SequentialCNICs(4210155500001, 60)), Suspicious, map[string]Level{
			"sequences_cnic": LevelSuspicious,
		}},
		{"uniform province digits", gen(r, 300, fixture.UniformCNIC), Fabricated, map[string]Level{
			"cnic_province": LevelFabricated, "cnic_area_digits": LevelFabricated, "cnic_last_digit_zero": LevelSuspicious, "sequences_cnic": LevelOK,
		}},
		{"uniform province digits, few", gen(r, 60, fixture.UniformCNIC), Suspicious, map[string]Level{"cnic_province": LevelSuspicious, "cnic_area_digits": LevelSuspicious}},
		{"first digits 8 and 9", gen(r, 300, unlisted), Suspicious, map[string]Level{"cnic_unlisted_province": LevelSuspicious}},
		{"all women", gen(r, 200, women), Suspicious, map[string]Level{"cnic_gender": LevelSuspicious}},
		{"bad IMEI check digits", gen(r, 100, fixture.RandomIMEI), Fabricated, map[string]Level{
			"imei_check_digit": LevelFabricated, "valid_share": LevelSuspicious,
		}},
		{"random IMEI type codes", gen(r, 100, randomTAC), Fabricated, map[string]Level{"imei_reporting_body": LevelFabricated, "imei_check_digit": LevelOK}},
		{"one IMEI type code", gen(r, 60, oneTAC), Suspicious, map[string]Level{"imei_tac_diversity": LevelSuspicious}},
		{"random mobile numbers", gen(r, 200, fixture.RandomPhone), Fabricated, map[string]Level{"phone_unallocated": LevelFabricated}},
		{"mobile numbers on one prefix", gen(r, 100, onePrefix), Suspicious, map[string]Level{"phone_prefixes": LevelSuspicious, "phone_operators": LevelNote}},
		{"mobile numbers spread evenly over prefixes", gen(r, 500, fixture.EvenPrefixPhone), Suspicious, map[string]Level{"phone_prefixes": LevelSuspicious}},
		{"padded with repeats", padded, Suspicious, map[string]Level{"duplicates": LevelSuspicious}},
		{"nothing but junk", []string{"hello", "12", "abc"}, Suspicious, map[string]Level{"valid_share": LevelSuspicious}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Assess(sampleOf(tt.values...))
			got := map[string]Finding{}
			for _, f := range p.Findings {
				got[f.Test] = f
			}
			if p.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s", p.Verdict, tt.verdict)
			}
			for test, level := range tt.want {
				f, ok := got[test]
				switch {
				case !ok:
					t.Errorf("%s: not run", test)
				case f.Level != level:
					t.Errorf("%s: %s, want %s: %s", test, f.Level, level, f.Reason)
				}
			}
			if len(p.Reasons) == 0 {
				t.Error("no reasons")
			}
			if t.Failed() {
				for _, f := range p.Findings {
					t.Logf("%-24s %-10s %s", f.Test, f.Level, f.Reason)
				}
			}
		})
	}
}

// TestAssessRealisticSeeds: realistic samples of several sizes, over many
// seeds, all come out plausible: the tests do not cry wolf.
func TestAssessRealisticSeeds(t *testing.T) {
	sizes := []struct{ cnic, phone, imei int }{{300, 200, 100}, {60, 40, 20}, {1500, 1000, 300}, {0, 400, 0}, {100, 0, 0}}
	for _, sz := range sizes {
		for seed := uint64(100); seed < 120; seed++ {
			p := Assess(sampleOf(realistic(seed, sz.cnic, sz.phone, sz.imei)...))
			if p.Verdict != Plausible {
				t.Errorf("sizes %v, seed %d: %s: %s", sz, seed, p.Verdict, strings.Join(p.Reasons, " | "))
			}
		}
	}
}

// TestAssessDamagedExport: values a spreadsheet mangled are reported apart
// and do not count against the data.
func TestAssessDamagedExport(t *testing.T) {
	values := realistic(5, 40, 0, 0)
	for range 30 {
		values = append(values, "3.52021E+12")
	}
	p := Assess(sampleOf(values...))
	f := p.Findings[0]
	if f.Test != "valid_share" || f.Level != LevelOK || !strings.Contains(f.Reason, "30 more lost digits in a spreadsheet") {
		t.Fatalf("%+v", f)
	}
}

// TestAssessSmallSample: a sample too small for most tests reads "too few
// to judge", with one distinct sentence per test, and the number of values
// judged is the same in the report's header and in valid_share.
func TestAssessSmallSample(t *testing.T) {
	values := append(realistic(7, 3, 3, 1), "3.52021E+12", "3520212345.0")
	s := sampleOf(values...)
	p := Assess(s)
	if p.Verdict != TooFew {
		t.Fatalf("verdict %s, want %s", p.Verdict, TooFew)
	}
	if !strings.HasPrefix(p.Reasons[0], "Too few to judge: only 1 of the 16 tests") {
		t.Errorf("first reason %q", p.Reasons[0])
	}
	seen := map[string]string{}
	for _, f := range p.Findings {
		if other, ok := seen[f.Reason]; ok {
			t.Errorf("%s and %s say the same: %q", f.Test, other, f.Reason)
		}
		seen[f.Reason] = f.Test
	}
	r := NewReport(s, p, nil, nil, nil)
	if valid := p.Findings[0]; valid.Test != "valid_share" || valid.N != r.Sample.Judged || r.Sample.Judged != r.Sample.Values-2 {
		t.Errorf("valid_share n %d, report judged %d of %d values", valid.N, r.Sample.Judged, r.Sample.Values)
	}
}

// TestSequences covers the sequence test's arithmetic on small inputs.
func TestSequences(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		level   Level
		longest float64
	}{
		{"counted up by 1", seq("3520210000001", 1, 20), LevelFabricated, 20},
		{"counted up by a step", seq("3520210000001", 7919, 20), LevelFabricated, 1},
		{"steps across blocks do not join", []string{"3520200000001", "3520300000001", "3520400000001", "3520500000001", "3520600000001", "3520700000001", "3520800000001", "3520900000001", "3521000000001", "3521100000001"}, LevelOK, 1},
		{"too few", seq("3520210000001", 1, 9), LevelTooFew, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sequences(identifier.CNIC, sortedDistinct(tt.values))
			if f.Level != tt.level || tt.longest > 0 && f.Stats["longest_consecutive_run"] != tt.longest {
				t.Errorf("%s, longest %v: %s", f.Level, f.Stats["longest_consecutive_run"], f.Reason)
			}
		})
	}
}

// seq returns n 13-digit numbers from start in steps of step.
func seq(start string, step, n int) []string {
	var v int64
	fmt.Sscan(start, &v)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%013d", v+int64(i*step))
	}
	return out
}

// TestReasonsHoldNoValues: no sentence or statistic repeats a value.
func TestReasonsHoldNoValues(t *testing.T) {
	values := cat(realistic(6, 200, 200, 100), fixture.SequentialCNICs(3520212345671, 50), gen(fixture.NewRand(6), 50, fixture.RandomIMEI))
	s := sampleOf(values...)
	p := Assess(s)
	var text strings.Builder
	for _, f := range p.Findings {
		text.WriteString(f.Reason)
		fmt.Fprint(&text, f.Stats)
	}
	text.WriteString(strings.Join(p.Reasons, " "))
	assertNoValues(t, text.String(), values)
}

// assertNoValues fails if out holds any value, or its digits, or the digits
// of a canonical form's significant part (7 or more digits: a prefix like
// 0300 or a count is not a value).
func assertNoValues(t *testing.T, out string, values []string) {
	t.Helper()
	for i, v := range values {
		d := digitsOnly(v)
		if strings.Contains(out, v) || len(d) >= 7 && strings.Contains(digitsOnly(out), d) {
			t.Fatalf("value %d appears in the output", i)
		}
		if id, err := identifier.Parse(identifier.Unknown, identifier.Raw(v)); err == nil {
			if strings.Contains(out, digits(id)) || strings.Contains(out, string(id.Canonical())) {
				t.Fatalf("value %d appears in canonical form in the output", i)
			}
		}
	}
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestAssessPassports: passport numbers have no numbering rules here, which
// the report says in a note, and a counted-up run of them is still caught by
// the sequence test, whose block is the two letters.
func TestAssessPassports(t *testing.T) {
	r := fixture.NewRand(13)
	var random, counted []string
	for i := range 60 {
		random = append(random, fmt.Sprintf("%c%c%07d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(10_000_000)))
		counted = append(counted, fmt.Sprintf("AB%07d", 1_000_000+i))
	}
	for _, tt := range []struct {
		name    string
		values  []string
		verdict string
	}{
		{"random", random, Plausible},
		{"counted up", counted, Fabricated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Assess(sampleOf(tt.values...))
			if p.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %v", p.Verdict, tt.verdict, p.Reasons)
			}
			var note, seq *Finding
			for i, f := range p.Findings {
				switch f.Test {
				case "rules_passport":
					note = &p.Findings[i]
				case "sequences_passport":
					seq = &p.Findings[i]
				}
			}
			if note == nil || note.Level != LevelNote || !strings.Contains(note.Reason, "No numbering rules") {
				t.Errorf("no note that passports have no rules: %+v", note)
			}
			if seq == nil || seq.N != len(tt.values) {
				t.Errorf("passports not tested for sequences: %+v", seq)
			}
		})
	}
}
