package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"

	"github.com/khabardar/khabardar/identifier"
)

// Free text is scanned in chunks of at most textChunk bytes, so that a
// file with no line breaks does not end up in memory; a line with more than
// textMaxValues identifiers is returned in parts, all with its line number.
const (
	textChunk     = 1 << 20
	textMaxValues = 4096
)

// textReader finds identifiers anywhere in free text (a chat export, a
// paste), line by line, with identifier.Scan. Its Values come pre-parsed:
// ID or Err is set. Lines without any candidate are skipped.
type textReader struct {
	src  *source
	line int    // lines finished
	buf  []byte // the current line so far
	err  error
}

func newText(src *source, _ Options) (*textReader, error) {
	return &textReader{src: src}, nil
}

func (t *textReader) Next() (int, []Value, error) {
	if t.err != nil {
		return 0, nil, t.err
	}
	var vals []Value
	for {
		frag, err := t.src.br.ReadSlice('\n')
		t.buf = append(t.buf, frag...)
		switch {
		case err == nil || err == io.EOF && len(t.buf) > 0:
			vals = scanText(trimEOL(t.buf), vals)
			t.buf = t.buf[:0]
			t.line++
			if len(vals) > 0 {
				return t.line, vals, nil
			}
		case err == io.EOF:
			t.err = io.EOF
			return 0, nil, io.EOF
		case errors.Is(err, bufio.ErrBufferFull):
			if len(t.buf) < textChunk {
				continue
			}
			cut := cutPoint(t.buf)
			vals = scanText(t.buf[:cut], vals)
			t.buf = append(t.buf[:0], t.buf[cut:]...)
			if len(vals) >= textMaxValues {
				return t.line + 1, vals, nil
			}
		default:
			t.err = fmt.Errorf("ingest: %s: line %d: %w", t.src.name, t.line+1, err)
			return 0, nil, t.err
		}
	}
}

// scanText appends the identifiers (and near-misses) Scan finds in b.
func scanText(b []byte, vals []Value) []Value {
	if !digitsAtLeast(string(b), 5) {
		return vals
	}
	identifier.Scan(string(b), func(id identifier.ID, err error) bool {
		if err != nil {
			v := Value{Err: err}
			var pe *identifier.ParseError
			if errors.As(err, &pe) {
				v.Kind = pe.Kind
			}
			vals = append(vals, v)
		} else {
			vals = append(vals, Value{Kind: id.Kind(), ID: id})
		}
		return true
	})
	return vals
}

// cutPoint picks where to split an overlong line: after a blank in its
// second half that no identifier can span, as Scan joins digit groups only
// across a few separators; failing that after the last blank; failing that
// anywhere.
func cutPoint(b []byte) int {
	last := -1
	// The runes after b are unknown: stop short of b's end, so the four
	// runes (of up to 4 bytes) after the cut are there to be looked at.
	for i := len(b) - 17; i >= len(b)/2; i-- {
		if b[i] != ' ' && b[i] != '\t' {
			continue
		}
		if last < 0 {
			last = i + 1
		}
		if !digitNear(b[:i], true) || !digitNear(b[i+1:], false) {
			return i + 1
		}
	}
	if last > 0 {
		return last
	}
	return len(b)
}

// digitNear reports a digit (of any script) among the four runes of b next
// to a cut: b's last runes if the cut follows b, else its first.
func digitNear(b []byte, before bool) bool {
	for range 4 {
		var (
			r    rune
			size int
		)
		if before {
			r, size = utf8.DecodeLastRune(b)
			b = b[:len(b)-size]
		} else {
			r, size = utf8.DecodeRune(b)
			b = b[size:]
		}
		if size == 0 {
			return false
		}
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

func (t *textReader) Progress() (int64, int64) { return t.src.progress() }

func (t *textReader) Close() error { return nil }
