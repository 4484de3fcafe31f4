package hashing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cloudflare/circl/oprf"
	"github.com/gtank/ristretto255"
	"golang.org/x/crypto/hkdf"
)

// KeyFileFormat is the version of the key file this build reads and writes.
const KeyFileFormat = keyFileFormat

// Suite is the RFC 9497 ciphersuite, as /v1/config names it.
const Suite = "ristretto255-SHA512"

var suite = oprf.SuiteRistretto255

const (
	masterBytes   = 32
	keyFileFormat = 1
	// voprfKeyInfo is RFC 9497's DeriveKeyPair info. Changing it changes every hash.
	voprfKeyInfo = "khabardar voprf key v1"
)

// Key is the server key: a master secret and the VOPRF key derived from it.
// It never prints its secret.
type Key struct {
	id      string
	created time.Time
	master  []byte
	pub     []byte
	sk      *ristretto255.Scalar  // the VOPRF key, for the fast path
	pk      *publicKey            // pub, decoded, with its composite seed
	server  oprf.VerifiableServer // circl's reference, for tests and benchmarks
}

// GenerateKey makes a new key from crypto/rand.
func GenerateKey() (*Key, error) {
	master := make([]byte, masterBytes)
	if _, err := rand.Read(master); err != nil {
		return nil, err
	}
	return newKey(master, time.Now().UTC().Truncate(time.Second))
}

func newKey(master []byte, created time.Time) (*Key, error) {
	if len(master) != masterBytes {
		return nil, fmt.Errorf("hashing: master secret is %d bytes, want %d", len(master), masterBytes)
	}
	seed := derive(master, "voprf-seed", 32)
	priv, err := oprf.DeriveKey(suite, oprf.VerifiableMode, seed, []byte(voprfKeyInfo))
	if err != nil {
		return nil, fmt.Errorf("hashing: derive VOPRF key: %w", err)
	}
	return keyFrom(priv, master, created)
}

// keyFrom makes a Key of a circl private key: the reference server and the
// fast path's scalar and public key.
func keyFrom(priv *oprf.PrivateKey, master []byte, created time.Time) (*Key, error) {
	pub, err := priv.Public().MarshalBinary()
	if err != nil {
		return nil, err
	}
	skb, err := priv.MarshalBinary()
	if err != nil {
		return nil, err
	}
	sk, err := ristretto255.NewScalar().SetCanonicalBytes(skb)
	if err != nil {
		return nil, fmt.Errorf("hashing: VOPRF key: %w", err)
	}
	pk, ok := newPublicKey(pub)
	if !ok {
		return nil, errors.New("hashing: VOPRF public key does not decode")
	}
	sum := sha256.Sum256(pub)
	return &Key{
		id:      hex.EncodeToString(sum[:8]),
		created: created,
		master:  master,
		pub:     pub,
		sk:      sk,
		pk:      pk,
		server:  oprf.NewVerifiableServer(suite, priv),
	}, nil
}

// ID is the key id: the first 8 bytes of SHA-256 of the public key, in hex.
// Clients send it with every evaluation so a rotated key is noticed.
func (k *Key) ID() string { return k.id }

// Created is when the key was generated.
func (k *Key) Created() time.Time { return k.created }

// PublicKey is the serialized VOPRF public key (32 bytes).
func (k *Key) PublicKey() []byte { return k.pub }

// Fingerprint is SHA-256 of the public key in groups of four hex digits, for
// people to compare what the website shows with what the operator published.
func (k *Key) Fingerprint() string { return Fingerprint(k.pub) }

// Fingerprint formats SHA-256 of a public key as Key.Fingerprint does.
func Fingerprint(pub []byte) string {
	sum := sha256.Sum256(pub)
	h := hex.EncodeToString(sum[:])
	groups := make([]string, 0, len(h)/4)
	for i := 0; i < len(h); i += 4 {
		groups = append(groups, h[i:i+4])
	}
	return strings.Join(groups, " ")
}

// String names the key without its secret.
func (k *Key) String() string { return "hashing.Key{id:" + k.id + "}" }

// GoString names the key without its secret.
func (k *Key) GoString() string { return k.String() }

// SubKey derives a 32-byte key for purpose from the master secret with HKDF
// (RFC 5869, SHA-256). Each purpose ("ip", "sms-sender", …) gets an
// independent key, so one leaking reveals nothing of the others.
func (k *Key) SubKey(purpose string) []byte { return derive(k.master, purpose, 32) }

func derive(master []byte, purpose string, n int) []byte {
	out := make([]byte, n)
	r := hkdf.New(sha256.New, master, nil, []byte("khabardar/v1/"+purpose))
	if _, err := io.ReadFull(r, out); err != nil {
		panic(err) // only past 255·32 bytes
	}
	return out
}

// Keyed returns a keyed hash for purpose: HMAC-SHA256 under SubKey(purpose).
// Use it wherever a counter or record is keyed by a client IP, an SMS sender
// or an API key, so the store holds nothing an attacker can enumerate.
func (k *Key) Keyed(purpose string) *Keyed { return &Keyed{key: k.SubKey(purpose)} }

// Keyed is a keyed hash; see Key.Keyed. Safe for concurrent use.
type Keyed struct {
	key  []byte
	macs sync.Pool // of hash.Hash: HMAC keyed once, reset per use (limiters hash every request)
}

// Sum returns HMAC-SHA256(key, data).
func (h *Keyed) Sum(data []byte) []byte {
	m, _ := h.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, h.key)
	}
	m.Write(data)
	sum := m.Sum(nil)
	m.Reset()
	h.macs.Put(m)
	return sum
}

// Hex returns the first 16 bytes of Sum in hex: enough against collisions for
// counters, short in keys.
func (h *Keyed) Hex(data []byte) string { return hex.EncodeToString(h.Sum(data)[:16]) }

// keyFile is the JSON in a key file.
type keyFile struct {
	Format  int       `json:"khabardar_key"`
	Suite   string    `json:"suite"`
	KeyID   string    `json:"key_id"`
	Created time.Time `json:"created"`
	Master  string    `json:"master_secret"`
}

// ErrNoKey is returned by LoadKey when the key file does not exist.
var ErrNoKey = errors.New("hashing: no key file")

// LoadKey reads a key file. It refuses a file that others can read, as ssh
// does, and one whose key id does not match its secret (a damaged file).
func LoadKey(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: create one with `khabardar keys init`", ErrNoKey, path)
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("hashing: key file %s has mode %04o: others can read the secret; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f keyFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("hashing: key file %s is not a khabardar key file: %v", path, err)
	}
	if f.Format != keyFileFormat || f.Suite != Suite {
		return nil, fmt.Errorf("hashing: key file %s has format %d and suite %q; this build reads format %d, suite %s", path, f.Format, f.Suite, keyFileFormat, Suite)
	}
	master, err := base64.RawURLEncoding.DecodeString(f.Master)
	if err != nil {
		return nil, fmt.Errorf("hashing: key file %s: master_secret is not base64url", path)
	}
	k, err := newKey(master, f.Created)
	if err != nil {
		return nil, err
	}
	if k.id != f.KeyID {
		return nil, fmt.Errorf("hashing: key file %s: key_id %s does not match its secret (derived %s); the file is damaged", path, f.KeyID, k.id)
	}
	return k, nil
}

// Save writes the key to path with mode 0600, creating its directory (0700).
// It never replaces an existing file: rotating a key is a deliberate act.
func (k *Key) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(keyFile{
		Format:  keyFileFormat,
		Suite:   Suite,
		KeyID:   k.id,
		Created: k.created,
		Master:  base64.RawURLEncoding.EncodeToString(k.master),
	}, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("hashing: create key file: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// LoadOrCreateKey loads the key at path, creating it first if there is none.
// created says whether it did.
func LoadOrCreateKey(path string) (k *Key, created bool, err error) {
	k, err = LoadKey(path)
	if !errors.Is(err, ErrNoKey) {
		return k, false, err
	}
	if k, err = GenerateKey(); err != nil {
		return nil, false, err
	}
	if err := k.Save(path); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			k, err = LoadKey(path)
			return k, false, err
		}
		return nil, false, err
	}
	return k, true, nil
}
