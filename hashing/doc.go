// Package hashing turns canonical identifiers into keyed hashes with the RFC
// 9497 VOPRF, suite ristretto255-SHA512, and holds the server key they are
// keyed with. It is the only package that imports circl.
//
// Leaked identifiers are low-entropy (about 4.5×10⁸ Pakistani mobile numbers),
// so a plain or publicly salted hash of one is reversed by enumeration. A
// VOPRF output can only be computed with the server key: it is a keyed hash
// whose key never leaves the server, and a client can still compute the output
// of its own value without revealing it:
//
//	Browser (input x = canonical string)          Server (key k, public key K = k·G)
//	====================================          ==================================
//	r random, B = r·H(x)           ── B ──▶
//	                                               Z = k·B, proof π that
//	                                               log_G K = log_B Z (DLEQ)
//	                               ◀── Z, π ──
//	check π against K (published at /v1/config)
//	y = SHA-512(x ‖ r⁻¹·Z) = SHA-512(x ‖ k·H(x))   (64 bytes)
//	hex(y) = prefix ‖ suffix ‖ …
//	GET /v1/buckets/{prefix}       ── prefix ──▶   entries (suffix, listings)
//	                               ◀── bucket ──
//	match suffix locally
//
// The server learns B (uniformly random to it) and the bucket prefix, which
// about 4.5×10⁸ / 2^bucket_bits mobile numbers share. Ingest computes y
// directly with FullEvaluate; the stored exposure is (prefix, suffix), never y
// whole and never x.
//
// One master secret, kept in a key file readable only by its owner, derives
// the VOPRF key and every other key (keyed hashes of client IPs and SMS
// senders) with HKDF, so one file is all an operator backs up and rotates.
package hashing
