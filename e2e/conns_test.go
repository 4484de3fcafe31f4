//go:build linux

package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/prereq"
)

// floodSources are the loopback addresses the flood comes from (Linux
// routes all of 127.0.0.0/8 to lo): a few, so that the connections are not
// all one client's.
var floodSources = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"}

// TestIdleConnectionFlood holds 1,500 connections that never send a byte
// against a `serve` limited to 1,024 file descriptors, for 30 s, dialling
// again whenever the server closes one (as an attacker would). The total
// connection cap is set above the fd limit, so the process does run out of
// descriptors and its accept loop meets EMFILE; the per-address cap above
// what each source opens, so every close is the header timeout's. The
// process must stay up, /healthz answer within 15 s of the flood ending,
// and a lookup (config, evaluate, bucket) work afterwards.
//
// Before the fix serve exited with "accept4: too many open files".
func TestIdleConnectionFlood(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		prereq.Missing(t, "", "prlimit is needed to run serve under an fd limit", "apt-get install -y util-linux")
	}
	const (
		slots    = 1500
		hold     = 30 * time.Second
		fdLimit  = 1024
		recovery = 15 * time.Second // the bound
	)
	c := newCLI(t, "")
	c.ok("keys", "init")
	c.ok("listings", "add", c.write("one.yaml", checkListingOne))
	c.ingest("data-shop", c.write("one.csv", "cnic\n"+foundCNIC.typed+"\n"))
	// Through the environment, which a serve without these settings ignores
	// (so that the test runs against it too and shows it exit).
	c.env = append(c.env, "KHABARDAR_MAX_CONNS=4000", "KHABARDAR_MAX_CONNS_PER_ADDR=1000")
	srv := startServeWith(t, c, []string{prlimit, "--nofile=" + strconv.Itoa(fdLimit), "--"})
	pid := srv.cmd.Process.Pid // prlimit execs serve: the same process
	addr := strings.TrimPrefix(srv.base, "http://")
	idle := procStats(t, pid)
	t.Logf("before the flood: %d fds, RSS %d KiB", idle.fds, idle.rssKiB)

	ctx, stop := context.WithTimeout(context.Background(), hold)
	defer stop()
	var (
		wg                      sync.WaitGroup
		dials, dialErrs, closed atomic.Int64
		mu                      sync.Mutex
		closedAfter             []time.Duration // from dial to the server's close
		open, peakOpen, peakFDs atomic.Int64
		peakRSS                 atomic.Int64
		probes, probeOK         atomic.Int64
	)
	for i := range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(floodSources[i%len(floodSources)])}}
			deadline, _ := ctx.Deadline()
			buf := make([]byte, 1)
			for ctx.Err() == nil {
				conn, err := d.DialContext(ctx, "tcp", addr)
				dials.Add(1)
				if err != nil {
					dialErrs.Add(1)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				start := time.Now()
				peakOpen.Store(max(peakOpen.Load(), open.Add(1)))
				conn.SetReadDeadline(deadline) // send nothing; wait for the server to close it
				_, err = conn.Read(buf)
				open.Add(-1)
				conn.Close()
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					closed.Add(1)
					mu.Lock()
					closedAfter = append(closedAfter, time.Since(start))
					mu.Unlock()
				}
			}
		}()
	}

	// While the flood runs: is the process up, does /healthz answer, what
	// does it hold?
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	healthy := func() bool {
		r, err := probe.Get(srv.base + "/healthz")
		if err != nil {
			return false
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return r.StatusCode == 200
	}
	tick := time.NewTicker(500 * time.Millisecond)
	for ctx.Err() == nil {
		select {
		case err := <-srv.done:
			stop()
			wg.Wait()
			t.Fatalf("serve exited during the flood (%v) after %d dials:\n%s", err, dials.Load(), tail(srv.logs.String(), 20))
		case <-tick.C:
		case <-ctx.Done():
		}
		if st, ok := tryProcStats(pid); ok {
			peakFDs.Store(max(peakFDs.Load(), int64(st.fds)))
			peakRSS.Store(max(peakRSS.Load(), st.rssKiB))
		}
		probes.Add(1)
		if healthy() {
			probeOK.Add(1)
		}
	}
	tick.Stop()
	wg.Wait()
	ended := time.Now()
	for !healthy() {
		select {
		case err := <-srv.done:
			t.Fatalf("serve exited after the flood (%v):\n%s", err, tail(srv.logs.String(), 20))
		default:
		}
		if time.Since(ended) > recovery {
			t.Fatalf("/healthz did not answer within %v of the flood ending", recovery)
		}
		time.Sleep(20 * time.Millisecond)
	}
	back := time.Since(ended)
	after := procStats(t, pid)

	// A real lookup: config, evaluate, bucket.
	a := newAPIClient(t, srv.base)
	id, err := identifier.Parse(identifier.Unknown, identifier.Raw(foundCNIC.typed))
	if err != nil {
		t.Fatal(err)
	}
	r, outs := a.evaluate([]identifier.ID{id})
	if r.status != 200 || len(outs) != 1 {
		t.Fatalf("evaluate after the flood: %d %s", r.status, r.body)
	}
	if _, in := a.bucketOf(outs[0]); !slices.Equal(in, []string{"data-shop"}) {
		t.Fatalf("after the flood the identifier is in %v, want [data-shop]", in)
	}

	m := scrape(t, srv.metrics)
	timeouts := metricValue(m, `khabardar_connections_closed_total{reason="header_timeout"}`)
	emfile := metricValue(m, `khabardar_accept_errors_total{error="fd_limit"}`)
	capped := metricValue(m, `khabardar_connections_closed_total{reason="total_cap"}`) + metricValue(m, `khabardar_connections_closed_total{reason="address_cap"}`)
	if emfile == 0 {
		t.Error("the accept loop never met EMFILE: the test did not exhaust the fd limit")
	}
	if timeouts == 0 {
		t.Error("no connection was closed by the header timeout")
	}
	if capped != 0 {
		t.Errorf("%v connections closed by a cap, set above the flood", capped)
	}
	mu.Lock()
	slices.Sort(closedAfter)
	q := func(p float64) time.Duration {
		if len(closedAfter) == 0 {
			return 0
		}
		return closedAfter[int(p*float64(len(closedAfter)-1))].Round(10 * time.Millisecond)
	}
	t.Logf("flood: %d slots over %d source addresses for %v: %d dials (%d failed), at most %d open at once; "+
		"the server closed %d (dial to close: median %v, p90 %v, max %v)",
		slots, len(floodSources), hold, dials.Load(), dialErrs.Load(), peakOpen.Load(), closed.Load(), q(.5), q(.9), q(1))
	mu.Unlock()
	t.Logf("server: %v header timeouts, %v EMFILE/ENFILE accept errors retried, %v closed by a cap", timeouts, emfile, capped)
	t.Logf("during the flood /healthz answered %d of %d probes (1 s timeout); peak %d fds of %d, peak RSS %d KiB",
		probeOK.Load(), probes.Load(), peakFDs.Load(), fdLimit, peakRSS.Load())
	t.Logf("after it: /healthz answered after %v; %d fds, RSS %d KiB (%d fds, %d KiB before)",
		back.Round(time.Millisecond), after.fds, after.rssKiB, idle.fds, idle.rssKiB)
	logs := srv.stop(t)
	if n := strings.Count(logs, "\n"); n > 200 {
		t.Errorf("the flood wrote %d log lines", n)
	}
}

type procStat struct {
	fds    int
	rssKiB int64
}

func procStats(t *testing.T, pid int) procStat {
	t.Helper()
	st, ok := tryProcStats(pid)
	if !ok {
		t.Fatalf("cannot read /proc/%d", pid)
	}
	return st
}

// tryProcStats reads a process's open descriptors and resident memory.
func tryProcStats(pid int) (procStat, bool) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return procStat{}, false
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStat{}, false
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		return procStat{}, false
	}
	rss, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return procStat{fds: len(fds), rssKiB: rss}, true
}

// TestHeaderTimeoutServe: with --header-timeout 2s a connection that sends
// nothing, and one that drips its head a byte every 200 ms, are closed about
// 2 s after they connect; a keep-alive connection idles past it and serves
// a second request. Before, both were held for fasthttp's 10 s read
// timeout (and by fasthttp v1.51, the silent one for ever).
func TestHeaderTimeoutServe(t *testing.T) {
	const timeout = 2 * time.Second
	c := newCLI(t, "")
	c.ok("keys", "init")
	c.env = append(c.env, "KHABARDAR_HEADER_TIMEOUT="+timeout.String())
	srv := startServe(t, c)
	addr := strings.TrimPrefix(srv.base, "http://")
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	closedAfter := func(conn net.Conn, start time.Time) time.Duration {
		conn.SetReadDeadline(start.Add(20 * time.Second))
		if _, err := io.Copy(io.Discard, conn); errors.Is(err, os.ErrDeadlineExceeded) {
			return 20 * time.Second
		}
		return time.Since(start)
	}
	var wg sync.WaitGroup
	check := func(name string, f func() time.Duration) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Closed by the timeout, not at once (a cap) nor much later.
			d := f()
			if d < timeout-250*time.Millisecond || d > timeout+3*time.Second {
				t.Errorf("%s: closed after %v, want about %v", name, d.Round(time.Millisecond), timeout)
			}
			t.Logf("%s: closed after %v", name, d.Round(time.Millisecond))
		}()
	}
	check("a connection that sends nothing", func() time.Duration { start := time.Now(); return closedAfter(dial(), start) })
	check("a head dripped a byte every 200 ms", func() time.Duration {
		start := time.Now()
		conn := dial()
		go func() {
			for _, b := range []byte("GET /healthz HTTP/1.1\r\nHost: khabardar\r\nUser-Agent: slow\r\nAccept: */*\r\n\r\n") {
				if _, err := conn.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
		return closedAfter(conn, start)
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn := dial()
		br := bufio.NewReader(conn)
		for i := range 2 {
			io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: khabardar\r\n\r\n")
			r, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("keep-alive request %d: %v", i+1, err)
				return
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if i == 0 {
				time.Sleep(timeout + time.Second) // idle past the header timeout
			}
		}
	}()
	wg.Wait()
	srv.stop(t)
}

// TestConnectionCapsServe: over --max-conns-per-addr from one address a new
// connection is closed at once while other addresses are served; over
// --max-conns every new connection is; closing frees the places. Each
// refusal is counted. (IPv6 /64 grouping: api's TestConnectionCaps.)
func TestConnectionCapsServe(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	// A header timeout long enough that held connections stay for the test.
	c.env = append(c.env, "KHABARDAR_HEADER_TIMEOUT=1m", "KHABARDAR_MAX_CONNS_PER_ADDR=3", "KHABARDAR_MAX_CONNS=6")
	srv := startServe(t, c)
	http.DefaultClient.CloseIdleConnections() // startServe's, which would count
	addr := strings.TrimPrefix(srv.base, "http://")
	openConns := func(want float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for metricValue(scrape(t, srv.metrics), "khabardar_connections_open") != want {
			if time.Now().After(deadline) {
				t.Fatalf("the server does not hold %v connections", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	dial := func(from string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	// closedAtOnce reports whether the server closes conn within 2 s.
	closedAtOnce := func(conn net.Conn) bool {
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := conn.Read(make([]byte, 1))
		return !errors.Is(err, os.ErrDeadlineExceeded)
	}
	served := func(conn net.Conn) bool {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: khabardar\r\n\r\n")
		r, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	}

	// Each held connection is served a request first, so that the server
	// has surely accepted it; then it idles (keep-alive).
	var held []net.Conn
	for range 3 {
		conn := dial("127.0.0.2")
		if !served(conn) {
			t.Fatal("a connection within the caps was not served")
		}
		held = append(held, conn)
	}
	if !closedAtOnce(dial("127.0.0.2")) {
		t.Error("a fourth connection from one address was not closed at once")
	}
	if !served(dial("127.0.0.3")) {
		t.Error("another address was refused")
	}
	openConns(4)
	dial("127.0.0.4")
	dial("127.0.0.4")
	openConns(6)
	if !closedAtOnce(dial("127.0.0.5")) {
		t.Error("a seventh connection was not closed at once")
	}
	for _, conn := range held {
		conn.Close()
	}
	openConns(3)
	if !served(dial("127.0.0.2")) {
		t.Error("after its connections closed, the address was still refused")
	}
	m := scrape(t, srv.metrics)
	if a, tot := metricValue(m, `khabardar_connections_closed_total{reason="address_cap"}`), metricValue(m, `khabardar_connections_closed_total{reason="total_cap"}`); a != 1 || tot != 1 {
		t.Errorf("refusals counted: address_cap %v, total_cap %v; want 1 and 1", a, tot)
	}
	logs := srv.stop(t)
	for _, a := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"} {
		if strings.Contains(logs, a) {
			t.Errorf("the client address %s reached the log", a)
		}
	}
}
