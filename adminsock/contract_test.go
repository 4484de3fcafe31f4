package adminsock

import (
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/storetest"
)

// TestContract runs the store contract against a Client talking over a real
// socket to a Server of a real bolt store: the admin path behaves as the
// direct one, error codes included.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) khabardar.Store {
		return serve(t).client
	})
}
