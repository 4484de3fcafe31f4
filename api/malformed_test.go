package api

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

// Encodings of ristretto255 elements for the table.
const (
	// generator is the ristretto255 base point: a valid element.
	generator = "4vKuCmq8TnGohKlhxQBRX1jjC2qlgt2NtqZZReCNLXY"
	// nonCanonical is p = 2^255-19 little-endian, an out-of-range encoding of 0.
	nonCanonical = "7f_______________________________________38"
)

var (
	identity    = base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	negative    = base64.RawURLEncoding.EncodeToString(append([]byte{1}, make([]byte, 31)...)) // odd s: "negative", refused
	bytes31     = base64.RawURLEncoding.EncodeToString(make([]byte, 31))
	bytes33     = base64.RawURLEncoding.EncodeToString(append([]byte{2}, make([]byte, 32)...))
	withPadding = base64.URLEncoding.EncodeToString(make([]byte, 31)) + "=" // 44 characters
)

// trailingBits is generator with non-zero unused bits in its last
// character: it decodes to the same bytes under lenient base64.
func trailingBits() string {
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", generator[42])
	return generator[:42] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])
}

// standardAlphabet returns a valid element's encoding in the standard
// base64 alphabet ('+' and '/' for '-' and '_').
func standardAlphabet(t *testing.T, e *env) string {
	for i := 0; ; i++ {
		_, _, els := e.blind(mustID(t, identifier.Phone, fmt.Sprintf("0300-%07d", i)))
		if s := els[0]; strings.ContainsAny(s, "-_") {
			return strings.NewReplacer("-", "+", "_", "/").Replace(s)
		}
	}
}

// TestMalformedRequests sends requests that must each be refused with a given
// status and code, then checks that none of them was charged to the caller's
// quota and that the server is still ready.
func TestMalformedRequests(t *testing.T) {
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) {
		rc.Evaluate, rc.Bucket, rc.Listing = "100-H", "100-H", "100-H"
	})
	e.ingest("known", mustID(t, identifier.Phone, "0300-1234567"))
	e.addAPIKey("ak_revoked", "revoked-secret-0123456789", "1000-H", 64, true)

	kid := e.key.ID()
	ev := func(elements ...string) string { return e.evaluateBody(elements...) }
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = generator
		}
		return out
	}
	json := "application/json"
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string   // for POST; "" sends none
		header      []string // name, value pairs
		body        string
		status      int
		code        string
	}{
		// Media type and size.
		{name: "text/plain", method: "POST", path: "/v1/evaluate", contentType: "text/plain", body: ev(generator), status: 415, code: wire.CodeUnsupportedMediaType},
		{name: "no content type", method: "POST", path: "/v1/evaluate", body: ev(generator), status: 415, code: wire.CodeUnsupportedMediaType},
		{name: "form content type", method: "POST", path: "/v1/evaluate", contentType: "application/x-www-form-urlencoded", body: ev(generator), status: 415, code: wire.CodeUnsupportedMediaType},
		{name: "json-patch content type", method: "POST", path: "/v1/evaluate", contentType: "application/json-patch+json", body: ev(generator), status: 415, code: wire.CodeUnsupportedMediaType},
		{name: "over the anonymous body limit", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(many(40)...), status: 413, code: wire.CodeBodyTooLarge},
		// Content codings: refused on every route, before anything else.
		{name: "gzip", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Content-Encoding", "gzip"}, body: ev(generator), status: 415, code: wire.CodeUnsupportedEncoding},
		{name: "gzip, gzip", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Content-Encoding", "gzip, gzip"}, body: ev(generator), status: 415, code: wire.CodeUnsupportedEncoding},
		{name: "br in a second header", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Content-Encoding", "identity", "Content-Encoding", "br"}, body: ev(generator), status: 415, code: wire.CodeUnsupportedEncoding},
		{name: "identity then deflate", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Content-Encoding", "identity,deflate"}, body: ev(generator), status: 415, code: wire.CodeUnsupportedEncoding},
		{name: "unknown coding", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Content-Encoding", "x-bomb"}, body: ev(generator), status: 415, code: wire.CodeUnsupportedEncoding},
		{name: "br on a bucket", method: "GET", path: "/v1/buckets/abcd", header: []string{"Content-Encoding", "br"}, status: 415, code: wire.CodeUnsupportedEncoding},
		{name: "gzip on a wrong key", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Content-Encoding", "gzip", "Authorization", "Bearer no-such-key-0123456789"}, body: ev(generator), status: 415, code: wire.CodeUnsupportedEncoding},
		{name: "zstd nowhere", method: "GET", path: "/v2/nothing", header: []string{"Content-Encoding", "zstd"}, status: 415, code: wire.CodeUnsupportedEncoding},
		// JSON syntax.
		{name: "no body", method: "POST", path: "/v1/evaluate", contentType: json, body: "", status: 400, code: wire.CodeMalformedJSON},
		{name: "whitespace only", method: "POST", path: "/v1/evaluate", contentType: json, body: " \n\t", status: 400, code: wire.CodeMalformedJSON},
		{name: "truncated", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"` + kid + `","blinded":["`, status: 400, code: wire.CodeMalformedJSON},
		{name: "unquoted names", method: "POST", path: "/v1/evaluate", contentType: json, body: `{key_id:"` + kid + `"}`, status: 400, code: wire.CodeMalformedJSON},
		{name: "trailing garbage", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(generator) + "x", status: 400, code: wire.CodeMalformedJSON},
		{name: "trailing object", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(generator) + "{}", status: 400, code: wire.CodeMalformedJSON},
		{name: "trailing bracket", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(generator) + "]", status: 400, code: wire.CodeMalformedJSON},
		{name: "unclosed deep nesting", method: "POST", path: "/v1/evaluate", contentType: json, body: strings.Repeat("[", 1300), status: 400, code: wire.CodeMalformedJSON},
		{name: "invalid escape", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"\x"}`, status: 400, code: wire.CodeMalformedJSON},
		// Shape.
		{name: "null", method: "POST", path: "/v1/evaluate", contentType: json, body: "null", status: 400, code: khabardar.EINVALID},
		{name: "array", method: "POST", path: "/v1/evaluate", contentType: json, body: "[]", status: 400, code: khabardar.EINVALID},
		{name: "string", method: "POST", path: "/v1/evaluate", contentType: json, body: `"` + generator + `"`, status: 400, code: khabardar.EINVALID},
		{name: "deep nesting", method: "POST", path: "/v1/evaluate", contentType: json, body: strings.Repeat("[", 650) + strings.Repeat("]", 650), status: 400, code: khabardar.EINVALID},
		{name: "deep nesting in key_id", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, status: 400, code: khabardar.EINVALID},
		{name: "key_id a number", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":1,"blinded":["` + generator + `"]}`, status: 400, code: khabardar.EINVALID},
		{name: "key_id null", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":null,"blinded":["` + generator + `"]}`, status: 400, code: khabardar.EINVALID},
		{name: "no key_id", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"blinded":["` + generator + `"]}`, status: 400, code: khabardar.EINVALID},
		{name: "no blinded", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"` + kid + `"}`, status: 400, code: khabardar.EINVALID},
		{name: "blinded a string", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"` + kid + `","blinded":"` + generator + `"}`, status: 400, code: khabardar.EINVALID},
		{name: "blinded an object", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"` + kid + `","blinded":{}}`, status: 400, code: khabardar.EINVALID},
		{name: "duplicate key_id", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"x","key_id":"` + kid + `","blinded":["` + generator + `"]}`, status: 400, code: khabardar.EINVALID},
		{name: "duplicate blinded", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"` + kid + `","blinded":[],"blinded":["` + generator + `"]}`, status: 400, code: khabardar.EINVALID},
		{name: "unknown field", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"` + kid + `","blinded":["` + generator + `"],"mode":"oprf"}`, status: 400, code: wire.CodeUnknownField},
		{name: "field in other case", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"KEY_ID":"` + kid + `","blinded":["` + generator + `"]}`, status: 400, code: wire.CodeUnknownField},
		// Batch.
		{name: "empty batch", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(), status: 400, code: wire.CodeEmptyBatch},
		{name: "batch of max+1", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(many(17)...), status: 400, code: wire.CodeBatchTooLarge},
		{name: "wrong key_id", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"0000000000000000","blinded":["` + generator + `"]}`, status: 409, code: wire.CodeKeyRotated},
		// Elements.
		{name: "element a number", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"` + kid + `","blinded":[1]}`, status: 400, code: wire.CodeBadElement},
		{name: "element nested deep", method: "POST", path: "/v1/evaluate", contentType: json, body: `{"key_id":"` + kid + `","blinded":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, status: 400, code: wire.CodeBadElement},
		{name: "base64 with padding", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(withPadding), status: 400, code: wire.CodeBadElement},
		{name: "standard base64 alphabet", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(standardAlphabet(t, e)), status: 400, code: wire.CodeBadElement},
		{name: "non-zero trailing bits", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(trailingBits()), status: 400, code: wire.CodeBadElement},
		{name: "newline inside", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(generator[:20] + "\n" + generator[21:]), status: 400, code: wire.CodeBadElement},
		{name: "31 bytes", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(bytes31), status: 400, code: wire.CodeBadElement},
		{name: "33 bytes", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(bytes33), status: 400, code: wire.CodeBadElement},
		{name: "empty element", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(""), status: 400, code: wire.CodeBadElement},
		{name: "identity element", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(identity), status: 400, code: wire.CodeBadElement},
		{name: "non-canonical element", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(nonCanonical), status: 400, code: wire.CodeBadElement},
		{name: "negative element", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(negative), status: 400, code: wire.CodeBadElement},
		{name: "bad element after good ones", method: "POST", path: "/v1/evaluate", contentType: json, body: ev(generator, generator, identity), status: 400, code: wire.CodeBadElement},
		// Authorization (on a well-formed request).
		{name: "Basic auth", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Authorization", "Basic dXNlcjpwYXNz"}, body: ev(generator), status: 401, code: wire.CodeUnauthorized},
		{name: "Bearer without token", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Authorization", "Bearer "}, body: ev(generator), status: 401, code: wire.CodeUnauthorized},
		{name: "bare token", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Authorization", "revoked-secret-0123456789"}, body: ev(generator), status: 401, code: wire.CodeUnauthorized},
		{name: "token with a space", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Authorization", "Bearer abc def"}, body: ev(generator), status: 401, code: wire.CodeUnauthorized},
		{name: "token too long", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Authorization", "Bearer " + strings.Repeat("a", 300)}, body: ev(generator), status: 401, code: wire.CodeUnauthorized},
		{name: "empty Authorization", method: "GET", path: "/v1/buckets/abcd", header: []string{"Authorization", ""}, status: 401, code: wire.CodeUnauthorized},
		{name: "two Authorization headers", method: "GET", path: "/v1/listings", header: []string{"Authorization", "Bearer revoked-secret-0123456789", "Authorization", "Bearer other"}, status: 401, code: wire.CodeUnauthorized},
		{name: "unknown key", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Authorization", "Bearer no-such-key-0123456789"}, body: ev(generator), status: 401, code: wire.CodeUnauthorized},
		{name: "revoked key", method: "POST", path: "/v1/evaluate", contentType: json, header: []string{"Authorization", "Bearer revoked-secret-0123456789"}, body: ev(generator), status: 401, code: wire.CodeUnauthorized},
		{name: "revoked key on a bucket", method: "GET", path: "/v1/buckets/abcd", header: []string{"Authorization", "bearer revoked-secret-0123456789"}, status: 401, code: wire.CodeUnauthorized},
		// Bucket prefixes.
		{name: "prefix too short", method: "GET", path: "/v1/buckets/abc", status: 400, code: wire.CodeBadPrefix},
		{name: "prefix too long", method: "GET", path: "/v1/buckets/abcde", status: 400, code: wire.CodeBadPrefix},
		{name: "prefix uppercase", method: "GET", path: "/v1/buckets/ABCD", status: 400, code: wire.CodeBadPrefix},
		{name: "prefix not hex", method: "GET", path: "/v1/buckets/wxyz", status: 400, code: wire.CodeBadPrefix},
		{name: "prefix ..", method: "GET", path: "/v1/buckets/..", status: 400, code: wire.CodeBadPrefix},
		{name: "prefix percent-encoded dots", method: "GET", path: "/v1/buckets/%2e%2e", status: 400, code: wire.CodeBadPrefix},
		{name: "prefix percent-encoded hex", method: "GET", path: "/v1/buckets/%61bcd", status: 400, code: wire.CodeBadPrefix},
		{name: "prefix with a query", method: "GET", path: "/v1/buckets/ab?cd", status: 400, code: wire.CodeBadPrefix},
		{name: "no prefix", method: "GET", path: "/v1/buckets/", status: 404, code: khabardar.ENOTFOUND},
		{name: "dot segment out", method: "GET", path: "/v1/buckets/../config", status: 404, code: khabardar.ENOTFOUND},
		// Routes and methods.
		{name: "unknown route", method: "GET", path: "/v2/nothing", status: 404, code: khabardar.ENOTFOUND},
		{name: "route in upper case", method: "GET", path: "/V1/CONFIG", status: 404, code: khabardar.ENOTFOUND},
		{name: "trailing slash", method: "GET", path: "/v1/config/", status: 404, code: khabardar.ENOTFOUND},
		{name: "listing ID not an ID", method: "GET", path: "/v1/listings/Not_An_ID", status: 404, code: khabardar.ENOTFOUND},
		{name: "GET evaluate", method: "GET", path: "/v1/evaluate", status: 405, code: wire.CodeMethodNotAllowed},
		{name: "POST bucket", method: "POST", path: "/v1/buckets/abcd", contentType: json, body: "{}", status: 405, code: wire.CodeMethodNotAllowed},
		{name: "DELETE listings", method: "DELETE", path: "/v1/listings", status: 405, code: wire.CodeMethodNotAllowed},
		{name: "PUT config", method: "PUT", path: "/v1/config", contentType: json, body: "{}", status: 405, code: wire.CodeMethodNotAllowed},
		{name: "unknown method", method: "FOO", path: "/v1/config", status: 405, code: wire.CodeMethodNotAllowed},
		{name: "WebDAV method", method: "PROPFIND", path: "/v1/evaluate", status: 405, code: wire.CodeMethodNotAllowed},
		{name: "unknown method on a bucket", method: "BREW", path: "/v1/buckets/abcd", status: 405, code: wire.CodeMethodNotAllowed},
		{name: "unknown method nowhere", method: "FOO", path: "/v2/nothing", status: 404, code: khabardar.ENOTFOUND},
		{name: "the stand-in method", method: unknownMethod, path: "/v1/config", status: 405, code: wire.CodeMethodNotAllowed},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Add(tt.header[i], tt.header[i+1])
			}
			r := e.do(req)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("%s %s: %d %s, want %d %s", tt.method, tt.path, r.status, r.body, tt.status, tt.code)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("an error is cacheable: Cache-Control %q", r.header.Get("Cache-Control"))
			}
			if r.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if r.status == 405 && r.header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
			// RFC 9110 §15.5.16: Accept-Encoding on a 415 for the coding,
			// and only then.
			if (r.code() == wire.CodeUnsupportedEncoding) != (r.header.Get("Accept-Encoding") == "identity") {
				t.Errorf("%s with Accept-Encoding %q", r.code(), r.header.Get("Accept-Encoding"))
			}
		})
	}

	// Nothing above was charged: the first valid requests find all of
	// their quota left.
	if r := e.post("/v1/evaluate", ev(generator)); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "99" {
		t.Fatalf("evaluate after the malformed requests: %d, %s remaining (want 99): %s", r.status, r.header.Get("X-RateLimit-Remaining"), r.body)
	}
	if r := e.get("/v1/buckets/abcd"); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "99" {
		t.Fatalf("bucket after the malformed requests: %d, %s remaining (want 99)", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
	if r := e.get("/readyz"); r.status != 200 {
		t.Fatalf("/readyz after the malformed requests: %d %s", r.status, r.body)
	}
}

// TestBodyOverServerLimit declares a body over the server-wide limit over
// real HTTP: fasthttp refuses it from its Content-Length before routing, and
// it must still be a 413 error body. (Only the head is sent here;
// TestOversizeBodyRead sends the body too.)
func TestBodyOverServerLimit(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", wire.EvaluateBodyLimit(wire.MaxBatchLimit)+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := readResponse(t, resp)
	if r.status != 413 || r.code() != wire.CodeBodyTooLarge {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := e.get("/readyz"); r.status != 200 {
		t.Fatalf("/readyz: %d", r.status)
	}
	// Headers over fasthttp's buffer: 431, and the path goes nowhere.
	conn2, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	fmt.Fprintf(conn2, "GET /v1/buckets/beef HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("a", 8192))
	resp, err = http.ReadResponse(bufio.NewReader(conn2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := readResponse(t, resp); r.status != 431 || r.code() != wire.CodeHeadersTooLarge || strings.Contains(string(r.body), "beef") {
		t.Fatalf("huge headers: %d %s", r.status, r.body)
	}
	if m := e.scrape(); strings.Contains(m, "beef") || strings.Contains(e.logs.String(), "beef") {
		t.Fatal("the path of a request refused before routing reached the metrics or the log")
	}
	if m := e.scrape(); !strings.Contains(m, `khabardar_http_requests_total{method="OTHER",route="unrouted",status="413"} 1`) {
		t.Errorf("the refusal is not counted")
	}
	if !strings.Contains(e.logs.String(), `"route":"unrouted","status":413`) {
		t.Errorf("the refusal is not logged:\n%s", e.logs.String())
	}
}

// TestOversizeBodyRead sends 10 MB bodies with Go's HTTP client, which
// reports a reset instead of a response that arrives while it is still
// writing: the server must close the connection only once the client has
// had the 413 (Serve's lingering close). e2e's TestOversizeBodies
// does the same with 20 clients against the binary.
func TestOversizeBodyRead(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	client := &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}
	for i := range 5 {
		resp, err := client.Post(base+"/v1/evaluate", "application/json", strings.NewReader(strings.Repeat("x", 10<<20)))
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if r := readResponse(t, resp); r.status != 413 || r.code() != wire.CodeBodyTooLarge {
			t.Fatalf("client %d: %d %s", i, r.status, r.body)
		}
	}
}

// TestRequestFraming sends, over real HTTP, requests whose framing a
// parser may get wrong in ways that let one request hide inside another
// (RFC 9112 §6.3, §9.3.2): each must get the answer the RFC asks for.
// fasthttp v1.51.0 took the last of two Content-Lengths and answered one
// of 200 pipelined requests; with both Content-Length and
// Transfer-Encoding it used the chunked body and kept the connection open.
func TestRequestFraming(t *testing.T) {
	e := newEnv(t)
	addr := strings.TrimPrefix(e.listen(), "http://")
	dial := func(t *testing.T) (net.Conn, *bufio.Reader) {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		return conn, bufio.NewReader(conn)
	}
	read := func(t *testing.T, br *bufio.Reader) (r response, closing bool) {
		t.Helper()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		return readResponse(t, resp), resp.Close // "Connection: close"
	}
	// closed reports whether the server has closed the connection: a
	// request after the refused one gets no answer.
	closed := func(conn net.Conn, br *bufio.Reader) bool {
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := br.ReadByte()
		return err == io.EOF || errors.Is(err, syscall.ECONNRESET)
	}
	body := e.evaluateBody(generator)
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	for _, tt := range []struct {
		name, request string
	}{
		// RFC 9112 §6.3: a Content-Length that is not one number is
		// unrecoverable: 400, and close.
		{"two Content-Lengths", "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: 2\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body},
		{"two equal Content-Lengths", "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body},
		{"a list of Content-Lengths", "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: 2, " + strconv.Itoa(len(body)) + "\r\n\r\n" + body},
		// §6.3: both "ought to be handled as an error", and the
		// connection closed whatever the answer. A valid evaluation in the
		// chunked body, which would be served if the request were.
		{"Content-Length and chunked", "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked},
		{"chunked and Content-Length", "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Transfer-Encoding: chunked\r\nContent-Length: " + strconv.Itoa(len(chunked)) + "\r\n\r\n" + chunked},
		{"chunked and Content-Length 0", "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Transfer-Encoding: chunked\r\ncontent-length: 0\r\n\r\n0\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, br := dial(t)
			io.WriteString(conn, tt.request)
			r, closing := read(t, br)
			if r.status != 400 || r.code() != khabardar.EINVALID || !closing {
				t.Errorf("%d %s, Connection: close %v", r.status, r.body, closing)
			}
			if !closed(conn, br) {
				t.Error("the connection stays open")
			}
		})
	}

	// RFC 9112 §9.3.2: pipelined requests are answered in order. 200 GETs
	// in one write, each for its own bucket, then one more on the same
	// connection.
	t.Run("200 pipelined GETs", func(t *testing.T) {
		conn, br := dial(t)
		var reqs strings.Builder
		for i := range 200 {
			fmt.Fprintf(&reqs, "GET /v1/buckets/%04x HTTP/1.1\r\nHost: x\r\n\r\n", i)
		}
		if _, err := io.WriteString(conn, reqs.String()); err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("response %d of 200: %v", i+1, err)
			}
			if b := decodeBucket(t, readResponse(t, resp)); b.Prefix != fmt.Sprintf("%04x", i) {
				t.Fatalf("response %d is for bucket %s", i+1, b.Prefix)
			}
		}
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		if r, _ := read(t, br); r.status != 200 {
			t.Fatalf("the connection after 200 pipelined requests: %d %s", r.status, r.body)
		}
	})
}
