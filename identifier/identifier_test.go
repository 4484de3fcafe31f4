package identifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// specFile is the schema of testdata/identifiers.json (the shared spec) and
// testdata/extra_cases.json (ours).
type specFile struct {
	About string     `json:"about"`
	Cases []specCase `json:"cases"`
}

type specCase struct {
	Kind      string `json:"kind"`
	Input     string `json:"input"`
	Canonical string `json:"canonical,omitempty"`
	Reject    string `json:"reject,omitempty"`
	Reason    Reason `json:"reason,omitempty"` // extra_cases only: the stable code
	Note      string `json:"note,omitempty"`
}

func loadCases(t testing.TB, name string) []specCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var f specFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return f.Cases
}

// canonicalRE is the shape of every canonical form.
var canonicalRE = regexp.MustCompile(`^(cnic:[1-9][0-9]{12}|phone:\+923[0-9]{9}|imei:[0-9]{14}|passport:[A-Z]{2}[0-9]{7})$`)

// caseName names a case without its input: t.Run names end up in logs and
// CI output, and test values should not train anyone to log identifiers.
func caseName(i int, c specCase) string {
	kind := c.Kind
	if kind == "" {
		kind = "detect"
	}
	what := c.Note
	if what == "" {
		what = c.Reject
	}
	if what == "" {
		what = "ok"
	}
	return fmt.Sprintf("%02d_%s_%s", i, kind, what)
}

func TestSpecCases(t *testing.T) {
	for _, file := range []string{"identifiers.json", "extra_cases.json"} {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
			for i, c := range loadCases(t, file) {
				t.Run(caseName(i, c), func(t *testing.T) { checkCase(t, c) })
			}
		})
	}
}

func checkCase(t *testing.T, c specCase) {
	k, err := ParseKind(c.Kind)
	if err != nil {
		t.Fatalf("kind %q: %v", c.Kind, err)
	}
	if (c.Canonical == "") == (c.Reject == "") {
		t.Fatal("a case needs exactly one of canonical and reject")
	}
	id, err := Parse(k, Raw(c.Input))

	if c.Reject != "" {
		if err == nil {
			t.Fatalf("Parse(%v, %q) = %s, want rejection (%s)", k, c.Input, id.Canonical(), c.Reject)
		}
		if !id.IsZero() {
			t.Errorf("rejected, but the ID is not zero")
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %T is not a *ParseError", err)
		}
		if c.Reason != "" && pe.Reason != c.Reason {
			t.Errorf("Parse(%v, %q): reason %q, want %q", k, c.Input, pe.Reason, c.Reason)
		}
		if !slices.Contains(Reasons, pe.Reason) {
			t.Errorf("reason %q is not in Reasons", pe.Reason)
		}
		assertNoDigitsOf(t, c.Input, err.Error())
		return
	}

	if err != nil {
		t.Fatalf("Parse(%v, %q): %v", k, c.Input, err)
	}
	if got := string(id.Canonical()); got != c.Canonical {
		t.Fatalf("Parse(%v, %q) = %q, want %q", k, c.Input, got, c.Canonical)
	}
	if !canonicalRE.MatchString(c.Canonical) {
		t.Errorf("canonical %q has not the canonical shape", c.Canonical)
	}
	if want := strings.SplitN(c.Canonical, ":", 2)[0]; id.Kind().String() != want {
		t.Errorf("Kind() = %v, want %s", id.Kind(), want)
	}
	// Every accepted value is also found when the kind is to be detected.
	if k != Unknown {
		if got, err := Parse(Unknown, Raw(c.Input)); err != nil || got != id {
			t.Errorf("Parse(Unknown, %q) = %s, %v; want %s", c.Input, got.Canonical(), err, c.Canonical)
		}
	}
	// The canonical form parses to itself, with or without the kind.
	for _, k := range []Kind{Unknown, id.Kind()} {
		if got, err := Parse(k, Raw(c.Canonical)); err != nil || got != id {
			t.Errorf("Parse(%v, canonical) = %s, %v; want itself", k, got.Canonical(), err)
		}
	}
}

// digitsOf returns s's digits, normalised to ASCII.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if d, ok := digitOf(r); ok {
			b.WriteByte(d)
		}
	}
	return b.String()
}

// assertNoDigitsOf fails, for inputs of four digits or more, if out contains
// the input or four consecutive digits of it in a row, in any digit script.
func assertNoDigitsOf(t testing.TB, input, out string) {
	t.Helper()
	d := digitsOf(input)
	if len(d) < 4 {
		return
	}
	if strings.Contains(out, input) {
		t.Fatalf("output %q contains the input", out)
	}
	runs := strings.FieldsFunc(out, func(r rune) bool { _, ok := digitOf(r); return !ok })
	for _, run := range runs {
		run = digitsOf(run)
		for i := 0; i+4 <= len(d); i++ {
			if strings.Contains(run, d[i:i+4]) {
				t.Fatalf("output %q contains digits %q of the input", out, d[i:i+4])
			}
		}
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Kind
		err  bool
	}{
		{"empty", "", Unknown, false},
		{"cnic", "cnic", CNIC, false},
		{"cnic upper", "CNIC", CNIC, false},
		{"phone", "phone", Phone, false},
		{"mobile", "Mobile", Phone, false},
		{"msisdn", "MSISDN", Phone, false},
		{"imei", "imei", IMEI, false},
		{"spaces", " imei ", IMEI, false},
		{"passport", "Passport", Passport, false},
		{"unknown name", "ntn", Unknown, true},
		{"identifier as kind", "03001234567", Unknown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKind(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseKind(%q) = %v, %v", tt.in, got, err)
			}
			if err != nil {
				if !errors.Is(err, ErrUnknownKind) {
					t.Errorf("error %v is not ErrUnknownKind", err)
				}
				assertNoDigitsOf(t, tt.in, err.Error())
			}
		})
	}

	names := map[Kind]string{Unknown: "", CNIC: "cnic", Phone: "phone", IMEI: "imei", Passport: "passport"}
	for k, name := range names {
		if k.String() != name {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), name)
		}
		b, err := k.MarshalText()
		if err != nil || string(b) != name {
			t.Errorf("%d.MarshalText() = %q, %v", k, b, err)
		}
		var back Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("UnmarshalText(%q) = %v, %v", b, back, err)
		}
	}
	if _, err := Kind(9).MarshalText(); err == nil {
		t.Error("Kind(9).MarshalText: no error")
	}
	if len(Kinds) != 4 {
		t.Errorf("Kinds = %v", Kinds)
	}

	// Kinds work in JSON as names, also as map keys.
	b, err := json.Marshal(map[Kind]int{CNIC: 1, Phone: 2})
	if err != nil || string(b) != `{"cnic":1,"phone":2}` {
		t.Errorf("json = %s, %v", b, err)
	}
	var m map[Kind]int
	if err := json.Unmarshal([]byte(`{"imei":3,"mobile":2}`), &m); err != nil || m[IMEI] != 3 || m[Phone] != 2 {
		t.Errorf("json unmarshal = %v, %v", m, err)
	}
}

func TestParseInvalidKind(t *testing.T) {
	_, err := Parse(Kind(7), "3520212345671")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Reason != ReasonUnrecognised {
		t.Fatalf("Parse(Kind(7)) error = %v", err)
	}
}

func TestReasons(t *testing.T) {
	seen := map[Reason]bool{}
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	fourDigits := regexp.MustCompile(`[0-9]{4}`)
	for _, r := range Reasons {
		t.Run(string(r), func(t *testing.T) {
			if seen[r] {
				t.Fatal("listed twice")
			}
			seen[r] = true
			if !snake.MatchString(string(r)) {
				t.Error("not snake_case")
			}
			if r.Message() == Reason("no_such_reason").Message() {
				t.Error("no message of its own")
			}
			// No message holds four digits in a row, so none can echo a
			// meaningful part of any input.
			for _, k := range append([]Kind{Unknown}, Kinds...) {
				msg := (&ParseError{Kind: k, Reason: r}).Error()
				if msg == "" || fourDigits.MatchString(msg) {
					t.Errorf("%v: message %q", k, msg)
				}
			}
		})
	}
	if len(seen) != 13 {
		t.Errorf("%d reasons", len(seen))
	}
}

func TestIDZero(t *testing.T) {
	var id ID
	if !id.IsZero() || id.Kind() != Unknown || id.Canonical() != nil {
		t.Fatal("zero ID is not zero")
	}
	id, err := Parse(Phone, "0300-1234567")
	if err != nil || id.IsZero() {
		t.Fatal(id.IsZero(), err)
	}
	if got := string(id.AppendCanonical([]byte("x"))); got != "xphone:+923001234567" {
		t.Errorf("AppendCanonical = %q", got)
	}
	// Canonical returns a copy: changing it changes nothing.
	id.Canonical()[0] = 'X'
	if string(id.Canonical()) != "phone:+923001234567" {
		t.Error("Canonical shares memory with the ID")
	}
}

func TestLuhn(t *testing.T) {
	for _, tt := range []struct {
		d    string
		want bool
	}{
		{"352099001761481", true},
		{"490154203237518", true},
		{"79927398713", true},
		{"352099001761482", false},
		{"79927398710", false},
	} {
		if got := luhn([]byte(tt.d)); got != tt.want {
			t.Errorf("luhn(%s) = %v", tt.d, got)
		}
	}
}
