//go:build unix

package adminsock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/khabardar/khabardar"
)

// staleSocket leaves a socket file at path with nobody listening, as a
// killed server does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("no stale socket left: %v", err)
	}
}

// serveOn serves a Server of nothing on ln until the test ends.
func serveOn(t *testing.T, ln net.Listener) {
	t.Helper()
	s := NewServer(Config{Store: nil})
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(ln) }()
	t.Cleanup(func() { s.Close(); <-done })
}

// TestSocketMode checks the socket is 0600 whatever the umask, and that
// Listen leaves no temporary directory behind.
func TestSocketMode(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o077} {
		t.Run(fmt.Sprintf("umask %03o", umask), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			dir := t.TempDir()
			ln, err := Listen(SocketPath(dir))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			fi, err := os.Lstat(SocketPath(dir))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
				t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
			}
			names, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
			if len(names) != 0 {
				t.Errorf("temporary directories left: %v", names)
			}
			if ln.Addr().String() != SocketPath(dir) {
				t.Errorf("Addr %s, want the socket's path", ln.Addr())
			}
		})
	}
}

func TestListen(t *testing.T) {
	t.Run("stale socket is replaced", func(t *testing.T) {
		dir := t.TempDir()
		path := SocketPath(dir)
		staleSocket(t, path)
		if _, err := Dial(path); !errors.Is(err, ErrNoServer) {
			t.Fatalf("Dial of a stale socket: %v, want ErrNoServer", err)
		}
		ln, err := Listen(path)
		if err != nil {
			t.Fatalf("Listen over a stale socket: %v", err)
		}
		serveOn(t, ln)
		c, err := Dial(path)
		if err != nil {
			t.Fatalf("Dial after replacing a stale socket: %v", err)
		}
		c.Close()
	})

	t.Run("live server refuses a second", func(t *testing.T) {
		dir := t.TempDir()
		path := SocketPath(dir)
		ln, err := Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		serveOn(t, ln)
		_, err = Listen(path)
		wantCode(t, "second Listen", err, khabardar.ECONFLICT)
		if want := "another khabardar serve is using " + dir; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
		c, err := Dial(path) // the first is untouched
		if err != nil {
			t.Fatalf("Dial of the first server after a refused second: %v", err)
		}
		c.Close()
	})

	t.Run("live socket without the lock", func(t *testing.T) {
		// A process listening on the path by other means is live too: the
		// probe refuses what the lock does not.
		dir := t.TempDir()
		path := SocketPath(dir)
		other, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_, err = Listen(path)
		wantCode(t, "Listen over a live socket", err, khabardar.ECONFLICT)
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("the live socket was removed: %v", err)
		}
	})

	t.Run("not a socket", func(t *testing.T) {
		dir := t.TempDir()
		path := SocketPath(dir)
		if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Listen(path)
		wantCode(t, "Listen over a file", err, khabardar.EINVALID)
		if b, _ := os.ReadFile(path); string(b) != "keep me" {
			t.Error("Listen changed a file that is not a socket")
		}
		_, err = Dial(path)
		wantCode(t, "Dial of a file", err, khabardar.EINVALID)
	})

	t.Run("close removes the socket and frees the lock", func(t *testing.T) {
		dir := t.TempDir()
		path := SocketPath(dir)
		ln, err := Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("socket still there after Close: %v", err)
		}
		if err := ln.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		ln2, err := Listen(path)
		if err != nil {
			t.Fatalf("Listen after Close: %v", err)
		}
		ln2.Close()
	})

	t.Run("close leaves another's socket", func(t *testing.T) {
		// Should the file have been replaced (an operator removed it and
		// another process listens there now), Close must not remove it.
		dir := t.TempDir()
		path := SocketPath(dir)
		ln, err := Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(path)
		staleSocket(t, path)
		ln.Close()
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("Close removed a socket it did not make: %v", err)
		}
	})

	t.Run("shutdown removes the socket", func(t *testing.T) {
		s := serve(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.server.Shutdown(ctx)
		if _, err := os.Lstat(s.path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("socket still there after Shutdown: %v", err)
		}
		if _, err := Dial(s.path); !errors.Is(err, ErrNoServer) {
			t.Fatalf("Dial after Shutdown: %v, want ErrNoServer", err)
		}
	})

	t.Run("path too long", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), strings.Repeat("d", maxPathLen))
		_, err := Listen(SocketPath(dir))
		wantCode(t, "Listen", err, khabardar.EINVALID)
	})
}

func TestDial(t *testing.T) {
	t.Run("no socket", func(t *testing.T) {
		_, err := Dial(SocketPath(t.TempDir()))
		if !errors.Is(err, ErrNoServer) || khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
			t.Fatalf("Dial: %v, want ErrNoServer (not_found)", err)
		}
	})

	t.Run("info", func(t *testing.T) {
		s := serve(t)
		info := s.client.Info()
		if info.Protocol != Protocol || info.PID != os.Getpid() || info.DataDir != s.dir || info.KeyID != "test-key" {
			t.Fatalf("Info %+v", info)
		}
	})

	t.Run("another protocol", func(t *testing.T) {
		path := SocketPath(t.TempDir())
		ln, err := Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			json.NewEncoder(w).Encode(Info{Protocol: Protocol + 1, PID: 4242})
		})}
		go hs.Serve(ln)
		defer hs.Close()
		_, err = Dial(path)
		wantCode(t, "Dial", err, khabardar.EUNAVAILABLE)
		if !strings.Contains(err.Error(), "pid 4242") {
			t.Errorf("error %q does not name the server's pid", err)
		}
	})

	t.Run("closed client", func(t *testing.T) {
		s := serve(t)
		s.client.Close()
		wantCode(t, "Ping after Close", s.client.Ping(context.Background()), khabardar.EUNAVAILABLE)
	})

	t.Run("server gone", func(t *testing.T) {
		s := serve(t)
		s.server.Close()
		wantCode(t, "Ping after the server closed", s.client.Ping(context.Background()), khabardar.EUNAVAILABLE)
	})
}
