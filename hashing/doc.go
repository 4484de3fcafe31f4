// Package hashing turns canonical identifiers into keyed hashes with the RFC
// 9497 VOPRF, suite ristretto255-SHA512, and holds the server key they are
// keyed with. It is the only package that touches a group: every crypto line
// of Khabardar is here.
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
// Two implementations, one set of bytes. circl's oprf is the reference: it
// derives the key and stays in the tests and benchmarks. What the server
// and the Go clients run is the fast path (group.go, dleq.go): the same
// protocol over gtank/ristretto255 (ristretto255 on filippo.io/edwards25519's
// assembly field arithmetic), using the cheapest safe multiplication for
// each step. Constant time wherever a secret is a scalar: the key k (k·Cᵢ),
// the proof's nonce r (r·G from a fixed-base table, r·M), and the client's
// blinds (rᵢ·H(xᵢ), rᵢ⁻¹·Dᵢ). Variable time only where every input is on the
// wire already: the composites M = Σ dᵢ·Cᵢ and Z = Σ dᵢ·Dᵢ, and all of the
// client's proof check (s·G + c·pk, s·M + c·Z). It costs a single-element
// evaluation with proof about half of circl's CPU, and a client's blind,
// proof check and finalize about half; docs/benchmarks.md has the figures.
// The RFC's test vectors (proofs included, byte for byte), a differential
// test against circl on random batches of 1 to 100, and fuzzers of the
// decoders hold the two together.
//
// One master secret, kept in a key file readable only by its owner, derives
// the VOPRF key and every other key (keyed hashes of client IPs and SMS
// senders) with HKDF, so one file is all an operator backs up and rotates.
package hashing
