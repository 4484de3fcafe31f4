// Package ingest reads leaked files (CSV/TSV, JSON lines, XLSX and plain
// text such as a WhatsApp chat export) and yields, row by row, the candidate
// identifiers they hold.
//
// Privacy: raw values never leave memory. Nothing here writes a temp file or
// logs, and no error carries a cell value: errors name rows, columns (header
// names, which are not personal data, and only when they do not look like
// identifiers themselves) and reasons. Memory stays flat in the file's size:
// every format is streamed, and the samples used to find identifier columns
// are bounded (sampleRows rows, sampleBytes bytes). The one exception is an
// XLSX file's shared-string table, which the format forces into memory.
package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/khabardar/khabardar/identifier"
)

// Limits. They bound memory on hostile or broken files, never on sane ones.
const (
	sampleRows   = 200      // data rows sampled to detect identifier columns
	sampleBytes  = 8 << 20  // and at most this many bytes of sampled cells
	headerSearch = 10       // rows searched for a header below title rows
	maxRecord    = 16 << 20 // one CSV record / XLSX row / JSON line, in bytes
	maxColumns   = 16384    // Excel's column limit; cells past it are ignored
	peekSize     = 64 << 10 // bytes examined to sniff format and delimiter
)

// Value is one candidate identifier from a row.
//
// Readers of tables (CSV, JSON lines, XLSX) set Kind and Raw and leave ID and
// Err zero: the pipeline parses Raw. Readers that must parse to find
// candidates at all (text, via identifier.Scan) or that know a value is
// unusable (an XLSX number that lost digits) set ID or Err instead; then ID
// and Err are the result and Raw may be empty. Parse handles both cases.
type Value struct {
	Kind   identifier.Kind // from the column (header, --column, or content detection); Unknown = detect per value
	Raw    identifier.Raw
	Column string // the column's header or letter, or a JSON key; "" for text. Never a cell value.

	ID  identifier.ID // pre-parsed identifier, when !ID.IsZero()
	Err error         // pre-parsed rejection (an *identifier.ParseError), when non-nil
}

// Parse returns the value's identifier: the pre-parsed result if the reader
// set one, else identifier.Parse(v.Kind, v.Raw).
func (v Value) Parse() (identifier.ID, error) {
	if v.Err != nil {
		return identifier.ID{}, v.Err
	}
	if !v.ID.IsZero() {
		return v.ID, nil
	}
	return identifier.Parse(v.Kind, v.Raw)
}

// Reader yields a file's rows one at a time. It is not safe for concurrent
// use, except Progress, which may be called from any goroutine.
type Reader interface {
	// Next returns the next data row: its number as a person opening the
	// file would see it (CSV/XLSX: the spreadsheet row, header = row 1;
	// JSONL/text: the line number), and its candidate values (maybe none;
	// empty cells are no candidates; text lines without any are skipped).
	// The values slice belongs to the caller. For a row that cannot be read
	// at all (bad JSON line, malformed CSV quoting) it returns the row number
	// and a *RowError, and the caller continues calling Next. io.EOF at the
	// end. Any other error is fatal: the file cannot be read further.
	Next() (row int, values []Value, err error)
	// Progress returns bytes consumed so far and the total (for a progress
	// bar); total is -1 when unknown. For XLSX it counts compressed bytes.
	Progress() (done, total int64)
	// Close closes the file opened by Open. A Reader from NewReader does not
	// close the io.Reader it was given.
	Close() error
}

// SheetReader is implemented by readers of workbooks: Sheet names the sheet
// the row last returned by Next came from, since XLSX row numbers are per
// sheet.
type SheetReader interface {
	Sheet() string
}

// RowError reports a row that could not be read. It never holds a value.
type RowError struct {
	Row    int
	Reason string // stable, snake_case: bad_quote, bare_quote, bad_csv, bad_json, json_too_deep, line_too_long
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s", e.Row, e.Reason) }

// Options tune how a file is read.
type Options struct {
	// Format is "csv", "tsv", "jsonl", "xlsx" or "text". "" picks by
	// extension (.csv .tsv .tab .jsonl .ndjson .json .xlsx .txt) and sniffs
	// the content for anything else. "csv" sniffs the delimiter among
	// , ; tab and |, preferring the comma.
	Format string
	// Columns, from --column NAME or NAME=KIND, restrict reading to these
	// columns (or JSON keys). Empty: identifier columns are detected.
	Columns []ColumnSpec
	// Sheet restricts an XLSX workbook to one sheet. "" reads every sheet
	// that has identifier columns, in workbook order; row numbers are per
	// sheet (see SheetReader).
	Sheet string
}

// Formats lists the accepted values of Options.Format.
var Formats = []string{"csv", "tsv", "jsonl", "xlsx", "text"}

// Open opens the file at path and returns a Reader for it. Open reads the
// header and a bounded sample to find the identifier columns, and fails if
// there is none: the error says how to name one with --column.
func Open(path string, opt Options) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("ingest: %s is a directory", path)
	}
	r, err := newReader(f, st.Size(), filepath.Base(path), opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &closer{Reader: r, c: f}, nil
}

// NewReader returns a Reader over r, which holds size bytes (-1 if
// unknown); name is used for messages and to pick the format by extension.
// XLSX needs r to be an io.ReaderAt (a *os.File or *bytes.Reader): a zip
// file cannot be streamed, and spooling it to disk would write identifiers
// to a temp file.
func NewReader(r io.Reader, size int64, name string, opt Options) (Reader, error) {
	return newReader(r, size, name, opt)
}

type closer struct {
	Reader
	c io.Closer
}

func (c *closer) Close() error {
	err := c.Reader.Close()
	if err2 := c.c.Close(); err == nil {
		err = err2
	}
	return err
}

// Sheet forwards to a workbook reader's Sheet.
func (c *closer) Sheet() string {
	if s, ok := c.Reader.(SheetReader); ok {
		return s.Sheet()
	}
	return ""
}

func newReader(r io.Reader, size int64, name string, opt Options) (Reader, error) {
	if name == "" {
		name = "input"
	}
	format := strings.ToLower(strings.TrimSpace(opt.Format))
	ext := strings.ToLower(filepath.Ext(name))
	if format == "" {
		switch ext {
		case ".csv":
			format = "csv"
		case ".tsv", ".tab":
			format = "tsv"
		case ".jsonl", ".ndjson", ".json", ".jsonlines":
			format = "jsonl"
		case ".xlsx", ".xlsm":
			format = "xlsx"
		case ".xls":
			return nil, fmt.Errorf("ingest: %s: legacy .xls workbooks are not supported; save it as .xlsx or CSV", name)
		}
	}
	switch format {
	case "", "csv", "tsv", "jsonl", "text":
	case "xlsx":
		ra, ok := r.(io.ReaderAt)
		if !ok || size < 0 {
			return nil, fmt.Errorf("ingest: %s: an XLSX file must be read from a file, not a stream", name)
		}
		return newXLSX(ra, size, name, opt)
	default:
		return nil, fmt.Errorf("ingest: unknown format %q (want one of %s)", opt.Format, strings.Join(Formats, ", "))
	}

	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, peekSize)
	head, _ := br.Peek(peekSize)
	if format == "" {
		switch {
		case bytes.HasPrefix(head, []byte("PK\x03\x04")):
			ra, ok := r.(io.ReaderAt)
			if !ok || size < 0 {
				return nil, fmt.Errorf("ingest: %s: looks like an XLSX file, which must be read from a file, not a stream", name)
			}
			return newXLSX(ra, size, name, opt)
		case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
			return nil, fmt.Errorf("ingest: %s: looks like a legacy .xls workbook, which is not supported; save it as .xlsx or CSV", name)
		}
	}

	src := &source{name: name, counter: cr, size: size}
	src.br = decode(br, head)
	head, _ = src.br.Peek(peekSize) // decoded, without a BOM

	var (
		rd  Reader
		err error
	)
	switch format {
	case "csv":
		rd, err = newCSV(src, sniffDelimiter(head), opt)
	case "tsv":
		rd, err = newCSV(src, '\t', opt)
	case "jsonl":
		rd, err = newJSONL(src, opt)
	case "text":
		rd, err = newText(src, opt)
	case "":
		// No format and no telling extension: sniff. A .txt file is text
		// unless it is a tab-separated table (Excel's "Unicode text" export
		// is UTF-16 TSV saved as .txt) with a detectable identifier column.
		switch {
		case ext != ".txt" && startsJSON(head):
			rd, err = newJSONL(src, opt)
		case ext == ".txt" && tabTable(head):
			rd, err = newCSV(src, '\t', opt)
			if errors.Is(err, ErrNoColumn) && len(opt.Columns) == 0 {
				if rs, ok := r.(io.Seeker); ok {
					if _, serr := rs.Seek(0, io.SeekStart); serr == nil {
						return newReader(r, size, name, Options{Format: "text"})
					}
				}
			}
		case ext != ".txt" && delimited(head):
			rd, err = newCSV(src, sniffDelimiter(head), opt)
		default:
			rd, err = newText(src, opt)
		}
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// source is a decoded byte stream with progress accounting, shared by the
// line- and record-oriented readers.
type source struct {
	name    string
	br      *bufio.Reader // decoded UTF-8 (BOM stripped)
	counter *countingReader
	size    int64
}

func (s *source) progress() (int64, int64) { return s.counter.n.Load(), s.size }

// countingReader counts bytes read from the file: progress is in file bytes,
// before any decoding.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// decode strips a UTF-8 BOM and converts UTF-16 (with a BOM, or without one
// but recognisable by its NUL bytes) to UTF-8. Other input passes unchanged:
// invalid UTF-8 holds no digits we could lose.
func decode(br *bufio.Reader, head []byte) *bufio.Reader {
	var enc transform.Transformer
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		br.Discard(3)
		return br
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	default:
		switch utf16NoBOM(head) {
		case 1:
			enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
		case 2:
			enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
		default:
			return br
		}
	}
	return bufio.NewReaderSize(transform.NewReader(br, enc), peekSize)
}

// utf16NoBOM guesses BOM-less UTF-16 from ASCII text's NUL bytes: 1 for
// little-endian, 2 for big-endian, 0 for neither.
func utf16NoBOM(head []byte) int {
	n := min(len(head), 512) &^ 1
	if n < 8 {
		return 0
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*7 && even*10 < pairs:
		return 1
	case even*10 >= pairs*7 && odd*10 < pairs:
		return 2
	}
	return 0
}

// lines returns the complete lines of head, at most n, without line ends.
func lines(head []byte, n int) [][]byte {
	var out [][]byte
	for len(out) < n {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			break
		}
		out = append(out, bytes.TrimSuffix(head[:i], []byte("\r")))
		head = head[i+1:]
	}
	if len(out) == 0 && len(head) > 0 && len(head) < peekSize {
		out = append(out, head) // a one-line file
	}
	return out
}

func startsJSON(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// delimiters are the separators sniffed, in order of preference on a tie.
var delimiters = []rune{',', '\t', ';', '|'}

// delimCount counts d in line outside double quotes.
func delimCount(line []byte, d rune) int {
	n, quoted := 0, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && rune(c) == d:
			n++
		}
	}
	return n
}

// consistency scores delimiter d over the sample lines: how many non-empty
// lines have the most common non-zero count of d, and that count.
func consistency(ls [][]byte, d rune) (agree, count int) {
	freq := map[int]int{}
	for _, l := range ls {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if c := delimCount(l, d); c > 0 {
			freq[c]++
		}
	}
	for c, f := range freq {
		if f > agree || f == agree && c > count {
			agree, count = f, c
		}
	}
	return agree, count
}

// sniffDelimiter picks the separator that splits the first lines most
// consistently; the comma when nothing does.
func sniffDelimiter(head []byte) rune {
	ls := lines(head, 20)
	best, bestAgree, bestCount := ',', 0, 0
	for _, d := range delimiters {
		agree, count := consistency(ls, d)
		if agree > bestAgree || agree == bestAgree && count > bestCount {
			best, bestAgree, bestCount = d, agree, count
		}
	}
	return best
}

// delimited reports whether head looks like a table: at least two lines,
// most of which split the same way on one delimiter.
func delimited(head []byte) bool {
	ls := lines(head, 20)
	nonEmpty := 0
	for _, l := range ls {
		if len(bytes.TrimSpace(l)) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 2 {
		return false
	}
	for _, d := range delimiters {
		if agree, _ := consistency(ls, d); agree*10 >= nonEmpty*9 {
			return true
		}
	}
	return false
}

// tabTable reports whether every non-empty line of head's first lines has
// the same, non-zero number of tabs.
func tabTable(head []byte) bool {
	ls := lines(head, 20)
	want, n := -1, 0
	for _, l := range ls {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		c := bytes.Count(l, []byte("\t"))
		if c == 0 || want >= 0 && c != want {
			return false
		}
		want = c
		n++
	}
	return n >= 2
}

// readLine reads one line without its line end. A line longer than max is
// returned cut at max with long set, and the rest of it is discarded without
// being buffered. At the end it returns io.EOF with no line.
func readLine(br *bufio.Reader, buf []byte, max int) (line []byte, long bool, err error) {
	buf = buf[:0]
	for {
		frag, err := br.ReadSlice('\n')
		if !long {
			if len(buf)+len(frag) > max {
				buf = append(buf, frag[:max-len(buf)]...)
				long = true
			} else {
				buf = append(buf, frag...)
			}
		}
		switch err {
		case nil:
			return trimEOL(buf), long, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(buf) == 0 {
				return nil, false, io.EOF
			}
			return trimEOL(buf), long, nil
		default:
			return nil, false, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
