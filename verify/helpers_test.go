package verify

import (
	"math/rand/v2"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ingest"

	"github.com/khabardar/khabardar/internal/fixture"
)

func newTestRand(seed uint64) *rand.Rand { return fixture.NewRand(seed) }

func valueOf(v string) ingest.Value { return ingest.Value{Raw: identifier.Raw(v)} }
