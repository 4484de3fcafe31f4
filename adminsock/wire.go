package adminsock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// Protocol is the version of the admin protocol. A client refuses a server
// that speaks another (an older serve still running after an upgrade) rather
// than guess at its answers.
const Protocol = 1

// Body limits. A request is JSON; AddExposures carries its batch as packed
// records (EncodeRecords) in base64, at most 57 bytes an exposure in the
// largest layout, so 64 MiB holds a million of them: ten times ingest's
// default batch. Everything else is a listing, an ID or a hash.
const (
	maxBody          = 1 << 20
	maxExposuresBody = 64 << 20
	// maxResponse bounds what the client reads back: a bucket or the
	// catalogue, far below it.
	maxResponse = 256 << 20
)

// Method names: the path of each is "/v1/" + name.
const (
	mInfo           = "info"
	mInit           = "init"
	mPutListing     = "put-listing"
	mListing        = "listing"
	mListings       = "listings"
	mRemoveListing  = "remove-listing"
	mAddExposures   = "add-exposures"
	mRecount        = "recount"
	mBucket         = "bucket"
	mPing           = "ping"
	mPutAPIKey      = "put-api-key"
	mAPIKeyByHash   = "api-key-by-hash"
	mAPIKeys        = "api-keys"
	mRevokeAPIKey   = "revoke-api-key"
	mSMSLanguage    = "sms-language"
	mSetSMSLanguage = "set-sms-language"
	mFirstSeen      = "first-seen"
	mMatchWatches   = "match-watches"
	mAlertStats     = "alert-stats"
	mSendAlerts     = "send-alerts"
)

// Info describes the serving process, for "via the running server (pid N)".
// The server fills in Protocol and PID; the rest is what serve gives it.
type Info struct {
	Protocol int       `json:"protocol"`
	PID      int       `json:"pid"`
	DataDir  string    `json:"data_dir,omitempty"`
	KeyID    string    `json:"key_id,omitempty"`
	Version  string    `json:"version,omitempty"` // the serving binary's
	Addr     string    `json:"addr,omitempty"`    // the public API's listen address
	Started  time.Time `json:"started,omitzero"`
}

// Requests. Every field a method needs is named; an unknown one is refused.
type (
	noRequest   struct{}
	initRequest struct {
		Layout khabardar.Layout `json:"layout"`
	}
	listingRequest struct {
		Listing *khabardar.Listing `json:"listing"`
	}
	idRequest struct {
		ID string `json:"id"`
	}
	exposuresRequest struct {
		ListingID string `json:"listing_id"`
		Records   []byte `json:"records"` // EncodeRecords, base64
	}
	bucketRequest struct {
		Prefix string `json:"prefix"`
	}
	apiKeyRequest struct {
		Key *apiKey `json:"key"`
	}
	hashRequest struct {
		Hash []byte `json:"hash"`
	}
	smsLanguageRequest struct {
		SenderHash string        `json:"sender_hash"`
		Lang       string        `json:"lang,omitempty"`
		Retain     time.Duration `json:"retain_ns"`
	}
	firstSeenRequest struct {
		Hash string        `json:"hash"`
		TTL  time.Duration `json:"ttl_ns"`
	}
)

// Responses. An error is errorResponse, with a status other than 200.
type (
	listingsResponse struct {
		Listings []*khabardar.Listing `json:"listings"`
	}
	bucketResponse struct {
		Entries []entry `json:"entries"`
	}
	entry struct {
		Suffix   []byte   `json:"suffix"`
		Listings []string `json:"listings"`
	}
	apiKeysResponse struct {
		Keys []*apiKey `json:"keys"`
	}
	langResponse struct {
		Lang string `json:"lang"`
	}
	firstSeenResponse struct {
		New bool `json:"new"`
	}
	errorResponse struct {
		Error wireError `json:"error"`
	}
	wireError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// apiKey is khabardar.APIKey with its hash, which the domain type keeps out
// of JSON. It has no field for a secret: the CLI hashes the secret it shows
// once, and only the hash crosses the socket.
type apiKey struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Hash     []byte     `json:"hash"`
	Rate     string     `json:"rate"`
	MaxBatch int        `json:"max_batch"`
	Created  time.Time  `json:"created"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

func toWireKey(k *khabardar.APIKey) *apiKey {
	if k == nil {
		return nil
	}
	return &apiKey{ID: k.ID, Name: k.Name, Hash: k.Hash, Rate: k.Rate, MaxBatch: k.MaxBatch, Created: k.Created, Revoked: k.Revoked}
}

func fromWireKey(k *apiKey) *khabardar.APIKey {
	if k == nil {
		return nil
	}
	return &khabardar.APIKey{ID: k.ID, Name: k.Name, Hash: k.Hash, Rate: k.Rate, MaxBatch: k.MaxBatch, Created: k.Created, Revoked: k.Revoked}
}

// decodeStrict reads exactly one JSON object from r into v, refusing
// unknown fields and anything after the object. Its errors are EINVALID and
// name no value: they say where the body is wrong, never what it held.
func decodeStrict(r io.Reader, v any) error {
	// The decoder would buffer the whole value anyway; reading it first
	// lets the body's first byte be checked.
	b, err := io.ReadAll(r)
	if err != nil {
		return decodeError(err)
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] != '{' {
		return khabardar.Errorf(khabardar.EINVALID, "admin request: the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return khabardar.Errorf(khabardar.EINVALID, "admin request: more than one JSON value in the body")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooBig    *http.MaxBytesError
		badBase64 base64.CorruptInputError
	)
	switch {
	case errors.As(err, &tooBig):
		return khabardar.Errorf(khabardar.EINVALID, "admin request: the body is over %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return khabardar.Errorf(khabardar.EINVALID, "admin request: the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return khabardar.Errorf(khabardar.EINVALID, "admin request: the body ends early")
	case errors.As(err, &syntax):
		return khabardar.Errorf(khabardar.EINVALID, "admin request: not JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		return khabardar.Errorf(khabardar.EINVALID, "admin request: field %q has the wrong type", typeErr.Field)
	case errors.As(err, &badBase64):
		return khabardar.Errorf(khabardar.EINVALID, "admin request: a byte field is not base64")
	}
	// DisallowUnknownFields' error quotes the field's name: it came from
	// the request, so it is not repeated.
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return khabardar.Errorf(khabardar.EINVALID, "admin request: an unknown field")
	}
	return khabardar.Errorf(khabardar.EINVALID, "admin request: the body is not a valid request")
}

// EncodeRecords packs a batch for AddExposures: per exposure, one byte of
// kind, one of prefix length, the prefix, one of suffix length, the suffix.
// Lengths are carried, not assumed, so that the store (which knows the
// layout) judges a malformed exposure exactly as it would in process.
// EINVALID for a prefix or suffix over 255 bytes, naming the exposure by
// index only.
func EncodeRecords(batch []khabardar.Exposure) ([]byte, error) {
	n := 0
	for i, e := range batch {
		if len(e.Prefix) > 255 || len(e.Suffix) > 255 {
			return nil, khabardar.Errorf(khabardar.EINVALID, "exposure %d: the prefix or suffix is over 255 bytes", i)
		}
		n += 3 + len(e.Prefix) + len(e.Suffix)
	}
	out := make([]byte, 0, n)
	for _, e := range batch {
		out = append(out, byte(e.Kind), byte(len(e.Prefix)))
		out = append(out, e.Prefix...)
		out = append(out, byte(len(e.Suffix)))
		out = append(out, e.Suffix...)
	}
	return out, nil
}

// DecodeRecords unpacks EncodeRecords' output. EINVALID if it is cut short;
// the exposures' values are left for the store to judge.
func DecodeRecords(b []byte) ([]khabardar.Exposure, error) {
	var out []khabardar.Exposure
	// A record is at least 3 bytes: this bounds the allocation by the input.
	out = make([]khabardar.Exposure, 0, len(b)/3)
	prefixes := map[string]string{} // one string per distinct prefix: a batch repeats them
	for i := 0; len(b) > 0; i++ {
		if len(b) < 2 || len(b) < 2+int(b[1])+1 {
			return nil, khabardar.Errorf(khabardar.EINVALID, "admin request: exposure record %d is cut short", i)
		}
		kind, plen := identifier.Kind(b[0]), int(b[1])
		p := b[2 : 2+plen]
		slen := int(b[2+plen])
		rest := b[3+plen:]
		if len(rest) < slen {
			return nil, khabardar.Errorf(khabardar.EINVALID, "admin request: exposure record %d is cut short", i)
		}
		prefix, ok := prefixes[string(p)]
		if !ok {
			prefix = string(p)
			prefixes[prefix] = prefix
		}
		out = append(out, khabardar.Exposure{Prefix: prefix, Suffix: rest[:slen:slen], Kind: kind})
		b = rest[slen:]
	}
	return out, nil
}
