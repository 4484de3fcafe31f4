// Command bench measures Khabardar against its baselines the way a noisy,
// shared machine cannot fool: every comparison is a pair of separate
// processes run back to back (A then B, then B then A, and so on), each
// pair's ratio is computed from that pair alone, and the report gives the
// ratios' minimum, median and maximum, from wall-clock rates and from CPU
// time per operation (getrusage in the benchmark, /proc for servers), which
// other load on the machine moves far less. Every run gets fresh
// directories and a fresh store.
//
//	go run ./bench                      # everything: about 15 minutes on 2 cores
//	go run ./bench --only proof,load    # some experiments
//	go run ./bench --pairs 7            # more pairs
//
// It prints a Markdown table, the README's benchmark table. Experiments:
//
//	proof-server   hashing: one-element evaluation with proof, circl vs the fast path
//	proof-client   hashing: client blind + proof check + finalize, circl vs the fast path
//	hash           hashing: ingest's direct evaluation, circl's FullEvaluate vs Key.Hash
//	evaluate       POST /v1/evaluate, 1 element, vs hashing.Key.Evaluate alone
//	bucket         GET /v1/buckets, 1 M identifiers, vs a constant fiber handler (embedded, Redis)
//	bucket-stack   the same constant body behind this server's stack vs the bare handler
//	ingest         ingest of 200 k identifiers vs Key.Hash alone, per CPU-second (embedded, Redis)
//	socket         ingest opening the store vs through a running serve's admin socket
//	load           khabardar load against serve: the binary at --old vs this tree
//
// Redis experiments need redis-server on PATH; load builds the old binary
// from a temporary git worktree at --old.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// config is the command's flags.
type config struct {
	pairs      int
	heavyPairs int
	only       map[string]bool
	old        string
	loadFor    time.Duration
	users      int
	loadWarm   bool
	ingestN    int
	bucketTime string
	keep       bool
}

func main() {
	var c config
	only := flag.String("only", "", "comma-separated experiments (default: all): proof (the next three), proof-server, proof-client, hash, evaluate, bucket, bucket-stack, ingest, socket, load")
	flag.IntVar(&c.pairs, "pairs", 5, "interleaved pairs per light experiment (proof, evaluate, load)")
	flag.IntVar(&c.heavyPairs, "heavy-pairs", 3, "interleaved pairs per heavy experiment (bucket, ingest)")
	flag.StringVar(&c.old, "old", "cde199d", "the commit whose binary load compares with")
	flag.DurationVar(&c.loadFor, "load-duration", 10*time.Second, "each load run's length")
	flag.IntVar(&c.users, "load-concurrency", 16, "load's virtual users")
	flag.BoolVar(&c.loadWarm, "load-warm", false, "read every bucket once before each load run, so that it measures a server whose bucket cache is warm")
	flag.IntVar(&c.ingestN, "ingest-n", 200_000, "identifiers per ingest run")
	flag.StringVar(&c.bucketTime, "bucket-time", "5s", "each bucket run's -benchtime")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.Parse()
	c.only = map[string]bool{}
	for _, o := range strings.Split(*only, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.only[o] = true
		}
	}
	if c.pairs < 1 || c.heavyPairs < 1 {
		fatalf("--pairs and --heavy-pairs must be at least 1")
	}
	if err := run(&c); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func (c *config) wants(names ...string) bool {
	if len(c.only) == 0 {
		return true
	}
	for _, n := range names {
		if c.only[n] {
			return true
		}
	}
	return false
}

// logf reports progress on stderr; the table goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(c *config) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "khabardar-bench-")
	if err != nil {
		return err
	}
	if c.keep {
		logf("work directory %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	w := &workspace{root: root, dir: work}
	var rows []row
	start := time.Now()
	for _, e := range experiments {
		if !c.wants(e.names...) {
			continue
		}
		r, err := e.run(c, w)
		rows = append(rows, r...)
		if err != nil {
			printTable(os.Stdout, rows) // what was measured before the failure
			return err
		}
	}
	logf("done in %s", time.Since(start).Round(time.Second))
	printTable(os.Stdout, rows)
	return nil
}

// experiments run in this order; names are what --only selects them by.
var experiments = []struct {
	names []string
	run   func(*config, *workspace) ([]row, error)
}{
	{[]string{"proof", "proof-server", "proof-client", "hash"}, proofs},
	{[]string{"evaluate"}, evaluate},
	{[]string{"bucket"}, buckets},
	{[]string{"bucket-stack"}, bucketStack},
	{[]string{"ingest"}, ingests},
	{[]string{"socket"}, socket},
	{[]string{"load"}, load},
}

// workspace builds what the experiments run, once each.
type workspace struct {
	root, dir string
	built     map[string]string
}

// testBinary compiles package pkg's tests and returns the binary's path.
func (w *workspace) testBinary(pkg string) (string, error) {
	if p, ok := w.built[pkg]; ok {
		return p, nil
	}
	out := filepath.Join(w.dir, strings.ReplaceAll(pkg, "/", "_")+".test")
	logf("go test -c ./%s", pkg)
	cmd := exec.Command("go", "test", "-c", "-o", out, "./"+pkg)
	cmd.Dir, cmd.Stderr = w.root, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go test -c ./%s: %w", pkg, err)
	}
	if w.built == nil {
		w.built = map[string]string{}
	}
	w.built[pkg] = out
	return out, nil
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w (run it from the repository)", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// pairs runs a then b n times, alternating which goes first, and returns
// their measurements in pair order.
func pairs[M any](n int, a, b func(i int) (M, error)) (as, bs []M, err error) {
	for i := range n {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		x, err := first(i)
		if err != nil {
			return nil, nil, err
		}
		y, err := second(i)
		if err != nil {
			return nil, nil, err
		}
		if i%2 == 1 {
			x, y = y, x
		}
		as, bs = append(as, x), append(bs, y)
	}
	return as, bs, nil
}

// spread is min, median and max.
type spread struct{ min, med, max float64 }

func spreadOf(xs []float64) spread {
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{s[0], med, s[len(s)-1]}
}

// medianOf is the median of f over rs.
func medianOf[T any](rs []T, f func(T) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = f(r)
	}
	return spreadOf(xs).med
}

// ratios returns f(i) over the pairs.
func ratios(n int, f func(i int) float64) spread {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = f(i)
	}
	return spreadOf(xs)
}
