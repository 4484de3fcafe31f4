package ingest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

const benchRows = 100_000

func benchCSV() string {
	var b strings.Builder
	b.WriteString("Name,Father Name,CNIC,Mobile,Address,City\n")
	for i := range benchRows {
		fmt.Fprintf(&b, "Muhammad Ali %d,Abdul Rehman,35202-%07d-1,0300-%07d,\"House %d, Street 5, Model Town\",Lahore\n", i, i, i, i)
	}
	return b.String()
}

// BenchmarkCSV measures reading (not parsing) a typical leak: six columns,
// two of them identifiers.
func BenchmarkCSV(b *testing.B) {
	data := benchCSV()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(strings.NewReader(data), int64(len(data)), "x.csv", Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := drainBench(b, r)
		if n != benchRows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCSVParse adds identifier.Parse of every value, as the pipeline
// does, for scale.
func BenchmarkCSVParse(b *testing.B) {
	data := benchCSV()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, _ := NewReader(strings.NewReader(data), int64(len(data)), "x.csv", Options{})
		for {
			_, vals, err := r.Next()
			if err == io.EOF {
				break
			}
			for _, v := range vals {
				if _, err := v.Parse(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkJSONL(b *testing.B) {
	var s strings.Builder
	for i := range benchRows {
		fmt.Fprintf(&s, `{"name":"Muhammad Ali %d","cnic":"35202-%07d-1","mobile":"0300%07d","address":{"city":"Lahore","street":"5"}}`+"\n", i, i, i)
	}
	data := s.String()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := NewReader(strings.NewReader(data), int64(len(data)), "x.jsonl", Options{})
		if err != nil {
			b.Fatal(err)
		}
		drainBench(b, r)
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkXLSX(b *testing.B) {
	var rows strings.Builder
	rows.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>CNIC</t></is></c><c r="C1" t="inlineStr"><is><t>Mobile</t></is></c></row>`)
	for i := range benchRows {
		fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="s"><v>0</v></c><c r="B%d" t="inlineStr"><is><t>35202-%07d-1</t></is></c><c r="C%d"><v>300%07d</v></c></row>`, i+2, i+2, i+2, i, i+2, i)
	}
	data := buildXLSX(b, []string{"<t>Muhammad Ali</t>"}, xsheetDef{"S", rows.String()})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)), "x.xlsx", Options{})
		if err != nil {
			b.Fatal(err)
		}
		drainBench(b, r)
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func drainBench(b *testing.B, r Reader) int {
	n := 0
	for {
		_, _, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}
