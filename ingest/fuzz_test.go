package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// Fuzz targets: whatever the bytes, readers must not panic or hang, must
// number rows sensibly and must never put a value in an error. The seed
// corpora live in testdata/fuzz/<FuzzName>/.

func FuzzCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "f.csv", Options{}, true)
		fuzzRead(t, data, "f", Options{}, false) // sniffed: CSV, JSONL, XLSX or text
	})
}

func FuzzJSONL(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "f.jsonl", Options{}, false) // array documents: rows may share a line
	})
}

func FuzzXLSX(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "f.xlsx", Options{}, false)
	})
}

// FuzzXLSXSheet fuzzes the XML inside a well-formed zip, which random zip
// bytes rarely reach: a sheet's rows and the shared strings.
func FuzzXLSXSheet(f *testing.F) {
	f.Fuzz(func(t *testing.T, rows, sst string) {
		fuzzRead(t, buildXLSX(t, []string{sst}, xsheetDef{"S", rows}), "f.xlsx", Options{}, false)
	})
}

func FuzzText(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "f.txt", Options{Format: "text"}, false)
	})
}

func fuzzRead(t *testing.T, data []byte, name string, opt Options, increasing bool) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), name, opt)
	if err != nil {
		checkError(t, err)
		return
	}
	defer r.Close()
	prev := 0
	for i := 0; ; i++ {
		if i > 1100*len(data)+100 { // deflate expands at most ~1032 times
			t.Fatalf("%d rows from %d bytes", i, len(data))
		}
		row, vals, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			checkError(t, err)
			var re *RowError
			if !errors.As(err, &re) {
				break
			}
		}
		if row <= 0 || increasing && row <= prev {
			t.Fatalf("row %d after row %d", row, prev)
		}
		prev = row
		for _, v := range vals {
			v.Parse()
		}
	}
	if done, total := r.Progress(); done > total || done < 0 {
		t.Errorf("Progress = %d, %d", done, total)
	}
}

// checkError fails if err holds ten digits in a row: row numbers and line
// numbers never do, identifiers always do.
func checkError(t *testing.T, err error) {
	run := 0
	for _, r := range err.Error() {
		if unicode.IsDigit(r) {
			if run++; run >= 10 {
				t.Fatalf("error holds a value: %v", err)
			}
		} else {
			run = 0
		}
	}
}

// TestWriteFuzzSeeds writes the seed corpora from the unit tests' inputs.
// Run with INGEST_WRITE_SEEDS=1 after changing them.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("INGEST_WRITE_SEEDS") == "" {
		t.Skip("set INGEST_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	csvs := []string{
		"Name,CNIC No,Mobile No.,City\nAli,35202-1234567-1,0300-1234567,Lahore\nSara,42101-7654321-3,03211234567,Karachi\n",
		"نام,شناختی کارڈ نمبر,موبائل نمبر,فون\nعلی,۳۵۲۰۲-۱۲۳۴۵۶۷-۱,03001234567,\n",
		"\xef\xbb\xbfCNIC;Name\n35202-1234567-1;Ali\n",
		utf16LE("Name\tMobile\r\nAli\t0300-1234567\r\n", true),
		"Name,Mobile\nAli,03001234567\n\"Bad\"x,03011234567\nBare\"q,03021234567\n\"open,\n",
		"Address,Mobile\r\n\"House 1\r\nLahore\",03001234567\r\n\r\nFlat 2,03211234567",
		"Ali,35202-1234567-1,03001234567\nname|msisdn\nAli|923001234567\n",
		"a,b\nx,3001234567\ny,352099001761481\n",
	}
	jsons := []string{
		`{"name":"Ali","cnic":"35202-1234567-1","mobile_no":"0300-1234567"}` + "\n" + `{"cnic":null}` + "\n",
		`{"user":{"nic":3520212345671,"phones":[923001234567,"03211234567"]},"imei":3.52099001761481e14}` + "\n\n" + `{"phone":"0321` + "\n",
		`{"a":[[[{"b":1}]]],"phone":352021234567.1}` + "\n" + `[1,2]` + "\n" + `"x"` + "\n",
		"[\n  {\n    \"name\": \"Ali\",\n    \"cnic\": \"35202-1234567-1\"\n  },\n  {\"cnic\": 4210176543213}\n]\n",
		`[{"phone":"03001234567"},{"phone":"03211234567"}]`,
	}
	texts := []string{
		"12/01/2024, 10:16 pm - Ali: mera CNIC 35202-1234567-1 hai aur number 0300 1234567\nIMEI 352099001761481, purana 03381234567\r\n",
		"میرا نمبر ۰۳۲۱۱۲۳۴۵۶۷ ہے +92 333 1234567",
		utf16LE("call 0300-1234567", true),
	}
	write := func(fuzz string, i int, args ...any) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			switch a := a.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", a)
			case string:
				fmt.Fprintf(&b, "string(%q)\n", a)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range csvs {
		write("FuzzCSV", i, []byte(s))
	}
	for i, s := range jsons {
		write("FuzzJSONL", i, []byte(s))
	}
	for i, s := range texts {
		write("FuzzText", i, []byte(s))
	}
	write("FuzzXLSX", 0, testWorkbook(t))
	write("FuzzXLSX", 1, buildXLSX(t, nil, xsheetDef{"S", `<row><c t="inlineStr"><is><t>CNIC</t></is></c></row><row><c><v>3520212345671</v></c></row>`}))
	write("FuzzXLSXSheet", 0,
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Mobile</t></is></c></row>`+
			`<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>3.0012345670000002E+9</v></c></row><row><c/><c><v>3520990017614807</v></c></row>`,
		`<t>CNIC</t></si><si><r><t>35202-</t></r><r><t>1234567-1</t></r><rPh><t>x</t></rPh>`)
	write("FuzzXLSXSheet", 1, `<row><c t="str"><f>A1</f><v>imei</v></c></row><row><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c></row><row r="9"><c r="A9"><v>352099001761481</v></c></row>`, `<t xml:space="preserve"> x </t>`)
}
