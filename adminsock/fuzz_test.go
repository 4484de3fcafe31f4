package adminsock

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
)

// decodeMessages are the forms of decodeStrict's messages: a message must
// be one of them, so it cannot carry anything of the request.
var decodeMessages = regexp.MustCompile(`^admin request: (` +
	`the body is over \d+ bytes|the body is empty|the body ends early|not JSON at byte \d+|` +
	`field "[A-Za-z0-9_.]*" has the wrong type|a byte field is not base64|an unknown field|` +
	`more than one JSON value in the body|the body is not a valid request|the body must be a JSON object)$`)

// methodNames lists the endpoints in a fixed order, for the fuzzer's index.
func methodNames() []string {
	names := make([]string, 0, len(stubServer().methods))
	for name := range stubServer().methods {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// FuzzDecodeRequest sends arbitrary bodies to every endpoint of a server
// of a store that accepts everything: the handler never panics, answers 200
// or a JSON error, and a refusal of the body says nothing of it.
func FuzzDecodeRequest(f *testing.F) {
	names := methodNames()
	for i, body := range []string{
		`{}`, `{"id":"l1"}`, `{"prefix":"abcd"}`, `{"layout":{"key_id":"k","bucket_bits":16,"suffix_bytes":8}}`,
		`{"listing":{"id":"l1","title":"T","source":{"kind":"website"},"first_seen":"2025-01-02","status":"active","categories":[{"category":"cdr","price_pkr":5}]}}`,
		`{"listing_id":"l1","records":"AQQwMDAwCDAwMDAwMDAx"}`, `{"key":{"id":"ak_1","name":"n","hash":"AAEC","rate":"1-H","max_batch":1,"created":"2025-01-02T03:04:05Z"}}`,
		`{"hash":"AAEC"}`, `{"sender_hash":"00000000000000000000000000000000","lang":"ur","retain_ns":1000000}`,
		`{"hash":"0","ttl_ns":5}`, `{"id":1}`, `{"id":"x"}{}`, `{"listing":null}`, `{"key":null}`, `{"records":"!"}`, `[`, ``, `null`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	s := stubServer()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		name := names[int(which)%len(names)]
		m := s.methods[name]
		req := m.newReq()
		err := decodeStrict(bytes.NewReader(body), req)
		if err != nil {
			if khabardar.ErrorCode(err) != khabardar.EINVALID || !decodeMessages.MatchString(khabardar.ErrorMessage(err)) {
				t.Fatalf("decode error %v is not one of the fixed forms", err)
			}
		} else if !json.Valid(body) || bytes.TrimSpace(body)[0] != '{' {
			t.Fatalf("accepted %q, which is not one JSON object", body)
		}

		rec := httptest.NewRecorder()
		hreq := httptest.NewRequest(http.MethodPost, "/v1/"+name, bytes.NewReader(body))
		hreq.Header.Set("Content-Type", "application/json")
		s.ServeHTTP(rec, hreq)
		switch rec.Code {
		case http.StatusOK:
			if err != nil {
				t.Fatalf("%s answered 200 to a body decodeStrict refuses (%v)", name, err)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s answered %q", name, rec.Body)
			}
		case http.StatusBadRequest:
			var e errorResponse
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != khabardar.EINVALID {
				t.Fatalf("%s refused with %q", name, rec.Body)
			}
		default:
			t.Fatalf("%s answered %d %q", name, rec.Code, rec.Body)
		}
	})
}

// FuzzDecodeRecords checks DecodeRecords on arbitrary bytes: it never
// panics, and what it accepts encodes back to the same bytes.
func FuzzDecodeRecords(f *testing.F) {
	good, _ := EncodeRecords([]khabardar.Exposure{
		{Prefix: "abcd", Suffix: []byte("12345678"), Kind: identifier.CNIC},
		{Prefix: "abcd", Suffix: []byte("87654321"), Kind: identifier.Phone},
		{Prefix: "", Suffix: nil, Kind: 0},
	})
	for _, seed := range [][]byte{nil, good, good[:len(good)-1], {1}, {1, 4, '0'}, {1, 255}, {0, 0, 255}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		batch, err := DecodeRecords(b)
		if err != nil {
			if khabardar.ErrorCode(err) != khabardar.EINVALID {
				t.Fatalf("code %q", khabardar.ErrorCode(err))
			}
			return
		}
		again, err := EncodeRecords(batch)
		if err != nil {
			t.Fatalf("EncodeRecords of a decoded batch: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip changed %x into %x", b, again)
		}
	})
}

// stubServer is a Server of a store that accepts every call.
func stubServer() *Server {
	return NewServer(Config{Store: stubStore{}, Log: slogTo(io.Discard),
		OnBuckets: func([]string) {}, OnListings: func() {}})
}

// stubStore accepts everything and holds nothing.
type stubStore struct{}

func (stubStore) Init(context.Context, khabardar.Layout) error              { return nil }
func (stubStore) PutListing(context.Context, *khabardar.Listing) error      { return nil }
func (stubStore) RemoveListing(context.Context, string) error               { return nil }
func (stubStore) Ping(context.Context) error                                { return nil }
func (stubStore) Close() error                                              { return nil }
func (stubStore) PutAPIKey(context.Context, *khabardar.APIKey) error        { return nil }
func (stubStore) RevokeAPIKey(context.Context, string) error                { return nil }
func (stubStore) Listings(context.Context) ([]*khabardar.Listing, error)    { return nil, nil }
func (stubStore) APIKeys(context.Context) ([]*khabardar.APIKey, error)      { return nil, nil }
func (stubStore) Bucket(context.Context, string) ([]khabardar.Entry, error) { return nil, nil }
func (stubStore) Listing(context.Context, string) (*khabardar.Listing, error) {
	return &khabardar.Listing{}, nil
}
func (stubStore) AddExposures(_ context.Context, _ string, b []khabardar.Exposure) (khabardar.Counts, error) {
	return khabardar.Counts{identifier.Phone: int64(len(b))}, nil
}
func (stubStore) Recount(context.Context, string) (khabardar.Counts, error) {
	return khabardar.Counts{}, nil
}
func (stubStore) APIKeyByHash(context.Context, []byte) (*khabardar.APIKey, error) { return nil, nil }
func (stubStore) SMSLanguage(context.Context, string, time.Duration) (string, error) {
	return "en", nil
}
func (stubStore) SetSMSLanguage(context.Context, string, string, time.Duration) error { return nil }
func (stubStore) FirstSeen(context.Context, string, time.Duration) (bool, error)      { return true, nil }
