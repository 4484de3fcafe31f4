//go:build unix

package redistest

import (
	"os/exec"
	"syscall"
	"testing"
)

// Dedicated is a redis-server of one test's own, for fault tests: it can be
// paused (SIGSTOP: connections stay open and nothing answers, the worst
// case for a client) and resumed with its data intact, or killed (SIGKILL:
// connections are reset and dials refused) and started again on the same
// port with its data, which it writes to an append-only file on every
// command.
type Dedicated struct {
	srv *server
}

// NewDedicated starts a private redis-server on a free loopback port,
// stopped when t ends. It skips or fails as URL does without redis-server.
func NewDedicated(t testing.TB) *Dedicated {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		requireOrSkip(t, "no Redis: redis-server is not on PATH")
	}
	srv, err := startServer(path, "--appendonly", "yes", "--appendfsync", "always")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	d := &Dedicated{srv: srv}
	t.Cleanup(func() {
		d.Resume() // a test that failed while paused leaves it stopped; let it run its exit
		d.srv.stop()
	})
	return d
}

// URL is the server's database 0.
func (d *Dedicated) URL() string { return "redis://" + d.srv.addr + "/0" }

// Pause stops the server process: it accepts no commands until Resume.
func (d *Dedicated) Pause() { d.srv.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (d *Dedicated) Resume() { d.srv.cmd.Process.Signal(syscall.SIGCONT) }

// Kill ends the server process at once (SIGKILL), as a crash would.
func (d *Dedicated) Kill() {
	d.srv.cmd.Process.Kill()
	<-d.srv.exit
}

// Start starts a killed server again on the same port with its data.
func (d *Dedicated) Start(t testing.TB) {
	t.Helper()
	if err := d.srv.run(d.srv.cmd.Path, d.srv.cmd.Args[1:]); err != nil {
		t.Fatalf("redistest: %v", err)
	}
}
