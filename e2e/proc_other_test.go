//go:build !unix

package e2e

import "os/exec"

// inOwnGroup does nothing here: without process groups, a browser that a
// killed node started may outlive the test.
func inOwnGroup(cmd *exec.Cmd) (killGroup func()) { return func() {} }
