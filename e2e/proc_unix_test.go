//go:build unix

package e2e

import (
	"os/exec"
	"syscall"
)

// inOwnGroup starts cmd in a process group of its own and has cancelling it
// send the group SIGTERM (on which Playwright closes the browsers it
// launched, in process groups of their own; cmd.WaitDelay bounds the wait
// before SIGKILL). It returns a function that kills what is left of the
// group once cmd has ended.
func inOwnGroup(cmd *exec.Cmd) (killGroup func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	return func() {
		if cmd.Process != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH when nothing is left
		}
	}
}
