package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
)

// apiResponse is a finished request to a served binary.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResponse) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// apiCall sends one request; header is name, value pairs.
func apiCall(t *testing.T, method, url, contentType string, body []byte, header ...string) apiResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// rawHead writes a request head to base's server on a connection of its own
// and reads the response.
func rawHead(t *testing.T, base, head string) apiResponse {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// apiClient is the client protocol against a served binary, as the website
// and `khabardar check` run it.
type apiClient struct {
	t      *testing.T
	base   string
	keyID  string
	layout khabardar.Layout
	voprf  *hashing.Client
	sent   []string // every blinded element sent, for the log scan
}

func newAPIClient(t *testing.T, base string) *apiClient {
	t.Helper()
	var cfg struct {
		KeyID       string `json:"key_id"`
		PublicKey   string `json:"public_key"`
		BucketBits  int    `json:"bucket_bits"`
		SuffixBytes int    `json:"suffix_bytes"`
	}
	r := apiCall(t, "GET", base+"/v1/config", "", nil)
	if r.status != 200 || json.Unmarshal(r.body, &cfg) != nil {
		t.Fatalf("config: %d %s", r.status, r.body)
	}
	pub, _ := base64.RawURLEncoding.DecodeString(cfg.PublicKey)
	v, err := hashing.NewClient(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, base: base, keyID: cfg.KeyID, voprf: v,
		layout: khabardar.Layout{KeyID: cfg.KeyID, BucketBits: cfg.BucketBits, SuffixBytes: cfg.SuffixBytes}}
}

// evaluate blinds ids and sends them; it returns the response and, if it
// is a 200, the verified VOPRF outputs.
func (a *apiClient) evaluate(ids []identifier.ID, header ...string) (apiResponse, [][]byte) {
	t := a.t
	t.Helper()
	bl, err := a.voprf.Blind(ids)
	if err != nil {
		t.Fatal(err)
	}
	els := make([]string, len(bl.Elements))
	for i, e := range bl.Elements {
		els[i] = base64.RawURLEncoding.EncodeToString(e)
	}
	a.sent = append(a.sent, els...)
	body, _ := json.Marshal(map[string]any{"key_id": a.keyID, "blinded": els})
	r := apiCall(t, "POST", a.base+"/v1/evaluate", "application/json", body, header...)
	if r.status != 200 {
		return r, nil
	}
	var ev struct {
		KeyID     string   `json:"key_id"`
		Evaluated []string `json:"evaluated"`
		Proof     string   `json:"proof"`
	}
	if err := json.Unmarshal(r.body, &ev); err != nil {
		t.Fatal(err)
	}
	evaluated := make([][]byte, len(ev.Evaluated))
	for i, s := range ev.Evaluated {
		evaluated[i], _ = base64.RawURLEncoding.DecodeString(s)
	}
	proof, _ := base64.RawURLEncoding.DecodeString(ev.Proof)
	out, err := a.voprf.Finalize(bl, evaluated, proof)
	if err != nil {
		t.Fatalf("the server's proof does not verify: %v", err)
	}
	return r, out
}

// bucketOf fetches the bucket of output y and returns it and the listings
// y's suffix is in.
func (a *apiClient) bucketOf(y []byte, header ...string) (apiResponse, []string) {
	a.t.Helper()
	prefix, suffix := hashing.Split(y, a.layout)
	r := apiCall(a.t, "GET", a.base+"/v1/buckets/"+prefix, "", nil, header...)
	if r.status != 200 {
		a.t.Fatalf("bucket: %d %s", r.status, r.body)
	}
	var b struct {
		Entries []struct {
			Suffix   string
			Listings []string
		}
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		a.t.Fatal(err)
	}
	for _, e := range b.Entries {
		if e.Suffix == hex.EncodeToString(suffix) {
			return r, e.Listings
		}
	}
	return r, nil
}

// TestAPIEndToEnd runs the real binary on both stores: identifiers ingested
// with `khabardar ingest` are found through the API with the client
// protocol, and only they; limits, API keys, padding, caching and errors
// behave as openapi.yaml says; and the server's logs hold nothing of any
// request.
func TestAPIEndToEnd(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.addListing("shop")
		csv := c.write("leak.csv", "name,cnic,mobile,imei\nA,35202-1234567-1,0300-1234567,490154203237518\nB,42101-9876543-1,0321-7654321,\n")
		c.ingest("shop", csv)
		var key struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal([]byte(c.ok("apikeys", "create", "--name", "Test desk", "--rate", "100-H", "--max-batch", "8", "--json")), &key); err != nil {
			t.Fatal(err)
		}
		var gone struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		json.Unmarshal([]byte(c.ok("apikeys", "create", "--name", "Former desk", "--json")), &gone)
		c.ok("apikeys", "revoke", gone.ID)

		srv := startServe(t, c, "--max-batch", "4", "--rate-evaluate", "12-H", "--rate-bucket", "40-H",
			"--trusted-proxies", "127.0.0.1/32, ::1")
		a := newAPIClient(t, srv.base)
		ids := []identifier.ID{}
		for _, s := range []string{"35202-1234567-1", "0300-1234567", "490154203237518", "0333-1112223"} {
			id, err := identifier.Parse(identifier.Unknown, identifier.Raw(s))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}

		// The round trip, counted against the forwarded client address.
		client1 := []string{"X-Forwarded-For", "198.51.100.7"}
		r, outs := a.evaluate(ids, client1...)
		if r.status != 200 || r.header.Get("X-RateLimit-Limit") != "12" || r.header.Get("X-RateLimit-Remaining") != "8" {
			t.Fatalf("evaluate: %d, limit %s, remaining %s: %s", r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"), r.body)
		}
		var sizes []int
		for i, y := range outs {
			br, in := a.bucketOf(y, client1...)
			if want := i < 3; (len(in) == 1 && in[0] == "shop") != want {
				t.Errorf("identifier %d: in %v, want found=%v", i, in, want)
			}
			sizes = append(sizes, len(br.body))
			etag := br.header.Get("ETag")
			prefix, _ := hashing.Split(y, a.layout)
			if nm := apiCall(t, "GET", srv.base+"/v1/buckets/"+prefix, "", nil, "If-None-Match", etag); nm.status != 304 {
				t.Errorf("If-None-Match: %d", nm.status)
			}
		}
		for _, p := range []string{"0000", "ffff"} {
			sizes = append(sizes, len(apiCall(t, "GET", srv.base+"/v1/buckets/"+p, "", nil).body))
		}
		for _, s := range sizes[1:] {
			if s != sizes[0] {
				t.Errorf("bucket sizes differ: %v", sizes)
			}
		}

		// Another forwarded address has a quota of its own; a third one
		// uses its own up.
		if r, _ := a.evaluate(ids[:1], "X-Forwarded-For", "198.51.100.8"); r.header.Get("X-RateLimit-Remaining") != "11" {
			t.Fatalf("a second client: %d, remaining %s", r.status, r.header.Get("X-RateLimit-Remaining"))
		}
		client3 := []string{"X-Forwarded-For", "203.0.113.5, 198.51.100.9"}
		for i := range 3 {
			if r, _ := a.evaluate(ids, client3...); r.status != 200 {
				t.Fatalf("third client, batch %d: %d %s", i, r.status, r.body)
			}
		}
		r, _ = a.evaluate(ids[:1], client3...)
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); r.status != 429 || r.code() != "rate_limited" || err != nil || ra < 1 {
			t.Fatalf("over the limit: %d %s, Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
		}

		// Batch sizes: the anonymous max, and an API key's own.
		five := append(ids, ids[0])
		if r, _ := a.evaluate(five, "X-Forwarded-For", "198.51.100.10"); r.status != 400 || r.code() != "batch_too_large" {
			t.Fatalf("5 elements anonymously: %d %s", r.status, r.body)
		}
		if r, outs := a.evaluate(five, "Authorization", "Bearer "+key.Secret); r.status != 200 || len(outs) != 5 || r.header.Get("X-RateLimit-Limit") != "100" {
			t.Fatalf("5 elements with a key: %d, limit %s: %s", r.status, r.header.Get("X-RateLimit-Limit"), r.body)
		}
		if r, _ := a.evaluate(ids, "Authorization", "Bearer "+gone.Secret); r.status != 401 || r.code() != "unauthorized" {
			t.Fatalf("a revoked key: %d %s", r.status, r.body)
		}
		if u := storeURL(c); u != "" {
			// With Redis a key revoked while serving is refused at once.
			c.ok("apikeys", "revoke", key.ID)
			if r, _ := a.evaluate(ids, "Authorization", "Bearer "+key.Secret); r.status != 401 {
				t.Fatalf("a key revoked while serving: %d %s", r.status, r.body)
			}
		}

		// Errors over real HTTP, fasthttp's own included.
		okBody, _ := json.Marshal(map[string]any{"key_id": a.keyID, "blinded": a.sent[:1]})
		for _, tt := range []struct {
			name, method, path, contentType string
			body                            []byte
			header                          []string
			status                          int
			code                            string
		}{
			{"text/plain", "POST", "/v1/evaluate", "text/plain", okBody, nil, 415, "unsupported_media_type"},
			{"rotated key", "POST", "/v1/evaluate", "application/json", bytes.Replace(okBody, []byte(a.keyID), []byte("0000000000000000"), 1), nil, 409, "key_rotated"},
			{"trailing data", "POST", "/v1/evaluate", "application/json", append(okBody, '}'), nil, 400, "malformed_json"},
			{"malformed Authorization", "GET", "/v1/listings", "", nil, []string{"Authorization", "Token abc"}, 401, "unauthorized"},
			{"uppercase prefix", "GET", "/v1/buckets/ABCD", "", nil, nil, 400, "bad_prefix"},
			{"short prefix", "GET", "/v1/buckets/abc", "", nil, nil, 400, "bad_prefix"},
			{"unknown route", "GET", "/v1/bucket/abcd", "", nil, nil, 404, "not_found"},
			{"wrong method", "DELETE", "/v1/evaluate", "", nil, nil, 405, "method_not_allowed"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := apiCall(t, tt.method, srv.base+tt.path, tt.contentType, tt.body, tt.header...)
				if r.status != tt.status || r.code() != tt.code {
					t.Fatalf("%d %s, want %d %s", r.status, r.body, tt.status, tt.code)
				}
			})
		}

		// A body over every caller's limit is refused from its
		// Content-Length, before it is read. (Sending it too would race the
		// server's close against the client's writes.)
		if r := rawHead(t, srv.base, "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"); r.status != 413 || r.code() != "body_too_large" {
			t.Errorf("a 100 kB body: %d %s", r.status, r.body)
		}

		for path, want := range map[string]string{
			"/readyz":           `"ready"`,
			"/v1/openapi.yaml":  "openapi: 3.1.0",
			"/v1/listings/shop": `"counts":{"cnic":2,"phone":2,"imei":1,"passport":0}`,
		} {
			if r := apiCall(t, "GET", srv.base+path, "", nil); r.status != 200 || !strings.Contains(string(r.body), want) {
				t.Errorf("GET %s: %d, lacks %s", path, r.status, want)
			}
		}
		// The metrics are on the metrics listener only.
		if m := scrape(t, srv.metrics); !strings.Contains(m, `khabardar_rate_limited_total{class="evaluate",scope="client"} 1`) {
			t.Errorf("the metrics lack the refusal:\n%s", m)
		}
		if r := apiCall(t, "GET", srv.base+"/metrics", "", nil); r.status != 404 || r.code() != "not_found" {
			t.Errorf("GET /metrics on the API listener: %d %s", r.status, r.body)
		}

		logs := srv.stop(t)
		c.output.WriteString(logs) // for the privacy test's scans
		secrets := []string{key.Secret, gone.Secret, "198.51.100.", "203.0.113.5", "3520212345671", "923001234567", "49015420323751", "3331112223"}
		for _, y := range outs {
			prefix, suffix := hashing.Split(y, a.layout)
			secrets = append(secrets, "/v1/buckets/"+prefix, `"`+prefix+`"`, hex.EncodeToString(suffix))
		}
		for _, el := range a.sent {
			secrets = append(secrets, el, el[:16])
		}
		for _, s := range secrets {
			if strings.Contains(logs, s) {
				t.Errorf("the server log holds %q", s)
			}
		}
		if !strings.Contains(logs, `"route":"/v1/buckets/:prefix"`) {
			t.Errorf("the log lacks the request lines:\n%s", logs)
		}
	})
}

// TestServeFlags: serve refuses bad limits and proxies before opening the
// store, with exit status 2 and a message naming the flag.
func TestServeFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--max-batch", "0"}, "", "--max-batch"},
		{[]string{"--max-batch", "1001"}, "", "--max-batch"},
		{[]string{"--rate-evaluate", "lots"}, "", "--rate-evaluate"},
		{[]string{"--rate-bucket", "0-H"}, "", "--rate-bucket"},
		{[]string{"--rate-global-evaluate", "10-W"}, "", "--rate-global-evaluate"},
		{[]string{"--trusted-proxies", "10.0.0.0/8,proxy.internal"}, "", "--trusted-proxies"},
		{nil, "KHABARDAR_TRUSTED_PROXIES=10.0.0.0/33", "--trusted-proxies"},
		{nil, "KHABARDAR_MAX_BATCH=many", "KHABARDAR_MAX_BATCH"},
		{[]string{"--site-dir", "/nonexistent/site"}, "", "--site-dir /nonexistent/site is not a directory"},
		{[]string{"--site-dir", "."}, "", "has no index.html"}, // the test's empty working directory
		{[]string{"--site-dir", ".", "--no-site"}, "", "--site-dir and --no-site contradict"},
		{nil, "KHABARDAR_NO_SITE=maybe", "KHABARDAR_NO_SITE"},
		{[]string{"--header-timeout", "0s"}, "", "--header-timeout"},
		{[]string{"--header-timeout", "2m"}, "", "--header-timeout"},
		{nil, "KHABARDAR_HEADER_TIMEOUT=soon", "KHABARDAR_HEADER_TIMEOUT"},
		{[]string{"--max-conns", "-1"}, "", "--max-conns"},
		{nil, "KHABARDAR_MAX_CONNS=lots", "KHABARDAR_MAX_CONNS"},
		{[]string{"--max-conns-per-addr", "-5"}, "", "--max-conns-per-addr"},
		{[]string{"--metrics-addr", "9464"}, "", "--metrics-addr"},
		{[]string{"--global-reserve-percent", "91"}, "", "--global-reserve-percent"},
		{[]string{"--global-reserve-percent", "-1"}, "", "--global-reserve-percent"},
		{[]string{"--reserve-burst", "0"}, "", "--reserve-burst"},
		{[]string{"--rate-reserve-evaluate", "24"}, "", "--rate-reserve-evaluate"},
		{[]string{"--rate-evaluate-56", "lots"}, "", "--rate-evaluate-56"},
		{nil, "KHABARDAR_RATE_EVALUATE_48=0-H", "--rate-evaluate-48"},
		{nil, "KHABARDAR_GLOBAL_RESERVE_PERCENT=some", "KHABARDAR_GLOBAL_RESERVE_PERCENT"},
	} {
		t.Run(strings.Join(append(tt.args, tt.env), " "), func(t *testing.T) {
			c := newCLI(t, "")
			c.env = append(c.env, tt.env)
			_, stderr, code := c.run(append([]string{"serve", "--addr", freeAddr(t)}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 naming %s", code, stderr, tt.want)
			}
		})
	}
}
