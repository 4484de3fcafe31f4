package e2e

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/khabardar/khabardar/internal/prereq"
)

// tourBlock is one shell block of the README's tour and the texts its
// output must hold.
type tourBlock struct {
	script string
	expect []string
}

var (
	tourMarker = regexp.MustCompile("(?m)^<!-- tour((?: expect=\"(?:[^\"\\\\]|\\\\.)*\")*) -->\n```sh\n((?s:.*?))```\n")
	tourExpect = regexp.MustCompile(`expect="((?:[^"\\]|\\.)*)"`)
)

// readmeTour returns the README's tour blocks, in order, and the quick
// start's first command (the one that runs the service).
func readmeTour(t *testing.T, readme string) (serve string, blocks []tourBlock) {
	t.Helper()
	_, quick, ok := strings.Cut(readme, "## Quick start: two commands")
	_, quick, ok2 := strings.Cut(quick, "```sh\n")
	if !ok || !ok2 {
		t.Fatal("the README has no quick start block")
	}
	serve, _, _ = strings.Cut(quick, "\n")
	serve, _, _ = strings.Cut(serve, "#") // the comment
	serve = strings.TrimSpace(serve)
	if !strings.HasSuffix(serve, " serve") {
		t.Fatalf("the quick start's first command is %q, not a serve", serve)
	}
	for _, m := range tourMarker.FindAllStringSubmatch(readme, -1) {
		b := tourBlock{script: m[2]}
		for _, e := range tourExpect.FindAllStringSubmatch(m[1], -1) {
			b.expect = append(b.expect, strings.ReplaceAll(e[1], `\"`, `"`))
		}
		blocks = append(blocks, b)
	}
	return serve, blocks
}

// TestReadmeTour runs the README's five-minute tour as a newcomer would,
// on a fresh copy of the repository: the quick start's serve in the
// background, then every tour block in order, verbatim but for the address
// (the tour's 127.0.0.1:8080 becomes a free port, in the blocks and as
// KHABARDAR_ADDR and KHABARDAR_SERVER, so that the test never meets another
// server). A block that exits non-zero, or whose output
// lacks its expected text, fails the test.
func TestReadmeTour(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		prereq.Missing(t, "", "curl is needed to run the README's tour", "apt-get install -y curl")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	serve, blocks := readmeTour(t, string(readme))
	if len(blocks) < 5 {
		t.Fatalf("the README's tour has %d marked blocks", len(blocks))
	}
	dir := t.TempDir()
	copyRepo(t, root, dir)

	addr := freeAddr(t)
	env := []string{
		"PATH=" + filepath.Join(runtime.GOROOT(), "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + t.TempDir(),
		// Where a newcomer's own settings would come from: the address and
		// nothing else, so the blocks run as written.
		"KHABARDAR_ADDR=" + addr,
		"KHABARDAR_SERVER=http://" + addr, // check's and verify's default, 127.0.0.1:8080
		"KHABARDAR_METRICS_ADDR=" + freeAddr(t),
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		} else if out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "env", k).Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			env = append(env, k+"="+string(bytes.TrimSpace(out)))
		}
	}
	t.Logf("tour in %s; the README's 127.0.0.1:8080 is %s here", dir, addr)

	var logs bytes.Buffer
	srv := exec.Command("bash", "-c", serve)
	srv.Dir, srv.Env, srv.Stdout, srv.Stderr = dir, env, &logs, &logs
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // go run's child too
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			syscall.Kill(-srv.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				syscall.Kill(-srv.Process.Pid, syscall.SIGKILL)
				<-done
			}
		})
	}
	defer stop()
	deadline := time.Now().Add(5 * time.Minute) // go run compiles first
	for {
		if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("%s exited: %v\n%s", serve, err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer in 5 minutes:\n%s", serve, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	for i, b := range blocks {
		script := strings.ReplaceAll(b.script, "127.0.0.1:8080", addr)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		cancel()
		t.Logf("block %d:\n%s\n%s", i+1, script, out)
		if err != nil {
			t.Fatalf("tour block %d failed: %v\n%s\n%s", i+1, err, script, out)
		}
		for _, want := range b.expect {
			if !strings.Contains(string(out), want) {
				t.Errorf("tour block %d: the output lacks %q", i+1, want)
			}
		}
	}
	stop()
	if !strings.Contains(logs.String(), `"msg":"serving"`) {
		t.Errorf("serve's log has no start line:\n%s", logs.String())
	}
}

// copyRepo copies the repository at root to dir as a fresh clone holds
// it: without .git, build outputs, dependencies or a data directory.
func copyRepo(t *testing.T, root, dir string) {
	t.Helper()
	skip := map[string]bool{".git": true, "node_modules": true, "khabardar-data": true, "screenshots": true}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if skip[d.Name()] || rel == "khabardar" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("copied only %d files of the repository", n)
	}
	t.Logf("copied %s files", strconv.Itoa(n))
}
