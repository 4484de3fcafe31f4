package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/khabardar/khabardar/identifier"
)

// ColumnSpec names a column to read, from --column NAME or NAME=KIND. Kind
// Unknown means the column's kind comes from its header or contents, and
// failing those is detected per value.
type ColumnSpec struct {
	Name string // header (exact, else case/space/underscore-insensitive), JSON key, column letter (C) or 1-based number
	Kind identifier.Kind
}

// ParseColumnSpec parses "cnic_no" or "Mobile=phone".
func ParseColumnSpec(s string) (ColumnSpec, error) {
	name, kind := s, ""
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		name, kind = s[:i], s[i+1:]
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return ColumnSpec{}, fmt.Errorf("ingest: --column %q: empty column name (want NAME or NAME=KIND)", s)
	}
	spec := ColumnSpec{Name: name}
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		k, err := identifier.ParseKind(strings.TrimSpace(kind))
		if err != nil || k == identifier.Unknown {
			return ColumnSpec{}, fmt.Errorf("ingest: --column %q: unknown kind %q (want %s)", s, kind, identifier.NameList())
		}
		spec.Kind = k
	}
	return spec, nil
}

// ErrNoColumn matches (errors.Is) the error Open returns when a file has no
// identifier column to read, or lacks a column named in Options.Columns.
var ErrNoColumn = errors.New("ingest: no identifier column")

type noColumnError struct{ msg string }

func (e *noColumnError) Error() string        { return e.msg }
func (e *noColumnError) Is(target error) bool { return target == ErrNoColumn }

func noColumn(format string, args ...any) error {
	return &noColumnError{fmt.Sprintf(format, args...)}
}

// Content detection: a column is an identifier column if at least
// detectShare of its non-empty sampled values parse as one kind.
const detectShare = 0.6

// column is one column picked for reading.
type column struct {
	idx   int
	kind  identifier.Kind
	label string // safe for messages
}

// rawRow is a row as read, before columns are picked: its number, its
// cells, or the *RowError that replaced it.
type rawRow struct {
	row   int
	cells []string
	err   error
}

func (r rawRow) blank() bool {
	for _, c := range r.cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// layout is where a table's header and identifier columns are.
type layout struct {
	header int // sample index of the header row, -1 if the table has none
	cols   []column
}

// stats counts how a column's sampled values parse.
type stats struct {
	nonEmpty int
	kinds    [identifier.MaxKinds]int // by identifier.Kind
}

func (s *stats) add(v string) {
	if strings.TrimSpace(v) == "" {
		return
	}
	s.nonEmpty++
	if !digitsAtLeast(v, 5) {
		return // cheap reject: every identifier has at least 10 digits
	}
	if id, err := identifier.Parse(identifier.Unknown, identifier.Raw(v)); err == nil {
		if k := id.Kind(); int(k) < len(s.kinds) {
			s.kinds[k]++
		}
	}
}

// kind is the kind at least detectShare of the non-empty values parse as.
func (s *stats) kind() identifier.Kind {
	for _, k := range identifier.Kinds {
		if int(k) < len(s.kinds) && s.nonEmpty > 0 && float64(s.kinds[k]) >= detectShare*float64(s.nonEmpty) {
			return k
		}
	}
	return identifier.Unknown
}

// decide combines a column's header kind and content kind: contents that
// decide win (a "number" column full of CNICs is a CNIC column), else the
// header's kind.
func decide(named identifier.Kind, s *stats) identifier.Kind {
	if k := s.kind(); k != identifier.Unknown {
		return k
	}
	return named
}

func parses(v string) bool {
	if !digitsAtLeast(v, 5) {
		return false
	}
	_, err := identifier.Parse(identifier.Unknown, identifier.Raw(v))
	return err == nil
}

// digitsAtLeast reports whether s has at least n decimal digits (any script).
func digitsAtLeast(s string, n int) bool {
	for _, r := range s {
		if unicode.IsDigit(r) {
			if n--; n == 0 {
				return true
			}
		}
	}
	return false
}

// detectLayout finds the header row and identifier columns of a table from
// a sample of its first rows. where names the file (and sheet) in errors.
//
// The header is the first non-blank row, or a later one among the first
// headerSearch rows that names an identifier column when the rows above it
// look like titles: at most two cells, no identifier. A table whose first
// row holds identifiers has no header: its columns are named by letter and
// every row is data.
func detectLayout(rows []rawRow, opt Options, where string) (layout, error) {
	lay := layout{header: -1}
	first, header := -1, -1
	for i := 0; i < len(rows) && i < headerSearch; i++ {
		r := rows[i]
		if r.err != nil || r.blank() {
			continue
		}
		if first < 0 {
			first = i
		}
		if namesMatch(r.cells, opt) {
			header = i
			break
		}
		if slices.ContainsFunc(r.cells, parses) || nonEmpty(r.cells) > 2 {
			break // data, or a header without identifier names: no title
		}
	}
	if first < 0 {
		if slices.ContainsFunc(rows, func(r rawRow) bool { return r.err != nil }) {
			return lay, noColumn("ingest: %s: the first rows cannot be read (broken quoting?); try --format text", where)
		}
		return lay, noColumn("ingest: %s: no rows", where)
	}
	if header < 0 && !slices.ContainsFunc(rows[first].cells, parses) {
		header = first
	}
	lay.header = header

	var names []string
	if header >= 0 {
		names = rows[header].cells
	}
	ncols := len(names)
	for _, r := range rows[header+1:] {
		ncols = max(ncols, len(r.cells))
	}
	ncols = min(ncols, maxColumns)
	st := make([]stats, ncols)
	for _, r := range rows[header+1:] {
		for i, c := range r.cells[:min(len(r.cells), ncols)] {
			st[i].add(c)
		}
	}
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return ""
	}
	label := func(i int) string {
		if l := safeLabel(name(i)); l != "" {
			return l
		}
		return "column " + colLetters(i)
	}

	if len(opt.Columns) > 0 {
		for _, spec := range opt.Columns {
			idx := matchSpec(spec, names, ncols)
			if len(idx) == 0 {
				return lay, noColumn("ingest: %s: column %q not found; columns: %s", where, spec.Name, listColumns(ncols, label))
			}
			for _, i := range idx {
				if slices.ContainsFunc(lay.cols, func(c column) bool { return c.idx == i }) {
					continue // named twice
				}
				k := spec.Kind
				if k == identifier.Unknown {
					k = decide(headerKind(name(i)), &st[i])
				}
				lay.cols = append(lay.cols, column{idx: i, kind: k, label: label(i)})
			}
		}
		return lay, nil
	}
	for i := range ncols {
		if k := decide(headerKind(name(i)), &st[i]); k != identifier.Unknown {
			lay.cols = append(lay.cols, column{idx: i, kind: k, label: label(i)})
		}
	}
	if len(lay.cols) == 0 {
		return lay, noColumn("ingest: %s: no identifier column: no header names a kind of identifier and no column's values are mostly identifiers; columns: %s; name one with --column NAME or NAME=KIND (kinds: %s), or use --format text to scan every line for identifiers",
			where, listColumns(ncols, label), identifier.NameList())
	}
	return lay, nil
}

func nonEmpty(cells []string) int {
	n := 0
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			n++
		}
	}
	return n
}

// namesMatch reports whether cells look like a header: a cell names an
// identifier, or a --column spec names a cell.
func namesMatch(cells []string, opt Options) bool {
	for _, c := range cells {
		if headerKind(c) != identifier.Unknown {
			return true
		}
	}
	for _, spec := range opt.Columns {
		for _, c := range cells {
			if strings.TrimSpace(c) == spec.Name || normHeader(c) == normHeader(spec.Name) && normHeader(c) != "" {
				return true
			}
		}
	}
	return false
}

// matchSpec returns the indexes of the columns spec names: every header
// equal to the name, else every header equal after normalising, else the
// column with that letter or 1-based number.
func matchSpec(spec ColumnSpec, names []string, ncols int) []int {
	var idx []int
	for i, n := range names {
		if strings.TrimSpace(n) == spec.Name {
			idx = append(idx, i)
		}
	}
	if len(idx) > 0 {
		return idx
	}
	if want := normHeader(spec.Name); want != "" {
		for i, n := range names {
			if normHeader(n) == want {
				idx = append(idx, i)
			}
		}
	}
	if len(idx) > 0 {
		return idx
	}
	if i, ok := columnRef(spec.Name); ok && i < max(ncols, len(names)) {
		return []int{i}
	}
	return nil
}

// columnRef parses a column letter ("C", "aa") or 1-based number ("3").
func columnRef(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n - 1, n >= 1 && n <= maxColumns
	}
	i := lettersIndex(strings.ToUpper(s))
	return i, i >= 0 && i < maxColumns
}

// lettersIndex turns spreadsheet letters (A, Z, AA, XFD) into a 0-based
// index; -1 if s is not 1-3 letters.
func lettersIndex(s string) int {
	if len(s) == 0 || len(s) > 3 {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 'A' || c > 'Z' {
			return -1
		}
		n = n*26 + int(c-'A'+1)
	}
	return n - 1
}

// colLetters is the spreadsheet name of 0-based column i.
func colLetters(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('A'+(i-1)%26))
	}
	slices.Reverse(b)
	return string(b)
}

// listColumns lists column labels for an error message, shortened.
func listColumns(n int, label func(int) string) string {
	if n == 0 {
		return "(none)"
	}
	const most = 30
	var b strings.Builder
	for i := range min(n, most) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(label(i)))
	}
	if n > most {
		fmt.Fprintf(&b, " and %d more", n-most)
	}
	return b.String()
}

// safeLabel returns a header for use in messages and Value.Column, or "" if
// it might be personal data: a header row may really be a data row, so a
// name with five or more digits, or that parses as an identifier, is
// withheld. Invisible and invalid characters are dropped first, so they
// cannot hide digits.
func safeLabel(s string) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s))
	if s == "" || digitsAtLeast(s, 5) || parses(s) {
		return ""
	}
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:39]) + "…"
	}
	return s
}

// normHeader lowercases a header and keeps only letters and digits (digits
// of any script as ASCII), folding Arabic letter variants to the Urdu ones a
// keyboard may produce, so "CNIC No.", "cnic_no" and "cnicno" compare equal.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			switch r = unicode.ToLower(r); r {
			case 'ي', 'ى', 'ئ': // Arabic yeh, alef maksura; yeh with hamza is spelled both ways in موبائل
				r = 'ی'
			case 'ك':
				r = 'ک'
			case 'ه', 'ة', 'ۃ':
				r = 'ہ'
			}
			b.WriteRune(r)
		case unicode.IsDigit(r):
			if d := digitValue(r); d >= 0 {
				b.WriteByte(byte('0' + d))
			}
		}
	}
	return b.String()
}

func digitValue(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= '٠' && r <= '٩':
		return int(r - '٠')
	case r >= '۰' && r <= '۹':
		return int(r - '۰')
	}
	return -1
}

// headerStems maps normalised header stems to kinds. Headers are matched
// after stripping a trailing number, a "no"/"number" suffix and a
// "customer"/"father"/"alternate"… prefix, so "Father's CNIC No." and
// "mobile_no_2" match, while "CNIC expiry" and "customer number" do not.
// headerStems maps the headers that name a kind (identifier.Info.Headers)
// to it; init normalises them.
var headerStems = func() map[string]identifier.Kind {
	m := map[string]identifier.Kind{}
	for _, k := range identifier.Kinds {
		in, _ := identifier.InfoOf(k)
		for _, h := range in.Headers {
			m[h] = k
		}
	}
	return m
}()

// headerStems' keys, the suffixes and the prefixes are normalised at init,
// so they are written here as a person would type them.
func init() {
	m := make(map[string]identifier.Kind, len(headerStems))
	for k, v := range headerStems {
		m[normHeader(k)] = v
	}
	headerStems = m
	for i, s := range headerSuffixes {
		headerSuffixes[i] = normHeader(s)
	}
	for i, s := range headerPrefixes {
		headerPrefixes[i] = normHeader(s)
	}
	slices.SortFunc(headerPrefixes, func(a, b string) int { return len(b) - len(a) })
}

var headerSuffixes = []string{"numbers", "number", "nmbr", "nbr", "num", "nos", "no", "نمبر"}

var headerPrefixes = []string{ // sorted longest first at init, so "alternate" goes before "alt"
	"customer", "cust", "client", "user", "subscriber", "owner", "holder", "applicant", "member",
	"person", "personal", "device", "primary", "secondary", "alternative", "alternate", "alt",
	"other", "second", "first", "fathers", "father", "mothers", "mother", "husbands", "husband",
	"guardian", "emergency", "registered", "reg", "home", "office", "work", "my", "new", "old",
	"sender", "receiver", "caller", "your", "valid", "active",
	"والد کا", "والد", "صارف کا", "صارف",
}

// headerKind is the identifier kind a header names, or Unknown.
func headerKind(h string) identifier.Kind {
	s := normHeader(h)
	if s == "" || len(s) > 64 {
		return identifier.Unknown
	}
	for _, k := range identifier.Kinds {
		if in, _ := identifier.InfoOf(k); in.Contains != "" && strings.Contains(s, in.Contains) {
			return k
		}
	}
	for range 4 {
		if k, ok := headerStems[s]; ok {
			return k
		}
		t := strings.TrimRightFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
		for _, suf := range headerSuffixes {
			if u, ok := strings.CutSuffix(t, suf); ok && u != "" {
				if k, ok := headerStems[u]; ok {
					return k
				}
				t = u
				break
			}
		}
		for _, pre := range headerPrefixes {
			if u, ok := strings.CutPrefix(t, pre); ok && u != "" {
				t = u
				break
			}
		}
		if t == s || t == "" {
			break
		}
		s = t
	}
	return identifier.Unknown
}
