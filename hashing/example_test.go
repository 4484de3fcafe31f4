package hashing_test

import (
	"bytes"
	"fmt"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
)

// A client learns the keyed hash of its identifier without the server seeing
// the identifier, and finds it in the bucket the server stored at ingest.
func Example() {
	key, _ := hashing.GenerateKey()
	layout := khabardar.Layout{KeyID: key.ID(), BucketBits: 16, SuffixBytes: 8}
	id, _ := identifier.Parse(identifier.Unknown, "0300-1234567")

	// Ingest, on the server: hash directly and keep only prefix and suffix.
	stored, _ := key.Exposure(id, layout)

	// Lookup, on the client: blind, let the server evaluate, verify, finalize.
	client, _ := hashing.NewClient(key.PublicKey())
	blinded, _ := client.Blind([]identifier.ID{id})
	evaluated, proof, _ := key.Evaluate(blinded.Elements) // server side
	outputs, err := client.Finalize(blinded, evaluated, proof)
	if err != nil {
		panic(err)
	}
	prefix, suffix := hashing.Split(outputs[0], layout)

	fmt.Println(prefix == stored.Prefix, bytes.Equal(suffix, stored.Suffix))
	// Output: true true
}
