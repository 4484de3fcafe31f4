package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/redisstore"
)

var (
	secretRE = regexp.MustCompile(`khb_[A-Za-z0-9_-]{43}`)
	keyIDRE  = regexp.MustCompile(`\bak_[0-9a-f]{8}\b`)
)

type listedKey struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Rate     string     `json:"rate"`
	MaxBatch int        `json:"max_batch"`
	Created  time.Time  `json:"created"`
	Revoked  *time.Time `json:"revoked"`
}

func (c *cli) apiKeys() map[string]listedKey {
	c.t.Helper()
	out := c.ok("apikeys", "list", "--json")
	var ks []listedKey
	if err := json.Unmarshal([]byte(out), &ks); err != nil {
		c.t.Fatalf("apikeys list --json: %v\n%s", err, out)
	}
	m := map[string]listedKey{}
	for _, k := range ks {
		m[k.ID] = k
	}
	return m
}

// keyFile is where the test's server key is.
func (c *cli) keyFile() string {
	for _, e := range c.env {
		if v, ok := strings.CutPrefix(e, "KHABARDAR_KEY_FILE="); ok {
			return v
		}
	}
	return filepath.Join(c.data, "key.json")
}

// storeBytes returns every key and value in the test's store, concatenated.
func (c *cli) storeBytes() []byte {
	c.t.Helper()
	var all bytes.Buffer
	if u := storeURL(c); u != "" {
		for k, v := range redistest.Dump(c.t, u) {
			all.WriteString(k)
			all.Write(v)
		}
		return all.Bytes()
	}
	db, err := bolt.Open(filepath.Join(c.data, boltstore.FileName), 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	var walk func(b *bolt.Bucket)
	walk = func(b *bolt.Bucket) {
		b.ForEach(func(k, v []byte) error {
			all.Write(k)
			if v == nil {
				walk(b.Bucket(k))
			}
			all.Write(v)
			return nil
		})
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			all.Write(name)
			walk(b)
			return nil
		})
	})
	return all.Bytes()
}

// openStore opens the test's store in this process, as serve would.
func (c *cli) openStore() khabardar.Store {
	c.t.Helper()
	key, err := hashing.LoadKey(c.keyFile())
	if err != nil {
		c.t.Fatal(err)
	}
	ctx := context.Background()
	var s khabardar.Store
	if u := storeURL(c); u != "" {
		s, err = redisstore.Open(ctx, u)
	} else {
		s, err = boltstore.Open(c.data)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	if err := s.Init(ctx, khabardar.Layout{KeyID: key.ID(), BucketBits: DefaultBucketBits, SuffixBytes: DefaultSuffixBytes}); err != nil {
		c.t.Fatal(err)
	}
	return s
}

func TestAPIKeys(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		if out := c.ok("apikeys", "list"); !strings.Contains(out, "no API keys") {
			t.Fatalf("list of none: %q", out)
		}
		out := c.ok("apikeys", "create", "--name", "Dawn investigations desk", "--rate", "500-M", "--max-batch", "250")
		secret, id := secretRE.FindString(out), keyIDRE.FindString(out)
		if secret == "" || id == "" {
			t.Fatalf("create printed no secret or ID:\n%s", out)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(secret, "khb_")); err != nil || len(raw) != 32 {
			t.Fatalf("secret is not 32 bytes of base64url: %v", err)
		}
		if !strings.Contains(out, "shown only now") {
			t.Fatalf("create does not warn that the secret is shown once:\n%s", out)
		}
		out2 := c.ok("apikeys", "create", "--name", "Partner NGO")
		secret2, id2 := secretRE.FindString(out2), keyIDRE.FindString(out2)
		if secret2 == secret || id2 == id {
			t.Fatal("two keys share a secret or an ID")
		}

		table := c.ok("apikeys", "list")
		for _, want := range []string{id, "Dawn investigations desk", "500-M", "250", id2, "Partner NGO", DefaultAPIKeyRate, "1000"} {
			if !strings.Contains(table, want) {
				t.Errorf("list lacks %q:\n%s", want, table)
			}
		}
		ks := c.apiKeys()
		if k := ks[id]; k.Name != "Dawn investigations desk" || k.Rate != "500-M" || k.MaxBatch != 250 || k.Revoked != nil ||
			time.Since(k.Created) > time.Minute {
			t.Fatalf("listed key %+v", k)
		}
		if len(ks) != 2 {
			t.Fatalf("%d keys listed, want 2", len(ks))
		}

		// Revoke: shown in both lists; again is fine; an unknown ID is not.
		if out := c.ok("apikeys", "revoke", id); !strings.Contains(out, "revoked API key "+id) {
			t.Fatalf("revoke: %q", out)
		}
		c.ok("apikeys", "revoke", id)
		if _, stderr, code := c.run("apikeys", "revoke", "ak_00000000"); code != 1 || !strings.Contains(stderr, "ak_00000000") {
			t.Fatalf("revoke of an unknown key: exit %d, %q", code, stderr)
		}
		ks = c.apiKeys()
		if ks[id].Revoked == nil || ks[id2].Revoked != nil {
			t.Fatalf("after revoke: %+v, %+v", ks[id], ks[id2])
		}
		table = c.ok("apikeys", "list")
		for _, line := range strings.Split(table, "\n") {
			if strings.HasPrefix(line, id) && strings.Contains(line, " - ") {
				t.Fatalf("revoked key shows no revocation: %q", line)
			}
			if strings.HasPrefix(line, id2) && !strings.Contains(line, " - ") {
				t.Fatalf("live key shows a revocation: %q", line)
			}
		}

		// The store finds each key by the keyed hash of its secret, as the
		// server will, and keeps nothing else of the secret.
		key, err := hashing.LoadKey(c.keyFile())
		if err != nil {
			t.Fatal(err)
		}
		s := c.openStore()
		for sec, want := range map[string]string{secret: id, secret2: id2} {
			hash := key.Keyed("api-key").Sum([]byte(sec))
			got, err := s.APIKeyByHash(context.Background(), hash)
			if err != nil || got.ID != want {
				t.Fatalf("APIKeyByHash: %v, %v; want %s", got, err, want)
			}
			if (got.ID == id) != (got.Revoked != nil) {
				t.Fatalf("%s: Revoked %v", got.ID, got.Revoked)
			}
			// The listings must not show the hash in any form.
			for _, form := range []string{hex.EncodeToString(hash), base64.StdEncoding.EncodeToString(hash), base64.RawURLEncoding.EncodeToString(hash)} {
				if strings.Contains(c.output.String(), form) {
					t.Fatalf("command output holds a key's hash")
				}
			}
		}
		s.Close()
		dump := c.storeBytes()
		// Self-check: the dump holds the keys, hash and all.
		h := key.Keyed("api-key").Sum([]byte(secret))
		if !bytes.Contains(dump, []byte(id)) || !(bytes.Contains(dump, []byte(hex.EncodeToString(h))) || bytes.Contains(dump, []byte(base64.StdEncoding.EncodeToString(h)))) {
			t.Fatal("self-check: the store dump lacks the key or its hash")
		}
		for _, sec := range []string{secret, secret2} {
			for _, form := range []string{sec, strings.TrimPrefix(sec, "khb_")} {
				if bytes.Contains(dump, []byte(form)) {
					t.Fatalf("the store holds a secret")
				}
			}
			raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sec, "khb_"))
			if bytes.Contains(dump, raw) || bytes.Contains(dump, []byte(hex.EncodeToString(raw))) {
				t.Fatalf("the store holds a secret's bytes")
			}
		}
		// Each secret was printed exactly once, by create.
		for _, sec := range []string{secret, secret2} {
			if n := strings.Count(c.output.String(), sec); n != 1 {
				t.Fatalf("a secret was printed %d times, want once", n)
			}
		}
	})
}

func TestAPIKeysCreateJSON(t *testing.T) {
	c := newCLI(t, "")
	var k struct {
		listedKey
		Secret string `json:"secret"`
		Hash   any    `json:"hash"`
	}
	out := c.ok("apikeys", "create", "--name", "Scripted", "--json")
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !secretRE.MatchString(k.Secret) || !keyIDRE.MatchString(k.ID) || k.Name != "Scripted" || k.MaxBatch != DefaultAPIKeyMaxBatch || k.Hash != nil {
		t.Fatalf("create --json: %s", out)
	}
}

func TestAPIKeysUsage(t *testing.T) {
	c := newCLI(t, "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no name", []string{"create"}, "--name is required"},
		{"blank name", []string{"create", "--name", "  "}, "--name is required"},
		{"control characters", []string{"create", "--name", "a\x1b[2Jb"}, "control characters"},
		{"long name", []string{"create", "--name", strings.Repeat("n", 101)}, "at most 100"},
		{"bad rate", []string{"create", "--name", "x", "--rate", "lots"}, "--rate"},
		{"unknown period", []string{"create", "--name", "x", "--rate", "100-W"}, "--rate"},
		{"zero rate", []string{"create", "--name", "x", "--rate", "0-H"}, "--rate"},
		{"zero batch", []string{"create", "--name", "x", "--max-batch", "0"}, "--max-batch"},
		{"batch over the cap", []string{"create", "--name", "x", "--max-batch", "1001"}, "--max-batch"},
		{"stray argument", []string{"create", "--name", "x", "extra"}, "unexpected"},
		{"revoke without ID", []string{"revoke"}, "exactly one"},
		{"revoke two", []string{"revoke", "ak_1", "ak_2"}, "exactly one"},
		{"list with an argument", []string{"list", "x"}, "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := c.run(append([]string{"apikeys"}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tt.want)
			}
		})
	}
	// Nothing was created by the refused commands.
	if out := c.ok("apikeys", "list"); !strings.Contains(out, "no API keys") {
		t.Fatalf("list after refused creates: %q", out)
	}
}
