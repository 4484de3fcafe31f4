package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

// Sentinels: a cell value and an identifier that must never show up in an
// error, whatever goes wrong.
const (
	secretText = "SECRETNAME"
	secretID   = "35202-9999999-1"
	secretNum  = "9999999"
)

func leaks(s string) bool {
	return strings.Contains(s, secretText) || strings.Contains(s, secretNum) || strings.Contains(s, "SECRET")
}

// TestErrorsHoldNoValues opens and reads broken files full of sentinel
// values and checks no error, from Open or Next, repeats one.
func TestErrorsHoldNoValues(t *testing.T) {
	badXML := buildXLSX(t, nil, xsheetDef{"S", `<row r="1"><c t="inlineStr"><is><t>CNIC</t></is></c></row><row r="2"><c><v>&SECRET` + secretNum + `;</v></c></row>`})
	badXML2 := buildXLSX(t, nil, xsheetDef{"S", `<row r="1"><c t="inlineStr"><is><t>CNIC</t></is></c></row>` +
		strings.Repeat(`<row><c t="inlineStr"><is><t>`+secretID+`</t></is></c></row>`, sampleRows+20) +
		`<row><c t="inlineStr"><is><t>` + secretID + `<` + secretText + `</t></is></c></row>`})
	tests := []struct {
		name, file string
		data       []byte
		opt        Options
	}{
		{"csv without identifier column", "x.csv", []byte("Name,Address\n" + secretText + ",House " + secretNum + "\n"), Options{}},
		{"headerless csv, missing column", "x.csv", []byte(secretID + "," + secretText + "\n"), Options{Columns: []ColumnSpec{{Name: "Passport"}}}},
		{"headerless csv without identifier column", "x.csv", []byte(secretText + "," + secretNum + secretNum + "\nx,y\n"), Options{}},
		{"csv quoting", "x.csv", []byte("Name,CNIC\n\"" + secretText + "\"x," + secretID + "\n" + secretText + "\"," + secretID + "\n\"" + secretID + "\n"), Options{}},
		{"csv title row", "x.csv", []byte(secretText + " " + secretNum + "\n\nName,City\nx,y\n"), Options{}},
		{"jsonl bad lines", "x.jsonl", []byte(`{"cnic":"` + secretID + `"}` + "\n" + `{"cnic":"` + secretID + `",` + secretText + "}\n" + `{"cnic":` + secretNum + `x}` + "\n"), Options{}},
		{"jsonl identifier keys", "x.jsonl", []byte(`{"` + secretID + `":"` + secretText + `"}` + "\n"), Options{Columns: []ColumnSpec{{Name: "cnic"}}}},
		{"jsonl not json", "x.jsonl", []byte(secretText + " " + secretID + "\n"), Options{}},
		{"xlsx bad entity", "x.xlsx", badXML, Options{}},
		{"xlsx bad xml after the sample", "x.xlsx", badXML2, Options{}},
		{"xlsx no sheet", "x.xlsx", badXML, Options{Sheet: secretText}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data), int64(len(tt.data)), tt.file, tt.opt)
			if err != nil {
				if leaks(err.Error()) && !strings.Contains(tt.name, "no sheet") {
					t.Errorf("Open error leaks a value: %s", err)
				}
				return
			}
			defer r.Close()
			for i := 0; i < 1000; i++ {
				_, vals, err := r.Next()
				if err == io.EOF {
					break
				}
				for _, v := range vals {
					if s := fmt.Sprintf("%v %+v %#v", v, v, v); leaks(s) {
						t.Errorf("a formatted Value leaks its value: %s", s)
					}
				}
				if err != nil {
					if leaks(err.Error()) {
						t.Errorf("Next error leaks a value: %s", err)
					}
					var re *RowError
					if !errors.As(err, &re) {
						break
					}
				}
			}
		})
	}
}

func TestValueParse(t *testing.T) {
	id, err := identifier.Parse(identifier.Unknown, "03001234567")
	if err != nil {
		t.Fatal(err)
	}
	pe := &identifier.ParseError{Kind: identifier.Phone, Reason: identifier.ReasonDecimal}
	tests := []struct {
		name string
		v    Value
		want string
	}{
		{"raw", Value{Kind: identifier.CNIC, Raw: "35202-1234567-1"}, "cnic:3520212345671"},
		{"raw of the wrong kind", Value{Kind: identifier.CNIC, Raw: "03001234567"}, "bad_length"},
		{"detected", Value{Raw: "352099001761481"}, "imei:35209900176148"},
		{"pre-parsed", Value{Kind: identifier.Phone, ID: id}, "phone:+923001234567"},
		{"pre-rejected", Value{Kind: identifier.Phone, Raw: "03001234567", Err: pe}, "decimal_number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.v.Parse()
			got := string(id.Canonical())
			if err != nil {
				var pe *identifier.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is no ParseError", err)
				}
				got = string(pe.Reason)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
