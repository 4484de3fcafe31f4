package ingest

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/khabardar/khabardar/identifier"
)

// maxSharedStrings bounds the shared-string table, which must be held in
// memory: a cell refers to it by index from anywhere in the sheet.
const maxSharedStrings = 2 << 30

// xlsxReader streams the rows of an XLSX workbook's sheets with
// archive/zip and encoding/xml. Libraries such as excelize spill big sheets
// to temp files, and identifiers must never reach the disk.
//
// Each sheet is read like a CSV table: its first row is its header (below
// any title rows), identifier columns are found by header and content, and
// row numbers are the sheet's own. Every sheet with identifier columns is
// read, in workbook order, unless Options.Sheet names one; Sheet tells which
// sheet a row came from. Open samples every sheet to decide its columns,
// then each sheet is read again from its start.
type xlsxReader struct {
	name   string
	ra     *countingReaderAt
	size   int64
	sst    *sharedStrings
	sheets []xsheet
	cur    int // index into sheets of the sheet being read
	st     *sheetStream
	skip   int // rows still to skip at the start of the sheet (title, header)
	err    error

	// Progress: base counts the parts not streamed (read at Open) and the
	// sheets finished, in compressed bytes; the current sheet adds what was
	// read since start, up to its compressed size, max.
	base, start, max atomic.Int64
}

type xsheet struct {
	name string
	file *zip.File
	lay  layout
	want []int // by column index: position in lay.cols, or -1
}

// countingReaderAt counts the bytes read from the file, for Progress.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func newXLSX(r io.ReaderAt, size int64, name string, opt Options) (*xlsxReader, error) {
	x := &xlsxReader{name: name, ra: &countingReaderAt{r: r}, size: size}
	zr, err := zip.NewReader(x.ra, size)
	if err != nil {
		return nil, fmt.Errorf("ingest: %s: not a readable XLSX file (bad zip)", name)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[zipKey(f.Name)] = f
	}
	sheets, sstPath := workbookSheets(files)
	if len(sheets) == 0 {
		return nil, fmt.Errorf("ingest: %s: no worksheets found; is it an XLSX workbook?", name)
	}
	if opt.Sheet != "" {
		i := slices.IndexFunc(sheets, func(s xsheet) bool { return s.name == opt.Sheet })
		if i < 0 {
			i = slices.IndexFunc(sheets, func(s xsheet) bool { return strings.EqualFold(s.name, opt.Sheet) })
		}
		if i < 0 {
			names := make([]string, len(sheets))
			for i, s := range sheets {
				names[i] = strconv.Quote(sheetLabel(s.name))
			}
			return nil, fmt.Errorf("ingest: %s: no sheet %q; sheets: %s", name, opt.Sheet, strings.Join(names, ", "))
		}
		sheets = sheets[i : i+1]
	}
	x.sst = &sharedStrings{}
	if f := files[sstPath]; f != nil {
		if err := x.sst.load(f); err != nil {
			return nil, fmt.Errorf("ingest: %s: shared strings: %w", name, err)
		}
	}

	var errs []error
	for _, sh := range sheets {
		where := fmt.Sprintf("%s sheet %q", name, sheetLabel(sh.name))
		lay, err := x.sample(sh, opt, where)
		if err != nil {
			if !errors.Is(err, ErrNoColumn) {
				return nil, err
			}
			errs = append(errs, err)
			continue
		}
		sh.lay = lay
		for _, c := range lay.cols {
			for len(sh.want) <= c.idx {
				sh.want = append(sh.want, -1)
			}
		}
		for i, c := range lay.cols {
			sh.want[c.idx] = i
		}
		x.sheets = append(x.sheets, sh)
	}
	if len(x.sheets) == 0 {
		if len(errs) == 1 {
			return nil, errs[0]
		}
		return nil, fmt.Errorf("ingest: %s: no sheet has an identifier column:\n%w", name, errors.Join(errs...))
	}
	base := size
	for _, sh := range x.sheets {
		base -= int64(sh.file.CompressedSize64)
	}
	x.base.Store(max(base, 0))
	return x, nil
}

// sample reads the first rows of a sheet and decides its layout.
func (x *xlsxReader) sample(sh xsheet, opt Options, where string) (layout, error) {
	st, err := openSheet(sh.file, x.sst, nil)
	if err != nil {
		return layout{}, fmt.Errorf("ingest: %s: %w", where, err)
	}
	defer st.close()
	var (
		rows []rawRow
		size int
	)
	for len(rows) < headerSearch+sampleRows && size < sampleBytes {
		row, cells, err := st.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return layout{}, fmt.Errorf("ingest: %s: %w", where, err)
		}
		n := 0
		for _, c := range cells {
			n = max(n, c.col+1)
		}
		dense := make([]string, n)
		for _, c := range cells {
			dense[c.col] = c.val
			if c.reject != "" {
				dense[c.col] = rejected
			}
			size += len(c.val)
		}
		size += 16*n + 64
		rows = append(rows, rawRow{row: row, cells: dense})
	}
	if len(rows) == 0 {
		return layout{}, noColumn("ingest: %s: empty sheet", where)
	}
	return detectLayout(rows, opt, where)
}

// Sheet returns the name of the sheet the last row came from; like a
// header, a name that looks like an identifier is withheld.
func (x *xlsxReader) Sheet() string {
	if x.cur < len(x.sheets) {
		return sheetLabel(x.sheets[x.cur].name)
	}
	return ""
}

// rejected stands in a sample for a value already rejected: non-empty,
// never parsing, never shown.
const rejected = "\x00"

func (x *xlsxReader) Next() (int, []Value, error) {
	if x.err != nil {
		return 0, nil, x.err
	}
	for {
		if x.st == nil {
			if x.cur >= len(x.sheets) {
				x.max.Store(0)
				x.base.Store(x.size)
				x.err = io.EOF
				return 0, nil, io.EOF
			}
			sh := &x.sheets[x.cur]
			st, err := openSheet(sh.file, x.sst, sh.want)
			if err != nil {
				x.err = fmt.Errorf("ingest: %s sheet %q: %w", x.name, sheetLabel(sh.name), err)
				return 0, nil, x.err
			}
			x.st, x.skip = st, sh.lay.header+1
			x.start.Store(x.ra.n.Load())
			x.max.Store(int64(sh.file.CompressedSize64))
		}
		row, cells, err := x.st.next()
		if err == io.EOF {
			x.st.close()
			x.st = nil
			x.base.Add(x.max.Swap(0))
			x.cur++
			continue
		}
		if err != nil {
			x.st.close()
			x.err = fmt.Errorf("ingest: %s sheet %q: %w", x.name, sheetLabel(x.sheets[x.cur].name), err)
			return 0, nil, x.err
		}
		if x.skip > 0 {
			x.skip--
			continue
		}
		sh := &x.sheets[x.cur]
		var vals []Value
		for _, c := range cells {
			if c.col >= len(sh.want) || sh.want[c.col] < 0 || c.reject == "" && strings.TrimSpace(c.val) == "" {
				continue
			}
			col := sh.lay.cols[sh.want[c.col]]
			v := Value{Kind: col.kind, Raw: identifier.Raw(c.val), Column: col.label}
			if c.reject != "" {
				v.Err = &identifier.ParseError{Kind: col.kind, Reason: c.reject}
			}
			vals = append(vals, v)
		}
		return row, vals, nil
	}
}

func (x *xlsxReader) Progress() (int64, int64) {
	cur := min(max(x.ra.n.Load()-x.start.Load(), 0), x.max.Load())
	return min(x.base.Load()+cur, x.size), x.size
}

func (x *xlsxReader) Close() error {
	if x.st != nil {
		x.st.close()
		x.st = nil
	}
	if x.err == nil {
		x.err = errors.New("ingest: reader closed")
	}
	return nil
}

// sheetLabel is a sheet's name for messages, withheld like a header if it
// looks like an identifier.
func sheetLabel(name string) string {
	if l := safeLabel(name); l != "" {
		return l
	}
	return "(name withheld)"
}

// zipKey normalises a zip entry name for lookup: some producers write
// backslashes or change case.
func zipKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(name, `\`, "/"), "/"))
}

// workbookSheets lists the worksheets in workbook order and finds the
// shared-string part, following the package's relationships. Should the
// workbook be unreadable, it falls back to xl/worksheets/*.xml.
func workbookSheets(files map[string]*zip.File) ([]xsheet, string) {
	wbPath := "xl/workbook.xml"
	for _, rel := range readRels(files["_rels/.rels"], "") {
		if strings.HasSuffix(rel.typ, "/officeDocument") {
			wbPath = rel.target
		}
	}
	dir := path.Dir(wbPath)
	rels := readRels(files[zipKey(path.Join(dir, "_rels", path.Base(wbPath)+".rels"))], dir)
	sstPath := zipKey(path.Join(dir, "sharedStrings.xml"))
	byID := map[string]rel{}
	for _, r := range rels {
		byID[r.id] = r
		if strings.HasSuffix(r.typ, "/sharedStrings") {
			sstPath = r.target
		}
	}

	var sheets []xsheet
	if f := files[zipKey(wbPath)]; f != nil {
		_ = walkXML(f, func(tok xml.Token) error {
			se, ok := tok.(xml.StartElement)
			if !ok || se.Name.Local != "sheet" {
				return nil
			}
			var name, id string
			for _, a := range se.Attr {
				switch {
				case a.Name.Local == "name" && a.Name.Space == "":
					name = a.Value
				case a.Name.Local == "id" && a.Name.Space != "":
					id = a.Value
				}
			}
			if r, ok := byID[id]; ok && strings.HasSuffix(r.typ, "/worksheet") {
				if f := files[r.target]; f != nil {
					sheets = append(sheets, xsheet{name: name, file: f})
				}
			}
			return nil
		})
	}
	if len(sheets) == 0 {
		for key, f := range files {
			if strings.HasPrefix(key, "xl/worksheets/") && strings.HasSuffix(key, ".xml") && !strings.Contains(key[len("xl/worksheets/"):], "/") {
				sheets = append(sheets, xsheet{name: strings.TrimSuffix(path.Base(f.Name), ".xml"), file: f})
			}
		}
		slices.SortFunc(sheets, func(a, b xsheet) int { return naturalCompare(a.name, b.name) })
	}
	return sheets, sstPath
}

// naturalCompare orders sheet2 before sheet10.
func naturalCompare(a, b string) int {
	ta, tb := strings.TrimLeft(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), strings.TrimLeft(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	na, ea := strconv.Atoi(ta)
	nb, eb := strconv.Atoi(tb)
	if ea == nil && eb == nil && a[:len(a)-len(ta)] == b[:len(b)-len(tb)] {
		return na - nb
	}
	return strings.Compare(a, b)
}

type rel struct{ id, typ, target string }

// readRels reads a relationships part; targets are resolved against dir and
// returned as zip keys.
func readRels(f *zip.File, dir string) []rel {
	if f == nil {
		return nil
	}
	var rels []rel
	_ = walkXML(f, func(tok xml.Token) error {
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" {
			return nil
		}
		var r rel
		external := false
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "Id":
				r.id = a.Value
			case "Type":
				r.typ = a.Value
			case "Target":
				r.target = a.Value
			case "TargetMode":
				external = a.Value == "External"
			}
		}
		if external || r.target == "" {
			return nil
		}
		if strings.HasPrefix(r.target, "/") {
			r.target = zipKey(r.target)
		} else {
			r.target = zipKey(path.Join(dir, r.target))
		}
		rels = append(rels, r)
		return nil
	})
	return rels
}

// walkXML calls fn for each token of a small XML part.
func walkXML(f *zip.File, fn func(xml.Token) error) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := xml.NewDecoder(&recordGuard{r: rc})
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(tok); err != nil {
			return err
		}
	}
}

// sharedStrings holds the shared-string table compactly: one byte slice and
// the end offset of each string.
type sharedStrings struct {
	data []byte
	ends []int
}

func (s *sharedStrings) get(i int) string {
	if i < 0 || i >= len(s.ends) {
		return ""
	}
	start := 0
	if i > 0 {
		start = s.ends[i-1]
	}
	return string(s.data[start:s.ends[i]])
}

// load reads sharedStrings.xml: <si> holds <t>, or rich-text runs <r><t>,
// whose text is joined; phonetic hints (<rPh>) are not part of the text.
func (s *sharedStrings) load(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return errors.New("cannot open")
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	inSI, inT, rph := false, false, 0
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
			case "t":
				inT = inSI && rph == 0
			case "rPh":
				rph++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if inSI {
					s.ends = append(s.ends, len(s.data))
				}
				inSI, inT, rph = false, false, 0
			case "t":
				inT = false
			case "rPh":
				rph = max(0, rph-1)
			}
		case xml.CharData:
			if inT {
				if len(s.data)+len(t) > maxSharedStrings {
					return errors.New("shared-string table too large")
				}
				s.data = append(s.data, t...)
			}
		}
	}
}

// xmlError describes an XML error without echoing the document: a syntax
// error's message can quote text from it.
func xmlError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid XML at line %d", se.Line)
	}
	if errors.Is(err, errRecordTooLong) {
		return fmt.Errorf("a row larger than %d MiB", maxRecord>>20)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated XML")
	}
	if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) {
		return errors.New("corrupt zip entry")
	}
	return errors.New("unreadable XML")
}

// sheetStream reads one worksheet's rows token by token.
type sheetStream struct {
	rc     io.ReadCloser
	guard  *recordGuard
	dec    *xml.Decoder
	sst    *sharedStrings
	want   []int // columns to keep (want[col] >= 0); nil keeps all
	row    int   // number of the last row read
	cells  []xcell
	v, t   []byte            // text of the current cell's <v> and inline <is><t>
	reason identifier.Reason // set by value for a rejected number
}

// xcell is a non-empty cell: its value, or why a number in it is rejected.
type xcell struct {
	col    int
	val    string
	reject identifier.Reason
}

func openSheet(f *zip.File, sst *sharedStrings, want []int) (*sheetStream, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, errors.New("cannot open worksheet")
	}
	g := &recordGuard{r: rc}
	return &sheetStream{rc: rc, guard: g, dec: xml.NewDecoder(g), sst: sst, want: want}, nil
}

func (s *sheetStream) close() { s.rc.Close() }

func (s *sheetStream) keep(col int) bool {
	if col < 0 || col >= maxColumns {
		return false
	}
	return s.want == nil || col < len(s.want) && s.want[col] >= 0
}

// next returns the next row with any cell: its number (from r=, else the
// previous row's plus one) and its non-empty cells that are kept. The
// slice is reused by the next call.
func (s *sheetStream) next() (int, []xcell, error) {
	var (
		inRow, inCell, inV, inIs, inT bool
		rph                           int
		col, lastCol                  int
		typ                           string
	)
	s.cells = s.cells[:0]
	s.guard.n = 0
	for {
		tok, err := s.dec.RawToken()
		if err == io.EOF {
			if inRow {
				return s.row, s.cells, nil
			}
			return 0, nil, io.EOF
		}
		if err != nil {
			row := s.row + 1
			if inRow {
				row = s.row
			}
			return 0, nil, fmt.Errorf("row %d: %w", row, xmlError(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				inRow, lastCol = true, -1
				s.row = rowAttr(t.Attr, s.row)
			case "c":
				if !inRow {
					continue
				}
				inCell, typ = true, ""
				col = lastCol + 1
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "r":
						if c, ok := cellColumn(a.Value); ok {
							col = c
						}
					case "t":
						typ = a.Value
					}
				}
				lastCol = col
				s.v, s.t = s.v[:0], s.t[:0]
			case "v":
				inV = inCell
			case "is":
				inIs = inCell
			case "t":
				inT = inIs && rph == 0
			case "rPh":
				rph++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "t":
				inT = false
			case "is":
				inIs = false
			case "rPh":
				rph = max(0, rph-1)
			case "c":
				if inCell && s.keep(col) {
					s.reason = ""
					if v := s.value(typ); v != "" || s.reason != "" {
						s.cells = append(s.cells, xcell{col: col, val: v, reject: s.reason})
					}
				}
				inCell, inV, inIs, inT = false, false, false, false
			case "row":
				if inRow {
					return s.row, s.cells, nil
				}
			}
		case xml.CharData:
			switch {
			case inV:
				s.v = append(s.v, t...)
			case inT:
				s.t = append(s.t, t...)
			}
		}
	}
}

// value is the text of the current cell, by its type.
func (s *sheetStream) value(typ string) string {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(string(s.v)))
		if err != nil {
			return ""
		}
		return s.sst.get(i)
	case "inlineStr":
		if len(s.t) > 0 {
			return string(s.t)
		}
		return string(s.v)
	case "str":
		return string(s.v)
	case "b", "e", "d":
		return "" // booleans, errors, dates: never identifiers
	case "", "n":
		v, reason := excelNumber(strings.TrimSpace(string(s.v)))
		s.reason = reason
		return v
	}
	return string(s.v)
}

// rowAttr is a <row>'s r attribute, or prev+1 when missing or invalid.
func rowAttr(attrs []xml.Attr, prev int) int {
	for _, a := range attrs {
		if a.Name.Local == "r" {
			if n, err := strconv.Atoi(a.Value); err == nil && n > 0 && n <= 1<<24 {
				return n
			}
		}
	}
	return prev + 1
}

// cellColumn parses the column of a cell reference like "B3" or "$AA$10".
func cellColumn(ref string) (int, bool) {
	ref = strings.ReplaceAll(ref, "$", "")
	i := 0
	for i < len(ref) && (ref[i] >= 'A' && ref[i] <= 'Z' || ref[i] >= 'a' && ref[i] <= 'z') {
		i++
	}
	c := lettersIndex(strings.ToUpper(ref[:i]))
	return c, c >= 0
}

// number is a decimal number split into significant digits and a power of
// ten: value = digits × 10^exp, digits without leading or trailing zeros.
type number struct {
	digits  string
	exp     int
	written int // significant digits as written, trailing zeros included
}

// parseNumber parses an unsigned decimal like "3001234567", "3520.5" or
// "3.0012345670000002E+9" without going through float64.
func parseNumber(s string) (number, bool) {
	mant, expPart, hasExp := strings.Cut(strings.ToUpper(s), "E")
	exp := 0
	if hasExp {
		if len(expPart) == 0 || len(expPart) > 5 {
			return number{}, false
		}
		e, err := strconv.Atoi(expPart)
		if err != nil {
			return number{}, false
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return number{}, false
	}
	d := strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	t := strings.TrimRight(d, "0")
	exp += len(d) - len(t)
	return number{digits: t, exp: exp, written: len(d)}, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// round15 rounds n to the 15 significant digits a spreadsheet keeps, which
// turns the float noise of "3.0012345670000002E+9" back into 3001234567.
func (n number) round15() number {
	if len(n.digits) <= 15 {
		return n
	}
	b := []byte(n.digits[:15])
	exp := n.exp + len(n.digits) - 15
	if n.digits[15] >= '5' {
		i := len(b) - 1
		for ; i >= 0 && b[i] == '9'; i-- {
			b[i] = '0'
		}
		if i < 0 {
			b = append([]byte{'1'}, b[:14]...)
			exp++
		} else {
			b[i]++
		}
	}
	t := strings.TrimRight(string(b), "0")
	return number{digits: t, exp: exp + len(b) - len(t), written: n.written}
}

// integer returns n's integer digits if n is an integer of at most 15
// digits.
func (n number) integer() (string, bool) {
	if n.digits == "" || n.exp < 0 || len(n.digits)+n.exp > 15 {
		return "", false
	}
	return n.digits + strings.Repeat("0", n.exp), true
}

// reject is the reason a number that is no usable integer is rejected. It
// is decided here because the parser, seeing "352021234567.1", would take
// the dot for a separator.
func (n number) reject() identifier.Reason {
	if n.exp < 0 {
		return identifier.ReasonDecimal
	}
	return identifier.ReasonScientific // too many digits to be exact
}

// excelNumber turns a numeric cell into the digits a person sees: Excel
// stores 3001234567 as "3001234567" or "3.0012345670000002E+9". A number
// that is not an integer of at most 15 digits is rejected with a reason:
// Excel keeps 15 significant digits, so a longer integer has lost some, and
// a fraction is no identifier. Text that is no number is returned as is.
func excelNumber(s string) (string, identifier.Reason) {
	n, ok := parseNumber(s)
	if !ok {
		return s, ""
	}
	n = n.round15()
	if d, ok := n.integer(); ok {
		return d, ""
	}
	if n.digits == "" {
		return s, "" // zero
	}
	return "", n.reject()
}

// jsonNumber turns a JSON number into a candidate. Integers are kept as
// written, all digits (UseNumber). One written with a fraction or exponent
// ("3001234567.0", "3.001234567e9") went through a float: it becomes its
// integer digits when it is an integer of at most 15 digits whose digits
// the writer spelled out. "3.52021e12" pads zeros the text does not hold, so
// it is rejected like a fraction or a longer integer.
func jsonNumber(s string) (string, identifier.Reason) {
	if allDigits(s) {
		return s, ""
	}
	n, ok := parseNumber(s)
	if !ok {
		return s, ""
	}
	if d, ok := n.integer(); ok && (n.written >= len(d) || !strings.ContainsAny(s, "eE")) {
		return d, ""
	}
	if n.digits == "" {
		return s, ""
	}
	return "", n.reject()
}
