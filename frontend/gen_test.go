package frontend

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestGeneratedUpToDate fails when src/pkmobile.gen.js is not what
// "go generate ./frontend" writes from the phonenumbers version in go.mod:
// the website would then judge mobile numbers by other rules than the server.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to run the generator with")
		}
	}
	cmd := exec.Command(goBin, "run", "./gen", "-o", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run ./gen: %v\n%s", err, stderr.Bytes())
	}
	got, err := os.ReadFile(filepath.Join("src", "pkmobile.gen.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("src/pkmobile.gen.js is out of date: run go generate ./frontend and commit the result")
	}
}
