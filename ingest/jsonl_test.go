package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

func TestJSONL(t *testing.T) {
	var lateKeyWant []string
	for i := range sampleRows {
		lateKeyWant = append(lateKeyWant, strconv.Itoa(i+1)+": cnic:35202-1234567-1")
	}
	lateKeyWant = append(lateKeyWant, strconv.Itoa(sampleRows+1)+": cnic:42101-7654321-3 phone:03001234567")
	tests := []struct {
		name, file, data string
		opt              Options
		want             []string
	}{
		{
			name: "keys by name",
			file: "x.jsonl",
			data: `{"name":"Ali","cnic":"35202-1234567-1","mobile_no":"0300-1234567"}` + "\n" +
				`{"name":"Sara","cnic":"42101-7654321-3","mobile_no":null}` + "\n",
			want: []string{"1: cnic:35202-1234567-1 phone:0300-1234567", "2: cnic:42101-7654321-3"},
		},
		{
			name: "nested objects, arrays, numbers keep every digit",
			file: "x.ndjson",
			data: `{"user":{"nic":3520212345671,"phones":[923001234567,"03211234567"]},"device":{"imei":352099001761481}}` + "\n",
			want: []string{"1: cnic:3520212345671 phone:923001234567 phone:03211234567 imei:352099001761481"},
		},
		{
			name: "float numbers",
			file: "x.json",
			data: `{"phone":3001234567.0}` + "\n" + `{"phone":3.001234567e9}` + "\n" + `{"phone":3.52021e12}` + "\n" + `{"phone":352021234567.1}` + "\n",
			want: []string{"1: phone:3001234567", "2: phone:3001234567", "3: phone!scientific_notation", "4: phone!decimal_number"},
		},
		{
			name: "bad and blank lines",
			file: "x.jsonl",
			data: `{"phone":"03001234567"}` + "\n\n" + `{"phone":"0321` + "\n" + `{"phone":"03331234567"} x` + "\r\n" + "   \n" + `{"phone":"03451234567"}`,
			want: []string{"1: phone:03001234567", "3! bad_json", "4! bad_json", "6: phone:03451234567"},
		},
		{
			name: "content detection",
			file: "x.jsonl",
			data: `{"a":"Ali","b":"35202-1234567-1"}` + "\n" + `{"a":"Sara","b":"42101-7654321-3"}` + "\n",
			want: []string{"1: cnic:35202-1234567-1", "2: cnic:42101-7654321-3"},
		},
		{
			name: "keys first seen after the sample are judged by name",
			file: "x.jsonl",
			data: strings.Repeat(`{"cnic":"35202-1234567-1"}`+"\n", sampleRows) + `{"cnic":"42101-7654321-3","alt_phone":"03001234567","note":"03211234567"}` + "\n",
			want: lateKeyWant,
		},
		{
			name: "column",
			file: "x.jsonl",
			data: `{"cnic":"35202-1234567-1","x":{"y":"03001234567"}}` + "\n",
			opt:  Options{Columns: []ColumnSpec{{Name: "x.y", Kind: identifier.Phone}}},
			want: []string{"1: phone:03001234567"},
		},
		{
			name: "urdu key",
			file: "x.jsonl",
			data: `{"نام":"علی","موبائل":"03001234567"}` + "\n",
			want: []string{"1: phone:03001234567"},
		},
		{
			name: "sniffed without extension",
			file: "dump",
			data: `{"phone":"03001234567"}` + "\n",
			want: []string{"1: phone:03001234567"},
		},
		{
			name: "pretty-printed array document, rows by starting line",
			file: "export.json",
			data: "[\n  {\n    \"name\": \"Ali\",\n    \"cnic\": \"35202-1234567-1\"\n  },\n  {\"name\": \"Sara\", \"cnic\": \"42101-7654321-3\"},\n\n  {\n    \"cnic\": null\n  }\n]\n",
			want: []string{"2: cnic:35202-1234567-1", "6: cnic:42101-7654321-3", "8:"},
		},
		{
			name: "one-line array document",
			file: "x.json",
			data: `[{"phone":"03001234567"},{"phone":"03211234567"}]`,
			want: []string{"1: phone:03001234567", "1: phone:03211234567"},
		},
		{
			name: "array of strings",
			file: "x.json",
			data: "[\"03001234567\",\n\"03211234567\"]",
			want: []string{"1: phone:03001234567", "2: phone:03211234567"},
		},
		{
			name: "json lines of arrays",
			file: "x.jsonl",
			data: "[\"Ali\",\"03001234567\"]\n[\"03211234567\"]\n",
			want: []string{"1: phone:Ali phone:03001234567", "2: phone:03211234567"}, // no positions: elements share a key
		},
		{
			name: "too deep",
			file: "x.jsonl",
			data: `{"phone":"03001234567"}` + "\n" + `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}\n",
			want: []string{"1: phone:03001234567", "2! json_too_deep"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t, tt.file, tt.data, tt.opt)
			defer r.Close()
			equal(t, dump(t, r), tt.want)
			if done, total := r.Progress(); done != total {
				t.Errorf("Progress at the end = %d, %d", done, total)
			}
		})
	}
}

func TestJSONLErrors(t *testing.T) {
	tests := []struct {
		name, data string
		opt        Options
		want       []string
	}{
		{"no identifier key", `{"name":"Ali","city":"Lahore"}` + "\n", Options{}, []string{"no identifier key", `"name", "city"`, "--column"}},
		{"missing key", `{"name":"Ali","mobile":"03001234567"}` + "\n", Options{Columns: []ColumnSpec{{Name: "cnic"}}}, []string{`key "cnic" not found`}},
		{"not json at all", "hello\nworld\n", Options{}, []string{"not JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.data), int64(len(tt.data)), "x.jsonl", tt.opt)
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

func TestJSONArrayBroken(t *testing.T) {
	good := strings.Repeat("{\"phone\":\"03001234567\"},\n", sampleRows+1)
	if _, err := NewReader(strings.NewReader("[\n"+good[:60]+"{\"phone\": 0321x}]"), -1, "x.json", Options{}); err == nil || !strings.Contains(err.Error(), "line 4: invalid JSON") {
		t.Errorf("broken in the sample: got %v, want an error at line 4", err)
	}
	r := open(t, "x.json", "[\n"+good+"{\"phone\": 0321x},\n{\"phone\":\"03331234567\"}]", Options{})
	var err error
	for i := range sampleRows + 2 {
		var row int
		if row, _, err = r.Next(); err != nil {
			break
		}
		if row != i+2 {
			t.Fatalf("row %d, want %d", row, i+2)
		}
	}
	var re *RowError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), fmt.Sprintf("line %d: invalid JSON", sampleRows+3)) {
		t.Fatalf("got %v, want a fatal error at line %d", err, sampleRows+3)
	}
	if _, _, err2 := r.Next(); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}
}
