package hashing

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"

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

func (k *Key) hashBytes(input []byte) ([]byte, error) { return k.server.FullEvaluate(input) }

// BlindedBatch is a batch of blinded elements decoded and checked once, by
// ParseBlinded, for EvaluateBatch: the API decodes a request's elements
// before it charges the caller, and nothing outside this package touches
// the group.
type BlindedBatch struct{ elems []oprf.Blinded }

// Len is the number of elements.
func (b *BlindedBatch) Len() int { return len(b.elems) }

// Element returns element i's canonical encoding.
func (b *BlindedBatch) Element(i int) []byte {
	out, err := b.elems[i].MarshalBinaryCompress()
	if err != nil {
		panic(err) // a decoded element always encodes
	}
	return out
}

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
// but accepting junk hides client bugs.
func ParseBlinded(raw [][]byte) (*BlindedBatch, error) {
	g := suite.Group()
	b := &BlindedBatch{elems: make([]oprf.Blinded, len(raw))}
	for i, r := range raw {
		e := g.NewElement()
		if len(r) != ElementSize || e.UnmarshalBinary(r) != nil || e.IsIdentity() {
			return nil, &BadElementError{Index: i}
		}
		b.elems[i] = e
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

// EvaluateBatch evaluates a batch ParseBlinded made.
func (k *Key) EvaluateBatch(b *BlindedBatch) (evaluated [][]byte, proof []byte, err error) {
	if b == nil || len(b.elems) == 0 {
		return nil, nil, errors.New("hashing: empty batch")
	}
	ev, err := k.server.Evaluate(&oprf.EvaluationRequest{Elements: b.elems})
	if err != nil {
		return nil, nil, fmt.Errorf("hashing: evaluate: %w", err)
	}
	evaluated = make([][]byte, len(ev.Elements))
	for i, e := range ev.Elements {
		if evaluated[i], err = e.MarshalBinaryCompress(); err != nil {
			return nil, nil, err
		}
	}
	if proof, err = ev.Proof.MarshalBinary(); err != nil {
		return nil, nil, err
	}
	return evaluated, proof, nil
}

// Split cuts a VOPRF output y by the layout: hex(y) = prefix ‖ hex(suffix) ‖ …,
// where prefix is the first BucketBits/4 hex digits and suffix the next
// SuffixBytes bytes. Working on hex digits lets BucketBits be any multiple of
// 4, and is exactly what a browser computes from the same definition.
func Split(y []byte, l khabardar.Layout) (prefix string, suffix []byte) {
	h := hex.EncodeToString(y)
	p := l.PrefixLen()
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
type Client struct{ c oprf.VerifiableClient }

// NewClient returns a client for the server public key pub.
func NewClient(pub []byte) (*Client, error) {
	pk := new(oprf.PublicKey)
	if err := pk.UnmarshalBinary(suite, pub); err != nil {
		return nil, fmt.Errorf("hashing: bad public key: %w", err)
	}
	return &Client{c: oprf.NewVerifiableClient(suite, pk)}, nil
}

// Blinded is a client's blinded batch, kept to finalize the server's answer.
type Blinded struct {
	Elements [][]byte // to send, serialized
	fin      *oprf.FinalizeData
}

// Blind blinds each id with fresh randomness.
func (c *Client) Blind(ids []identifier.ID) (*Blinded, error) {
	inputs := make([][]byte, len(ids))
	for i, id := range ids {
		inputs[i] = id.Canonical()
	}
	fin, req, err := c.c.Blind(inputs)
	if err != nil {
		return nil, err
	}
	b := &Blinded{fin: fin, Elements: make([][]byte, len(req.Elements))}
	for i, e := range req.Elements {
		if b.Elements[i], err = e.MarshalBinaryCompress(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ErrBadProof is returned by Finalize when the proof does not verify: the
// server did not use the published key, or the answer was tampered with.
var ErrBadProof = errors.New("hashing: the server's proof does not verify against its public key")

// Finalize checks the proof and returns the VOPRF outputs, one per input.
func (c *Client) Finalize(b *Blinded, evaluated [][]byte, proof []byte) ([][]byte, error) {
	g := suite.Group()
	ev := &oprf.Evaluation{Elements: make([]oprf.Evaluated, len(evaluated)), Proof: new(dleq.Proof)}
	for i, e := range evaluated {
		ev.Elements[i] = g.NewElement()
		if len(e) != ElementSize || ev.Elements[i].UnmarshalBinary(e) != nil {
			return nil, fmt.Errorf("evaluated element %d: %w", i, ErrBadElement)
		}
	}
	if len(proof) != ProofSize || ev.Proof.UnmarshalBinary(g, proof) != nil {
		return nil, ErrBadProof
	}
	out, err := c.c.Finalize(b.fin, ev)
	if errors.Is(err, oprf.ErrInvalidProof) {
		return nil, ErrBadProof
	}
	return out, err
}
