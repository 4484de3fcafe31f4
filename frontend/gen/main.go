// Command gen writes the website's generated sources: src/wire.gen.js, the
// public API's protocol constants from package wire (wire.go),
// src/kinds.gen.js, the identifier kinds of identifier's table (kinds.go), and
// src/pkmobile.gen.js: the libphonenumber metadata that
// identifier.Parse consults (through github.com/nyaruka/phonenumbers), so
// that the website's port of it, src/identifier.js, decides exactly as Go
// does whether a number is a Pakistani mobile number, and why not. It runs as
// "go generate ./frontend"; frontend/gen_test.go fails when a committed
// file differs from what it writes.
//
// What it takes, and why:
//
//   - PK: everything phonenumbers.Parse and GetNumberType read for a number
//     under +92 or parsed with PK as the default region: the international
//     and national prefixes, the general description and each number type's
//     pattern and lengths, in getNumberTypeHelper's order.
//   - Every country calling code: "+CC…" is foreign or has an invalid code,
//     and how many digits remain after the code decides whether phonenumbers
//     calls it too short.
//   - The national-prefix rules of the countries whose calling code has one
//     or two digits: only there can more than 17 digits follow the code
//     (identifier.Parse keeps 20 at most), and whether stripping a national
//     prefix brings them under phonenumbers' 17-digit limit decides between
//     "wrong length" and "not Pakistani".
//
// Usage: go run ./gen [-o FILE] [-wire FILE] [-kinds FILE] (defaults
// src/pkmobile.gen.js, src/wire.gen.js and src/kinds.gen.js; "-" for stdout).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"regexp/syntax"
	"runtime/debug"
	"slices"

	"github.com/nyaruka/phonenumbers"
)

const module = "github.com/nyaruka/phonenumbers"

// desc is a phone number description: a national-number pattern and the
// lengths a number of the description may have (none: any length).
type desc struct {
	Type    string  `json:"type,omitempty"`
	Pattern string  `json:"pattern"`
	Lengths []int32 `json:"lengths,omitempty"`
	Local   []int32 `json:"local,omitempty"` // lengths dialled only within an area
}

// pk is Pakistan's metadata as the JavaScript parser reads it.
type pk struct {
	CountryCode       int32  `json:"countryCode"`
	IDD               string `json:"idd"`
	NationalPrefix    string `json:"nationalPrefix"`    // national_prefix_for_parsing
	NationalTransform string `json:"nationalTransform"` // national_prefix_transform_rule
	General           desc   `json:"general"`
	// Types are the descriptions getNumberTypeHelper tries before fixed line
	// and mobile, in its order; any match makes the number not a mobile one.
	Types              []desc `json:"types"`
	FixedLine          desc   `json:"fixedLine"`
	Mobile             desc   `json:"mobile"`
	SameMobileAndFixed bool   `json:"sameMobileAndFixed"`
}

// foreign is the national-prefix rule of a country with a short calling
// code, for numbers too long to be valid.
type foreign struct {
	NationalPrefix    string  `json:"nationalPrefix"`
	NationalTransform string  `json:"nationalTransform,omitempty"`
	Lengths           []int32 `json:"lengths"`
	Local             []int32 `json:"local,omitempty"`
}

// maxKept is the most digits identifier.Parse hands to phonenumbers, and
// maxNSN phonenumbers' MAX_LENGTH_FOR_NSN.
const (
	maxKept = 20
	maxNSN  = 17
)

func main() {
	out := flag.String("o", "src/pkmobile.gen.js", `the phone number metadata's output file, "-" for standard output`)
	wireOut := flag.String("wire", "src/wire.gen.js", `the wire protocol's output file, "-" for standard output`)
	kindsOut := flag.String("kinds", "src/kinds.gen.js", `the identifier kinds' output file, "-" for standard output`)
	flag.Parse()
	for _, f := range []struct {
		name     string
		generate func() ([]byte, error)
	}{{*wireOut, generateWire}, {*kindsOut, generateKinds}, {*out, generate}} {
		b, err := f.generate()
		if err != nil {
			log.Fatalf("gen: %v", err)
		}
		if f.name == "-" {
			_, err = os.Stdout.Write(b)
		} else {
			err = os.WriteFile(f.name, b, 0o644)
		}
		if err != nil {
			log.Fatalf("gen: %v", err)
		}
	}
}

func generate() ([]byte, error) {
	version, err := moduleVersion()
	if err != nil {
		return nil, err
	}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil, err
	}
	regions := map[string]*phonenumbers.PhoneMetadata{}
	for _, m := range coll.GetMetadata() {
		if m.GetId() != "001" {
			regions[m.GetId()] = m
		}
	}
	m := regions["PK"]
	if m == nil {
		return nil, fmt.Errorf("no PK metadata in %s %s", module, version)
	}

	p := pk{
		CountryCode:       m.GetCountryCode(),
		IDD:               m.GetInternationalPrefix(),
		NationalPrefix:    m.GetNationalPrefixForParsing(),
		NationalTransform: m.GetNationalPrefixTransformRule(),
		General:           descOf("", m.GetGeneralDesc()),
		FixedLine:         descOf("", m.GetFixedLine()),
		Mobile:            descOf("", m.GetMobile()),

		SameMobileAndFixed: m.GetSameMobileAndFixedLinePattern(),
	}
	for _, t := range []struct {
		name string
		d    *phonenumbers.PhoneNumberDesc
	}{
		{"premium_rate", m.GetPremiumRate()},
		{"toll_free", m.GetTollFree()},
		{"shared_cost", m.GetSharedCost()},
		{"voip", m.GetVoip()},
		{"personal_number", m.GetPersonalNumber()},
		{"pager", m.GetPager()},
		{"uan", m.GetUan()},
		{"voicemail", m.GetVoicemail()},
	} {
		// "NA" and "" match no national number: leave them out.
		if pat := t.d.GetNationalNumberPattern(); pat != "NA" && pat != "" {
			p.Types = append(p.Types, descOf(t.name, t.d))
		}
	}

	var codes []int
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)

	short := map[int]foreign{}
	for _, cc := range codes {
		if cc >= 100 || cc == int(p.CountryCode) {
			continue
		}
		r := regions[phonenumbers.GetRegionCodeForCountryCode(cc)]
		if r == nil {
			return nil, fmt.Errorf("calling code %d has no region metadata", cc)
		}
		if r.GetNationalPrefixForParsing() == "" {
			continue // nothing is ever stripped
		}
		// The JavaScript side leaves out the check that the number before
		// stripping is valid: it cannot be at the lengths where this matters.
		n, err := maxMatch(r.GetGeneralDesc().GetNationalNumberPattern())
		if err != nil {
			return nil, fmt.Errorf("calling code %d: %w", cc, err)
		}
		if n > maxNSN {
			return nil, fmt.Errorf("calling code %d: a general number may have %d digits; src/identifier.js assumes at most %d", cc, n, maxNSN)
		}
		g := r.GetGeneralDesc()
		short[cc] = foreign{
			NationalPrefix:    r.GetNationalPrefixForParsing(),
			NationalTransform: r.GetNationalPrefixTransformRule(),
			Lengths:           g.GetPossibleLength(),
			Local:             g.GetPossibleLengthLocalOnly(),
		}
	}
	// A stripped foreign number shorter than 2 digits would be an error
	// that src/identifier.js does not model: make sure there is none.
	for id, r := range regions {
		if l := r.GetGeneralDesc().GetPossibleLength(); len(l) == 0 || l[0] < 2 {
			return nil, fmt.Errorf("region %s: general possible lengths %v", id, l)
		}
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by \"go run ./gen\" from %s %s; DO NOT EDIT.\n\n", module, version)
	b.WriteString("// PK is Pakistan's numbering plan as libphonenumber describes it.\n")
	if err := export(&b, "PK", p); err != nil {
		return nil, err
	}
	b.WriteString("\n// CALLING_CODES are the valid country calling codes.\n")
	if err := export(&b, "CALLING_CODES", codes); err != nil {
		return nil, err
	}
	b.WriteString("\n// SHORT_CODE_PREFIXES are the national-prefix rules of the one- and two-digit\n" +
		"// calling codes that have one, by calling code.\n")
	if err := export(&b, "SHORT_CODE_PREFIXES", short); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func descOf(typ string, d *phonenumbers.PhoneNumberDesc) desc {
	return desc{Type: typ, Pattern: d.GetNationalNumberPattern(), Lengths: d.GetPossibleLength(), Local: d.GetPossibleLengthLocalOnly()}
}

// numberList is an indented JSON array of numbers, which export puts on one
// line.
var numberList = regexp.MustCompile(`\[[\d,\s]+\]`)

// export writes "export const NAME = JSON;". JSON with sorted map keys is
// valid JavaScript and the same every run.
func export(b *bytes.Buffer, name string, v any) error {
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := numberList.ReplaceAllFunc(bytes.TrimSpace(j.Bytes()), func(l []byte) []byte {
		return bytes.Join(bytes.Fields(l), []byte(" "))
	})
	fmt.Fprintf(b, "export const %s = %s;\n", name, out)
	return nil
}

// maxMatch returns the most characters a match of the pattern can have,
// maxKept+1 standing for "more than identifier.Parse ever keeps".
func maxMatch(pattern string) (int, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, err
	}
	return min(maxLen(re.Simplify()), maxKept+1), nil
}

func maxLen(re *syntax.Regexp) int {
	const unbounded = maxKept + 1
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(n+maxLen(s), unbounded)
		}
		return n
	case syntax.OpAlternate:
		n := 0
		for _, s := range re.Sub {
			n = max(n, maxLen(s))
		}
		return n
	case syntax.OpStar, syntax.OpPlus:
		if maxLen(re.Sub[0]) == 0 {
			return 0
		}
		return unbounded
	case syntax.OpRepeat:
		if re.Max < 0 {
			return unbounded
		}
		return min(re.Max*maxLen(re.Sub[0]), unbounded)
	}
	return 0 // empty matches, anchors and word boundaries
}

// moduleVersion is the phonenumbers version this program was built with.
func moduleVersion() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", fmt.Errorf("no build information")
	}
	for _, d := range bi.Deps {
		if d.Path == module {
			if d.Replace != nil {
				d = d.Replace
			}
			return d.Version, nil
		}
	}
	return "", fmt.Errorf("%s is not a dependency of this build", module)
}
