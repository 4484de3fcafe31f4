//go:build !linux

package redistest

import "os/exec"

// killWithParent does nothing here: only Linux has a parent-death signal, so
// a test binary that dies without its cleanups leaves the server running.
func killWithParent(cmd *exec.Cmd) {}
