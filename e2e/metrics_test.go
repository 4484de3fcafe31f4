package e2e

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMetricsListener: /metrics is served on the metrics listener only, and
// by default on loopback. (It was public on the API's listener, where the
// bucket cache's hits and misses told anyone which buckets others fetched.)
func TestMetricsListener(t *testing.T) {
	t.Run("separate", func(t *testing.T) {
		c := newCLI(t, "")
		c.ok("keys", "init")
		srv := startServe(t, c)
		apiCall(t, "GET", srv.base+"/v1/buckets/abcd", "", nil)
		if r := apiCall(t, "GET", srv.base+"/metrics", "", nil); r.status != 404 || r.code() != "not_found" {
			t.Errorf("GET /metrics on the API listener: %d %s", r.status, r.body)
		}
		m := scrape(t, srv.metrics)
		for _, want := range []string{
			`khabardar_http_requests_total{method="GET",route="/v1/buckets/:prefix",status="200"} 1`,
			`khabardar_bucket_cache_requests_total{result="miss"} 1`,
			`khabardar_connections_open`,
			`khabardar_dependency_up{dependency="store"} 1`,
		} {
			if !strings.Contains(m, want) {
				t.Errorf("the metrics lack %s", want)
			}
		}
		// The metrics listener serves nothing else.
		for _, path := range []string{"/healthz", "/v1/config", "/"} {
			if r := apiCall(t, "GET", srv.metrics+path, "", nil); r.status != 404 {
				t.Errorf("GET %s on the metrics listener: %d", path, r.status)
			}
		}
		srv.stop(t)
	})

	// The default, 127.0.0.1:9464: reachable on loopback, not on the host's
	// other addresses. (It fails if something else on this machine holds
	// that port.)
	t.Run("default loopback", func(t *testing.T) {
		c := newCLI(t, "")
		c.ok("keys", "init")
		c.env = append(c.env, "KHABARDAR_METRICS_ADDR=") // empty: unset, the default applies
		srv := startServe(t, c)
		if m := scrape(t, "http://"+DefaultMetricsAddr); !strings.Contains(m, "khabardar_http_requests_total") {
			t.Errorf("the default metrics listener serves:\n%s", m)
		}
		_, port, _ := net.SplitHostPort(DefaultMetricsAddr)
		others := 0
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			others++
			if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), port), time.Second); err == nil {
				conn.Close()
				t.Errorf("the metrics listener answers on %s", ipn.IP)
			}
		}
		logs := srv.stop(t)
		if !strings.Contains(logs, `"metrics_addr":"`+DefaultMetricsAddr+`"`) {
			t.Errorf("the start line does not name the metrics address:\n%s", logs)
		}
		t.Logf("not reachable on the host's %d other addresses", others)
	})

	// A metrics address in use fails the start, naming the flag.
	t.Run("in use", func(t *testing.T) {
		c := newCLI(t, "")
		c.ok("keys", "init")
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, stderr, code := c.run("serve", "--addr", freeAddr(t), "--metrics-addr", l.Addr().String())
		if code == 0 || !strings.Contains(stderr, "--metrics-addr") {
			t.Errorf("exit %d, stderr %q; want a failure naming --metrics-addr", code, stderr)
		}
	})

	// Port 0 binds a free port, which the start line names; "off" serves
	// no metrics.
	t.Run("port 0 and off", func(t *testing.T) {
		c := newCLI(t, "")
		c.ok("keys", "init")
		logs := startServe(t, c, "--metrics-addr", "127.0.0.1:0").stop(t)
		m := regexp.MustCompile(`"metrics_addr":"127\.0\.0\.1:(\d+)"`).FindStringSubmatch(logs)
		if m == nil || m[1] == "0" {
			t.Errorf("the start line does not name the bound port:\n%s", logs)
		}
		if logs := startServe(t, c, "--metrics-addr", "off").stop(t); !strings.Contains(logs, `"metrics_addr":"off"`) {
			t.Errorf("--metrics-addr off:\n%s", logs)
		}
	})
}

// scrape reads a metrics listener's /metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	r, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("metrics: %d %s", r.StatusCode, b)
	}
	return string(b)
}

// metricValue is the value of one series in Prometheus' text format, 0 if
// it is absent.
func metricValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
