package hashing

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
	"github.com/gtank/ristretto255"
)

// rfcSuite is one suite's entry in testdata/rfc9497-ristretto255-voprf.json,
// RFC 9497 Appendix A.1.2 (ristretto255-SHA512, VOPRF mode).
type rfcSuite struct {
	Identifier string `json:"identifier"`
	Mode       int    `json:"mode"`
	Seed       string `json:"seed"`
	KeyInfo    string `json:"keyInfo"`
	SkSm       string `json:"skSm"`
	PkSm       string `json:"pkSm"`
	Vectors    []struct {
		Batch             int    `json:"Batch"`
		Blind             string `json:"Blind"`
		BlindedElement    string `json:"BlindedElement"`
		EvaluationElement string `json:"EvaluationElement"`
		Input             string `json:"Input"`
		Output            string `json:"Output"`
		Proof             struct {
			Proof string `json:"proof"`
			R     string `json:"r"`
		} `json:"Proof"`
	} `json:"vectors"`
}

func unhexList(t *testing.T, s string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range strings.Split(s, ",") {
		b, err := hex.DecodeString(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func unhex(t *testing.T, s string) []byte { return unhexList(t, s)[0] }

// TestRFC9497Vectors checks key derivation, blinding, our batch evaluation
// and its encoding, our proof verification and finalization, and the direct
// evaluation that ingest uses, against the RFC's vectors.
func TestRFC9497Vectors(t *testing.T) {
	b, err := os.ReadFile("testdata/rfc9497-ristretto255-voprf.json")
	if err != nil {
		t.Fatal(err)
	}
	var v rfcSuite
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Identifier != Suite || v.Mode != int(oprf.VerifiableMode) {
		t.Fatalf("vectors are for %s mode %d", v.Identifier, v.Mode)
	}
	priv, err := oprf.DeriveKey(suite, oprf.VerifiableMode, unhex(t, v.Seed), unhex(t, v.KeyInfo))
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := priv.MarshalBinary()
	pk, _ := priv.Public().MarshalBinary()
	if hex.EncodeToString(sk) != v.SkSm || hex.EncodeToString(pk) != v.PkSm {
		t.Fatalf("DeriveKeyPair: sk %x pk %x", sk, pk)
	}
	key, err := keyFrom(priv, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(pk)
	if err != nil {
		t.Fatal(err)
	}
	ref := oprf.NewVerifiableClient(suite, priv.Public())
	g := suite.Group()

	for i, vec := range v.Vectors {
		inputs := unhexList(t, vec.Input)
		var blinds []*ristretto255.Scalar
		var refBlinds []oprf.Blind
		for _, bl := range unhexList(t, vec.Blind) {
			blinds = append(blinds, scalar(t, bl))
			s := g.NewScalar()
			if err := s.UnmarshalBinary(bl); err != nil {
				t.Fatal(err)
			}
			refBlinds = append(refBlinds, s)
		}

		// The fast path, with the RFC's blinds and proof nonce, must give
		// the RFC's bytes exactly.
		blinded, err := client.blind(inputs, blinds)
		if err != nil {
			t.Fatal(err)
		}
		if got := hexJoin(blinded.Elements); got != vec.BlindedElement {
			t.Fatalf("vector %d: blinded %s, want %s", i, got, vec.BlindedElement)
		}
		batch, err := ParseBlinded(blinded.Elements)
		if err != nil {
			t.Fatal(err)
		}
		evaluated, proof, err := key.evaluate(batch, scalar(t, unhex(t, vec.Proof.R)))
		if err != nil {
			t.Fatal(err)
		}
		if got := hexJoin(evaluated); got != vec.EvaluationElement {
			t.Fatalf("vector %d: evaluated %s, want %s", i, got, vec.EvaluationElement)
		}
		if got := hex.EncodeToString(proof); got != vec.Proof.Proof {
			t.Fatalf("vector %d: proof %s, want %s", i, got, vec.Proof.Proof)
		}
		// With fresh randomness the proof differs, but it must verify.
		_, fresh, err := key.EvaluateBatch(batch)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range map[string][]byte{"fresh": fresh, "rfc": proof} {
			out, err := client.Finalize(blinded, evaluated, p)
			if err != nil {
				t.Fatalf("vector %d, %s proof: %v", i, name, err)
			}
			if got := hexJoin(out); got != vec.Output {
				t.Fatalf("vector %d, %s proof: output %s, want %s", i, name, got, vec.Output)
			}
		}
		for j, in := range inputs {
			y, err := key.hashBytes(in)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhexList(t, vec.Output)[j]; !bytes.Equal(y, want) {
				t.Fatalf("vector %d input %d: direct evaluation %x, want %x", i, j, y, want)
			}
		}

		// circl, the reference, agrees on the same vector.
		fin, req, err := ref.DeterministicBlind(inputs, refBlinds)
		if err != nil {
			t.Fatal(err)
		}
		var refBlinded [][]byte
		for _, e := range req.Elements {
			enc, _ := e.MarshalBinaryCompress()
			refBlinded = append(refBlinded, enc)
		}
		if got := hexJoin(refBlinded); got != vec.BlindedElement {
			t.Fatalf("vector %d: circl blinded %s, want %s", i, got, vec.BlindedElement)
		}
		out, err := ref.Finalize(fin, circlEvaluation(t, evaluated, proof))
		if err != nil {
			t.Fatalf("vector %d: circl rejects the proof: %v", i, err)
		}
		if got := hexJoin(out); got != vec.Output {
			t.Fatalf("vector %d: circl output %s, want %s", i, got, vec.Output)
		}
	}
}

func scalar(t testing.TB, b []byte) *ristretto255.Scalar {
	t.Helper()
	s, err := ristretto255.NewScalar().SetCanonicalBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// circlEvaluation decodes an evaluation for circl's client.
func circlEvaluation(t testing.TB, evaluated [][]byte, proof []byte) *oprf.Evaluation {
	t.Helper()
	g := suite.Group()
	ev := &oprf.Evaluation{Proof: new(dleq.Proof)}
	for _, e := range evaluated {
		el := g.NewElement()
		if err := el.UnmarshalBinary(e); err != nil {
			t.Fatal(err)
		}
		ev.Elements = append(ev.Elements, el)
	}
	if err := ev.Proof.UnmarshalBinary(g, proof); err != nil {
		t.Fatal(err)
	}
	return ev
}

func hexJoin(bs [][]byte) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = hex.EncodeToString(b)
	}
	return strings.Join(parts, ",")
}
