package hashing

import (
	"crypto"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	r255 "github.com/bwesterb/go-ristretto"
	r255ed "github.com/bwesterb/go-ristretto/edwards25519"
	"github.com/cloudflare/circl/expander"
)

// The fast path computes RFC 9497's ristretto255-SHA512 VOPRF with
// filippo.io/edwards25519 for the arithmetic (a fixed-base table for
// multiples of the generator, variable-time multi-scalar multiplication for
// public scalars) and go-ristretto for the ristretto255 encoding, decoding
// and Elligator map, the same code circl's group uses. circl's oprf stays the
// reference: vectors_test.go and fast_test.go hold the two to the same bytes.
//
// A ristretto255 element is kept as one of its edwards25519 representatives;
// every operation here maps representatives of a class to representatives of
// the result's class, and the encoding is the same for all of them.

// contextString is RFC 9497's "OPRFV1-" ‖ I2OSP(mode, 1) ‖ "-" ‖ identifier
// for mode 0x01, VOPRF.
const contextString = "OPRFV1-\x01-" + Suite

var (
	dstHashToGroup  = []byte("HashToGroup-" + contextString)
	dstHashToScalar = []byte("HashToScalar-" + contextString)
	dstSeed         = []byte("Seed-" + contextString)
)

// fromR255 sets p to q's point. Both libraries keep extended coordinates
// (X:Y:Z:T) of the same curve and differ only in limbs, so the coordinates
// pass through their 32-byte encodings (a few hundred nanoseconds, against
// tens of microseconds for any multiplication).
func fromR255(p *edwards25519.Point, q *r255.Point) *edwards25519.Point {
	e := (*r255ed.ExtendedPoint)(q)
	var c [4]field.Element
	var b [32]byte
	for i, fe := range [4]*r255ed.FieldElement{&e.X, &e.Y, &e.Z, &e.T} {
		fe.BytesInto(&b)
		if _, err := c[i].SetBytes(b[:]); err != nil {
			panic(err) // 32 bytes always decode
		}
	}
	if _, err := p.SetExtendedCoordinates(&c[0], &c[1], &c[2], &c[3]); err != nil {
		panic("hashing: go-ristretto point is not on the curve") // cannot happen
	}
	return p
}

// toR255 is fromR255's inverse.
func toR255(q *r255.Point, p *edwards25519.Point) *r255.Point {
	e := (*r255ed.ExtendedPoint)(q)
	X, Y, Z, T := p.ExtendedCoordinates()
	var b [32]byte
	dst := [4]*r255ed.FieldElement{&e.X, &e.Y, &e.Z, &e.T}
	for i, fe := range [4]*field.Element{X, Y, Z, T} {
		copy(b[:], fe.Bytes())
		dst[i].SetBytes(&b)
	}
	return q
}

// decodeElement sets p to the element b encodes, as RFC 9496 decodes it
// (canonical encodings only). It reports false for a wrong length, an
// invalid encoding, or the identity (RFC 9497 rejects it on the wire).
func decodeElement(p *edwards25519.Point, b []byte) bool {
	if len(b) != ElementSize {
		return false
	}
	var buf [ElementSize]byte
	copy(buf[:], b)
	if buf == ([ElementSize]byte{}) { // the identity's only encoding
		return false
	}
	var q r255.Point
	if !q.SetBytes(&buf) {
		return false
	}
	fromR255(p, &q)
	return true
}

// encodeElement returns p's canonical RFC 9496 encoding.
func encodeElement(p *edwards25519.Point) []byte {
	var q r255.Point
	out := make([]byte, ElementSize)
	toR255(&q, p).BytesInto((*[ElementSize]byte)(out))
	return out
}

// hashToGroup is RFC 9497's HashToGroup: expand_message_xmd with SHA-512 to
// 64 bytes, the ristretto255 map on each half, and their sum (RFC 9380
// hash_to_ristretto255, as circl's group computes it).
func hashToGroup(p *edwards25519.Point, msg []byte) *edwards25519.Point {
	u := expander.NewExpanderMD(crypto.SHA512, dstHashToGroup).Expand(msg, 64)
	var a, b r255.Point
	a.SetElligator((*[32]byte)(u[:32]))
	b.SetElligator((*[32]byte)(u[32:]))
	return fromR255(p, a.Add(&a, &b))
}

// hashToScalar is RFC 9497's HashToScalar: expand_message_xmd with SHA-512 to
// 64 bytes, read little-endian and reduced modulo the group order.
func hashToScalar(msg []byte) *edwards25519.Scalar {
	u := expander.NewExpanderMD(crypto.SHA512, dstHashToScalar).Expand(msg, 64)
	s, err := edwards25519.NewScalar().SetUniformBytes(u)
	if err != nil {
		panic(err) // 64 bytes always reduce
	}
	return s
}

var zeroScalar = edwards25519.NewScalar()

// randomScalar returns a uniformly random non-zero scalar: 64 random bytes
// reduced modulo the order, so the bias is below 2⁻²⁵⁰.
func randomScalar() *edwards25519.Scalar {
	var b [64]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err) // crypto/rand does not fail on Linux
		}
		s, _ := edwards25519.NewScalar().SetUniformBytes(b[:])
		if s.Equal(zeroScalar) == 0 {
			return s
		}
	}
}

// appendFramed appends I2OSP(len(b), 2) ‖ b, RFC 9497's length-prefixed field.
func appendFramed(dst, b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(dst, uint16(len(b))), b...)
}

// finalizeHash is RFC 9497's Finalize hash: SHA-512(I2OSP(len(x), 2) ‖ x ‖
// I2OSP(len(e), 2) ‖ e ‖ "Finalize"), e the unblinded element's encoding.
func finalizeHash(input, element []byte) []byte {
	h := sha512.New()
	h.Write(appendFramed(nil, input))
	h.Write(appendFramed(nil, element))
	h.Write([]byte("Finalize"))
	return h.Sum(nil)
}
