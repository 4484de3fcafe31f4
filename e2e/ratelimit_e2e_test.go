package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/redistest"
)

// TestSharedLimitAcrossReplicas: two server processes sharing one Redis, or
// one Redis Cluster, enforce one limit exactly. Of 200 concurrent
// one-element evaluations, spread over both, against a limit of 50, exactly
// 50 succeed.
func TestSharedLimitAcrossReplicas(t *testing.T) {
	t.Run("redis", func(t *testing.T) { sharedLimit(t, newCLI(t, redistest.URL(t))) })
	t.Run("cluster", func(t *testing.T) { sharedLimit(t, newCLI(t, redistest.ClusterURL(t))) })
}

func sharedLimit(t *testing.T, c *cli) {
	c.ok("keys", "init") // both replicas share it, as they must
	a := startServe(t, c, "--rate-evaluate", "50-H")
	b := startServe(t, c, "--rate-evaluate", "50-H")

	body := evaluateBody(t, a.base, "0300-1234567")

	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		wg       sync.WaitGroup
	)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			base := []string{a.base, b.base}[i%2]
			resp, err := http.Post(base+"/v1/evaluate", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests && (resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Remaining") != "0") {
				t.Errorf("429 without Retry-After or X-RateLimit-Remaining: 0: %v", resp.Header)
			}
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if statuses[200] != 50 || statuses[429] != 150 || len(statuses) != 2 {
		t.Fatalf("statuses %v, want exactly 50×200 and 150×429", statuses)
	}
	// The clients' address is 127.0.0.1: only the line naming the listen
	// address may hold it.
	for _, s := range []*served{a, b} {
		for _, line := range strings.Split(s.stop(t), "\n") {
			if strings.Contains(line, "127.0.0.1") && !strings.Contains(line, `"msg":"serving"`) {
				t.Errorf("a client address reached the log: %s", line)
			}
		}
	}
}

// evaluateBody returns a valid POST /v1/evaluate body for one blinded
// element of value, made with the key server publishes.
func evaluateBody(t *testing.T, server, value string) []byte {
	t.Helper()
	var cfg struct {
		KeyID     string `json:"key_id"`
		PublicKey string `json:"public_key"`
	}
	r, err := http.Get(server + "/v1/config")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(r.Body).Decode(&cfg)
	r.Body.Close()
	pub, _ := base64.RawURLEncoding.DecodeString(cfg.PublicKey)
	client, err := hashing.NewClient(pub)
	if err != nil {
		t.Fatal(err)
	}
	id, err := identifier.Parse(identifier.Unknown, identifier.Raw(value))
	if err != nil {
		t.Fatal(err)
	}
	blinded, err := client.Blind([]identifier.ID{id})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"key_id": cfg.KeyID, "blinded": []string{base64.RawURLEncoding.EncodeToString(blinded.Elements[0])}})
	return body
}

// TestServeCeilingReserve: the real binary behind a trusted proxy (the test,
// writing X-Forwarded-For) keeps the last part of the global ceiling for
// addresses within their reserve allowance, and limits an IPv6 /48 as a
// whole. A ceiling of 12 a day, 3 of it the reserve, one at once per address;
// a /48 2 an hour.
func TestServeCeilingReserve(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	s := startServe(t, c, "--trusted-proxies", "127.0.0.1/32", "--rate-evaluate", "100-H", "--rate-evaluate-48", "2-H",
		"--rate-global-evaluate", "12-D", "--global-reserve-percent", "25", "--reserve-burst", "1")
	body := evaluateBody(t, s.base, "0300-1234567")
	post := func(from string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", s.base+"/v1/evaluate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	steps := []struct {
		name, from string
		want       int
	}{
		{"a /64", "2001:db8:5:1::1", 200},
		{"another /64 of its /48", "2001:db8:5:2::1", 200},
		{"a third: the /48's 2 an hour are used", "2001:db8:5:3::1", 429},
	}
	for i := range 7 {
		steps = append(steps, struct {
			name, from string
			want       int
		}{fmt.Sprintf("an attacker's evaluation %d of the main 9", i+3), "203.0.113.1", 200})
	}
	steps = append(steps, []struct {
		name, from string
		want       int
	}{
		{"the attacker's one from the reserve", "203.0.113.1", 200},
		{"and no more", "203.0.113.1", 429},
		{"a citizen: served from the reserve", "198.51.100.7", 200},
		{"another citizen", "198.51.100.8", 200},
		{"the reserve is used up", "198.51.100.9", 429},
	}...)
	for _, st := range steps {
		if got := post(st.from); got != st.want {
			t.Fatalf("%s: %d, want %d", st.name, got, st.want)
		}
	}
	for _, line := range strings.Split(s.stop(t), "\n") {
		for _, a := range []string{"203.0.113.1", "198.51.100.", "2001:db8:5"} {
			if strings.Contains(line, a) {
				t.Errorf("a client address reached the log: %s", line)
			}
		}
	}
}
