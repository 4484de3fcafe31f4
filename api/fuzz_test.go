package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

var (
	fuzzKeyOnce sync.Once
	fuzzKey     *hashing.Key
)

func fuzzingKey(t testing.TB) *hashing.Key {
	fuzzKeyOnce.Do(func() {
		k, err := hashing.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		fuzzKey = k
	})
	return fuzzKey
}

// evaluateMessages are the formats of checkEvaluate's messages: an error
// message must be one of them with numbers (and the server's key id) filled
// in, so it cannot carry anything of the request.
var evaluateMessages = []string{
	"send the body as Content-Type: application/json",
	"the body is over %d bytes, the limit for a batch of %d",
	"the server's key is now %s: fetch /v1/config, then blind again with its public key",
	"the body is empty: send a JSON object",
	"the body is not valid JSON (byte %d)",
	"the body ends inside a JSON value",
	"the body has more after its JSON value: send exactly one",
	`the body must be a JSON object {"key_id": …, "blinded": […]}`,
	"key_id appears twice",
	"key_id must be a string: the key_id of /v1/config",
	"blinded appears twice",
	"blinded must be an array of base64url strings",
	"blinded has more than %d elements, the most this caller may send at once",
	"blinded[%d] is not a string",
	"the body may hold only the fields key_id and blinded",
	"key_id is missing: send the key_id of /v1/config",
	"blinded is missing: send an array of blinded elements",
	"blinded is empty: send at least one element",
	"blinded[%d] is not 32 bytes in base64url without padding",
	"blinded[%d] is not a valid non-identity ristretto255 element",
}

var numbers = regexp.MustCompile(`%[ds]|[0-9]+`)

// template reduces a message or a format to its fixed text.
func template(msg, keyID string) string {
	return numbers.ReplaceAllString(strings.ReplaceAll(msg, keyID, "%s"), "#")
}

// FuzzEvaluateRequest feeds raw bodies to checkEvaluate, everything
// POST /v1/evaluate does before charging the caller. Properties: no panic; a
// refusal is a 4xx code of the table whose message repeats no string of the
// body; an acceptance is 1 to max elements that Key.Evaluate accepts, and
// exactly what encoding/json reads from the same body.
func FuzzEvaluateRequest(f *testing.F) {
	k := fuzzingKey(f)
	const maxBatch = 16
	kid := k.ID()
	f.Add([]byte(`{"key_id":"` + kid + `","blinded":["` + generator + `"]}`))
	f.Add([]byte(`{"key_id":"` + kid + `","blinded":["` + generator + `","` + generator + `"]}`))
	f.Add([]byte(`{"key_id":"` + kid + `","blinded":["` + nonCanonical + `"]}`))
	f.Add([]byte(`{"key_id":"` + kid + `","blinded":["` + identity + `"]}`))
	f.Add([]byte(`{"key_id":"` + kid + `","blinded":[]}`))
	f.Add([]byte(`{"key_id":"` + kid + `","blinded":["` + generator + `"],"x":1}`))
	f.Add([]byte(`{"key_id":"` + kid + `","key_id":"` + kid + `"}`))
	f.Add([]byte(`{"blinded":[[[[[[]]]]]],"key_id":"` + kid + `"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"key_id":"\u0030","blinded":["` + generator + `"]} x`))
	f.Fuzz(func(t *testing.T, body []byte) {
		els, err := checkEvaluate([]byte("application/json"), body, maxBatch, kid)
		if err != nil {
			code := khabardar.ErrorCode(err)
			if st, ok := statusOf[code]; !ok || st < 400 || st >= 500 || code == khabardar.EINTERNAL {
				t.Fatalf("code %q (status %d) for a client's mistake: %v", code, statusOf[code], err)
			}
			msg := template(khabardar.ErrorMessage(err), kid)
			if !slices.ContainsFunc(evaluateMessages, func(f string) bool { return template(f, kid) == msg }) {
				t.Fatalf("the message %q is none of the known ones", khabardar.ErrorMessage(err))
			}
			return
		}
		if els.Len() < 1 || els.Len() > maxBatch {
			t.Fatalf("accepted %d elements", els.Len())
		}
		if _, _, err := k.EvaluateBatch(els); err != nil {
			t.Fatalf("accepted elements that Evaluate refuses: %v", err)
		}
		var std struct {
			KeyID   string   `json:"key_id"`
			Blinded []string `json:"blinded"`
		}
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		if std.KeyID != kid || len(std.Blinded) != els.Len() {
			t.Fatalf("encoding/json reads key %q and %d elements", std.KeyID, len(std.Blinded))
		}
		for i, s := range std.Blinded {
			if b, _ := b64.DecodeString(s); !bytes.Equal(b, els.Element(i)) {
				t.Fatalf("element %d differs from encoding/json's", i)
			}
		}
	})
}

// FuzzBucketPrefix requests /v1/buckets/<input> through the fiber app's
// handler (routing included). Properties: never a 5xx; 200 exactly for a
// prefix of 4 lowercase hex digits, and then a padded bucket of that prefix;
// otherwise a 4xx error body; and neither the response nor the logs repeat
// the input.
func FuzzBucketPrefix(f *testing.F) {
	e := newEnv(f, func(c *Config, rc *ratelimit.Config) {
		rc.Bucket = "1000000000-H"
	})
	h := e.srv.App().Handler()
	for _, s := range []string{"abcd", "0000", "ffff", "ABCD", "abc", "abcde", "..", "%2e%2e", "ab/cd", "ab?cd", "a%62cd", "", "ab\x00d", "\xff\xfe\xfd\xfc"} {
		f.Add(s)
	}
	var ctx fasthttp.RequestCtx
	f.Fuzz(func(t *testing.T, prefix string) {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("GET")
		ctx.Request.SetRequestURI("/v1/buckets/" + prefix)
		e.logs.Reset()
		h(&ctx)
		status, body := ctx.Response.StatusCode(), ctx.Response.Body()
		valid := e.layout.ValidPrefix(prefix)
		switch {
		case status >= 500:
			t.Fatalf("%d %s", status, body)
		case valid && status != 200:
			t.Fatalf("a valid prefix: %d %s", status, body)
		case !valid && status == 200 && !validAfterRouting(prefix):
			t.Fatalf("an invalid prefix served: %s", body)
		case status == 200:
			var b bucketBody
			if err := json.Unmarshal(body, &b); err != nil || !e.layout.ValidPrefix(b.Prefix) || len(b.Entries) != 32 || len(body)%512 != 0 {
				t.Fatalf("bucket %q: %d entries in %d bytes (%v)", b.Prefix, len(b.Entries), len(body), err)
			}
		default:
			var eb wire.ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil {
				t.Fatalf("%d without an error body: %q", status, body)
			}
			if want, ok := prefixMessages[eb.Error.Code]; !ok || eb.Error.Message != want {
				t.Fatalf("%d %s: not one of the fixed answers", status, body)
			}
		}
		checkLogLines(t, e.logs.String())
	})
}

// prefixMessages are the only errors a bucket path may get, with their
// fixed messages.
var prefixMessages = map[string]string{
	wire.CodeBadPrefix:  "a bucket prefix is 4 lowercase hex characters (bucket_bits/4 of /v1/config)",
	khabardar.ENOTFOUND: fiberErrors[404].Message,
	khabardar.EINVALID:  "the request cannot be parsed",
}

// checkLogLines fails unless every log line is a request line made of
// fixed fields: a route pattern, never a path.
func checkLogLines(t *testing.T, logs string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		for k, v := range l {
			switch k {
			case "time", "level", "ms", "status":
			case "msg":
				if v != "request" {
					t.Fatalf("log message %q", v)
				}
			case "method":
				if v != "GET" {
					t.Fatalf("log method %q", v)
				}
			case "route":
				if v != "/v1/buckets/:prefix" && v != "unmatched" {
					t.Fatalf("log route %q", v)
				}
			default:
				t.Fatalf("log field %s=%v", k, v)
			}
		}
	}
}

// validAfterRouting reports whether a path suffix that is not itself a
// prefix still routes to one: a query or fragment cut off ("abcd?x"), or
// dot segments resolved by the server ("x/../abcd").
func validAfterRouting(s string) bool {
	return strings.ContainsAny(s, "?#/%")
}

// FuzzContentEncoding feeds Content-Encoding field values to the check
// every request passes (identityCoding through checkHead). Properties: no
// panic; a value is accepted exactly when each of its comma-separated
// elements, trimmed of spaces and tabs, is empty or "identity" in any ASCII
// case; and fiber's c.Body(), which decodes what it recognises, returns an
// accepted request's body as it came, so nothing the check lets through is
// ever decoded. (Before the check, fiber decoded "gzip, gzip" and "br" here
// without a limit.)
func FuzzContentEncoding(f *testing.F) {
	app := fiber.New()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(`{"key_id":"x","blinded":[]}`))
	w.Close()
	raw := gz.Bytes()
	f.Fuzz(func(t *testing.T, v string, second string) {
		var fctx fasthttp.RequestCtx
		h := &fctx.Request.Header
		h.SetMethod("POST")
		values := []string{v}
		if second != "" {
			values = append(values, second)
		}
		for _, s := range values {
			if strings.ContainsAny(s, "\r\n\x00") {
				return // cannot arrive in a header
			}
			h.Add(fiber.HeaderContentEncoding, s)
		}
		fctx.Request.SetBodyRaw(raw)

		want := true
		for _, s := range values {
			// fasthttp trims the value it stores; the check trims each element.
			for _, el := range strings.Split(s, ",") {
				el = strings.Trim(el, " \t")
				if el != "" && !(len(el) == len("identity") && strings.ToLower(el) == "identity" && isASCII(el)) {
					want = false
				}
			}
		}
		err := checkHead(h)
		if got := err == nil; got != want {
			t.Fatalf("%q: accepted %v, want %v", values, got, want)
		}
		if err != nil {
			if khabardar.ErrorCode(err) != wire.CodeUnsupportedEncoding || statusOf[wire.CodeUnsupportedEncoding] != 415 {
				t.Fatalf("%q: %v", values, err)
			}
			return
		}
		c := app.AcquireCtx(&fctx)
		defer app.ReleaseCtx(c)
		// c.Body() returns nothing for a list of several identity
		// elements (fiber keeps the body only for a list of one): a quirk,
		// not a decoding. The handlers read the raw body anyway.
		if body := c.Body(); len(body) > 0 && !bytes.Equal(body, raw) {
			t.Fatalf("%q accepted, and fiber decodes the body to %q", values, body)
		}
		if !bytes.Equal(c.Request().Body(), raw) {
			t.Fatalf("%q accepted, and the raw body changed", values)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzRequestHead feeds whole requests to fasthttp's parser and, for those
// it accepts, to checkHead. Properties: no panic; a request framed as
// chunked whose head also has a Content-Length line is refused, and a
// framing refusal is only ever for a head with both lines, by a plain
// line-by-line reading of the head as sent.
func FuzzRequestHead(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var req fasthttp.Request
		if req.Read(bufio.NewReader(bytes.NewReader(data))) != nil {
			return
		}
		length, chunked, coding := false, false, false
		head, _, _ := bytes.Cut(data, []byte("\n\r\n"))
		if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
			head = head[:i]
		}
		for _, line := range bytes.Split(head, []byte("\n"))[1:] {
			k, v, ok := bytes.Cut(bytes.TrimSuffix(line, []byte("\r")), []byte(":"))
			switch {
			case !ok:
			case bytes.EqualFold(k, []byte("content-length")):
				length = true
			case bytes.EqualFold(k, []byte("transfer-encoding")):
				coding = true
				chunked = chunked || bytes.EqualFold(bytes.TrimSpace(v), []byte("chunked"))
			}
		}
		err := checkHead(&req.Header)
		switch {
		case err == errFraming && !(length && coding):
			t.Fatalf("framing refused without both headers: %q", data)
		case length && chunked && !req.MayContinue() && err == nil:
			t.Fatalf("chunked with a Content-Length accepted: %q", data)
		}
	})
}
