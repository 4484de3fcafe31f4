//go:build !unix

package main

// fdLimit is unknown here: --max-conns has no default cap.
func fdLimit() (uint64, bool) { return 0, false }
