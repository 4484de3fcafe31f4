//go:build unix

package e2e

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/khabardar/khabardar/loadgen"
)

// TestSIGTERMUnderLoad sends SIGTERM to `serve` while a load runs against
// it: the process exits cleanly, no request in flight gets a server error
// or a cut-off answer, and what comes after is refused at the door (no
// listener) or on a keep-alive connection the server closed.
func TestSIGTERMUnderLoad(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	srv := startServe(t, c, "--rate-evaluate", "100000000-H", "--rate-bucket", "100000000-H", "--rate-global-evaluate", "1000000000-D")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan *loadgen.Report, 1)
	go func() {
		r, err := loadgen.Run(ctx, loadgen.Config{Targets: []string{srv.base}, Concurrency: 8, Checks: 1_000_000, Duration: 30 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	time.Sleep(time.Second) // under load
	srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-srv.done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM under load\n%s", err, srv.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exit within 20 s of SIGTERM")
	}
	cancel()
	r := <-done
	if r == nil {
		t.FailNow()
	}
	if r.Checks == 0 {
		t.Error("no check completed before SIGTERM")
	}
	for kind, n := range r.Errors {
		if kind != "refused" && kind != "reset" {
			t.Errorf("%d requests failed with %s: in-flight requests must finish, later ones be refused", n, kind)
		}
	}
	if !strings.Contains(srv.logs.String(), "shutting down") {
		t.Errorf("no graceful shutdown in the logs:\n%s", srv.logs)
	}
	t.Logf("%d checks before SIGTERM; after it: %v", r.Checks, r.Errors)
}
