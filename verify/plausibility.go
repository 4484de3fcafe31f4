package verify

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/khabardar/khabardar/identifier"
)

// Verdicts of Assess.
const (
	Plausible  = "plausible"        // nothing looked wrong, and enough tests could look
	TooFew     = "too_few_to_judge" // nothing looked wrong, but too few tests had enough values to look
	Suspicious = "suspicious"       // something real data rarely shows: ask the seller, look closer
	Fabricated = "fabricated"       // something only generated data shows
)

// Level is one test's outcome.
type Level string

// The levels, from harmless to damning.
const (
	LevelOK         Level = "ok"
	LevelTooFew     Level = "too_few" // too few values to judge: the test says nothing
	LevelNote       Level = "note"    // unusual but with an innocent explanation; does not change the verdict
	LevelSuspicious Level = "suspicious"
	LevelFabricated Level = "fabricated"
)

func (l Level) rank() int {
	switch l {
	case LevelFabricated:
		return 4
	case LevelSuspicious:
		return 3
	case LevelNote:
		return 2
	case LevelOK:
		return 1
	}
	return 0
}

// Finding is one test's outcome: a sentence with its numbers for people, and
// the numbers for machines. It never holds a value.
type Finding struct {
	Test   string             `json:"test"`
	Level  Level              `json:"level"`
	N      int                `json:"n"` // the values the test looked at
	Reason string             `json:"reason"`
	Stats  map[string]float64 `json:"stats,omitempty"`
}

// Plausibility is Assess's conclusion.
type Plausibility struct {
	Verdict  string    `json:"verdict"`
	Reasons  []string  `json:"reasons"`
	Findings []Finding `json:"tests"`
}

// Population by CNIC first digit, the province of the holder's permanent
// address: 1 Khyber Pakhtunkhwa, 2 erstwhile FATA, 3 Punjab, 4 Sindh,
// 5 Balochistan, 6 Islamabad (Samaa TV and The News, January 2020, on
// NADRA's numbering), 7 Gilgit-Baltistan (explainers such as
// pakistanhotline.com, August 2019). NADRA publishes no official table.
//
// Provinces: Pakistan Bureau of Statistics, 7th Population and Housing
// Census 2023 (results approved by the Council of Common Interests, 5 August
// 2023): Punjab 127,688,922; Sindh 55,696,147; Khyber Pakhtunkhwa
// 40,856,097 (merged districts included); Balochistan 14,894,402; Islamabad
// 2,363,863; total 241,499,431. Khyber Pakhtunkhwa is split between digits
// 1 and 2 by the 2017 census (KP 30.5 million, FATA 5.0 million: 14% FATA).
// Gilgit-Baltistan is outside the census; we assume about 1.5 million, an
// order of magnitude. No published source we found assigns 8 or 9 (Azad
// Kashmir's code is not among them), so they are tested separately, and 0 is
// no CNIC at all (identifier.Parse rejects it).
var provincePopulation = [10]float64{
	1: 40_856_097 * 30.5 / 35.5,
	2: 40_856_097 * 5.0 / 35.5,
	3: 127_688_922,
	4: 55_696_147,
	5: 14_894_402,
	6: 2_363_863,
	7: 1_500_000,
}

// provinceNames by CNIC first digit.
var provinceNames = [10]string{
	1: "Khyber Pakhtunkhwa", 2: "ex-FATA", 3: "Punjab", 4: "Sindh", 5: "Balochistan",
	6: "Islamabad", 7: "Gilgit-Baltistan", 8: "unlisted 8", 9: "unlisted 9",
}

// Reporting Body Identifiers, the first two digits of an IMEI's type
// allocation code (TAC), that have allocated TACs to devices: GSMA TS.06
// (IMEI Allocation and Approval Process, v25.0, May 2024), Appendix A, as
// current (01 CTIA, 35 BABT, 86 TAF China, 98, 99) or former allocators (10,
// 30, 33, 44, 45, 49, 50–54, 91). 00 and 02–09 are test IMEIs; every other
// pair was never allocated, so a random TAC misses three times in four.
var deviceRBI = map[string]bool{
	"01": true, "10": true, "30": true, "33": true, "35": true, "44": true, "45": true, "49": true,
	"50": true, "51": true, "52": true, "53": true, "54": true, "86": true, "91": true, "98": true, "99": true,
}

// operators by the first three digits of a mobile number (03XY…): the
// original allocation. Numbers move between operators (mobile number
// portability), so this is a mix of origins, not of current subscribers.
var operators = []struct{ prefix, name string }{
	{"030", "Jazz"}, {"031", "Zong"}, {"032", "Jazz (ex-Warid)"}, {"033", "Ufone"}, {"034", "Telenor"}, {"035", "SCO"},
}

// Thresholds. Each test judges only with at least its minimum of values,
// and a share is held against a threshold by its 95% Wilson interval, so a
// small sample is not condemned by one or two odd values.
const (
	minValidity   = 20   // values, for the share that parse
	maxInvalid    = 0.20 // more invalid than this is suspicious
	minUnalloc    = 20   // mobile numbers, for unallocated prefixes
	fabUnalloc    = 0.30 // random digits after 03 fall on an unused prefix about 4 times in 10
	maxUnalloc    = 0.03
	minProvince   = 30  // CNICs, for the province mix (χ² with pooled small cells)
	fabProvinceN  = 100 // uniform province digits are fabricated from here on, suspicious below
	pPopulation   = 0.001
	pUniform      = 0.01 // "not distinguishable from uniform" when p is at least this
	maxUnlisted   = 0.03 // first digit 8 or 9: suspicious when the interval lies above this
	minArea       = 50   // CNICs, for the area-code digits
	minGender     = 30
	minLastZero   = 50
	maxLastZero   = 0.03 // final digit 0: suspicious when the interval lies above this
	minPrefixes   = 20   // mobile numbers, for the prefix spread
	minIMEI       = 10
	fabLuhn       = 0.50 // random digits fail the Luhn check 9 times in 10
	maxLuhn       = 0.02
	fabRBI        = 0.30
	maxRBI        = 0.02
	minTAC        = 20
	minDuplicates = 20
	maxDuplicates = 0.10
	minSequence   = 10
	fabSequence   = 0.50 // share of neighbouring gaps that are all the same
	maxSequence   = 0.05
)

// Assess runs every plausibility test on the sample and concludes.
func Assess(s *Sample) Plausibility {
	var byKind [identifier.MaxKinds][]string // bodies, all values
	for _, id := range s.IDs {
		byKind[id.Kind()] = append(byKind[id.Kind()], digits(id))
	}
	var distinct [identifier.MaxKinds][]string
	ndistinct := 0
	for k := range byKind {
		distinct[k] = sortedDistinct(byKind[k])
		ndistinct += len(distinct[k])
	}

	var fs []Finding
	fs = append(fs, validity(s))
	if len(byKind[identifier.Phone]) > 0 || s.Rejected[identifier.ReasonUnallocated] > 0 {
		fs = append(fs, unallocated(len(byKind[identifier.Phone]), s.Rejected[identifier.ReasonUnallocated]))
	}
	for _, k := range identifier.Kinds {
		if rules := kindRules[k]; rules != nil {
			fs = append(fs, rules(s, distinct[k])...)
		} else if len(distinct[k]) > 0 {
			fs = append(fs, noRules(k, len(distinct[k])))
		}
	}
	if len(s.IDs) > 0 {
		fs = append(fs, duplicates(len(s.IDs), ndistinct))
	}
	for _, k := range identifier.Kinds {
		if len(distinct[k]) > 0 {
			fs = append(fs, sequences(k, distinct[k]))
		}
	}
	return conclude(fs)
}

// noRules says, for a kind with values in the sample and no numbering
// rules here, that its values were tested for duplicates and sequences
// only: a note, which leaves the verdict to the other tests.
func noRules(k identifier.Kind, n int) Finding {
	in, _ := identifier.InfoOf(k)
	return Finding{Test: "rules_" + k.String(), N: n, Level: LevelNote, Stats: map[string]float64{},
		Reason: fmt.Sprintf("No numbering rules are known here for %s: the %d in the sample were tested only for duplicates and counted-up sequences.", in.Plural, n)}
}

// kindRules are the tests of what one kind's numbering allows, given the
// sample and the sorted distinct bodies of that kind's values (perhaps
// none). Sequences and duplicates are tested for every kind; a kind without
// rules here gets only those.
var kindRules = map[identifier.Kind]func(s *Sample, values []string) []Finding{
	identifier.CNIC: func(_ *Sample, v []string) []Finding {
		if len(v) == 0 {
			return nil
		}
		return []Finding{province(v), unlistedProvince(v), areaDigits(v), gender(v), lastZero(v)}
	},
	identifier.Phone: func(_ *Sample, v []string) []Finding {
		if len(v) == 0 {
			return nil
		}
		return []Finding{prefixes(v), operatorMix(v)}
	},
	identifier.IMEI: func(s *Sample, v []string) []Finding {
		var fs []Finding
		if s.imeiChecked > 0 || s.Rejected[identifier.ReasonCheckDigit] > 0 {
			fs = append(fs, checkDigits(s.imeiChecked, s.Rejected[identifier.ReasonCheckDigit]))
		}
		if len(v) > 0 {
			fs = append(fs, reportingBodies(v), typeCodes(v))
		}
		return fs
	},
}

// conclude turns findings into a verdict: fabricated if any test found what
// only generated data shows, suspicious if any found what real data rarely
// shows, plausible otherwise. The reasons are the findings behind the
// verdict, worst first; for a plausible sample, what was checked.
func conclude(fs []Finding) Plausibility {
	p := Plausibility{Verdict: Plausible, Findings: fs}
	worst := 0
	for _, f := range fs {
		worst = max(worst, f.Level.rank())
	}
	switch worst {
	case LevelFabricated.rank():
		p.Verdict = Fabricated
	case LevelSuspicious.rank():
		p.Verdict = Suspicious
	}
	judged, valid := 0, false
	for _, f := range fs {
		if f.Level != LevelTooFew {
			judged++
			valid = valid || f.Test == "valid_share"
		}
	}
	// "Plausible" is a finding only when most tests could look: a sample
	// that passed 1 of 16 tests has shown nothing, and saying "plausible"
	// would read as a clean bill for a seller's 6 made-up rows.
	if p.Verdict == Plausible && (!valid || 2*judged < len(fs)) {
		p.Verdict = TooFew
	}
	order := slices.Clone(fs)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Level.rank() > order[j].Level.rank() })
	var tooFew []string
	for _, f := range order {
		switch {
		case f.Level == LevelTooFew:
			tooFew = append(tooFew, f.Reason)
		case f.Level.rank() >= LevelSuspicious.rank() || p.Verdict != Suspicious && p.Verdict != Fabricated:
			p.Reasons = append(p.Reasons, f.Reason)
		}
	}
	if p.Verdict == TooFew {
		p.Reasons = append([]string{fmt.Sprintf("Too few to judge: only %d of the %d tests had enough values to look, so this sample cannot tell real data from made-up data. Nothing looked wrong in those that could; ask the seller for a larger sample.", judged, len(fs))}, p.Reasons...)
	}
	p.Reasons = append(p.Reasons, tooFew...)
	if p.Reasons == nil {
		p.Reasons = []string{}
	}
	return p
}

// damaged counts the values a spreadsheet damaged (scientific notation,
// decimals, a cell left with no digits): the export's fault, not the data's,
// so no test looks at them.
func damaged(s *Sample) int {
	return s.Rejected[identifier.ReasonScientific] + s.Rejected[identifier.ReasonDecimal] + s.Rejected[identifier.ReasonEmpty]
}

// validity: the share of values that are identifiers. Values damaged by a
// spreadsheet (scientific notation, decimals) are the export's fault, not
// the data's, and are left out.
func validity(s *Sample) Finding {
	f := Finding{Test: "valid_share"}
	damaged := damaged(s)
	invalid := 0
	type rc struct {
		r identifier.Reason
		n int
	}
	var reasons []rc
	for r, n := range s.Rejected {
		switch r {
		case identifier.ReasonScientific, identifier.ReasonDecimal, identifier.ReasonEmpty:
		default:
			invalid += n
			reasons = append(reasons, rc{r, n})
		}
	}
	sort.Slice(reasons, func(i, j int) bool {
		return reasons[i].n > reasons[j].n || reasons[i].n == reasons[j].n && reasons[i].r < reasons[j].r
	})
	n := len(s.IDs) + invalid
	f.N = n
	f.Stats = map[string]float64{"invalid": float64(invalid), "damaged": float64(damaged), "invalid_share": share(invalid, n)}
	damage := ""
	if damaged > 0 {
		damage = fmt.Sprintf(" %d more lost digits in a spreadsheet (scientific notation or decimals) and were not judged: ask for the file with the column formatted as text.", damaged)
	}
	if len(s.IDs) == 0 {
		f.Level = LevelSuspicious
		f.Reason = "None of the values read is a CNIC, a mobile number or an IMEI." + damage
		if s.Values == 0 {
			f.Reason = "The sample holds no CNIC, mobile number or IMEI."
		}
		return f
	}
	var top []string
	for _, r := range reasons[:min(3, len(reasons))] {
		top = append(top, fmt.Sprintf("%s %d", r.r, r.n))
	}
	why := ""
	if len(top) > 0 {
		why = " (" + strings.Join(top, ", ") + ")"
	}
	switch {
	case n < minValidity:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few values to judge how many are valid: %d (need %d).", n, minValidity)
	case share(invalid, n) > maxInvalid:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("%d of %d values (%s) are not valid identifiers%s; real leaks have a few typos, not this many.%s", invalid, n, pct(share(invalid, n)), why, damage)
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("%d of %d values (%s) are valid identifiers%s.%s", len(s.IDs), n, pct(share(len(s.IDs), n)), ifAny(invalid, "; the rest"+why), damage)
	}
	return f
}

func ifAny(n int, s string) string {
	if n == 0 {
		return ""
	}
	return s
}

// unallocated: mobile-shaped numbers (03XX-XXXXXXX) on a prefix no network
// uses. libphonenumber's metadata knows which prefixes are in use; a
// generator drawing the two digits after 03 at random misses about 4 times
// in 10.
func unallocated(valid, unalloc int) Finding {
	n := valid + unalloc
	f := Finding{Test: "phone_unallocated", N: n, Stats: map[string]float64{"unallocated": float64(unalloc), "share": share(unalloc, n)}}
	lo, hi := Wilson(unalloc, n)
	f.Stats["ci95_lo"], f.Stats["ci95_hi"] = lo, hi
	sh := share(unalloc, n)
	switch {
	case n < minUnalloc:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few mobile numbers to judge how many are on unused prefixes: %d (need %d).", n, minUnalloc)
	case sh >= fabUnalloc:
		f.Level = LevelFabricated
		f.Reason = fmt.Sprintf("%d of %d mobile numbers (%s) are on prefixes no Pakistani network uses: digits drawn at random after 03 do that, real numbers cannot.", unalloc, n, pct(sh))
	case lo > maxUnalloc:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("%d of %d mobile numbers (%s, 95%% CI %s) are on prefixes no Pakistani network uses.", unalloc, n, pct(sh), ci(lo, hi))
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("%d of %d mobile numbers are on prefixes in use.", valid, n)
	}
	return f
}

// province compares the CNICs' first digits with the population (χ² test
// against the census shares) and with a flat spread over the digits seen,
// which is what a generator drawing the first digit at random produces.
// A mix unlike the population but not flat is only noted: a leak from one
// region (a Karachi retailer, a Punjab scheme) is real data too.
func province(cnics []string) Finding {
	var counts [10]int
	for _, c := range cnics {
		counts[c[0]-'0']++
	}
	n := len(cnics)
	f := Finding{Test: "cnic_province", N: n, Stats: map[string]float64{}}
	for d := 1; d <= 9; d++ {
		f.Stats["share_"+strconv.Itoa(d)] = share(counts[d], n)
	}
	if n < minProvince {
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few CNICs to judge the province mix: %d (need %d).", n, minProvince)
		return f
	}
	listed, probs := make([]int, 0, 7), make([]float64, 0, 7)
	for d := 1; d <= 7; d++ {
		listed = append(listed, counts[d])
		probs = append(probs, provincePopulation[d])
	}
	pop := chiSquareFit(listed, probs)
	var seen, seenProbs []int
	for d := 1; d <= 9; d++ {
		if counts[d] > 0 {
			seen = append(seen, counts[d])
			seenProbs = append(seenProbs, 1)
		}
	}
	k := len(seen)
	flat := chiSquareFit(seen, toFloats(seenProbs))
	f.Stats["chi2_population"], f.Stats["df_population"], f.Stats["p_population"] = pop.stat, float64(pop.df), pop.p
	f.Stats["chi2_uniform"], f.Stats["df_uniform"], f.Stats["p_uniform"], f.Stats["digits_seen"] = flat.stat, float64(flat.df), flat.p, float64(k)
	mix := provinceMix(counts, n)
	switch {
	case k >= 4 && n >= 5*k && flat.p >= pUniform && pop.p < pPopulation:
		f.Level = LevelSuspicious
		if n >= fabProvinceN {
			f.Level = LevelFabricated
		}
		f.Reason = fmt.Sprintf("The CNICs' province digits are spread evenly over %d digits (%s; χ² against an even spread %.1f, p = %s), as a generator draws them; real CNICs follow the population, about half Punjab (χ² against the 2023 census %.1f, p %s).",
			k, mix, flat.stat, pval(flat.p), pop.stat, pvalLess(pop.p))
	case pop.p < pPopulation:
		f.Level = LevelNote
		f.Reason = fmt.Sprintf("The province mix (%s) differs from the population (2023 census: Punjab 53%%, Sindh 23%%, Khyber Pakhtunkhwa 17%%, Balochistan 6%%, Islamabad 1%%; χ² %.1f, p %s): expected of a regional dataset, odd for one sold as nationwide.",
			mix, pop.stat, pvalLess(pop.p))
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("The province mix (%s) is close to the population's (2023 census: Punjab 53%%, Sindh 23%%, Khyber Pakhtunkhwa 17%%; χ² %.1f, p = %s).", mix, pop.stat, pval(pop.p))
	}
	return f
}

// provinceMix describes the shares of every first digit seen, largest first.
func provinceMix(counts [10]int, n int) string {
	type pc struct{ d, c int }
	var ps []pc
	for d := 1; d <= 9; d++ {
		if counts[d] > 0 {
			ps = append(ps, pc{d, counts[d]})
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].c > ps[j].c })
	var parts []string
	for _, p := range ps {
		parts = append(parts, provinceNames[p.d]+" "+pct(share(p.c, n)))
	}
	return strings.Join(parts, ", ")
}

// unlistedProvince: first digits 8 and 9 are in no published list of
// province codes.
func unlistedProvince(cnics []string) Finding {
	n, bad := len(cnics), 0
	for _, c := range cnics {
		if c[0] == '8' || c[0] == '9' {
			bad++
		}
	}
	f := Finding{Test: "cnic_unlisted_province", N: n, Stats: map[string]float64{"unlisted": float64(bad), "share": share(bad, n)}}
	lo, hi := Wilson(bad, n)
	switch {
	case n < minProvince:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few CNICs to judge their first digits: %d (need %d).", n, minProvince)
	case lo > maxUnlisted:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("%d of %d CNICs (%s, 95%% CI %s) start with 8 or 9, which no published province code uses (1–7); a generator drawing the first digit from 1–9 puts 2 in 9 there.", bad, n, pct(share(bad, n)), ci(lo, hi))
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("%d of %d CNICs start with a published province code (1–7).", n-bad, n)
	}
	return f
}

// areaDigits: digits 2–5 of a CNIC name the division, district, tehsil and
// union council, so real CNICs crowd on the populous ones (Lahore's 35…,
// Karachi's 42…) and the tehsil digit is often 0 (tehsil and district alike).
// Spread evenly over 0–9 they are random digits.
func areaDigits(cnics []string) Finding {
	n := len(cnics)
	f := Finding{Test: "cnic_area_digits", N: n, Stats: map[string]float64{}}
	if n < minArea {
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few CNICs to judge their area-code digits: %d (need %d).", n, minArea)
		return f
	}
	stat, df := 0.0, 0
	even := make([]float64, 10)
	for i := range even {
		even[i] = 1
	}
	for pos := 1; pos <= 4; pos++ {
		var counts [10]int
		for _, c := range cnics {
			counts[c[pos]-'0']++
		}
		t := chiSquareFit(counts[:], even)
		stat += t.stat
		df += t.df
	}
	p := chiSquareP(stat, df)
	f.Stats["chi2_uniform"], f.Stats["df"], f.Stats["p_uniform"] = stat, float64(df), p
	if p >= pUniform {
		f.Level = LevelSuspicious
		if n >= fabProvinceN {
			f.Level = LevelFabricated
		}
		f.Reason = fmt.Sprintf("Digits 2–5 of the CNICs (division, district, tehsil, union council) are spread evenly over 0–9 (χ² %.1f on %d degrees of freedom, p = %s): random digits, where real ones crowd on the populous districts.", stat, df, pval(p))
		return f
	}
	f.Level = LevelOK
	f.Reason = fmt.Sprintf("Digits 2–5 of the CNICs (division to union council) cluster as real area codes do (χ² against an even spread %.0f, p %s).", stat, pvalLess(p))
	return f
}

// gender: a CNIC's last digit is odd for men and even for women. A real
// national list is roughly balanced (the 2023 census counts 124.3 million
// men and 117.2 million women); SIM and travel records lean to men, and a
// women's cash-transfer list is all women, so only a near-total skew is
// suspicious, and a strong one is noted.
func gender(cnics []string) Finding {
	n, odd := len(cnics), 0
	for _, c := range cnics {
		if (c[12]-'0')%2 == 1 {
			odd++
		}
	}
	lo, hi := Wilson(odd, n)
	f := Finding{Test: "cnic_gender", N: n, Stats: map[string]float64{"men": float64(odd), "women": float64(n - odd), "men_share": share(odd, n), "ci95_lo": lo, "ci95_hi": hi}}
	mix := fmt.Sprintf("men %s, women %s by the last digit (95%% CI for men %s)", pct(share(odd, n)), pct(share(n-odd, n)), ci(lo, hi))
	switch {
	case n < minGender:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few CNICs to judge the gender digits: %d (need %d).", n, minGender)
	case lo > 0.85 || hi < 0.15:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("Nearly every CNIC is of one gender (%s): possible for a single-gender list (a women's cash-transfer programme, a police roll), odd for one sold as citizens' data.", mix)
	case lo > 0.75 || hi < 0.35:
		f.Level = LevelNote
		f.Reason = fmt.Sprintf("The CNICs lean to one gender (%s): usual for SIM or travel records, unusual for a population register.", mix)
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("The CNICs' gender digits are mixed: %s.", mix)
	}
	return f
}

// lastZero: published descriptions of the CNIC give odd digits 1–9 for men
// and even digits 2–8 for women, so a final 0 should be rare; random digits
// end in 0 one time in 10.
func lastZero(cnics []string) Finding {
	n, zeros := len(cnics), 0
	for _, c := range cnics {
		if c[12] == '0' {
			zeros++
		}
	}
	lo, hi := Wilson(zeros, n)
	f := Finding{Test: "cnic_last_digit_zero", N: n, Stats: map[string]float64{"zeros": float64(zeros), "share": share(zeros, n), "ci95_lo": lo, "ci95_hi": hi}}
	switch {
	case n < minLastZero:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few CNICs to judge how many end in 0: %d (need %d).", n, minLastZero)
	case lo > maxLastZero:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("%d of %d CNICs (%s, 95%% CI %s) end in 0, which is not a published gender digit (odd 1–9 men, even 2–8 women); random digits end in 0 one time in 10.", zeros, n, pct(share(zeros, n)), ci(lo, hi))
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("%d of %d CNICs end in 0 (not a published gender digit).", zeros, n)
	}
	return f
}

// prefixes: how the mobile numbers spread over their four-digit prefixes
// (0300, 0345, …). All on one prefix, or spread evenly over many, is what a
// generator does: real subscriber bases are uneven across prefixes that
// opened years apart. Prefixes are operator codes, not personal data.
func prefixes(phones []string) Finding {
	counts := map[string]int{}
	for _, p := range phones {
		counts["0"+p[:3]]++
	}
	n, k := len(phones), len(counts)
	keys := make([]string, 0, k)
	for p := range counts {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool {
		return counts[keys[i]] > counts[keys[j]] || counts[keys[i]] == counts[keys[j]] && keys[i] < keys[j]
	})
	f := Finding{Test: "phone_prefixes", N: n, Stats: map[string]float64{"prefixes": float64(k), "top_share": share(counts[keys[0]], n)}}
	if n < minPrefixes {
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few mobile numbers to judge the spread of their prefixes: %d (need %d).", n, minPrefixes)
		return f
	}
	if k == 1 {
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("All %d mobile numbers are on one prefix (%s): a generator's fixed prefix, or a list cut from one block.", n, keys[0])
		return f
	}
	obs := make([]int, 0, k)
	for _, p := range keys {
		obs = append(obs, counts[p])
	}
	flat := chiSquareFit(obs, toFloats(ones(k)))
	f.Stats["chi2_uniform"], f.Stats["p_uniform"] = flat.stat, flat.p
	if k >= 5 && n >= 5*k && flat.p >= pUniform {
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("The %d mobile numbers are spread evenly over %d prefixes (χ² %.1f, p = %s), as a generator draws them; real numbers are uneven across prefixes that opened years apart.", n, k, flat.stat, pval(flat.p))
		return f
	}
	if k >= 5 && n < 5*k {
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("%d mobile numbers on %d prefixes, most on %s (%s); too few to test the spread (need %d).", n, k, keys[0], pct(share(counts[keys[0]], n)), 5*k)
		return f
	}
	f.Level = LevelOK
	f.Reason = fmt.Sprintf("%d mobile numbers on %d prefixes, unevenly as real ones are: most on %s (%s).", n, k, keys[0], pct(share(counts[keys[0]], n)))
	return f
}

// operatorMix is for information: which networks the numbers were first
// issued by.
func operatorMix(phones []string) Finding {
	counts := map[string]int{}
	for _, p := range phones {
		name := "other"
		for _, o := range operators {
			if "0"+p[:2] == o.prefix {
				name = o.name
				break
			}
		}
		counts[name]++
	}
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		return counts[names[i]] > counts[names[j]] || counts[names[i]] == counts[names[j]] && names[i] < names[j]
	})
	n := len(phones)
	f := Finding{Test: "phone_operators", N: n, Stats: map[string]float64{}, Level: LevelOK}
	var parts []string
	for _, name := range names {
		parts = append(parts, name+" "+pct(share(counts[name], n)))
		f.Stats["share_"+strings.ToLower(strings.Fields(name)[0])] += share(counts[name], n)
	}
	f.Reason = fmt.Sprintf("Networks by prefix (numbers may have moved since): %s.", strings.Join(parts, ", "))
	if len(names) == 1 && n >= minPrefixes {
		f.Level = LevelNote
		f.Reason = fmt.Sprintf("All %d mobile numbers are on %s prefixes: consistent with one operator's data.", n, names[0])
	}
	return f
}

// checkDigits: every real 15-digit IMEI passes the Luhn check; random
// digits fail 9 times in 10.
func checkDigits(passed, failed int) Finding {
	n := passed + failed
	lo, hi := Wilson(failed, n)
	f := Finding{Test: "imei_check_digit", N: n, Stats: map[string]float64{"failed": float64(failed), "share": share(failed, n), "ci95_lo": lo, "ci95_hi": hi}}
	switch {
	case n < minIMEI:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few 15-digit IMEIs to judge their check digits: %d (need %d).", n, minIMEI)
	case share(failed, n) >= fabLuhn:
		f.Level = LevelFabricated
		f.Reason = fmt.Sprintf("%d of %d IMEIs (%s) fail the Luhn check digit every real IMEI passes: random digits fail 9 times in 10.", failed, n, pct(share(failed, n)))
	case lo > maxLuhn:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("%d of %d IMEIs (%s, 95%% CI %s) fail the Luhn check digit every real IMEI passes: more than typing mistakes explain.", failed, n, pct(share(failed, n)), ci(lo, hi))
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("%d of %d IMEIs pass the Luhn check digit.", passed, n)
	}
	return f
}

// reportingBodies: the first two digits of an IMEI name the body that
// allocated its type code (GSMA TS.06); random digits name none three times
// in four.
func reportingBodies(imeis []string) Finding {
	n, bad := len(imeis), 0
	for _, m := range imeis {
		if !deviceRBI[m[:2]] {
			bad++
		}
	}
	lo, hi := Wilson(bad, n)
	f := Finding{Test: "imei_reporting_body", N: n, Stats: map[string]float64{"unallocated": float64(bad), "share": share(bad, n), "ci95_lo": lo, "ci95_hi": hi}}
	switch {
	case n < minIMEI:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few IMEIs to judge their type codes: %d (need %d).", n, minIMEI)
	case share(bad, n) >= fabRBI:
		f.Level = LevelFabricated
		f.Reason = fmt.Sprintf("%d of %d IMEIs (%s) begin with two digits no GSMA reporting body allocates device codes under (real ones begin 35, 86, 01, 99…): random digits.", bad, n, pct(share(bad, n)))
	case lo > maxRBI:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("%d of %d IMEIs (%s, 95%% CI %s) begin with two digits no GSMA reporting body allocates device codes under, or are test IMEIs.", bad, n, pct(share(bad, n)), ci(lo, hi))
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("%d of %d IMEIs have the type code of an allocating body.", n-bad, n)
	}
	return f
}

// typeCodes: the TAC (first 8 digits) names the device model. One TAC for
// everyone is one phone model in everyone's hand: a generator's fixed prefix.
func typeCodes(imeis []string) Finding {
	tacs := map[string]bool{}
	for _, m := range imeis {
		tacs[m[:8]] = true
	}
	n, k := len(imeis), len(tacs)
	f := Finding{Test: "imei_tac_diversity", N: n, Stats: map[string]float64{"tacs": float64(k)}}
	switch {
	case n < minTAC:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few IMEIs to judge how many device models they are: %d (need %d).", n, minTAC)
	case k == 1:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("All %d IMEIs share one type code (one device model): a generator's fixed prefix, or one organisation's fleet.", n)
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("%d IMEIs from %d device type codes.", n, k)
	}
	return f
}

// duplicates: a sample padded with repeats is smaller than it claims.
func duplicates(total, distinct int) Finding {
	dups := total - distinct
	lo, hi := Wilson(dups, total)
	f := Finding{Test: "duplicates", N: total, Stats: map[string]float64{"repeats": float64(dups), "share": share(dups, total), "ci95_lo": lo, "ci95_hi": hi}}
	switch {
	case total < minDuplicates:
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few identifiers to judge repeats: %d (need %d).", total, minDuplicates)
	case share(dups, total) > maxDuplicates:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("%d of %d identifiers (%s) are repeats: the sample is padded, or holds records (calls, trips) rather than people.", dups, total, pct(share(dups, total)))
	case dups > 0:
		f.Level = LevelNote
		f.Reason = fmt.Sprintf("%d of %d identifiers (%s) are repeats.", dups, total, pct(share(dups, total)))
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("No identifier repeats among %d.", total)
	}
	return f
}

// sequences looks, among the sorted distinct values of one kind, for one gap
// between neighbours (in the same block) repeated far more often than chance
// allows: consecutive numbers (gap 1), or a generator's constant step.
// Under random sampling a block with m values of S has a given gap about
// m²/S times at most; the test wants the commonest gap at least 5 times and
// more than 10 times that bound plus 5.
func sequences(k identifier.Kind, values []string) Finding {
	in, _ := identifier.InfoOf(k)
	b, noun := in.Block, in.Plural
	f := Finding{Test: "sequences_" + k.String(), N: len(values), Stats: map[string]float64{}}
	if len(values) < minSequence {
		f.Level = LevelTooFew
		f.Reason = fmt.Sprintf("Too few %s to look for sequences: %d (need %d).", noun, len(values), minSequence)
		return f
	}
	// values are sorted strings of equal length: numeric order too.
	gaps := map[uint64]int{}
	var expected float64
	run, longest, pairs := 1, 1, 0
	blockStart := 0
	for i := 1; i <= len(values); i++ {
		if i == len(values) || values[i][:b.Prefix] != values[i-1][:b.Prefix] {
			m := float64(i - blockStart)
			expected += m * m / b.Size
			blockStart = i
			run = 1
			continue
		}
		// Within a block, the numbers after the prefix differ as wholly
		// numeric values would, and a body may begin with letters.
		a, _ := strconv.ParseUint(values[i-1][b.Prefix:], 10, 64)
		c, _ := strconv.ParseUint(values[i][b.Prefix:], 10, 64)
		g := c - a
		gaps[g]++
		pairs++
		if g == 1 {
			run++
			longest = max(longest, run)
		} else {
			run = 1
		}
	}
	var mode uint64
	modeCount := 0
	for g, c := range gaps {
		if c > modeCount || c == modeCount && g < mode {
			mode, modeCount = g, c
		}
	}
	// The share is of the whole sample, not of the neighbours in a block:
	// real CNICs spread over many area codes, so few share a block.
	sh := share(modeCount, len(values)-1)
	f.Stats["pairs"], f.Stats["common_gap"], f.Stats["common_gap_count"], f.Stats["common_gap_share"] = float64(pairs), float64(mode), float64(modeCount), sh
	f.Stats["chance_bound"], f.Stats["longest_consecutive_run"] = expected, float64(longest)
	significant := modeCount >= 5 && float64(modeCount) > 10*expected+5
	what := fmt.Sprintf("%d of %d %s are exactly %d above the previous one", modeCount, len(values), noun, mode)
	if mode == 1 {
		what = fmt.Sprintf("%d of %d %s follow the previous one by exactly 1 (longest run of consecutive numbers: %d)", modeCount, len(values), noun, longest)
	}
	switch {
	case significant && sh >= fabSequence:
		f.Level = LevelFabricated
		f.Reason = fmt.Sprintf("%s: counted up by a generator, where chance would repeat a step about %s at most.", what, times(expected+1))
	case significant && sh >= maxSequence:
		f.Level = LevelSuspicious
		f.Reason = fmt.Sprintf("%s, where chance would repeat a step about %s at most: part of the sample was counted up.", what, times(expected+1))
	default:
		f.Level = LevelOK
		f.Reason = fmt.Sprintf("No runs or repeated steps among %d %s (longest run of consecutive numbers: %d).", len(values), noun, longest)
	}
	return f
}

// times words a small expected count: "once", "3 times".
func times(x float64) string {
	if x < 1.5 {
		return "once"
	}
	return fmt.Sprintf("%.0f times", x)
}

func sortedDistinct(vs []string) []string {
	out := slices.Clone(vs)
	slices.Sort(out)
	return slices.Compact(out)
}

func ones(k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = 1
	}
	return out
}

func toFloats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// pct formats a share as a percentage for people: 0.4183 → "41.8%".
func pct(x float64) string {
	switch {
	case x == 0:
		return "0%"
	case x == 1:
		return "100%"
	case x < 0.001:
		return "<0.1%"
	case x > 0.999:
		return ">99.9%"
	}
	return strconv.FormatFloat(100*x, 'f', 1, 64) + "%"
}

// ci formats an interval of shares: "38.2–44.3%".
func ci(lo, hi float64) string {
	return strings.TrimSuffix(pct(lo), "%") + "–" + pct(hi)
}

// pval formats a p-value.
func pval(p float64) string {
	switch {
	case p >= 0.01:
		return strconv.FormatFloat(p, 'f', 2, 64)
	case p >= 0.001:
		return strconv.FormatFloat(p, 'f', 3, 64)
	}
	return strconv.FormatFloat(p, 'e', 0, 64)
}

// pvalLess formats a small p-value as a bound: "< 1e-12".
func pvalLess(p float64) string {
	if p < 1e-12 {
		return "< 1e-12"
	}
	if p >= 0.001 {
		return "= " + pval(p)
	}
	return "≈ " + pval(p)
}
