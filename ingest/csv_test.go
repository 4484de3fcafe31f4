package ingest

import (
	"errors"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

func TestCSV(t *testing.T) {
	tests := []struct {
		name, file, data string
		opt              Options
		want             []string
	}{
		{
			name: "english headers",
			file: "leak.csv",
			data: "Name,CNIC No,Mobile No.,City\nAli,35202-1234567-1,0300-1234567,Lahore\nSara,42101-7654321-3,03211234567,Karachi\n",
			want: []string{"2: cnic:35202-1234567-1 phone:0300-1234567", "3: cnic:42101-7654321-3 phone:03211234567"},
		},
		{
			name: "header variants",
			file: "x.csv",
			data: "S.No,Father's CNIC #,cell_phone,IMEI 2,Contact Name,CNIC Expiry\n1,35202-1234567-1,0300-1234567,352099001761481,Ali,2030-01-01\n",
			want: []string{"2: cnic:35202-1234567-1 phone:0300-1234567 imei:352099001761481"},
		},
		{
			name: "urdu headers",
			file: "x.csv",
			data: "نام,شناختی کارڈ نمبر,موبائل نمبر,فون\nعلی,۳۵۲۰۲-۱۲۳۴۵۶۷-۱,03001234567,\n",
			want: []string{"2: cnic:۳۵۲۰۲-۱۲۳۴۵۶۷-۱ phone:03001234567"},
		},
		{
			name: "content detection",
			file: "x.csv",
			data: "a,b,c\nx,3001234567,5\ny,03211234567,6\nz,junk,7\n",
			want: []string{"2: phone:3001234567", "3: phone:03211234567", "4: phone:junk"},
		},
		{
			name: "content overrides a generic header",
			file: "x.csv",
			data: "name,number\nAli,35202-1234567-1\nSara,42101-7654321-3\n",
			want: []string{"2: cnic:35202-1234567-1", "3: cnic:42101-7654321-3"},
		},
		{
			name: "column by name and kind",
			file: "x.csv",
			data: "Name,Ph,Alt\nAli,03001234567,03211234567\n",
			opt:  Options{Columns: []ColumnSpec{{Name: "alt", Kind: identifier.Phone}}},
			want: []string{"2: phone:03211234567"},
		},
		{
			name: "column by letter, kind detected per value",
			file: "x.csv",
			data: "Name,Notes\nAli,hello\n",
			opt:  Options{Columns: []ColumnSpec{{Name: "B"}}},
			want: []string{"2: :hello"},
		},
		{
			name: "duplicate header names",
			file: "x.csv",
			data: "Phone,Phone\n03001234567,03211234567\n",
			opt:  Options{Columns: []ColumnSpec{{Name: "phone"}}},
			want: []string{"2: phone:03001234567 phone:03211234567"},
		},
		{
			name: "utf-8 bom",
			file: "x.csv",
			data: "\xef\xbb\xbfCNIC,Name\n35202-1234567-1,Ali\n",
			want: []string{"2: cnic:35202-1234567-1"},
		},
		{
			name: "utf-16le unicode text from excel",
			file: "export.txt",
			data: utf16LE("Name\tMobile\r\nعلی\t0300-1234567\r\nSara\t03211234567\r\n", true),
			want: []string{"2: phone:0300-1234567", "3: phone:03211234567"},
		},
		{
			name: "utf-16be",
			file: "x.tsv",
			data: utf16BE("Name\tMobile\nAli\t0300-1234567\n"),
			want: []string{"2: phone:0300-1234567"},
		},
		{
			name: "utf-16le without bom",
			file: "x.csv",
			data: utf16LE("Name,Mobile\nAli,0300-1234567\n", false),
			want: []string{"2: phone:0300-1234567"},
		},
		{
			name: "semicolon",
			file: "x.csv",
			data: "Name;CNIC;Amount\nAli;35202-1234567-1;1,5\nSara;42101-7654321-3;2,5\n",
			want: []string{"2: cnic:35202-1234567-1", "3: cnic:42101-7654321-3"},
		},
		{
			name: "pipe, extension sniffed",
			file: "dump.dat",
			data: "name|msisdn\nAli|923001234567\nSara|923211234567\n",
			want: []string{"2: phone:923001234567", "3: phone:923211234567"},
		},
		{
			name: "malformed rows are reported and reading continues",
			file: "x.csv",
			data: "Name,Mobile\nAli,03001234567\n\"Bad\"x,03011234567\nBare\"q,03021234567\nSara,03211234567\n",
			want: []string{"2: phone:03001234567", "3! bad_quote", "4! bare_quote", "5: phone:03211234567"},
		},
		{
			name: "blank lines and multi-line fields keep spreadsheet row numbers",
			file: "x.csv",
			data: "Address,Mobile\r\n\"House 1\r\nLahore\",03001234567\r\n\r\n\r\nFlat 2,03211234567\r\n\"a\nb\nc\",\r\nx,03331234567",
			want: []string{"2: phone:03001234567", "5: phone:03211234567", "6:", "7: phone:03331234567"},
		},
		{
			name: "title rows above the header",
			file: "x.csv",
			data: "Customer list 2023,,\n,,\nName,CNIC,Mobile\nAli,35202-1234567-1,03001234567\n",
			want: []string{"4: cnic:35202-1234567-1 phone:03001234567"},
		},
		{
			name: "no header: the first row holds identifiers",
			file: "x.csv",
			data: "Ali,35202-1234567-1,03001234567\nSara,42101-7654321-3,03211234567\n",
			want: []string{"1: cnic:35202-1234567-1 phone:03001234567", "2: cnic:42101-7654321-3 phone:03211234567"},
		},
		{
			name: "short rows and empty cells",
			file: "x.csv",
			data: "Name,CNIC,Mobile\nAli\nSara,  ,03211234567\n",
			want: []string{"2:", "3: phone:03211234567"},
		},
		{
			name: "header only",
			file: "x.csv",
			data: "Name,CNIC\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t, tt.file, tt.data, tt.opt)
			defer r.Close()
			equal(t, dump(t, r), tt.want)
			done, total := r.Progress()
			if done != total || total != int64(len(tt.data)) {
				t.Errorf("Progress at the end = %d, %d; want %d, %d", done, total, len(tt.data), len(tt.data))
			}
		})
	}
}

func TestCSVErrors(t *testing.T) {
	tests := []struct {
		name, data string
		opt        Options
		want       []string // substrings of the error
	}{
		{
			name: "no identifier column",
			data: "Name,City\nAli,Lahore\nSara,Karachi\n",
			want: []string{"no identifier column", `"Name", "City"`, "--column"},
		},
		{
			name: "missing named column",
			data: "Name,Mobile\nAli,03001234567\n",
			opt:  Options{Columns: []ColumnSpec{{Name: "CNIC"}}},
			want: []string{`column "CNIC" not found`, `"Name", "Mobile"`},
		},
		{
			name: "empty",
			data: "",
			want: []string{"no rows"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.data), int64(len(tt.data)), "x.csv", tt.opt)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrNoColumn) {
				t.Errorf("error %q does not wrap ErrNoColumn", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCSVRecordTooLong(t *testing.T) {
	// Past the sample, so that Next, not Open, meets it.
	data := "Name,Mobile\n" + strings.Repeat("Ali,03001234567\n", sampleRows+headerSearch) +
		"\"unclosed," + strings.Repeat("x", maxRecord+8192) + "\nSara,03211234567\n"
	r := open(t, "x.csv", data, Options{})
	var err error
	for range sampleRows + headerSearch + 1 {
		if _, _, err = r.Next(); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "unclosed quote") {
		t.Fatalf("got %v, want a record-too-long error", err)
	}
	if _, _, err2 := r.Next(); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}
}

// TestTxtTableFallsBackToText: a .txt file with tabs but no identifier
// column is free text after all.
func TestTxtTableFallsBackToText(t *testing.T) {
	data := "12:01\tAli\tcall me on 0300-1234567\n12:02\tSara\tok\n"
	r := open(t, "chat.txt", data, Options{})
	equal(t, dump(t, r), []string{"1: phone:+923001234567"})
}

func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		name, head string
		want       rune
	}{
		{"comma", "a,b,c\n1,2,3\n", ','},
		{"semicolon with decimal commas", "a;b;c\n1,5;2;3\n2,5;4;5\n", ';'},
		{"tab", "a\tb\n1\t2\n", '\t'},
		{"pipe", "a|b|c\n1|2|3\n", '|'},
		{"quoted commas", "a;b\n\"x,y,z\";1\n\"p,q,r\";2\n", ';'},
		{"one column", "cnic\n35202-1234567-1\n", ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffDelimiter([]byte(tt.head)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
