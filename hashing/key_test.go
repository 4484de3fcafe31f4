package hashing

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "key.json")

	k, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("key dir mode %04o, want 0700", di.Mode().Perm())
	}

	again, created, err := LoadOrCreateKey(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateKey: created=%v err=%v", created, err)
	}
	if again.ID() != k.ID() || !bytes.Equal(again.PublicKey(), k.PublicKey()) || !bytes.Equal(again.SubKey("ip"), k.SubKey("ip")) {
		t.Fatal("a reloaded key differs")
	}
	if err := k.Save(path); err == nil {
		t.Fatal("Save replaced an existing key file")
	}

	secret, _ := os.ReadFile(path)
	for _, s := range []string{k.String(), k.GoString(), k.Fingerprint()} {
		if strings.Contains(string(secret), s) && s != k.ID() {
			t.Fatalf("%q leaks the file's content", s)
		}
	}
	if len(k.ID()) != 16 || strings.Count(k.Fingerprint(), " ") != 15 {
		t.Fatalf("key id %q, fingerprint %q", k.ID(), k.Fingerprint())
	}
}

func TestLoadKeyRejects(t *testing.T) {
	good := filepath.Join(t.TempDir(), "key.json")
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Save(good); err != nil {
		t.Fatal(err)
	}
	content, _ := os.ReadFile(good)

	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by others", string(content), 0o644, "others can read"},
		{"damaged key id", strings.Replace(string(content), k.ID(), "0000000000000000", 1), 0o600, "does not match"},
		{"unknown field", strings.Replace(string(content), "{", `{"extra": 1,`, 1), 0o600, "not a khabardar key file"},
		{"other suite", strings.Replace(string(content), Suite, "P256-SHA256", 1), 0o600, "suite"},
		{"not json", "hello", 0o600, "not a khabardar key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key.json")
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tt.mode)
			_, err := LoadKey(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadKey: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := LoadKey(filepath.Join(t.TempDir(), "absent.json")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("absent key file: %v, want ErrNoKey", err)
	}
}

func TestSubKeys(t *testing.T) {
	k, _ := GenerateKey()
	other, _ := GenerateKey()
	ip, sms := k.SubKey("ip"), k.SubKey("sms-sender")
	if bytes.Equal(ip, sms) || bytes.Equal(ip, other.SubKey("ip")) || len(ip) != 32 {
		t.Fatal("sub-keys are not independent")
	}
	h := k.Keyed("ip")
	if h.Hex([]byte("203.0.113.7")) != k.Keyed("ip").Hex([]byte("203.0.113.7")) {
		t.Fatal("keyed hash is not deterministic")
	}
	if h.Hex([]byte("203.0.113.7")) == k.Keyed("sms-sender").Hex([]byte("203.0.113.7")) {
		t.Fatal("keyed hashes of two purposes agree")
	}
	if len(h.Hex(nil)) != 32 {
		t.Fatal("Hex is not 16 bytes")
	}
}
