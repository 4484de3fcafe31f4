package hashing

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gtank/ristretto255"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// Sizes of the wire encodings of ristretto255-SHA512.
const (
	ElementSize = 32 // a serialized group element
	ProofSize   = 64 // a DLEQ proof: challenge and response scalars
	OutputSize  = 64 // a VOPRF output, SHA-512
)

// ErrBadElement is returned for a blinded element that does not decode to a
// valid, non-identity ristretto255 element.
var ErrBadElement = errors.New("hashing: not a valid non-identity ristretto255 element")

// Hash computes the VOPRF output of a canonical identifier directly (RFC 9497
// Evaluate without blinding): y = SHA-512(x ‖ k·H(x)). Ingest uses it.
func (k *Key) Hash(id identifier.ID) ([]byte, error) {
	if id.IsZero() {
		return nil, errors.New("hashing: zero identifier")
	}
	return k.hashBytes(id.Canonical())
}

// hashBytes is RFC 9497's Evaluate with the key, k·H(x) in constant time.
func (k *Key) hashBytes(input []byte) ([]byte, error) {
	var p ristretto255.Element
	hashToGroup(&p, input)
	return finalizeHash(input, encodeElement(p.ScalarMult(k.sk, &p))), nil
}

// BlindedBatch is a batch of blinded elements decoded and checked once, by
// ParseBlinded, for EvaluateBatch: the API decodes a request's elements
// before it charges the caller, and nothing outside this package touches
// the group.
type BlindedBatch struct {
	points []*ristretto255.Element
	enc    [][]byte // canonical encodings: decoding accepts no other
}

// Len is the number of elements.
func (b *BlindedBatch) Len() int { return len(b.points) }

// Element returns element i's canonical encoding.
func (b *BlindedBatch) Element(i int) []byte { return b.enc[i] }

// BadElementError names the first element of a batch that is not a valid
// non-identity ristretto255 element, by its index. It wraps ErrBadElement.
type BadElementError struct{ Index int }

func (e *BadElementError) Error() string {
	return fmt.Sprintf("element %d: %v", e.Index, ErrBadElement)
}

func (e *BadElementError) Unwrap() error { return ErrBadElement }

// ParseBlinded decodes each ElementSize-byte encoding as a ristretto255
// element. A *BadElementError for the first that does not decode or is the
// identity: evaluating the identity would prove nothing and leak nothing,
// but accepting junk hides client bugs. The batch keeps copies, so raw may be
// reused.
func ParseBlinded(raw [][]byte) (*BlindedBatch, error) {
	b := &BlindedBatch{points: make([]*ristretto255.Element, len(raw)), enc: make([][]byte, len(raw))}
	points := make([]ristretto255.Element, len(raw))
	backing := make([]byte, len(raw)*ElementSize)
	for i, r := range raw {
		if !decodeElement(&points[i], r) {
			return nil, &BadElementError{Index: i}
		}
		b.points[i] = &points[i]
		b.enc[i] = backing[i*ElementSize : (i+1)*ElementSize : (i+1)*ElementSize]
		copy(b.enc[i], r)
	}
	return b, nil
}

// Evaluate evaluates a batch of blinded elements and returns the evaluated
// elements and one batched DLEQ proof that all were made with this key:
// ParseBlinded, then EvaluateBatch.
func (k *Key) Evaluate(blinded [][]byte) (evaluated [][]byte, proof []byte, err error) {
	b, err := ParseBlinded(blinded)
	if err != nil {
		return nil, nil, err
	}
	return k.EvaluateBatch(b)
}

// EvaluateBatch evaluates a batch ParseBlinded made: Dᵢ = k·Cᵢ, and one proof
// for the batch (dleq.go says which operations run in variable time).
func (k *Key) EvaluateBatch(b *BlindedBatch) (evaluated [][]byte, proof []byte, err error) {
	if b == nil || len(b.points) == 0 {
		return nil, nil, errors.New("hashing: empty batch")
	}
	return k.evaluate(b, randomScalar())
}

func (k *Key) evaluate(b *BlindedBatch, nonce *ristretto255.Scalar) (evaluated [][]byte, proof []byte, err error) {
	d := make([]*ristretto255.Element, len(b.points))
	points := make([]ristretto255.Element, len(b.points))
	evaluated = make([][]byte, len(b.points))
	for i, c := range b.points {
		d[i] = points[i].ScalarMult(k.sk, c)
		evaluated[i] = encodeElement(d[i])
	}
	return evaluated, k.pk.prove(k.sk, nonce, b.points, d, b.enc, evaluated), nil
}

// Split cuts a VOPRF output y by the layout: hex(y) = prefix ‖ hex(suffix) ‖ …,
// where prefix is the first BucketBits/4 hex digits and suffix the next
// SuffixBytes bytes. Working on hex digits lets BucketBits be any multiple of
// 4, and is exactly what a browser computes from the same definition.
func Split(y []byte, l khabardar.Layout) (prefix string, suffix []byte) {
	p := l.PrefixLen()
	h := hex.EncodeToString(y[:min(len(y), (p+1)/2+l.SuffixBytes)]) // only the digits used: ingest splits every identifier
	suffix, err := hex.DecodeString(h[p : p+2*l.SuffixBytes])
	if err != nil {
		panic(err) // hex of hex never fails
	}
	return h[:p], suffix
}

// Exposure hashes id and splits the output by the layout.
func (k *Key) Exposure(id identifier.ID, l khabardar.Layout) (khabardar.Exposure, error) {
	y, err := k.Hash(id)
	if err != nil {
		return khabardar.Exposure{}, err
	}
	prefix, suffix := Split(y, l)
	return khabardar.Exposure{Prefix: prefix, Suffix: suffix, Kind: id.Kind()}, nil
}

// Client is the client side of the VOPRF, for Khabardar's CLI and tests: it
// blinds inputs, checks the server's proof against the published public key,
// and finalizes outputs.
type Client struct{ pk *publicKey }

// NewClient returns a client for the server public key pub.
func NewClient(pub []byte) (*Client, error) {
	pk, ok := newPublicKey(pub)
	if !ok {
		return nil, errors.New("hashing: bad public key: not a valid non-identity ristretto255 element")
	}
	return &Client{pk: pk}, nil
}

// Blinded is a client's blinded batch, kept to finalize the server's answer.
// It holds the inputs and their blinds, so it never prints them.
type Blinded struct {
	Elements [][]byte // to send, serialized
	inputs   [][]byte
	blinds   []*ristretto255.Scalar
	points   []*ristretto255.Element
}

// String says how many elements there are and nothing else.
func (b *Blinded) String() string {
	return fmt.Sprintf("hashing.Blinded{%d elements}", len(b.Elements))
}

// GoString is String, so %#v redacts too.
func (b *Blinded) GoString() string { return b.String() }

// Blind blinds each id with fresh randomness.
func (c *Client) Blind(ids []identifier.ID) (*Blinded, error) {
	inputs := make([][]byte, len(ids))
	blinds := make([]*ristretto255.Scalar, len(ids))
	for i, id := range ids {
		inputs[i] = id.Canonical()
		blinds[i] = randomScalar()
	}
	return c.blind(inputs, blinds)
}

// blind computes Cᵢ = rᵢ·H(xᵢ) in constant time: rᵢ hides xᵢ.
func (c *Client) blind(inputs [][]byte, blinds []*ristretto255.Scalar) (*Blinded, error) {
	if len(inputs) == 0 {
		return nil, errors.New("hashing: nothing to blind")
	}
	b := &Blinded{
		Elements: make([][]byte, len(inputs)),
		inputs:   inputs,
		blinds:   blinds,
		points:   make([]*ristretto255.Element, len(inputs)),
	}
	points := make([]ristretto255.Element, len(inputs))
	var h ristretto255.Element
	for i, x := range inputs {
		if hashToGroup(&h, x).Equal(ristretto255.NewIdentityElement()) == 1 {
			return nil, errors.New("hashing: an input hashes to the identity") // RFC 9497 InvalidInputError; probability 2⁻²⁵²
		}
		b.points[i] = points[i].ScalarMult(blinds[i], &h)
		b.Elements[i] = encodeElement(b.points[i])
	}
	return b, nil
}

// ErrBadProof is returned by Finalize when the proof does not verify: the
// server did not use the published key, or the answer was tampered with.
var ErrBadProof = errors.New("hashing: the server's proof does not verify against its public key")

// Finalize checks the proof and returns the VOPRF outputs, one per input:
// SHA-512 of the input and rᵢ⁻¹·Dᵢ. It returns an error wrapping
// ErrBadElement for an evaluated element that does not decode (or a count
// that is not the batch's), and ErrBadProof for a proof that does not verify.
func (c *Client) Finalize(b *Blinded, evaluated [][]byte, proof []byte) ([][]byte, error) {
	if len(evaluated) != len(b.Elements) {
		return nil, fmt.Errorf("%d evaluated elements for %d blinded: %w", len(evaluated), len(b.Elements), ErrBadElement)
	}
	d := make([]*ristretto255.Element, len(evaluated))
	points := make([]ristretto255.Element, len(evaluated))
	for i, e := range evaluated {
		if !decodeElement(&points[i], e) {
			return nil, fmt.Errorf("evaluated element %d: %w", i, ErrBadElement)
		}
		d[i] = &points[i]
	}
	if !c.pk.verify(b.points, d, b.Elements, evaluated, proof) {
		return nil, ErrBadProof
	}
	out := make([][]byte, len(d))
	var inv ristretto255.Scalar
	var u ristretto255.Element
	for i := range d {
		u.ScalarMult(inv.Invert(b.blinds[i]), d[i])
		out[i] = finalizeHash(b.inputs[i], encodeElement(&u))
	}
	return out, nil
}
