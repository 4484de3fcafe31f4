package e2e

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The binary's side of the command-line tests; cmd/khabardar's
// cli_help_test.go tests the command tree in-process.

// TestHelpHidesSecrets: a secret in the environment is not printed as a
// flag's default.
func TestHelpHidesSecrets(t *testing.T) {
	c := newCLI(t, "")
	c.env = append(c.env, "KHABARDAR_API_KEY=khb_sentinel-secret-value")
	for _, cmd := range []string{"check", "verify"} {
		if out := c.ok(cmd, "--help"); strings.Contains(out, "sentinel-secret") {
			t.Errorf("%s --help prints the API key from the environment", cmd)
		}
	}
}

// TestSingleDashFlags: a single-dash long flag of earlier releases still
// works in the binary (cmd/khabardar's TestSingleDashFlags tests the
// rewriting).
func TestSingleDashFlags(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	if out := c.ok("listings", "list", "-json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("listings list -json: %q", out)
	}
}

// versionInfo is what version --json prints (cmd/khabardar's versionInfo).
type versionInfo struct {
	Version      string `json:"version"`
	Go           string `json:"go"`
	KeyFormat    int    `json:"key_file_format"`
	RecordFormat int    `json:"record_format"`
	Suite        string `json:"suite"`
}

func TestVersion(t *testing.T) {
	c := newCLI(t, "")
	var v versionInfo
	if err := json.Unmarshal([]byte(c.ok("version", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Version == "" || v.Go != runtime.Version() || v.KeyFormat != 1 || v.RecordFormat != 2 || v.Suite != "ristretto255-SHA512" {
		t.Errorf("version --json: %+v", v)
	}
	text := c.ok("version")
	for _, want := range []string{`(?m)^khabardar: +\S`, `(?m)^commit: +\S`, `(?m)^go: +` + regexp.QuoteMeta(runtime.Version()), `(?m)^key file format: +1 `, `(?m)^record format: +2$`} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("version does not match %s:\n%s", want, text)
		}
	}
}

func TestCompletion(t *testing.T) {
	c := newCLI(t, "")
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if out := c.ok("completion", sh); !strings.Contains(out, "khabardar") || len(out) < 1000 {
			t.Errorf("completion %s: %d bytes", sh, len(out))
		}
	}
	if _, errs, code := c.run("completion", "tcsh"); code != 2 || !strings.Contains(errs, "bash, zsh, fish or powershell") {
		t.Errorf("completion tcsh: exit %d, %q", code, errs)
	}
	// What bash completion asks the binary for.
	out := c.ok("__complete", "lis")
	if !strings.Contains(out, "listings") {
		t.Errorf("__complete: %q", out)
	}
}

// TestServeBindsFirst: a port in use fails the start before anything is
// created, and says which flag to change.
func TestServeBindsFirst(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"http port", []string{"--addr", taken.Addr().String(), "--metrics-addr", "off"}, "--addr"},
		{"metrics port", []string{"--addr", "127.0.0.1:0", "--metrics-addr", taken.Addr().String()}, "--metrics-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, "")
			_, errs, code := c.run(append([]string{"serve"}, tt.args...)...)
			if code != 1 || !strings.Contains(errs, tt.want) || !strings.Contains(errs, taken.Addr().String()) {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if strings.Contains(errs, "created a new server key") || strings.Contains(errs, `"serving"`) {
				t.Errorf("logged as if started: %s", errs)
			}
			if _, err := os.Stat(c.data); !os.IsNotExist(err) {
				t.Errorf("the data directory was created: %v", err)
			}
		})
	}
}

// TestNoKeyWithoutStore: with Redis unreachable, a new --key-file is not
// created.
func TestNoKeyWithoutStore(t *testing.T) {
	c := newCLI(t, "redis://"+freeAddr(t)+"/0") // nothing listens there
	keyFile := filepath.Join(c.dir, "keys", "key.json")
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "off"}, {"listings", "list"}} {
		if _, errs, code := c.run(args...); code != 1 {
			t.Fatalf("%s: exit %d, %s", args, code, errs)
		}
		if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
			t.Fatalf("%s created the key file: %v", args, err)
		}
	}
}

// TestLayoutMismatchAdvice: a store whose key file was moved away says how
// to recover, and the new key is not saved.
func TestLayoutMismatchAdvice(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	c.ok("listings", "add", c.write("one.yaml", checkListingOne))
	keyFile := filepath.Join(c.data, "key.json")
	if err := os.Rename(keyFile, keyFile+".moved"); err != nil {
		t.Fatal(err)
	}
	_, errs, code := c.run("listings", "list")
	for _, want := range []string{"--key-file", "new --data directory", "There is no key file at " + keyFile} {
		if !strings.Contains(errs, want) {
			t.Errorf("the error lacks %q: %s", want, errs)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Fatalf("a new key file was saved over the store: %v", err)
	}
	// Following the advice works.
	c.ok("listings", "list", "--key-file", keyFile+".moved")
}

// TestCatalogueMessages: errors name the file once and point to the IDs;
// listings list shows every flag.
func TestCatalogueMessages(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	c.ok("listings", "add", c.write("one.yaml", checkListingOne))
	missing := filepath.Join(c.dir, "nope.csv")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"ingest", "--listing", "data-shop", missing}, "khabardar ingest: open " + missing + ": no such file or directory\n"},
		{"unknown listing, ingest", []string{"ingest", "--listing", "nope", missing}, `no listing "nope"; run 'khabardar listings list'`},
		{"unknown listing, remove", []string{"listings", "remove", "nope"}, `no listing "nope"; run 'khabardar listings list'`},
		{"unknown listing, flag", []string{"listings", "flag", "nope", "--fabricated"}, `no listing "nope"; run 'khabardar listings list'`},
		{"unknown API key", []string{"apikeys", "revoke", "ak_00000000"}, `no API key "ak_00000000"; run 'khabardar apikeys list'`},
		{"a value for an API key", []string{"apikeys", "revoke", "0300-7654321"}, "no API key (not repeated: it may be an identifier)"},
		{"a value for a listing", []string{"listings", "remove", "0300-7654321"}, "no listing (not repeated: it may be an identifier)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := c.run(tt.args...)
			if code != 1 || !strings.Contains(errs, tt.want) || strings.Contains(errs, "ingest: ingest:") {
				t.Errorf("exit %d, stderr %q; want %q", code, errs, tt.want)
			}
		})
	}
	c.ok("listings", "flag", "data-shop", "--fabricated", "--sensitive")
	out := c.ok("listings", "list")
	header, row, _ := strings.Cut(out, "\n")
	if !strings.Contains(header, "FABRICATED") || !strings.Contains(header, "SENSITIVE") || !strings.Contains(row, "no        yes         yes") {
		t.Errorf("listings list:\n%s", out)
	}
}
