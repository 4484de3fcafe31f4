// Command goparse tells src/identifier.js's tests what the Go parser says:
// it reads a JSON array of {"kind","input"} from standard input and writes a
// JSON array of {"canonical"} or {"reason"}, one per input, in order.
package main

import (
	"encoding/json"
	"errors"
	"log"
	"os"

	"github.com/khabardar/khabardar/identifier"
)

type query struct {
	Kind  string `json:"kind"`
	Input string `json:"input"`
}

type answer struct {
	Canonical string            `json:"canonical,omitempty"`
	Reason    identifier.Reason `json:"reason,omitempty"`
}

func main() {
	var qs []query
	if err := json.NewDecoder(os.Stdin).Decode(&qs); err != nil {
		log.Fatalf("goparse: %v", err)
	}
	out := make([]answer, len(qs))
	for i, q := range qs {
		k, err := identifier.ParseKind(q.Kind)
		if err != nil {
			log.Fatalf("goparse: query %d: %v", i, err)
		}
		id, err := identifier.Parse(k, identifier.Raw(q.Input))
		var pe *identifier.ParseError
		switch {
		case err == nil:
			out[i].Canonical = string(id.Canonical())
		case errors.As(err, &pe):
			out[i].Reason = pe.Reason
		default:
			log.Fatalf("goparse: query %d: %v", i, err)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		log.Fatalf("goparse: %v", err)
	}
}
