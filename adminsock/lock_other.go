//go:build !unix

package adminsock

import (
	"errors"
	"os"
)

var errBusy = errors.New("busy")

// lockFile is a no-op where there is no flock: Listen then relies on its
// liveness probe alone.
func lockFile(string) (*os.File, error) { return nil, nil }

// ownedByUs cannot tell the owner here; the socket's directory is the guard.
func ownedByUs(os.FileInfo) bool { return true }
