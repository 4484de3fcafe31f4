// Package alerts tells people when a new listing holds an identifier they
// watch. It holds what is specific to alerts and framework-free: sealing
// subscribers' numbers at rest (Sealer) and the alert texts; the store
// keeps subscribers, watches and the outbox (khabardar.AlertStore), the SMS
// channel takes subscriptions, and serve's worker sends.
//
// What is kept of a subscriber: the keyed hash of their number (to find
// them on STOP), the number sealed here (an SMS cannot be sent to a hash),
// their language, and each watch as the VOPRF output's bucket prefix and
// suffix. Nothing else: no IP, no device, no time finer than a day.
package alerts

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"

	"github.com/khabardar/khabardar/identifier"
)

// MinSecretLen is the shortest alerts secret accepted: 32 bytes, as
// KHABARDAR_ALERTS_SECRET gives it (e.g. openssl rand -base64 32 is 44
// characters).
const MinSecretLen = 32

// ErrSecret is returned for an alerts secret shorter than MinSecretLen.
var ErrSecret = errors.New("alerts: the alerts secret must be at least 32 bytes (e.g. openssl rand -base64 32)")

// ErrSealed is returned by Open for a sealed number that does not open:
// another key, another subscriber, or damaged. It says nothing of the value.
var ErrSealed = errors.New("alerts: a sealed number does not open under this key for this subscriber")

// hkdfInfo names the key derived from the alerts secret: a new purpose
// would be a new info string, never the same key.
const hkdfInfo = "khabardar alerts: subscriber numbers v1"

// Sealer seals subscribers' numbers with XChaCha20-Poly1305 under a key
// derived by HKDF-SHA256 from the alerts secret, a secret of its own (not
// the VOPRF key, which salts every stored hash and must never leave the
// server). The subscriber's ID is the associated data: a sealed number
// opens only for the subscriber it was sealed for.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the sealing key from secret. ErrSecret if it is short.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) < MinSecretLen {
		return nil, ErrSecret
	}
	key := make([]byte, chacha20poly1305.KeySize)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(hkdfInfo)), key); err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal seals the canonical form of number for subscriber id: a random
// 24-byte nonce, then the ciphertext and tag. Each call's output differs.
func (s *Sealer) Seal(id string, number identifier.ID) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(number.Canonical())+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return s.aead.Seal(nonce, nonce, number.Canonical(), []byte(id))
}

// Open returns the number sealed for subscriber id, as a redacting
// identifier.ID. ErrSealed if it does not open or is no mobile number.
func (s *Sealer) Open(id string, sealed []byte) (identifier.ID, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return identifier.ID{}, ErrSealed
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return identifier.ID{}, ErrSealed
	}
	number, err := identifier.Parse(identifier.Phone, identifier.Raw(plain))
	clear(plain)
	if err != nil {
		return identifier.ID{}, ErrSealed
	}
	return number, nil
}
