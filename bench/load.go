package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/khabardar/khabardar/internal/cpuclock"
)

// version is one khabardar binary with a data directory to copy per run.
type version struct {
	name, bin, template string
	serveArgs           []string
}

// loadRun is one load run's figures.
type loadRun struct {
	checksPerS float64
	serverCPU  float64 // µs per check, the serve process
	clientCPU  float64 // µs per check, the load process
}

// load runs `khabardar load` against `khabardar serve` on a fresh copy of a
// store of 200,000 identifiers, the binary at --old against this tree's,
// both processes on this machine's cores; with --load-warm, after reading
// every bucket once (warmBuckets). Ratio: new ÷ old checks/s; CPU:
// old ÷ new CPU per check, server and client together.
func load(c *config, w *workspace) ([]row, error) {
	csv := filepath.Join(w.dir, "leak.csv")
	if err := writeLeak(csv, 100_000); err != nil {
		return nil, err
	}
	oldV, err := w.version("old", c.old, csv)
	if err != nil {
		return nil, err
	}
	newV, err := w.version("new", "", csv)
	if err != nil {
		return nil, err
	}
	logf("load: %s vs this tree, %d pairs of %s", c.old, c.pairs, c.loadFor)
	olds, news, err := pairs(c.pairs,
		func(i int) (loadRun, error) { return w.loadOnce(c, oldV, i) },
		func(i int) (loadRun, error) { return w.loadOnce(c, newV, i) })
	if err != nil {
		return nil, err
	}
	med := medianOf[loadRun]
	cps := func(r loadRun) float64 { return r.checksPerS }
	srv := func(r loadRun) float64 { return r.serverCPU }
	cli := func(r loadRun) float64 { return r.clientCPU }
	n := c.pairs
	state := "freshly started"
	if c.loadWarm {
		state = "bucket cache warm"
	}
	return []row{
		{
			what: fmt.Sprintf("`khabardar load` against `serve` (embedded store, 200 k identifiers, %s, %d users, %s), **this tree ÷ %s**, checks/s", state, c.users, c.loadFor, c.old),
			figures: fmt.Sprintf("%s %.0f, this tree %.0f checks/s",
				c.old, med(olds, cps), med(news, cps)),
			wall: ratios(n, func(i int) float64 { return news[i].checksPerS / olds[i].checksPerS }),
			cpu: ratios(n, func(i int) float64 {
				return (olds[i].serverCPU + olds[i].clientCPU) / (news[i].serverCPU + news[i].clientCPU)
			}),
			pairs:  n,
			target: "≥ 1.3×",
		},
		{
			what:    fmt.Sprintf("server CPU per single-identifier check under that load (evaluate + bucket), **%s ÷ this tree**", c.old),
			figures: fmt.Sprintf("%s %.0f µs, this tree **%.0f µs**", c.old, med(olds, srv), med(news, srv)),
			cpu:     ratios(n, func(i int) float64 { return olds[i].serverCPU / news[i].serverCPU }),
			pairs:   n,
			target:  "≤ 300 µs",
		},
		{
			what:    fmt.Sprintf("Go client CPU per check in `khabardar load` (blind, proof check, finalize, HTTP), **%s ÷ this tree**", c.old),
			figures: fmt.Sprintf("%s %.0f µs, this tree **%.0f µs**", c.old, med(olds, cli), med(news, cli)),
			cpu:     ratios(n, func(i int) float64 { return olds[i].clientCPU / news[i].clientCPU }),
			pairs:   n,
			target:  "≤ 300 µs",
		},
	}, nil
}

// writeLeak writes a CSV of rows CNICs and mobile numbers, the same each time.
func writeLeak(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(1, 2))
	fmt.Fprintln(bw, "cnic,phone")
	for range rows {
		fmt.Fprintf(bw, "3520%09d,0300%07d\n", r.IntN(1e9), r.IntN(1e7))
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// version builds khabardar at commit (this tree if empty) and a template
// data directory it ingested csv into.
func (w *workspace) version(name, commit, csv string) (*version, error) {
	v := &version{name: name, template: filepath.Join(w.dir, "template-"+name)}
	src := w.root
	if commit == "" {
		bin, err := w.binary()
		if err != nil {
			return nil, err
		}
		v.bin = bin
	} else {
		src = filepath.Join(w.dir, "src-"+name)
		logf("git worktree add %s %s", src, commit)
		if out, err := exec.Command("git", "-C", w.root, "worktree", "add", "--detach", src, commit).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("git worktree add %s: %v\n%s", commit, err, out)
		}
		defer exec.Command("git", "-C", w.root, "worktree", "remove", "--force", src).Run()
		v.bin = filepath.Join(w.dir, "khabardar-"+name)
		logf("go build %s (%s)", v.bin, commit)
		build := exec.Command("go", "build", "-o", v.bin, "./cmd/khabardar")
		build.Dir, build.Stderr = src, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build %s: %w", commit, err)
		}
	}
	listing := filepath.Join(src, "examples", "listing-pakdata-shop.yaml")
	for _, args := range [][]string{
		{"keys", "init", "--data", v.template},
		{"listings", "add", "--data", v.template, listing},
		{"ingest", "--data", v.template, "--listing", "pakdata-shop-2025", csv},
	} {
		if out, err := exec.Command(v.bin, args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args[:2], " "), err, tail(string(out), 10))
		}
	}
	help, _ := exec.Command(v.bin, "serve", "--help").CombinedOutput()
	v.serveArgs = []string{"--no-site", "--log-level", "warn",
		"--rate-evaluate", "1000000000-H", "--rate-bucket", "1000000000-H", "--rate-listing", "1000000000-H",
		"--rate-global-evaluate", "1000000000000-D"}
	if bytes.Contains(help, []byte("--metrics-addr")) || bytes.Contains(help, []byte("-metrics-addr")) {
		v.serveArgs = append(v.serveArgs, "--metrics-addr", "off")
	}
	return v, nil
}

// loadOnce serves a fresh copy of v's template and runs load against it.
func (w *workspace) loadOnce(c *config, v *version, i int) (loadRun, error) {
	data := filepath.Join(w.dir, fmt.Sprintf("run-%s-%d", v.name, i))
	if out, err := exec.Command("cp", "-a", v.template, data).CombinedOutput(); err != nil {
		return loadRun{}, fmt.Errorf("cp: %v %s", err, out)
	}
	defer os.RemoveAll(data)
	srv, err := startServe(v.bin, data, v.serveArgs...)
	if err != nil {
		return loadRun{}, fmt.Errorf("%s: %w", v.name, err)
	}
	defer srv.stop()
	base := srv.base
	if c.loadWarm {
		if err := warmBuckets(base); err != nil {
			return loadRun{}, fmt.Errorf("%s: warming the bucket cache: %w", v.name, err)
		}
	}
	cpu0, err := srv.cpu()
	if err != nil {
		return loadRun{}, err
	}
	gen := exec.Command(v.bin, "load", "--server", base, "--json", "--checks", "100000000",
		"--duration", c.loadFor.String(), "--concurrency", fmt.Sprint(c.users))
	var out, errs bytes.Buffer
	gen.Stdout, gen.Stderr = &out, &errs
	if err := gen.Run(); err != nil {
		return loadRun{}, fmt.Errorf("%s load: %v\n%s", v.name, err, tail(errs.String(), 10))
	}
	cpu1, err := srv.cpu()
	if err != nil {
		return loadRun{}, err
	}
	var rep struct {
		Checks     int64            `json:"checks"`
		Failed     int64            `json:"failed"`
		ChecksPerS float64          `json:"checks_per_s"`
		Errors     map[string]int64 `json:"errors"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return loadRun{}, fmt.Errorf("%s load --json: %v", v.name, err)
	}
	if rep.Checks == 0 || rep.Failed > rep.Checks/100 {
		return loadRun{}, fmt.Errorf("%s load: %d checks, %d failed: %v", v.name, rep.Checks, rep.Failed, rep.Errors)
	}
	client := cpuclock.Rusage(gen.ProcessState.SysUsage().(*syscall.Rusage))
	r := loadRun{
		checksPerS: rep.ChecksPerS,
		serverCPU:  float64((cpu1 - cpu0).Microseconds()) / float64(rep.Checks),
		clientCPU:  float64(client.Microseconds()) / float64(rep.Checks),
	}
	logf("  %s: %.0f checks/s, server %.0f µs, client %.0f µs CPU per check", v.name, r.checksPerS, r.serverCPU, r.clientCPU)
	return r, nil
}

// warmBuckets reads every bucket once, as a server that has been serving a
// while holds them in its bucket cache (both binaries have one; its TTL, a
// minute, outlasts the warming and the run): the load run then measures
// the steady state, not a cold start's store reads.
func warmBuckets(base string) error {
	var cfg struct {
		BucketBits int `json:"bucket_bits"`
	}
	resp, err := http.Get(base + "/v1/config")
	if err != nil {
		return err
	}
	err = json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if err != nil || cfg.BucketBits <= 0 || cfg.BucketBits%4 != 0 || cfg.BucketBits > 24 {
		return fmt.Errorf("/v1/config: bucket_bits %d: %v", cfg.BucketBits, err)
	}
	n, digits := 1<<cfg.BucketBits, cfg.BucketBits/4
	const workers = 4
	// One kept-alive connection per worker: the default client keeps two
	// idle, and would open a connection for most of the 65,536 requests.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer hc.CloseIdleConnections()
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := w; i < n; i += workers {
				resp, err := hc.Get(fmt.Sprintf("%s/v1/buckets/%0*x", base, digits, i))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("bucket %0*x: %s", digits, i, resp.Status)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// server is a running `khabardar serve`.
type server struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	log  bytes.Buffer
}

// startServe serves data with bin on a free loopback port and waits until
// it answers /v1/config.
func startServe(bin, data string, args ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://" + addr}
	s.cmd = exec.Command(bin, append([]string{"serve", "--data", data, "--addr", addr}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitReady(s.base + "/v1/config"); err != nil {
		s.stop()
		return nil, fmt.Errorf("serve: %v\n%s", err, tail(s.log.String(), 10))
	}
	return s, nil
}

// cpu is the server's CPU time so far.
func (s *server) cpu() (time.Duration, error) { return cpuclock.Of(s.cmd.Process.Pid) }

// stop sends SIGTERM and waits, killing it after 10 s.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready in 30 s", url)
}
