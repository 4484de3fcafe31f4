package frontend

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestGeneratedUpToDate fails when src/pkmobile.gen.js, src/wire.gen.js or
// src/kinds.gen.js is not what "go generate ./frontend" writes: the website
// would then judge mobile numbers by other rules than the server (the
// phonenumbers version in go.mod), speak another protocol than package
// wire, or offer other kinds than identifier's table.
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
	dir := t.TempDir()
	files := []string{"pkmobile.gen.js", "wire.gen.js", "kinds.gen.js"}
	cmd := exec.Command(goBin, "run", "./gen", "-o", filepath.Join(dir, files[0]), "-wire", filepath.Join(dir, files[1]),
		"-kinds", filepath.Join(dir, files[2]))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./gen: %v\n%s", err, stderr.Bytes())
	}
	for _, name := range files {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("src", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("src/%s is out of date: run go generate ./frontend and commit the result", name)
		}
	}
}
