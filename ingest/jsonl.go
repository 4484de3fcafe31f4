package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/khabardar/khabardar/identifier"
)

const (
	maxJSONDepth = 64
	maxKeys      = 4096 // distinct keys remembered; past it keys are judged by name each time
)

// jsonlReader reads JSON lines: one JSON value (normally an object) per
// line; or a JSON document that is one array, element by element. Nested objects are flattened with dotted keys ({"a":{"b":1}} has key
// a.b); the elements of an array share the array's key. Strings and numbers
// are candidates; keys are matched like CSV headers, and the first
// sampleRows lines are sampled for content detection.
type jsonlReader struct {
	src     *source
	line    int
	buf     []byte
	pending []jsonRow
	arr     *jsonArray        // set for a document that is one array
	keys    map[string]column // decided keys; kind Unknown with idx -1 = not used
	byName  bool              // auto mode: keys first seen after the sample are judged by name
	err     error
}

type jsonRow struct {
	row int
	kvs []keyValue
	err error
}

type keyValue struct {
	key, val string
	num      bool
}

var errTooDeep = errors.New("too deep")

func newJSONL(src *source, opt Options) (*jsonlReader, error) {
	j := &jsonlReader{src: src, keys: map[string]column{}}
	if head, _ := src.br.Peek(peekSize); isJSONArray(head) {
		j.arr = newJSONArray(src)
	}
	var (
		sample []jsonRow
		size   int
		order  []string // keys in order of first appearance
		st     = map[string]*stats{}
	)
	for len(sample) < sampleRows && size < sampleBytes {
		r, err := j.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: %s: %w", src.name, err)
		}
		sample = append(sample, r)
		for _, kv := range r.kvs {
			size += len(kv.key) + len(kv.val) + 32
			s := st[kv.key]
			if s == nil {
				if len(st) >= maxKeys {
					continue
				}
				s = &stats{}
				st[kv.key] = s
				order = append(order, kv.key)
			}
			v, reason := kv.candidate()
			if reason != "" {
				v = rejected
			}
			s.add(v)
		}
	}
	if len(sample) == 0 {
		return nil, noColumn("ingest: %s: no JSON lines", src.name)
	}
	if len(order) == 0 {
		if !hasGoodLine(sample) {
			return nil, noColumn("ingest: %s: the first lines are not JSON lines (one JSON value per line); for a pretty-printed JSON document or other text, use --format text to scan every line for identifiers", src.name)
		}
	}
	label := func(k string) string {
		if l := safeLabel(k); l != "" {
			return l
		}
		return "(key withheld)"
	}
	list := func() string { return listColumns(len(order), func(i int) string { return label(order[i]) }) }

	if len(opt.Columns) > 0 {
		for _, k := range order {
			j.keys[k] = column{idx: -1}
		}
		for _, spec := range opt.Columns {
			found := false
			for _, k := range order {
				if k == spec.Name || normHeader(k) == normHeader(spec.Name) && normHeader(k) != "" {
					kind := spec.Kind
					if kind == identifier.Unknown {
						kind = decide(keyKind(k), st[k])
					}
					j.keys[k] = column{kind: kind, label: label(k)}
					found = true
				}
			}
			if !found {
				return nil, noColumn("ingest: %s: key %q not found in the first %d lines; keys: %s", src.name, spec.Name, len(sample), list())
			}
		}
	} else {
		j.byName = true
		used := false
		for _, k := range order {
			if kind := decide(keyKind(k), st[k]); kind != identifier.Unknown {
				j.keys[k] = column{kind: kind, label: label(k)}
				used = true
			} else {
				j.keys[k] = column{idx: -1}
			}
		}
		if !used {
			return nil, noColumn("ingest: %s: no identifier key: no key names a kind of identifier and no key's values are mostly identifiers; keys: %s; name one with --column KEY or KEY=KIND (kinds: %s), or use --format text to scan every line for identifiers",
				src.name, list(), identifier.NameList())
		}
	}
	j.pending = sample
	return j, nil
}

func hasGoodLine(rows []jsonRow) bool {
	for _, r := range rows {
		if r.err == nil {
			return true
		}
	}
	return false
}

// keyKind is the kind a key names: by its last dotted segment, else whole.
func keyKind(k string) identifier.Kind {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		if kind := headerKind(k[i+1:]); kind != identifier.Unknown {
			return kind
		}
	}
	return headerKind(k)
}

// column returns how key k is read, deciding keys first seen after the
// sample by name.
func (j *jsonlReader) column(k string) column {
	if c, ok := j.keys[k]; ok || !j.byName {
		if !ok {
			return column{idx: -1}
		}
		return c
	}
	c := column{idx: -1}
	if kind := keyKind(k); kind != identifier.Unknown {
		c = column{kind: kind, label: safeLabel(k)}
		if c.label == "" {
			c.label = "(key withheld)"
		}
	}
	if len(j.keys) < maxKeys {
		j.keys[k] = c
	}
	return c
}

// read reads the next non-blank line, or array element.
func (j *jsonlReader) read() (jsonRow, error) {
	if j.arr != nil {
		return j.arr.next()
	}
	for {
		line, long, err := readLine(j.src.br, j.buf, maxRecord)
		j.buf = line[:0]
		if err != nil {
			return jsonRow{}, err
		}
		j.line++
		if long {
			return jsonRow{row: j.line, err: &RowError{Row: j.line, Reason: "line_too_long"}}, nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		kvs, err := flattenJSON(line)
		switch {
		case errors.Is(err, errTooDeep):
			return jsonRow{row: j.line, err: &RowError{Row: j.line, Reason: "json_too_deep"}}, nil
		case err != nil:
			return jsonRow{row: j.line, err: &RowError{Row: j.line, Reason: "bad_json"}}, nil
		}
		return jsonRow{row: j.line, kvs: kvs}, nil
	}
}

func (j *jsonlReader) Next() (int, []Value, error) {
	if j.err != nil {
		return 0, nil, j.err
	}
	var r jsonRow
	if len(j.pending) > 0 {
		r = j.pending[0]
		j.pending[0] = jsonRow{}
		j.pending = j.pending[1:]
	} else {
		var err error
		if r, err = j.read(); err != nil {
			if err != io.EOF && j.arr != nil {
				err = fmt.Errorf("ingest: %s: %w", j.src.name, err)
			} else if err != io.EOF {
				err = fmt.Errorf("ingest: %s: line %d: %w", j.src.name, j.line+1, err)
			}
			j.err = err
			return 0, nil, err
		}
	}
	if r.err != nil {
		return r.row, nil, r.err
	}
	var vals []Value
	for _, kv := range r.kvs {
		c := j.column(kv.key)
		if c.idx < 0 {
			continue
		}
		s, reason := kv.candidate()
		if reason != "" {
			vals = append(vals, Value{Kind: c.kind, Column: c.label, Err: &identifier.ParseError{Kind: c.kind, Reason: reason}})
			continue
		}
		if strings.TrimSpace(s) == "" {
			continue
		}
		vals = append(vals, Value{Kind: c.kind, Raw: identifier.Raw(s), Column: c.label})
	}
	return r.row, vals, nil
}

// candidate is kv's raw value, or why a number is rejected (see jsonNumber).
func (kv keyValue) candidate() (string, identifier.Reason) {
	if kv.num {
		return jsonNumber(kv.val)
	}
	return kv.val, ""
}

// flattenJSON returns the strings and numbers in the one JSON value on a
// line, keyed by dotted path, in document order.
func flattenJSON(line []byte) ([]keyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	kvs, err := walkJSON(dec, tok)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one value on a line")
	}
	return kvs, nil
}

// walkJSON flattens the JSON value whose first token is tok, reading the
// rest of it from dec. It walks tokens rather than decoding into maps, to
// keep the order and spare the allocations.
func walkJSON(dec *json.Decoder, tok json.Token) ([]keyValue, error) {
	type frame struct {
		obj     bool
		prefix  string // key of the container itself
		key     string // object: full key of the current member
		wantKey bool
	}
	var (
		stack []frame
		kvs   []keyValue
	)
	valueKey := func() string {
		if len(stack) == 0 {
			return ""
		}
		if f := stack[len(stack)-1]; f.obj {
			return f.key
		}
		return stack[len(stack)-1].prefix
	}
	afterValue := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return nil, errTooDeep
				}
				stack = append(stack, frame{obj: v == '{', prefix: valueKey(), wantKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				f := &stack[n-1]
				f.key, f.wantKey = v, false
				if f.prefix != "" {
					f.key = f.prefix + "." + v
				}
				break
			}
			kvs = append(kvs, keyValue{key: valueKey(), val: v})
			afterValue()
		case json.Number:
			kvs = append(kvs, keyValue{key: valueKey(), val: string(v), num: true})
			afterValue()
		default: // bool, null
			afterValue()
		}
		if len(stack) == 0 {
			return kvs, nil
		}
		var err error
		if tok, err = dec.Token(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// jsonArray streams the elements of a JSON document that is one array
// ([{...},\n{...}], pretty-printed or not), as JSON exports often are. Each
// element is a row, numbered by the line it starts on. The document cannot
// be resynchronised after a syntax error, so that error is fatal.
type jsonArray struct {
	dec     *json.Decoder
	lines   *lineCounter
	guard   *recordGuard
	started bool
	done    bool // io.EOF returned
}

func newJSONArray(src *source) *jsonArray {
	g := &recordGuard{r: src.br}
	a := &jsonArray{guard: g, lines: &lineCounter{r: g}}
	a.dec = json.NewDecoder(a.lines)
	a.dec.UseNumber()
	return a
}

func (a *jsonArray) next() (jsonRow, error) {
	line := func() int { return a.lines.lineAt(a.dec.InputOffset() - 1) }
	fail := func(err error) (jsonRow, error) {
		switch {
		case errors.Is(err, errRecordTooLong):
			return jsonRow{}, fmt.Errorf("line %d: an element larger than %d MiB", line(), maxRecord>>20)
		case errors.Is(err, errTooDeep):
			return jsonRow{}, fmt.Errorf("line %d: JSON nested more than %d deep", line(), maxJSONDepth)
		}
		return jsonRow{}, fmt.Errorf("line %d: invalid JSON; the rest of the document cannot be read", line())
	}
	if a.done {
		return jsonRow{}, io.EOF
	}
	if !a.started {
		if tok, err := a.dec.Token(); err != nil || tok != json.Delim('[') {
			return fail(err)
		}
		a.started = true
	}
	a.guard.n = 0
	if !a.dec.More() {
		if tok, err := a.dec.Token(); err != nil || tok != json.Delim(']') {
			return fail(err)
		}
		if _, err := a.dec.Token(); err != io.EOF {
			return fail(err)
		}
		a.done = true
		return jsonRow{}, io.EOF
	}
	tok, err := a.dec.Token()
	if err != nil {
		return fail(err)
	}
	row := line()
	kvs, err := walkJSON(a.dec, tok)
	if err != nil {
		return fail(err)
	}
	return jsonRow{row: row, kvs: kvs}, nil
}

// lineCounter numbers lines by byte offset for a reader read ahead of the
// offsets asked about: it keeps the offsets of the newlines read but not
// yet passed, which the decoder's buffer bounds.
type lineCounter struct {
	r      io.Reader
	off    int64   // bytes read
	nl     []int64 // offsets of newlines not yet counted
	passed int     // newlines before the last offset asked about
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.nl = append(l.nl, l.off+int64(i))
		}
	}
	l.off += int64(n)
	return n, err
}

// lineAt returns the 1-based line of offset off; offsets must not decrease.
func (l *lineCounter) lineAt(off int64) int {
	i := 0
	for i < len(l.nl) && l.nl[i] < off {
		i++
	}
	l.passed += i
	l.nl = append(l.nl[:0], l.nl[i:]...)
	return l.passed + 1
}

// isJSONArray reports whether head starts a JSON document that is an
// array rather than JSON lines: it opens with '[' and its first line is not
// a whole JSON value followed by more lines.
func isJSONArray(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) == 0 || t[0] != '[' {
		return false
	}
	first, rest, _ := bytes.Cut(t, []byte("\n"))
	return !json.Valid(first) || len(bytes.TrimSpace(rest)) == 0
}

func (j *jsonlReader) Progress() (int64, int64) { return j.src.progress() }

func (j *jsonlReader) Close() error { return nil }
