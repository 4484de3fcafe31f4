package khabardar_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSealedImports: each outside framework stays in the one package that
// adapts it, so the rest of the code depends on our types, not theirs.
// The group libraries (circl, gtank/ristretto255, filippo.io/edwards25519) only in
// hashing; fiber and fasthttp only in api. Tests elsewhere may not reach for
// them either.
func TestSealedImports(t *testing.T) {
	sealed := []struct{ prefix, only string }{
		{"github.com/cloudflare/circl", "hashing"},
		{"filippo.io/edwards25519", "hashing"},
		{"github.com/gtank/ristretto255", "hashing"},
		{"github.com/bwesterb/go-ristretto", "hashing"},
		{"github.com/gofiber/fiber", "api"},
		{"github.com/valyala/fasthttp", "api"},
	}
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == ".git" || n == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, s := range sealed {
				if strings.HasPrefix(path, s.prefix) && filepath.Dir(p) != s.only {
					t.Errorf("%s imports %s: only package %s may", p, path, s.only)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read only %d Go files", files)
	}
}
