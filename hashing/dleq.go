package hashing

import (
	"crypto/sha512"
	"encoding/binary"

	"github.com/gtank/ristretto255"
)

// The batched DLEQ proof of RFC 9497 §2.2 on the fast path. Which
// multiplications run in variable time, and why that is safe:
//
//   - Server, constant time: k·Cᵢ (k is the key), r·G and r·M (r is the
//     proof's nonce; s = r − c·k would give k away if r leaked). r·G uses
//     edwards25519's constant-time fixed-base table.
//   - Server, variable time: M = Σ dᵢ·Cᵢ and, for batches of one or two,
//     Z = Σ dᵢ·Dᵢ (equal to k·M). Every input is public: the client sent Cᵢ,
//     the server sends back Dᵢ, and dᵢ is a hash of those and the public key.
//     The timing can reveal only what the transcript already shows.
//   - Client, variable time: all of verification (M, Z, t2 = c·pk + s·G,
//     t3 = s·M + c·Z). Its inputs are the public key, the elements on the
//     wire and the proof, which an eavesdropper sees too.
//   - Client, constant time: rᵢ·H(xᵢ) and rᵢ⁻¹·Dᵢ, since the blind rᵢ is what
//     hides the identifier xᵢ from the server.

// publicKey is a VOPRF public key with what every proof over it needs
// computed once: its point, its encoding and the composite seed.
type publicKey struct {
	enc   []byte
	point ristretto255.Element
	seed  []byte // SHA-512(I2OSP(32, 2) ‖ pk ‖ I2OSP(len(seedDST), 2) ‖ seedDST)
}

func newPublicKey(enc []byte) (*publicKey, bool) {
	pk := &publicKey{enc: append([]byte(nil), enc...)}
	if !decodeElement(&pk.point, enc) {
		return nil, false
	}
	h := sha512.New()
	h.Write(appendFramed(nil, pk.enc))
	h.Write(appendFramed(nil, dstSeed))
	pk.seed = h.Sum(nil)
	return pk, true
}

// weights returns ComputeComposites's dᵢ = HashToScalar(I2OSP(len(seed), 2) ‖
// seed ‖ I2OSP(i, 2) ‖ I2OSP(32, 2) ‖ Cᵢ ‖ I2OSP(32, 2) ‖ Dᵢ ‖ "Composite").
func (pk *publicKey) weights(c, d [][]byte) []*ristretto255.Scalar {
	w := make([]*ristretto255.Scalar, len(c))
	buf := make([]byte, 0, 2+sha512.Size+2+2*(2+ElementSize)+len("Composite"))
	for i := range c {
		buf = appendFramed(buf[:0], pk.seed)
		buf = binary.BigEndian.AppendUint16(buf, uint16(i))
		buf = appendFramed(buf, c[i])
		buf = appendFramed(buf, d[i])
		buf = append(buf, "Composite"...)
		w[i] = hashToScalar(buf)
	}
	return w
}

// challenge returns c = HashToScalar(pk ‖ M ‖ Z ‖ t2 ‖ t3 ‖ "Challenge"), each
// element framed with its length.
func (pk *publicKey) challenge(m, z, t2, t3 *ristretto255.Element) *ristretto255.Scalar {
	buf := make([]byte, 0, 5*(2+ElementSize)+len("Challenge"))
	buf = appendFramed(buf, pk.enc)
	for _, p := range [...]*ristretto255.Element{m, z, t2, t3} {
		buf = appendFramed(buf, encodeElement(p))
	}
	return hashToScalar(append(buf, "Challenge"...))
}

// prove is RFC 9497's GenerateProof that Dᵢ = k·Cᵢ for all i and pk = k·G,
// with nonce r: the proof c ‖ s, s = r − c·k, scalars little-endian.
func (pk *publicKey) prove(k, r *ristretto255.Scalar, c, d []*ristretto255.Element, cEnc, dEnc [][]byte) []byte {
	w := pk.weights(cEnc, dEnc)
	var m, z, t2, t3 ristretto255.Element
	m.VarTimeMultiScalarMult(w, c)
	if len(d) <= 2 {
		z.VarTimeMultiScalarMult(w, d) // cheaper than k·M for short batches
	} else {
		z.ScalarMult(k, &m)
	}
	t2.ScalarBaseMult(r)
	t3.ScalarMult(r, &m)
	ch := pk.challenge(&m, &z, &t2, &t3)
	s := ristretto255.NewScalar().Multiply(ch, k)
	s.Subtract(r, s)
	return append(ch.Bytes(), s.Bytes()...)
}

// verify is RFC 9497's VerifyProof: it recomputes t2 = s·G + c·pk and
// t3 = s·M + c·Z and checks that they hash to c. Scalars must be canonical,
// as circl requires.
func (pk *publicKey) verify(c, d []*ristretto255.Element, cEnc, dEnc [][]byte, proof []byte) bool {
	if len(proof) != ProofSize || len(c) == 0 || len(c) != len(d) {
		return false
	}
	ch, err := ristretto255.NewScalar().SetCanonicalBytes(proof[:32])
	if err != nil {
		return false
	}
	s, err := ristretto255.NewScalar().SetCanonicalBytes(proof[32:])
	if err != nil {
		return false
	}
	w := pk.weights(cEnc, dEnc)
	var m, z, t2, t3 ristretto255.Element
	m.VarTimeMultiScalarMult(w, c)
	z.VarTimeMultiScalarMult(w, d)
	t2.VarTimeDoubleScalarBaseMult(ch, &pk.point, s)
	t3.VarTimeMultiScalarMult([]*ristretto255.Scalar{s, ch}, []*ristretto255.Element{&m, &z})
	return pk.challenge(&m, &z, &t2, &t3).Equal(ch) == 1
}
