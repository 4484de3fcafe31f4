package ingest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

// testWorkbook has a customer sheet exercising every cell type, a device
// sheet and a sheet without identifiers.
func testWorkbook(t testing.TB) []byte {
	sst := []string{
		"<t>Name</t>", "<t>CNIC</t>", "<t>Mobile</t>", "<t>Ali</t>", "<t>35202-1234567-1</t>",
		`<r><t>42101-</t></r><r><rPr><b/></rPr><t>7654321-3</t></r><rPh sb="0" eb="1"><t>ignored</t></rPh>`,
		"<t>IMEI</t>", "<t>Total</t>", "<t>Sara</t>", `<t xml:space="preserve"> 61101-1111111-1 </t>`,
	}
	customers := `<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>` +
		`<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c><c r="C2"><v>3001234567</v></c></row>` +
		`<row r="3"><c r="A3" t="s"><v>8</v></c><c r="B3" t="s"><v>5</v></c><c r="C3" s="1"><v>3.0012345670000002E+9</v></c></row>` +
		`<row r="5"><c r="A5" t="inlineStr"><is><t>Bilal</t></is></c><c r="B5" t="inlineStr"><is><t>61101-1111111-1</t></is></c><c r="C5" t="str"><f>A1</f><v>0321-1234567</v></c></row>` +
		`<row r="6"><c r="B6"><v>3520212345671</v></c><c r="C6"><v>3.5209900176148E+15</v></c></row>` +
		`<row r="7"><c r="B7"><v>3520990017614807</v></c><c><v>352021234567.1</v></c></row>` +
		`<row><c/><c t="s"><v>9</v></c><c t="b"><v>1</v></c></row>` +
		`<row r="9"><c r="A9" t="e"><v>#N/A</v></c></row>`
	devices := `<row r="1"><c r="A1" t="inlineStr"><is><t>Owner</t></is></c><c r="B1" t="s"><v>6</v></c></row>` +
		`<row r="2"><c r="B2"><v>352099001761481</v></c></row>` +
		`<row r="3"><c r="B3" t="n"><v>3.52099001761481E+14</v></c></row>`
	summary := `<row r="1"><c r="A1" t="s"><v>7</v></c></row><row r="2"><c r="A2"><v>42</v></c></row>`
	return buildXLSX(t, sst, xsheetDef{"Customers", customers}, xsheetDef{"Summary", summary}, xsheetDef{"Devices", devices})
}

func TestXLSX(t *testing.T) {
	wb := testWorkbook(t)
	customers := []string{
		"Customers!2: cnic:35202-1234567-1 phone:3001234567",
		"Customers!3: cnic:42101-7654321-3 phone:3001234567",
		"Customers!5: cnic:61101-1111111-1 phone:0321-1234567",
		"Customers!6: cnic:3520212345671 phone!scientific_notation",
		"Customers!7: cnic!scientific_notation phone!decimal_number",
		"Customers!8: cnic: 61101-1111111-1 ",
		"Customers!9:",
	}
	devices := []string{"Devices!2: imei:352099001761481", "Devices!3: imei:352099001761481"}
	tests := []struct {
		name string
		opt  Options
		want []string
	}{
		{"every sheet with identifiers", Options{}, append(append([]string(nil), customers...), devices...)},
		{"one sheet", Options{Sheet: "devices"}, devices},
		{"column", Options{Columns: []ColumnSpec{{Name: "mobile", Kind: identifier.Phone}}}, []string{
			"Customers!2: phone:3001234567",
			"Customers!3: phone:3001234567",
			"Customers!5: phone:0321-1234567",
			"Customers!6: phone!scientific_notation",
			"Customers!7: phone!decimal_number",
			"Customers!8:",
			"Customers!9:",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(wb), int64(len(wb)), "book.xlsx", tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			equal(t, dump(t, r), tt.want)
			if done, total := r.Progress(); done != total || total != int64(len(wb)) {
				t.Errorf("Progress at the end = %d, %d; want %d", done, total, len(wb))
			}
		})
	}
}

func TestXLSXOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "book.bin") // sniffed, not by extension
	if err := os.WriteFile(path, testWorkbook(t), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, Options{Sheet: "Devices"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, dump(t, r), []string{"Devices!2: imei:352099001761481", "Devices!3: imei:352099001761481"})
	if err := r.Close(); err != nil {
		t.Error(err)
	}
}

func TestXLSXErrors(t *testing.T) {
	wb := testWorkbook(t)
	noIDs := buildXLSX(t, []string{"<t>Name</t>"}, xsheetDef{"A", `<row r="1"><c t="s"><v>0</v></c></row><row r="2"><c t="inlineStr"><is><t>Ali</t></is></c></row>`}, xsheetDef{"B", ""})
	tests := []struct {
		name string
		data []byte
		opt  Options
		want []string
	}{
		{"no such sheet", wb, Options{Sheet: "Nope"}, []string{`no sheet "Nope"`, `"Customers", "Summary", "Devices"`}},
		{"no identifiers anywhere", noIDs, Options{}, []string{"no sheet has an identifier column", `sheet "A"`, `"Name"`, "empty sheet"}},
		{"column in no sheet", wb, Options{Columns: []ColumnSpec{{Name: "Passport"}}}, []string{`column "Passport" not found`}},
		{"not a zip", []byte("PK\x03\x04 garbage"), Options{Format: "xlsx"}, []string{"bad zip"}},
		{"legacy xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 rest"), Options{}, []string{"legacy .xls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.data), int64(len(tt.data)), "book", tt.opt)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := NewReader(strings.NewReader(string(wb)), -1, "book.xlsx", Options{}); err == nil || !strings.Contains(err.Error(), "not a stream") {
		t.Errorf("xlsx from a stream: %v", err)
	}
	_, err := NewReader(bytes.NewReader(noIDs), int64(len(noIDs)), "book.xlsx", Options{})
	if !errors.Is(err, ErrNoColumn) {
		t.Errorf("%v does not wrap ErrNoColumn", err)
	}
}

func TestExcelNumber(t *testing.T) {
	tests := []struct {
		in, want string
		reason   identifier.Reason
	}{
		{"3001234567", "3001234567", ""},
		{"3.0012345670000002E+9", "3001234567", ""},
		{"3.0012345669999998E+9", "3001234567", ""},
		{"3520212345671", "3520212345671", ""},
		{"3.520212345671E+12", "3520212345671", ""},
		{"3.52021E+12", "3520210000000", ""}, // the cell really holds this number
		{"352099001761481", "352099001761481", ""},
		{"3520990017614807", "", identifier.ReasonScientific},
		{"3520990017614800", "", identifier.ReasonScientific},
		{"3.5209900176148E+15", "", identifier.ReasonScientific},
		{"1E+300", "", identifier.ReasonScientific},
		{"352021234567.1", "", identifier.ReasonDecimal},
		{"0.5", "", identifier.ReasonDecimal},
		{"1E-5", "", identifier.ReasonDecimal},
		{"999999999999999.6", "", identifier.ReasonScientific}, // rounds to 16 digits
		{"0", "0", ""},
		{"-3001234567", "-3001234567", ""},
		{"", "", ""},
		{"abc", "abc", ""},
		{"1E+99999999", "1E+99999999", ""},
	}
	for _, tt := range tests {
		got, reason := excelNumber(tt.in)
		if got != tt.want || reason != tt.reason {
			t.Errorf("excelNumber(%q) = %q, %q; want %q, %q", tt.in, got, reason, tt.want, tt.reason)
		}
	}
}

func TestJSONNumber(t *testing.T) {
	tests := []struct {
		in, want string
		reason   identifier.Reason
	}{
		{"3001234567", "3001234567", ""},
		{"35209900176148071234", "35209900176148071234", ""}, // as written
		{"3001234567.0", "3001234567", ""},
		{"3.001234567e9", "3001234567", ""},
		{"3.0012345670E+9", "3001234567", ""},
		{"3.52021e12", "", identifier.ReasonScientific},
		{"352021234567.1", "", identifier.ReasonDecimal},
		{"-1", "-1", ""},
	}
	for _, tt := range tests {
		got, reason := jsonNumber(tt.in)
		if got != tt.want || reason != tt.reason {
			t.Errorf("jsonNumber(%q) = %q, %q; want %q, %q", tt.in, got, reason, tt.want, tt.reason)
		}
	}
}
