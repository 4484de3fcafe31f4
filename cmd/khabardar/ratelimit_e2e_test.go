package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
