package api

import (
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"testing"

	"github.com/khabardar/khabardar/ratelimit"
)

// TestIdentityPerConnection: a connection keeps the rate-limit identity of
// its peer, but only for requests that name no other client. Through a
// trusted proxy, requests on one keep-alive connection carrying different
// X-Forwarded-For addresses are counted apart, and the proxy's own requests
// (no header) against the proxy.
func TestIdentityPerConnection(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	e := newEnv(t, func(c *Config, rc *ratelimit.Config) {
		c.TrustedProxies, rc.TrustedProxies = proxy, proxy
		rc.Bucket = "1-H"
	})
	base := e.listen()
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	conns := 0
	get := func(xff string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/v1/buckets/abcd", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) {
				if !i.Reused {
					conns++
				}
			},
		}))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return readResponse(t, resp).status
	}
	steps := []struct {
		name string
		xff  string
		want int
	}{
		{"the proxy itself", "", 200},
		{"a client behind it", "203.0.113.5", 200},
		{"the proxy again: its identity, now spent", "", 429},
		{"the same client again: spent", "203.0.113.5", 429},
		{"another client", "203.0.113.6", 200},
	}
	for _, s := range steps {
		if got := get(s.xff); got != s.want {
			t.Fatalf("%s: %d, want %d", s.name, got, s.want)
		}
	}
	if conns != 1 {
		t.Fatalf("%d connections, want all requests on one", conns)
	}
}
