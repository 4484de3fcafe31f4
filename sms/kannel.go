package sms

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// ValidSecret reports whether got is the shared secret want, for gateways
// that cannot sign their requests (a Kannel sms-service passes it in its
// get-url). It compares SHA-256 digests in constant time, so neither the
// secret's bytes nor its length show in the timing; an empty want is never
// matched, so an unset secret refuses every request.
func ValidSecret(want, got string) bool {
	if want == "" {
		return false
	}
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(w[:], g[:]) == 1
}

// KannelCoding is the X-Kannel-Coding header value an sms-service reply
// needs: 2 (UCS-2) for a UCS2 reply, 0 (GSM 7-bit) otherwise.
func (r Reply) KannelCoding() string {
	if r.UCS2 {
		return "2"
	}
	return "0"
}

// ValidKannelID reports whether id has the form of the message ID a Kannel
// sms-service passes with %I (its internal message ID): a UUID, 8-4-4-4-12
// hex digits. Kannel sends the same ID again when it retries a request
// (http-request-retry), so Service.Replayed answers it once.
func ValidKannelID(id string) bool {
	parts := strings.Split(id, "-")
	if len(parts) != 5 {
		return false
	}
	for i, n := range []int{8, 4, 4, 4, 12} {
		if len(parts[i]) != n || !isHex(parts[i]) {
			return false
		}
	}
	return true
}
