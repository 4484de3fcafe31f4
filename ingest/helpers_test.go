package ingest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/khabardar/khabardar/identifier"
)

// dump reads r to the end and renders each row as
// "ROW: kind:raw kind:raw" for raw values, "kind=canonical" for pre-parsed
// IDs, "kind!reason" for pre-parsed rejections and "ROW! reason" for row
// errors. Sheet names prefix rows of workbooks.
func dump(t testing.TB, r Reader) []string {
	t.Helper()
	var out []string
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("Next never returns io.EOF")
		}
		row, vals, err := r.Next()
		if err == io.EOF {
			break
		}
		prefix := ""
		if s, ok := r.(SheetReader); ok && s.Sheet() != "" {
			prefix = s.Sheet() + "!"
		}
		var re *RowError
		if errors.As(err, &re) {
			if re.Row != row {
				t.Errorf("RowError.Row %d, Next's row %d", re.Row, row)
			}
			out = append(out, fmt.Sprintf("%s%d! %s", prefix, row, re.Reason))
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, prefix+fmtRow(row, vals))
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after io.EOF: %v", err)
	}
	return out
}

func fmtRow(row int, vals []Value) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:", row)
	for _, v := range vals {
		b.WriteByte(' ')
		switch {
		case v.Err != nil:
			var pe *identifier.ParseError
			if errors.As(v.Err, &pe) {
				fmt.Fprintf(&b, "%s!%s", v.Kind, pe.Reason)
			} else {
				fmt.Fprintf(&b, "%s!%v", v.Kind, v.Err)
			}
		case !v.ID.IsZero():
			fmt.Fprintf(&b, "%s", v.ID.Canonical())
		default:
			fmt.Fprintf(&b, "%s:%s", v.Kind, string(v.Raw))
		}
	}
	return b.String()
}

func open(t testing.TB, name, data string, opt Options) Reader {
	t.Helper()
	r, err := NewReader(strings.NewReader(data), int64(len(data)), name, opt)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return r
}

func utf16LE(s string, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

func utf16BE(s string) string {
	b := []byte{0xfe, 0xff}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}

// xsheetDef is one worksheet of a test workbook: its name and the XML of
// its <sheetData> children.
type xsheetDef struct{ name, rows string }

// buildXLSX writes a minimal workbook as Excel lays it out. sst holds the
// inner XML of each shared string's <si>.
func buildXLSX(t testing.TB, sst []string, sheets ...xsheetDef) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	var wb, rels strings.Builder
	fmt.Fprintf(&wb, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook %s><sheets>`, ns)
	rels.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, s := range sheets {
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, s.name, i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
		add(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1),
			fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet %s><dimension ref="A1:C9"/><sheetData>%s</sheetData><pageMargins left="0.7"/></worksheet>`, ns, s.rows))
	}
	wb.WriteString(`</sheets></workbook>`)
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`, len(sheets)+1)
	add("xl/workbook.xml", wb.String())
	add("xl/_rels/workbook.xml.rels", rels.String())
	var ss strings.Builder
	fmt.Fprintf(&ss, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst %s count="%d" uniqueCount="%d">`, ns, len(sst), len(sst))
	for _, s := range sst {
		fmt.Fprintf(&ss, "<si>%s</si>", s)
	}
	ss.WriteString("</sst>")
	add("xl/sharedStrings.xml", ss.String())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func equal(t testing.TB, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got rows:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
