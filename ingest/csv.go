package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/khabardar/khabardar/identifier"
)

// csvReader reads a delimited table with a header row (or none, when the
// first row already holds identifiers).
type csvReader struct {
	src     *source
	cr      *csv.Reader
	guard   *recordGuard
	cols    []column
	pending []rawRow // sampled rows not yet returned
	row     int      // spreadsheet row of the last record read
	endLine int      // last file line of the last record read
	err     error    // sticky fatal error or io.EOF
}

// errRecordTooLong stops a record that outgrows maxRecord: it is a broken
// quote swallowing the rest of the file, and encoding/csv would buffer it
// all in memory.
var errRecordTooLong = errors.New("record too long")

// recordGuard fails reads once more than maxRecord bytes are read for one
// record; reset starts the count for the next record. csv.Reader reads
// ahead through a 4 KiB buffer, so the count is exact to within that.
type recordGuard struct {
	r io.Reader
	n int
}

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.n > maxRecord {
		return 0, errRecordTooLong
	}
	n, err := g.r.Read(p)
	g.n += n
	return n, err
}

func newCSV(src *source, delim rune, opt Options) (*csvReader, error) {
	c := &csvReader{src: src, guard: &recordGuard{r: src.br}}
	c.cr = csv.NewReader(c.guard)
	c.cr.Comma = delim
	c.cr.FieldsPerRecord = -1
	c.cr.ReuseRecord = true

	var (
		sample []rawRow
		size   int
	)
	for len(sample) < headerSearch+sampleRows && size < sampleBytes {
		r, err := c.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: %s: %w", src.name, err)
		}
		r.cells = append([]string(nil), r.cells...) // ReuseRecord: copy the slice; the strings are new
		for _, s := range r.cells {
			size += len(s) + 16
		}
		sample = append(sample, r)
	}
	lay, err := detectLayout(sample, opt, src.name)
	if err != nil {
		return nil, err
	}
	c.cols = lay.cols
	c.pending = sample[lay.header+1:]
	return c, nil
}

// read reads the next record and numbers it as a spreadsheet would: blank
// lines, which encoding/csv skips, are rows too, and a quoted field
// spanning lines is one row.
func (c *csvReader) read() (rawRow, error) {
	c.guard.n = 0
	rec, err := c.cr.Read()
	if err == io.EOF {
		return rawRow{}, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		c.row += 1 + max(0, pe.StartLine-c.endLine-1)
		c.endLine = pe.Line
		reason := "bad_csv"
		switch {
		case errors.Is(pe.Err, csv.ErrQuote):
			reason = "bad_quote"
		case errors.Is(pe.Err, csv.ErrBareQuote):
			reason = "bare_quote"
		}
		return rawRow{row: c.row, err: &RowError{Row: c.row, Reason: reason}}, nil
	}
	if err != nil {
		if errors.Is(err, errRecordTooLong) {
			return rawRow{}, fmt.Errorf("row %d: a record longer than %d MiB, most likely an unclosed quote; fix the quoting or use --format text", c.row+1, maxRecord>>20)
		}
		return rawRow{}, fmt.Errorf("row %d: %w", c.row+1, err)
	}
	start, _ := c.cr.FieldPos(0)
	c.row += 1 + max(0, start-c.endLine-1)
	last := len(rec) - 1
	end, _ := c.cr.FieldPos(last)
	c.endLine = end + strings.Count(rec[last], "\n")
	return rawRow{row: c.row, cells: rec}, nil
}

func (c *csvReader) Next() (int, []Value, error) {
	if c.err != nil {
		return 0, nil, c.err
	}
	var r rawRow
	if len(c.pending) > 0 {
		r = c.pending[0]
		c.pending[0] = rawRow{} // let the sample go as it is used
		c.pending = c.pending[1:]
	} else {
		var err error
		if r, err = c.read(); err != nil {
			if err != io.EOF {
				err = fmt.Errorf("ingest: %s: %w", c.src.name, err)
			}
			c.err = err
			return 0, nil, err
		}
	}
	if r.err != nil {
		return r.row, nil, r.err
	}
	return r.row, cellValues(r.cells, c.cols), nil
}

// cellValues picks the non-empty cells of cols out of a row.
func cellValues(cells []string, cols []column) []Value {
	var vals []Value
	for _, col := range cols {
		if col.idx >= len(cells) || strings.TrimSpace(cells[col.idx]) == "" {
			continue
		}
		if vals == nil {
			vals = make([]Value, 0, len(cols))
		}
		vals = append(vals, Value{Kind: col.kind, Raw: identifier.Raw(cells[col.idx]), Column: col.label})
	}
	return vals
}

func (c *csvReader) Progress() (int64, int64) { return c.src.progress() }

func (c *csvReader) Close() error { return nil }
