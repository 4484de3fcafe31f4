package adminsock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/storetest"
)

// TestSameErrors makes each failing call both through the socket and on the
// store directly, and checks the client returns the store's *Error: same
// code, same message.
func TestSameErrors(t *testing.T) {
	ctx := context.Background()
	s := serve(t)
	direct, remote := khabardar.Store(s.store), khabardar.Store(s.client)
	wantCode(t, "Listing before Init", func() error { _, err := remote.Listing(ctx, "x"); return err }(), khabardar.EINTERNAL)
	if err := direct.Init(ctx, storetest.Layout); err != nil {
		t.Fatal(err)
	}
	if err := direct.PutListing(ctx, storetest.NewListing("there")); err != nil {
		t.Fatal(err)
	}
	if err := direct.PutAPIKey(ctx, storetest.NewAPIKey("ak_there", "secret")); err != nil {
		t.Fatal(err)
	}
	badListing := storetest.NewListing("bad")
	badListing.Status = "sold"
	bothFlags := storetest.NewListing("there")
	bothFlags.Verified, bothFlags.Fabricated = true, true
	tests := []struct {
		name string
		code string
		call func(st khabardar.Store) error
	}{
		{"init with another key", khabardar.ELAYOUTMISMATCH, func(st khabardar.Store) error {
			return st.Init(ctx, khabardar.Layout{KeyID: "other", BucketBits: 16, SuffixBytes: 8})
		}},
		{"init with an invalid layout", khabardar.EINVALID, func(st khabardar.Store) error {
			return st.Init(ctx, khabardar.Layout{KeyID: "k", BucketBits: 10, SuffixBytes: 8})
		}},
		{"unknown listing", khabardar.ENOTFOUND, func(st khabardar.Store) error { _, err := st.Listing(ctx, "absent"); return err }},
		{"remove unknown listing", khabardar.ENOTFOUND, func(st khabardar.Store) error { return st.RemoveListing(ctx, "absent") }},
		{"recount unknown listing", khabardar.ENOTFOUND, func(st khabardar.Store) error { _, err := st.Recount(ctx, "absent"); return err }},
		{"invalid listing", khabardar.EINVALID, func(st khabardar.Store) error { return st.PutListing(ctx, badListing) }},
		{"verified and fabricated", khabardar.EINVALID, func(st khabardar.Store) error { return st.PutListing(ctx, bothFlags) }},
		{"exposures of unknown listing", khabardar.ENOTFOUND, func(st khabardar.Store) error {
			_, err := st.AddExposures(ctx, "absent", []khabardar.Exposure{storetest.Exposure("0000", 1, identifier.CNIC)})
			return err
		}},
		{"malformed exposure", khabardar.EINVALID, func(st khabardar.Store) error {
			_, err := st.AddExposures(ctx, "there", []khabardar.Exposure{storetest.Exposure("0000", 1, identifier.CNIC), {Prefix: "00", Suffix: make([]byte, 8), Kind: identifier.CNIC}})
			return err
		}},
		{"exposure of unknown kind", khabardar.EINVALID, func(st khabardar.Store) error {
			_, err := st.AddExposures(ctx, "there", []khabardar.Exposure{{Prefix: "0000", Suffix: make([]byte, 8), Kind: 9}})
			return err
		}},
		{"bad prefix", khabardar.EINVALID, func(st khabardar.Store) error { _, err := st.Bucket(ctx, "ABCD"); return err }},
		{"duplicate api key", khabardar.ECONFLICT, func(st khabardar.Store) error { return st.PutAPIKey(ctx, storetest.NewAPIKey("ak_there", "other")) }},
		{"invalid api key", khabardar.EINVALID, func(st khabardar.Store) error { return st.PutAPIKey(ctx, storetest.NewAPIKey("", "x")) }},
		{"unknown api key", khabardar.ENOTFOUND, func(st khabardar.Store) error { _, err := st.APIKeyByHash(ctx, []byte("nothing")); return err }},
		{"revoke unknown api key", khabardar.ENOTFOUND, func(st khabardar.Store) error { return st.RevokeAPIKey(ctx, "ak_absent") }},
		{"bad sender hash", khabardar.EINVALID, func(st khabardar.Store) error {
			return st.(khabardar.PrefStore).SetSMSLanguage(ctx, "0300", "ur", time.Hour)
		}},
		{"bad message hash", khabardar.EINVALID, func(st khabardar.Store) error {
			_, err := st.(khabardar.ReplayStore).FirstSeen(ctx, "x", time.Hour)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, got := tt.call(direct), tt.call(remote)
			wantCode(t, "direct", want, tt.code)
			wantCode(t, "through the socket", got, tt.code)
			if khabardar.ErrorMessage(got) != khabardar.ErrorMessage(want) {
				t.Errorf("message through the socket %q, directly %q", khabardar.ErrorMessage(got), khabardar.ErrorMessage(want))
			}
		})
	}
}

// hookLog records the hooks' calls.
type hookLog struct {
	mu       sync.Mutex
	buckets  [][]string // nil element: all
	listings int
}

func (h *hookLog) take() ([][]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, l := h.buckets, h.listings
	h.buckets, h.listings = nil, 0
	return b, l
}

// TestHooks checks each call's hooks, made before the client has its
// answer.
func TestHooks(t *testing.T) {
	ctx := context.Background()
	h := &hookLog{}
	s := serve(t, func(c *Config) {
		c.OnBuckets = func(p []string) { h.mu.Lock(); h.buckets = append(h.buckets, p); h.mu.Unlock() }
		c.OnListings = func() { h.mu.Lock(); h.listings++; h.mu.Unlock() }
	})
	cl := s.client
	if err := cl.Init(ctx, storetest.Layout); err != nil {
		t.Fatal(err)
	}
	batch := []khabardar.Exposure{
		storetest.Exposure("beef", 1, identifier.CNIC),
		storetest.Exposure("00aa", 2, identifier.Phone),
		storetest.Exposure("beef", 3, identifier.IMEI),
	}
	all := [][]string{nil}
	tests := []struct {
		name     string
		call     func() error
		buckets  [][]string
		listings int
	}{
		{"put listing", func() error { return cl.PutListing(ctx, storetest.NewListing("l1")) }, nil, 1},
		{"add exposures", func() error { _, err := cl.AddExposures(ctx, "l1", batch); return err }, [][]string{{"00aa", "beef"}}, 1},
		{"add nothing new", func() error { _, err := cl.AddExposures(ctx, "l1", batch[:2]); return err }, nil, 0},
		{"add one new", func() error {
			_, err := cl.AddExposures(ctx, "l1", append(batch[:1:1], storetest.Exposure("cafe", 4, identifier.CNIC)))
			return err
		}, [][]string{{"beef", "cafe"}}, 1},
		{"add refused", func() error {
			_, err := cl.AddExposures(ctx, "l1", []khabardar.Exposure{storetest.Exposure("dead", 1, 0)})
			if khabardar.ErrorCode(err) == khabardar.EINVALID {
				return nil
			}
			return fmt.Errorf("want EINVALID, got %v", err)
		}, nil, 0},
		{"add empty", func() error { _, err := cl.AddExposures(ctx, "l1", nil); return err }, nil, 0},
		{"recount", func() error { _, err := cl.Recount(ctx, "l1"); return err }, nil, 1},
		{"reads", func() error {
			if _, err := cl.Listing(ctx, "l1"); err != nil {
				return err
			}
			if _, err := cl.Listings(ctx); err != nil {
				return err
			}
			_, err := cl.Bucket(ctx, "beef")
			return err
		}, nil, 0},
		{"api key", func() error { return cl.PutAPIKey(ctx, storetest.NewAPIKey("ak_1", "s")) }, nil, 0},
		{"remove listing", func() error { return cl.RemoveListing(ctx, "l1") }, all, 1},
		{"remove unknown listing", func() error {
			if err := cl.RemoveListing(ctx, "l1"); khabardar.ErrorCode(err) != khabardar.ENOTFOUND {
				return fmt.Errorf("want ENOTFOUND, got %v", err)
			}
			return nil
		}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			buckets, listings := h.take()
			if fmt.Sprint(buckets) != fmt.Sprint(tt.buckets) || (buckets == nil) != (tt.buckets == nil) ||
				len(buckets) == 1 && (buckets[0] == nil) != (tt.buckets[0] == nil) {
				t.Errorf("OnBuckets calls %q, want %q", buckets, tt.buckets)
			}
			if listings != tt.listings {
				t.Errorf("%d OnListings calls, want %d", listings, tt.listings)
			}
		})
	}
}

// rawRequest sends one HTTP request over the socket without the client.
func rawRequest(t *testing.T, path, method, target, contentType string, body []byte) (int, errorResponse) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequest(method, "http://admin"+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e errorResponse
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("error body %q: %v", b, err)
		}
	}
	return resp.StatusCode, e
}

// TestMalformedRequests sends what no client sends and checks each is
// refused with EINVALID, and the server goes on serving.
func TestMalformedRequests(t *testing.T) {
	s := serve(t)
	if err := s.client.Init(context.Background(), storetest.Layout); err != nil {
		t.Fatal(err)
	}
	const js = "application/json"
	tests := []struct {
		name, method, target, ctype, body string
		status                            int
	}{
		{"well-formed", "POST", "/v1/listings", js, `{}`, 200},
		{"with charset", "POST", "/v1/ping", js + "; charset=utf-8", `{}`, 200},
		{"GET", "GET", "/v1/listings", js, ``, 400},
		{"unknown method", "POST", "/v1/drop-everything", js, `{}`, 400},
		{"no version", "POST", "/listings", js, `{}`, 400},
		{"no content type", "POST", "/v1/listings", "", `{}`, 400},
		{"form", "POST", "/v1/listings", "application/x-www-form-urlencoded", `{}`, 400},
		{"empty body", "POST", "/v1/listings", js, ``, 400},
		{"unknown field", "POST", "/v1/listing", js, `{"id":"x","raw":"35202-1234567-1"}`, 400},
		{"two values", "POST", "/v1/listing", js, `{"id":"x"}{"id":"y"}`, 400},
		{"trailing garbage", "POST", "/v1/listing", js, `{"id":"x"} x`, 400},
		{"wrong type", "POST", "/v1/listing", js, `{"id":7}`, 400},
		{"not json", "POST", "/v1/listing", js, `id=x`, 400},
		{"cut short", "POST", "/v1/listing", js, `{"id":"x"`, 400},
		{"array", "POST", "/v1/listing", js, `["x"]`, 400},
		{"null", "POST", "/v1/listing", js, `null`, 400},
		{"string", "POST", "/v1/listings", js, `"x"`, 400},
		{"null listing", "POST", "/v1/put-listing", js, `{"listing":null}`, 400},
		{"null key", "POST", "/v1/put-api-key", js, `{"key":null}`, 400},
		{"records not base64", "POST", "/v1/add-exposures", js, `{"listing_id":"x","records":"!!"}`, 400},
		{"records cut short", "POST", "/v1/add-exposures", js, `{"listing_id":"x","records":"AQQwMDAw"}`, 400},
		{"over the body limit", "POST", "/v1/listing", js, `{"id":"` + strings.Repeat("x", maxBody) + `"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := rawRequest(t, s.path, tt.method, tt.target, tt.ctype, []byte(tt.body))
			if status != tt.status {
				t.Fatalf("status %d, want %d (%+v)", status, tt.status, e)
			}
			if status != 200 && e.Error.Code != khabardar.EINVALID {
				t.Fatalf("code %q, want invalid (%s)", e.Error.Code, e.Error.Message)
			}
			if strings.Contains(e.Error.Message, "35202") || strings.Contains(e.Error.Message, "raw") {
				t.Errorf("the error repeats the request: %s", e.Error.Message)
			}
		})
	}
	if err := s.client.Ping(context.Background()); err != nil {
		t.Fatalf("Ping after malformed requests: %v", err)
	}
}

// TestClientGoneMidRequest cuts requests off part way, as a client killed
// mid-ingest does (the kernel closes a killed process's socket as Close
// does): nothing of the cut batch is stored, and the server goes on.
func TestClientGoneMidRequest(t *testing.T) {
	ctx := context.Background()
	s := serve(t)
	if err := s.client.Init(ctx, storetest.Layout); err != nil {
		t.Fatal(err)
	}
	if err := s.client.PutListing(ctx, storetest.NewListing("l1")); err != nil {
		t.Fatal(err)
	}
	recs, _ := EncodeRecords(storetest.RandomExposures(20_000, identifier.Phone))
	body, _ := json.Marshal(exposuresRequest{ListingID: "l1", Records: recs})
	head := fmt.Sprintf("POST /v1/add-exposures HTTP/1.1\r\nHost: admin\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	cuts := []struct {
		name string
		send string
	}{
		{"connected only", ""},
		{"part of the head", head[:20]},
		{"head only", head},
		{"half the body", head + string(body[:len(body)/2])},
		{"all but a byte", head + string(body[:len(body)-1])},
	}
	for _, c := range cuts {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("unix", s.path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, c.send); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			if err := s.client.Ping(ctx); err != nil {
				t.Fatalf("Ping after a cut request: %v", err)
			}
		})
	}
	// A request still being sent does not hold up others.
	slow, err := net.Dial("unix", s.path)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, head+string(body[:100]))
	if l, err := s.client.Listing(ctx, "l1"); err != nil || l.Counts.Total() != 0 {
		t.Fatalf("after cut batches: %v, counts %+v; want nothing stored", err, l.Counts)
	}
}

// TestLogs checks what the server logs: one line per request, with the
// method and the batch's size, writes at Info.
func TestLogs(t *testing.T) {
	ctx := context.Background()
	s := serve(t)
	if err := s.client.Init(ctx, storetest.Layout); err != nil {
		t.Fatal(err)
	}
	if err := s.client.PutListing(ctx, storetest.NewListing("l1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.AddExposures(ctx, "l1", storetest.RandomExposures(7, identifier.CNIC)); err != nil {
		t.Fatal(err)
	}
	s.client.Listing(ctx, "absent")
	want := []string{
		`"level":"DEBUG","msg":"admin request","method":"info"`,
		`"level":"DEBUG","msg":"admin request","method":"init"`,
		`"level":"INFO","msg":"admin request","method":"put-listing"`,
		`"level":"DEBUG","msg":"admin request","method":"add-exposures","n":7`,
		`"level":"DEBUG","msg":"admin request","method":"listing","code":"not_found"`,
	}
	lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(want), s.logs)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d %s\nwant it to hold %s", i, lines[i], w)
		}
	}
}

// helperEnv names the socket TestHelperIngest writes to when the test
// binary runs as TestKilledClient's child.
const helperEnv = "ADMINSOCK_TEST_HELPER_SOCKET"

// TestHelperIngest is TestKilledClient's child: it sends batches of 5,000
// new exposures to listing l1 until killed, saying "batch" after each.
func TestHelperIngest(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		return // not the child
	}
	c, err := Dial(path)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(2)
	}
	for {
		if _, err := c.AddExposures(context.Background(), "l1", storetest.RandomExposures(5000, identifier.Phone)); err != nil {
			fmt.Println("add:", err)
			os.Exit(2)
		}
		fmt.Println("batch")
	}
}

// TestKilledClient SIGKILLs a client process in the middle of its
// batches: the server goes on serving, and the listing holds whole batches
// only, its counts exact.
func TestKilledClient(t *testing.T) {
	ctx := context.Background()
	s := serve(t)
	if err := s.client.Init(ctx, storetest.Layout); err != nil {
		t.Fatal(err)
	}
	if err := s.client.PutListing(ctx, storetest.NewListing("l1")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIngest$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+s.path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "batch\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q (%v)", line, err)
	}
	cmd.Process.Kill() // SIGKILL: most likely mid-request
	cmd.Wait()

	// A request the client sent before dying may still be committing on
	// the server: read until the counts stop changing.
	var l *khabardar.Listing
	for deadline := time.Now().Add(5 * time.Second); ; {
		l, err = s.client.Listing(ctx, "l1")
		if err != nil {
			t.Fatalf("Listing after the client was killed: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
		again, err := s.client.Listing(ctx, "l1")
		if err != nil {
			t.Fatal(err)
		}
		if again.Counts == l.Counts || time.Now().After(deadline) {
			break
		}
	}
	if n := l.Counts[identifier.Phone]; n < 5000 || n%5000 != 0 || l.Counts.Total() != n {
		t.Fatalf("counts %+v after a killed client: want whole batches of 5000 phones", l.Counts)
	}
	c, err := s.client.Recount(ctx, "l1")
	if err != nil || c != l.Counts {
		t.Fatalf("Recount %+v (%v), stored counts %+v", c, err, l.Counts)
	}
}
