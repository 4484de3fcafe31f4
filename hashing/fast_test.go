package hashing

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
	"github.com/gtank/ristretto255"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/cpuclock"
)

// differentialBatches is how many random batches TestDifferential checks:
// KHABARDAR_DIFFERENTIAL_BATCHES, or 300 so that `go test ./...` stays quick.
// The README gives the command for the full run (100,000 batches).
func differentialBatches(t *testing.T) int {
	if s := os.Getenv("KHABARDAR_DIFFERENTIAL_BATCHES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("KHABARDAR_DIFFERENTIAL_BATCHES=%q", s)
		}
		return n
	}
	return 300
}

// TestDifferential holds the fast path to circl's oprf, the reference, on
// random batches of 1 to 100 random inputs under random keys: both blind to
// the same elements, both evaluate to the same elements, a proof made by
// either verifies under the other, both finalize to the same outputs, and a
// proof with one bit flipped fails under both.
func TestDifferential(t *testing.T) {
	n := differentialBatches(t)
	seed := mrand.Uint64()
	t.Logf("%d batches, seed %d", n, seed)
	keys := make([]*Key, 8)
	for i := range keys {
		var err error
		if keys[i], err = GenerateKey(); err != nil {
			t.Fatal(err)
		}
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(seed, uint64(w)))
			for i := next.Add(1) - 1; i < int64(n) && failed.Load() == 0; i = next.Add(1) - 1 {
				if err := differentialBatch(keys[rng.IntN(len(keys))], rng, 1+rng.IntN(100), i%2 == 0); err != nil {
					failed.Add(1)
					t.Errorf("batch %d: %v", i, err)
				}
			}
		}(w)
	}
	wg.Wait()
}

func differentialBatch(k *Key, rng *mrand.Rand, size int, fastProves bool) error {
	inputs := make([][]byte, size)
	blinds := make([]*ristretto255.Scalar, size)
	refBlinds := make([]oprf.Blind, size)
	for i := range inputs {
		inputs[i] = make([]byte, rng.IntN(40))
		rand.Read(inputs[i])
		blinds[i] = randomScalar()
		refBlinds[i] = suite.Group().NewScalar()
		if err := refBlinds[i].UnmarshalBinary(blinds[i].Bytes()); err != nil {
			return err
		}
	}
	c, err := NewClient(k.PublicKey())
	if err != nil {
		return err
	}
	blinded, err := c.blind(inputs, blinds)
	if err != nil {
		return err
	}
	ref := oprf.NewVerifiableClient(suite, k.server.PublicKey())
	fin, req, err := ref.DeterministicBlind(inputs, refBlinds)
	if err != nil {
		return err
	}
	for i, e := range req.Elements {
		if enc, _ := e.MarshalBinaryCompress(); !bytes.Equal(enc, blinded.Elements[i]) {
			return fmt.Errorf("element %d: circl and the fast path blind differently", i)
		}
	}

	var evaluated [][]byte
	var proof []byte
	if fastProves {
		if evaluated, proof, err = k.Evaluate(blinded.Elements); err != nil {
			return err
		}
	} else {
		ev, err := k.server.Evaluate(req)
		if err != nil {
			return err
		}
		for _, e := range ev.Elements {
			enc, _ := e.MarshalBinaryCompress()
			evaluated = append(evaluated, enc)
		}
		if proof, err = ev.Proof.MarshalBinary(); err != nil {
			return err
		}
		// Evaluation is deterministic: the fast path's elements are circl's.
		mine, _, err := k.Evaluate(blinded.Elements)
		if err != nil {
			return err
		}
		for i := range mine {
			if !bytes.Equal(mine[i], evaluated[i]) {
				return fmt.Errorf("element %d: circl and the fast path evaluate differently", i)
			}
		}
	}

	fast, err := c.Finalize(blinded, evaluated, proof)
	if err != nil {
		return fmt.Errorf("fast path (fast proves: %v): %w", fastProves, err)
	}
	refOut, err := ref.Finalize(fin, evaluationOf(evaluated, proof))
	if err != nil {
		return fmt.Errorf("circl (fast proves: %v): %w", fastProves, err)
	}
	for i := range fast {
		if !bytes.Equal(fast[i], refOut[i]) {
			return fmt.Errorf("output %d: circl and the fast path finalize differently", i)
		}
	}

	// One flipped bit of the proof or of one evaluated element: both reject.
	// (The last bit of a scalar is always clear in a canonical encoding, so
	// flipping it tests the canonical-scalar check too.)
	bad, badEv := bytes.Clone(proof), evaluated
	if rng.IntN(2) == 0 {
		bad[rng.IntN(ProofSize)] ^= 1 << rng.IntN(8)
	} else {
		badEv = append([][]byte(nil), evaluated...)
		i := rng.IntN(size)
		badEv[i] = bytes.Clone(evaluated[i])
		badEv[i][rng.IntN(ElementSize)] ^= 1 << rng.IntN(8)
	}
	if _, err := c.Finalize(blinded, badEv, bad); err == nil {
		return errors.New("the fast path accepts a tampered answer")
	}
	if ev := tryEvaluationOf(badEv, bad); ev != nil {
		if _, err := ref.Finalize(fin, ev); err == nil {
			return errors.New("circl accepts a tampered answer")
		}
	}
	return nil
}

// tryEvaluationOf decodes an evaluation for circl's client, or nil if circl
// cannot decode it.
func tryEvaluationOf(evaluated [][]byte, proof []byte) (ev *oprf.Evaluation) {
	defer func() {
		if recover() != nil {
			ev = nil
		}
	}()
	g := suite.Group()
	ev = &oprf.Evaluation{}
	for _, e := range evaluated {
		el := g.NewElement()
		if el.UnmarshalBinary(e) != nil {
			return nil
		}
		ev.Elements = append(ev.Elements, el)
	}
	ev.Proof = new(dleq.Proof)
	if ev.Proof.UnmarshalBinary(g, proof) != nil {
		return nil
	}
	return ev
}

func evaluationOf(evaluated [][]byte, proof []byte) *oprf.Evaluation {
	ev := tryEvaluationOf(evaluated, proof)
	if ev == nil {
		panic("circl cannot decode a valid evaluation")
	}
	return ev
}

// TestFinalizeRejects: every way an answer can be wrong is refused with the
// documented error, by the fast path.
func TestFinalizeRejects(t *testing.T) {
	k, _ := GenerateKey()
	other, _ := GenerateKey()
	c, _ := NewClient(k.PublicKey())
	ids := mustIDs(t, "35202-1234567-1", "0300-1234567")
	b, err := c.Blind(ids)
	if err != nil {
		t.Fatal(err)
	}
	ev, proof, err := k.Evaluate(b.Elements)
	if err != nil {
		t.Fatal(err)
	}
	otherEv, otherProof, _ := other.Evaluate(b.Elements)
	swapped := [][]byte{ev[1], ev[0]}
	// ℓ, the group order, little-endian: the smallest non-canonical scalar.
	order := make([]byte, 32)
	copy(order, []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14})
	order[31] = 0x10
	nonCanonicalC := append(bytes.Clone(order), proof[32:]...)
	nonCanonicalS := append(bytes.Clone(proof[:32]), order...)
	zero := make([]byte, ElementSize)

	tests := []struct {
		name      string
		evaluated [][]byte
		proof     []byte
		want      error
	}{
		{"another key's answer", otherEv, otherProof, ErrBadProof},
		{"another key's proof", ev, otherProof, ErrBadProof},
		{"elements swapped", swapped, proof, ErrBadProof},
		{"challenge not canonical", ev, nonCanonicalC, ErrBadProof},
		{"response not canonical", ev, nonCanonicalS, ErrBadProof},
		{"short proof", ev, proof[:63], ErrBadProof},
		{"no proof", ev, nil, ErrBadProof},
		{"identity element", [][]byte{ev[0], zero}, proof, ErrBadElement},
		{"short element", [][]byte{ev[0], ev[1][:31]}, proof, ErrBadElement},
		{"one element missing", ev[:1], proof, ErrBadElement},
		{"one element too many", [][]byte{ev[0], ev[1], ev[1]}, proof, ErrBadElement},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Finalize(b, tc.evaluated, tc.proof); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := c.Finalize(b, ev, proof); err != nil {
		t.Fatalf("the untouched answer: %v", err)
	}
}

func mustIDs(t testing.TB, raw ...string) (ids []identifier.ID) {
	for _, r := range raw {
		ids = append(ids, mustID(t, r))
	}
	return ids
}

// TestDecodeElementMatchesCircl: on random and edge-case encodings the fast
// decoder accepts exactly what circl accepts (less the identity), and
// re-encodes to the same bytes.
func TestDecodeElementMatchesCircl(t *testing.T) {
	cases := [][]byte{make([]byte, 32), bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0x7f}, 32)}
	for i := 0; i < 2000; i++ {
		b := make([]byte, 32)
		rand.Read(b)
		cases = append(cases, b)
	}
	k, _ := GenerateKey()
	cases = append(cases, k.PublicKey())
	for _, b := range cases {
		checkDecodeAgainstCircl(t, b)
	}
}

func checkDecodeAgainstCircl(t *testing.T, b []byte) {
	t.Helper()
	var p ristretto255.Element
	ok := decodeElement(&p, b)
	el := suite.Group().NewElement()
	refOK := len(b) == ElementSize && el.UnmarshalBinary(b) == nil && !el.IsIdentity()
	if ok != refOK {
		t.Fatalf("%x: fast decode %v, circl %v", b, ok, refOK)
	}
	if ok && !bytes.Equal(encodeElement(&p), b) {
		t.Fatalf("%x re-encodes as %x", b, encodeElement(&p))
	}
}

// FuzzDecodeElement: the fast decoder agrees with circl on any input.
func FuzzDecodeElement(f *testing.F) {
	k, _ := GenerateKey()
	f.Add(k.PublicKey())
	f.Add(make([]byte, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeAgainstCircl(t, b) })
}

// FuzzFinalize feeds arbitrary evaluated elements and proofs to the client:
// it must never panic and never accept an answer circl's client refuses.
func FuzzFinalize(f *testing.F) {
	k, _ := GenerateKey()
	c, _ := NewClient(k.PublicKey())
	b, _ := c.Blind(mustIDs(f, "0300-1234567"))
	ev, proof, _ := k.Evaluate(b.Elements)
	f.Add(ev[0], proof)
	f.Add(make([]byte, 32), make([]byte, 64))
	f.Add(ev[0][:31], proof[:63])
	f.Fuzz(func(t *testing.T, element, proof []byte) {
		out, err := c.Finalize(b, [][]byte{element}, proof)
		if err != nil {
			return
		}
		if len(out) != 1 || !bytes.Equal(element, ev[0]) {
			t.Fatalf("accepted an element the key did not make")
		}
	})
}

// The costs the Go client and the server pay per single-identifier check,
// circl (the reference) against the fast path, in one run.

func BenchmarkServerEvaluate(b *testing.B) {
	k, _ := GenerateKey()
	c, _ := NewClient(k.PublicKey())
	bl, _ := c.Blind(mustIDs(b, "0300-1234567"))
	req := circlRequest(b, bl.Elements)
	b.Run("circl", func(b *testing.B) {
		cpu0 := cpuclock.Self()
		for b.Loop() {
			if _, err := k.server.Evaluate(req); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu0)
	})
	b.Run("fast", func(b *testing.B) {
		cpu0 := cpuclock.Self()
		for b.Loop() {
			if _, _, err := k.Evaluate(bl.Elements); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu0)
	})
}

func BenchmarkClientCheck(b *testing.B) {
	k, _ := GenerateKey()
	c, _ := NewClient(k.PublicKey())
	ref := oprf.NewVerifiableClient(suite, k.server.PublicKey())
	ids := mustIDs(b, "0300-1234567")
	inputs := [][]byte{ids[0].Canonical()}
	bl, _ := c.Blind(ids)
	ev, proof, _ := k.Evaluate(bl.Elements)
	// Only the client's part counts: blind, then (after the server's
	// evaluation, not counted) proof check and finalize, each clocked
	// directly, wall (client-µs/op) and CPU (cpu-µs/op). b.StopTimer would
	// not do: it reads the runtime's memory statistics, which costs CPU.
	b.Run("circl", func(b *testing.B) {
		var m clientClock
		for b.Loop() {
			t := m.start()
			fin, req, err := ref.Blind(inputs)
			if err != nil {
				b.Fatal(err)
			}
			m.stop(t)
			e, _ := k.server.Evaluate(req)
			t = m.start()
			if _, err := ref.Finalize(fin, e); err != nil {
				b.Fatal(err)
			}
			m.stop(t)
		}
		m.report(b)
	})
	b.Run("fast", func(b *testing.B) {
		var m clientClock
		for b.Loop() {
			t := m.start()
			bl, err := c.Blind(ids)
			if err != nil {
				b.Fatal(err)
			}
			m.stop(t)
			ev, proof, _ = k.Evaluate(bl.Elements)
			t = m.start()
			if _, err := c.Finalize(bl, ev, proof); err != nil {
				b.Fatal(err)
			}
			m.stop(t)
		}
		m.report(b)
	})
}

// clientClock adds up the wall and CPU time of the client's parts.
type clientClock struct{ wall, cpu time.Duration }

type clockStart struct {
	wall time.Time
	cpu  time.Duration
}

func (m *clientClock) start() clockStart { return clockStart{time.Now(), cpuclock.Self()} }

func (m *clientClock) stop(s clockStart) {
	m.cpu += cpuclock.Self() - s.cpu
	m.wall += time.Since(s.wall)
}

func (m *clientClock) report(b *testing.B) {
	b.ReportMetric(float64(m.wall.Nanoseconds())/1e3/float64(b.N), "client-µs/op")
	b.ReportMetric(float64(m.cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
}

func circlRequest(t testing.TB, elements [][]byte) *oprf.EvaluationRequest {
	t.Helper()
	req := &oprf.EvaluationRequest{}
	for _, e := range elements {
		el := suite.Group().NewElement()
		if err := el.UnmarshalBinary(e); err != nil {
			t.Fatal(err)
		}
		req.Elements = append(req.Elements, el)
	}
	return req
}
