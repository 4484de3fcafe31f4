package hashing

import (
	"crypto"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"

	"github.com/cloudflare/circl/expander"
	"github.com/gtank/ristretto255"
)

// The fast path computes RFC 9497's ristretto255-SHA512 VOPRF with
// gtank/ristretto255, which is ristretto255 (RFC 9496) over
// filippo.io/edwards25519: assembly field arithmetic, a fixed-base table for
// multiples of the generator, and variable-time multi-scalar multiplication
// for public scalars. circl's oprf stays the reference: vectors_test.go and
// fast_test.go hold the two to the same bytes.

// contextString is RFC 9497's "OPRFV1-" ‖ I2OSP(mode, 1) ‖ "-" ‖ identifier
// for mode 0x01, VOPRF.
const contextString = "OPRFV1-\x01-" + Suite

var (
	dstHashToGroup  = []byte("HashToGroup-" + contextString)
	dstHashToScalar = []byte("HashToScalar-" + contextString)
	dstSeed         = []byte("Seed-" + contextString)
)

// decodeElement sets p to the element b encodes, as RFC 9496 decodes it
// (canonical encodings only). It reports false for a wrong length, an
// invalid encoding, or the identity (RFC 9497 rejects it on the wire).
func decodeElement(p *ristretto255.Element, b []byte) bool {
	if len(b) != ElementSize || [ElementSize]byte(b) == ([ElementSize]byte{}) { // the identity's only encoding
		return false
	}
	_, err := p.SetCanonicalBytes(b)
	return err == nil
}

// encodeElement returns p's canonical RFC 9496 encoding.
func encodeElement(p *ristretto255.Element) []byte {
	return p.Encode(make([]byte, 0, ElementSize))
}

// hashToGroup is RFC 9497's HashToGroup: expand_message_xmd with SHA-512 to
// 64 bytes and RFC 9496's one-way map from them (RFC 9380
// hash_to_ristretto255, as circl's group computes it).
func hashToGroup(p *ristretto255.Element, msg []byte) *ristretto255.Element {
	u := expander.NewExpanderMD(crypto.SHA512, dstHashToGroup).Expand(msg, 64)
	if _, err := p.SetUniformBytes(u); err != nil {
		panic(err) // 64 bytes always map
	}
	return p
}

// hashToScalar is RFC 9497's HashToScalar: expand_message_xmd with SHA-512 to
// 64 bytes, read little-endian and reduced modulo the group order.
func hashToScalar(msg []byte) *ristretto255.Scalar {
	u := expander.NewExpanderMD(crypto.SHA512, dstHashToScalar).Expand(msg, 64)
	s, err := ristretto255.NewScalar().SetUniformBytes(u)
	if err != nil {
		panic(err) // 64 bytes always reduce
	}
	return s
}

var zeroScalar = ristretto255.NewScalar()

// randomScalar returns a uniformly random non-zero scalar: 64 random bytes
// reduced modulo the order, so the bias is below 2⁻²⁵⁰.
func randomScalar() *ristretto255.Scalar {
	var b [64]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err) // crypto/rand does not fail on Linux
		}
		s, _ := ristretto255.NewScalar().SetUniformBytes(b[:])
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
