//go:build unix

package main

import "syscall"

// fdLimit is the process's soft limit on open file descriptors (which the
// Go runtime raises to the hard limit at start).
func fdLimit() (uint64, bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, false
	}
	return r.Cur, true
}
