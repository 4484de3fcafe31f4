//go:build !unix

package boltstore

import (
	"os"
	"time"
)

// lockDir takes no lock here: bbolt's own lock on the file keeps a second
// process out, and Close does not compact, as renaming over a file another
// process may be opening needs the directory lock.
func lockDir(string, time.Duration) (*os.File, error) { return nil, nil }
