package wire

// Limits of the public API.

// MaxBatchLimit caps every caller's batch, API keys' included: it bounds the
// body the server reads (EvaluateBodyLimit(MaxBatchLimit) ≈ 56 KB) and the
// CPU one request can take (about a core for 60 ms). /v1/config publishes
// the caller's own max_batch, at most this.
const MaxBatchLimit = 1000

// EvaluateBodyLimit is the largest evaluation body accepted from a caller
// whose max batch is maxBatch: 512 bytes for the object and key_id, and 56
// per element (43 characters of base64url, quotes, a comma and room for
// indentation).
func EvaluateBodyLimit(maxBatch int) int { return 512 + 56*maxBatch }

// The layouts a server may publish in /v1/config (khabardar.Layout.Validate):
// bucket_bits from MinBucketBits to MaxBucketBits in steps of BitsPerHexDigit,
// suffix_bytes from MinSuffixBytes to MaxSuffixBytes. A bucket prefix is
// bucket_bits/BitsPerHexDigit lowercase hex digits
// (khabardar.Layout.PrefixLen).
const (
	MinBucketBits   = 4
	MaxBucketBits   = 32
	BitsPerHexDigit = 4
	MinSuffixBytes  = 8
	MaxSuffixBytes  = 32
)

// DefaultMaxBucketBits is the most bucket bits a client (the Go client and
// the website) accepts from a server unless told otherwise: the prefix is
// what the server learns about each identifier, so its length is not the
// server's to choose. A 16-bit prefix is shared by about 4.5×10⁸ / 65,536 ≈
// 6,900 possible mobile numbers.
const DefaultMaxBucketBits = 16

// MaxKeyIDLen is the longest key_id a client accepts: printable ASCII
// without spaces, 1 to MaxKeyIDLen characters.
const MaxKeyIDLen = 64
