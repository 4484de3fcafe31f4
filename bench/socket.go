package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/khabardar/khabardar/internal/cpuclock"
)

// socketRun is one ingest's figures.
type socketRun struct {
	seconds float64 // the command's own elapsed time
	cpu     float64 // µs per identifier: the command, plus serve's for the socket
}

// socket ingests the same file into fresh embedded stores, alternately
// opening the store (no server) and through a running serve's admin socket.
// Ratio: direct ÷ socket time, and CPU per identifier, serve's included.
func socket(c *config, w *workspace) ([]row, error) {
	csv := filepath.Join(w.dir, "socket-leak.csv")
	if err := writeLeak(csv, c.ingestN/2); err != nil {
		return nil, err
	}
	bin, err := w.binary()
	if err != nil {
		return nil, err
	}
	listing := filepath.Join(w.root, "examples", "listing-pakdata-shop.yaml")
	once := func(viaSocket bool, i int) (socketRun, error) {
		data := filepath.Join(w.dir, fmt.Sprintf("socket-%v-%d", viaSocket, i))
		defer os.RemoveAll(data)
		for _, args := range [][]string{{"keys", "init", "--data", data}, {"listings", "add", "--data", data, listing}} {
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				return socketRun{}, fmt.Errorf("%v: %v\n%s", args[:2], err, out)
			}
		}
		var srv *server
		var serveCPU0 time.Duration
		if viaSocket {
			var err error
			if srv, err = startServe(bin, data, "--metrics-addr", "off", "--no-site", "--log-level", "warn"); err != nil {
				return socketRun{}, err
			}
			defer srv.stop()
			if _, err := os.Stat(filepath.Join(data, "admin.sock")); err != nil {
				return socketRun{}, fmt.Errorf("serve has no admin socket: %v", err)
			}
			if serveCPU0, err = srv.cpu(); err != nil {
				return socketRun{}, err
			}
		}
		cmd := exec.Command(bin, "ingest", "--data", data, "--listing", "pakdata-shop-2025", "--json", csv)
		var out, errs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errs
		if err := cmd.Run(); err != nil {
			return socketRun{}, fmt.Errorf("ingest: %v\n%s", err, tail(errs.String(), 10))
		}
		var sum struct {
			ElapsedNS int64 `json:"elapsed_ns"`
		}
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil || sum.ElapsedNS == 0 {
			return socketRun{}, fmt.Errorf("ingest --json: %v %s", err, tail(out.String(), 5))
		}
		cpu := cpuclock.Rusage(cmd.ProcessState.SysUsage().(*syscall.Rusage))
		if srv != nil {
			after, err := srv.cpu()
			if err != nil {
				return socketRun{}, err
			}
			cpu += after - serveCPU0
		}
		ids := float64(2 * (c.ingestN / 2)) // a CNIC and a mobile number per row
		return socketRun{seconds: float64(sum.ElapsedNS) / 1e9, cpu: float64(cpu.Microseconds()) / ids}, nil
	}
	logf("ingest direct vs through serve's admin socket, %d pairs", c.heavyPairs)
	direct, sock, err := pairs(c.heavyPairs,
		func(i int) (socketRun, error) { return once(false, i) },
		func(i int) (socketRun, error) { return once(true, i) })
	if err != nil {
		return nil, err
	}
	secs := func(r socketRun) float64 { return r.seconds }
	cpus := func(r socketRun) float64 { return r.cpu }
	return []row{{
		what: fmt.Sprintf("ingest of %d identifiers (embedded store), **opening the store ÷ through a running serve's admin socket**", 2*(c.ingestN/2)),
		figures: fmt.Sprintf("direct %.1f s, socket %.1f s; %.1f / %.1f µs CPU per identifier (serve's included)",
			medianOf(direct, secs), medianOf(sock, secs), medianOf(direct, cpus), medianOf(sock, cpus)),
		wall:   ratios(c.heavyPairs, func(i int) float64 { return direct[i].seconds / sock[i].seconds }),
		cpu:    ratios(c.heavyPairs, func(i int) float64 { return direct[i].cpu / sock[i].cpu }),
		pairs:  c.heavyPairs,
		target: "no loss beyond noise",
	}}, nil
}

// binary builds this tree's khabardar once.
func (w *workspace) binary() (string, error) {
	bin := filepath.Join(w.dir, "khabardar-new")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	logf("go build %s", bin)
	build := exec.Command("go", "build", "-o", bin, "./cmd/khabardar")
	build.Dir, build.Stderr = w.root, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}
