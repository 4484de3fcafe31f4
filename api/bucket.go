package api

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

// bucket is GET /v1/buckets/{prefix}: the entries under a prefix, padded
// with dummies (see padTarget) and cacheable by ETag.
func (s *Server) bucket(c *fiber.Ctx) error {
	who, err := s.caller(c)
	if err != nil {
		return err
	}
	prefix := c.Params("prefix")
	if !s.cfg.Layout.ValidPrefix(prefix) {
		return khabardar.Errorf(wire.CodeBadPrefix, "a bucket prefix is %d lowercase hex characters (bucket_bits/4 of /v1/config)", s.cfg.Layout.PrefixLen())
	}
	prefix = string([]byte(prefix)) // fiber reuses the path's buffer
	if err := s.charge(c, ratelimit.Bucket, who, 1); err != nil {
		return err
	}
	ctx := c.UserContext()
	target, err := s.paddingTarget(ctx)
	if err != nil {
		return err
	}
	v, err := s.bucketView(ctx, prefix)
	if err != nil {
		return err
	}
	p := v.pad(s, target)
	c.Set(fiber.HeaderETag, p.etag)
	c.Set(fiber.HeaderCacheControl, s.bucketCC)
	if etagMatches(c.Request().Header.Peek(fiber.HeaderIfNoneMatch), p.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	sc := scratchPool.Get().(*scratch)
	sc.body = s.renderBucket(sc.body[:0], v, p)
	c.Response().SetBody(sc.body) // copies into fasthttp's own pooled buffer
	scratchPool.Put(sc)
	return nil
}

// bucketFormat names the layout of renderBucket's output in ETags. Change
// it whenever renderBucket's bytes change for the same input.
const bucketFormat = "khabardar bucket v1\x00"

// computeETag is a strong ETag of the response renderBucket makes from the
// same arguments: a hash of everything the body is a function of (the key,
// which also fixes the dummies; the prefix; the target; the real entries),
// so that it is known, and a 304 sent, without rendering.
func (s *Server) computeETag(v *bucketView, t *padTarget) string {
	b := make([]byte, 0, 128+len(v.suffixes)+len(v.ids)*24)
	b = append(b, bucketFormat...)
	b = append(b, s.cfg.Key.ID()...)
	b = append(b, 0)
	b = append(b, v.prefix...)
	b = binary.BigEndian.AppendUint32(b, uint32(t.entries))
	b = binary.BigEndian.AppendUint32(b, uint32(t.bytes))
	for i := range v.ends {
		b = append(b, v.suffix(i)...)
		ids := v.listings(i)
		b = binary.AppendUvarint(b, uint64(len(ids)))
		for _, id := range ids {
			b = binary.AppendUvarint(b, uint64(len(id)))
			b = append(b, id...)
		}
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches reports whether an If-None-Match header lists etag (weak
// comparison, as RFC 9110 §13.1.2 asks) or is "*".
func etagMatches(header []byte, etag string) bool {
	for len(header) > 0 {
		var tag []byte
		if i := bytes.IndexByte(header, ','); i >= 0 {
			tag, header = header[:i], header[i+1:]
		} else {
			tag, header = header, nil
		}
		tag = bytes.TrimPrefix(bytes.TrimSpace(tag), []byte("W/"))
		if string(tag) == "*" || string(tag) == etag {
			return true
		}
	}
	return false
}

// padTarget is how far bucket responses are padded, so that a response's
// size says nothing about how many identifiers its bucket holds.
//
// With N identifiers stored (the sum of the listings' counts: an identifier
// in two listings counts twice) and 2^b buckets, a bucket holds on average
// μ = N / 2^b of them, Poisson distributed. Every response is padded with
// dummy entries to
//
//	P = the smallest multiple of 32 ≥ μ + 6·√μ + 8
//
// entries (a bucket over P, beyond six standard deviations, to the next
// multiple of 32 above its count), and then with a "padding" string to
//
//	T = the smallest multiple of 512 ≥ the length of a response of P
//	    dummy entries + P·w
//
// bytes, where w = the longest listing ID + 3 (its quotes and comma): room
// for P identifiers each naming the longest listing. So every bucket of up to
// P identifiers, whichever listings they are in, is exactly T bytes; a longer
// response is padded to the next multiple of 512.
//
// Targets are compared by pointer (bucketView.etag): a refresh that finds the
// same P and T keeps the same *padTarget.
type padTarget struct {
	entries int // P
	bytes   int // T
}

// paddingTarget returns the current target, recomputing it from the
// listings' counts every PaddingRefresh. One request recomputes while the
// others use the previous target.
func (s *Server) paddingTarget(ctx context.Context) (*padTarget, error) {
	t := s.padding.Load()
	if t != nil && time.Since(time.Unix(0, s.paddingAt.Load())) < s.cfg.PaddingRefresh {
		return t, nil
	}
	if t != nil && !s.padMu.TryLock() {
		return t, nil
	}
	if t == nil {
		s.padMu.Lock()
		if t = s.padding.Load(); t != nil { // computed while we waited
			s.padMu.Unlock()
			return t, nil
		}
	}
	defer s.padMu.Unlock()
	ls, err := s.cfg.Store.Listings(ctx)
	if err != nil {
		if t != nil {
			if khabardar.ErrorCode(err) != khabardar.EUNAVAILABLE { // an outage is logged once, by the store's tracker
				s.log.Warn("bucket padding: listing counts unavailable; keeping the previous target", "err", err.Error())
			}
			return t, nil
		}
		return nil, err
	}
	nt := s.computeTarget(ls)
	if t != nil && *t == *nt {
		nt = t
	}
	s.padding.Store(nt)
	s.paddingAt.Store(time.Now().UnixNano())
	s.metrics.padding.Set(float64(nt.entries))
	return nt, nil
}

// computeTarget applies padTarget's rule to the listings' counts.
func (s *Server) computeTarget(ls []*khabardar.Listing) *padTarget {
	var ids int64
	w := 0
	for _, l := range ls {
		ids += l.Counts.Total()
		if l.Counts.Total() > 0 {
			w = max(w, len(l.ID)+3)
		}
	}
	mu := float64(ids) / math.Ldexp(1, s.cfg.Layout.BucketBits)
	p := roundUp(int(math.Ceil(mu+6*math.Sqrt(mu)+8)), 32)
	return &padTarget{entries: p, bytes: roundUp(s.bucketSize(p)+p*w, 512)}
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// zeros fill the padding string.
var zeros = bytes.Repeat([]byte{'0'}, 512)

// JSON pieces of a bucket response.
const (
	entryOpen   = `{"suffix":"`
	entryMiddle = `","listings":[`
	entryClose  = `]}`
	paddingOpen = `],"padding":"`
	bodyClose   = `"}`
)

// bucketSize is the length of a response with n dummy entries and an empty
// padding string.
func (s *Server) bucketSize(n int) int {
	size := len(`{"key_id":"`) + len(s.cfg.Key.ID()) + len(`","prefix":"`) + s.cfg.Layout.PrefixLen() + len(`","entries":[`) +
		len(paddingOpen) + len(bodyClose)
	if n > 0 {
		size += n*(len(entryOpen)+2*s.cfg.Layout.SuffixBytes+len(entryMiddle)+len(entryClose)+1) - 1
	}
	return size
}

// renderBucket appends the response to b: the real entries and the
// dummies in suffix order, then the padding. The same bucket content and
// target always give the same bytes, so ETags and caches work.
func (s *Server) renderBucket(b []byte, v *bucketView, p *paddedView) []byte {
	real, dummies, t := len(v.ends), p.dummies, p.target

	b = slices.Grow(b, t.bytes)
	b = appendBucketHead(b, s.cfg.Key.ID(), v.prefix)
	sb := s.cfg.Layout.SuffixBytes
	i, j, nd := 0, 0, len(dummies)/sb
	for k := 0; i < real || j < nd; k++ {
		if k > 0 {
			b = append(b, ',')
		}
		if j == nd || i < real && bytes.Compare(v.suffix(i), dummies[j*sb:(j+1)*sb]) < 0 {
			b = appendEntry(b, v.suffix(i), v.listings(i))
			i++
		} else {
			b = appendEntry(b, dummies[j*sb:(j+1)*sb], nil)
			j++
		}
	}
	size := len(b) + len(paddingOpen) + len(bodyClose)
	return appendBucketTail(b, max(t.bytes, roundUp(size, 512))-size)
}

// The pieces of a wire.Bucket body, which renderBucket puts together:
// appendBucketHead, appendEntry for each entry with commas between, and
// appendBucketTail. Put together they write exactly what encoding/json
// writes for the same wire.Bucket (TestHandEncoders).

// appendBucketHead appends {"key_id":"…","prefix":"…","entries":[.
func appendBucketHead(b []byte, keyID, prefix string) []byte {
	b = append(b, `{"key_id":`...)
	b = appendJSONString(b, keyID)
	b = append(b, `,"prefix":`...)
	b = appendJSONString(b, prefix)
	return append(b, `,"entries":[`...)
}

// appendBucketTail closes the entries and appends a padding string of pad
// '0's.
func appendBucketTail(b []byte, pad int) []byte {
	b = append(b, paddingOpen...)
	for pad > 0 {
		n := min(pad, len(zeros))
		b = append(b, zeros[:n]...)
		pad -= n
	}
	return append(b, bodyClose...)
}

// appendEntry appends {"suffix":"…","listings":[…]}.
func appendEntry(b, suffix []byte, listings []string) []byte {
	b = append(b, entryOpen...)
	b = hex.AppendEncode(b, suffix)
	b = append(b, entryMiddle...)
	for i, id := range listings {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, id)
	}
	return append(b, entryClose...)
}

// dummies appends n dummy suffixes to out, sorted and distinct from each
// other and from the real ones. They are the AES-256-CTR keystream under
// the server's bucket-padding sub-key, from a counter block that starts with
// the prefix, cut into suffixes: random-looking, unpredictable without the
// server key, and the same for the same bucket every time.
func (s *Server) dummies(out []byte, v *bucketView, n int, sc *scratch) []byte {
	if n <= 0 {
		return out
	}
	sb := s.cfg.Layout.SuffixBytes
	var iv [aes.BlockSize]byte
	copy(iv[:8], v.prefix) // at most 8 hex digits; the counter runs in the low half
	stream := cipher.NewCTR(s.padBlock, iv[:])
	for have := 0; have < n; have = len(out) / sb {
		// Draw what is missing, then drop collisions: with 8-byte suffixes
		// a second round is astronomically rare, but must stay deterministic.
		start := len(out)
		out = slices.Grow(out, (n-have)*sb)[:start+(n-have)*sb]
		clear(out[start:])
		stream.XORKeyStream(out[start:], out[start:])
		out = distinct(out, sb, v.suffixes, sc)
	}
	return out
}

// distinct sorts the suffixes of size sb in d and drops duplicates and the
// suffixes in real (sorted, concatenated), in place.
func distinct(d []byte, sb int, real []byte, sc *scratch) []byte {
	if sb == 8 {
		return distinct8(d, real, sc)
	}
	sort.Sort(suffixes{d, sb, make([]byte, sb)})
	out := d[:0]
	r := 0
	for i := 0; i < len(d); i += sb {
		suf := d[i : i+sb]
		if len(out) > 0 && bytes.Equal(suf, out[len(out)-sb:]) {
			continue
		}
		for r < len(real) && bytes.Compare(real[r:r+sb], suf) < 0 {
			r += sb
		}
		if r < len(real) && bytes.Equal(real[r:r+sb], suf) {
			continue
		}
		out = append(out, suf...) // out is never ahead of i: no overlap
	}
	return out
}

// suffixes sorts fixed-size suffixes in place.
type suffixes struct {
	d   []byte
	sb  int
	tmp []byte
}

func (x suffixes) Len() int { return len(x.d) / x.sb }
func (x suffixes) Less(i, j int) bool {
	return bytes.Compare(x.d[i*x.sb:(i+1)*x.sb], x.d[j*x.sb:(j+1)*x.sb]) < 0
}
func (x suffixes) Swap(i, j int) {
	a, b := x.d[i*x.sb:(i+1)*x.sb], x.d[j*x.sb:(j+1)*x.sb]
	copy(x.tmp, a)
	copy(a, b)
	copy(b, x.tmp)
}

// distinct8 is distinct for 8-byte suffixes, the default, sorted as
// integers.
func distinct8(d []byte, real []byte, sc *scratch) []byte {
	keys := sc.keys[:0]
	for i := 0; i+8 <= len(d); i += 8 {
		keys = append(keys, binary.BigEndian.Uint64(d[i:]))
	}
	sc.keys = keys
	slices.Sort(keys)
	out := d[:0] // keys hold everything; d is rewritten in order
	r := 0
	for i, k := range keys {
		if i > 0 && k == keys[i-1] {
			continue
		}
		for r < len(real) && binary.BigEndian.Uint64(real[r:]) < k {
			r += 8
		}
		if r < len(real) && binary.BigEndian.Uint64(real[r:]) == k {
			continue
		}
		out = binary.BigEndian.AppendUint64(out, k)
	}
	return out
}

// appendJSONString appends s as a JSON string, escaped exactly as
// encoding/json escapes it (HTML characters, U+2028 and U+2029 included).
// Listing IDs are lowercase letters, digits and dashes, and key ids and
// prefixes hex, but the encoder does not rely on it.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				if c < 0x20 || c == '<' || c == '>' || c == '&' {
					b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				} else {
					b = append(b, c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
