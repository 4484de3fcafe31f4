package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// row is one line of the table: a comparison, its raw figures and its
// per-pair ratios.
type row struct {
	what    string // what is compared, and what the ratio means
	figures string // the medians of the raw measurements
	wall    spread // ratio from wall-clock rates
	cpu     spread // ratio from CPU time per operation
	pairs   int
	target  string
}

func printTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| comparison (ratio) | figures, medians | ratio, wall clock: min · **median** · max | ratio, CPU time: min · **median** · max | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.what, r.figures, fmtSpread(r.wall, r.pairs), fmtSpread(r.cpu, r.pairs), r.target)
	}
}

func fmtSpread(s spread, n int) string {
	if s == (spread{}) {
		return "—"
	}
	return fmt.Sprintf("%.2f · **%.2f** · %.2f (%d pairs)", s.min, s.med, s.max, n)
}

// metrics is one benchmark line's values by unit ("ns/op", "cpu-µs/op", …).
type metrics map[string]float64

// goBench runs one benchmark of a compiled test binary in its own process,
// in the package's directory, and returns its metrics.
func (w *workspace) goBench(pkg, pattern, benchtime string, env ...string) (metrics, error) {
	bin, err := w.testBinary(pkg)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", pattern, "-test.benchtime", benchtime, "-test.count", "1")
	cmd.Dir = filepath.Join(w.root, pkg)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s -test.bench %s: %w\n%s", filepath.Base(bin), pattern, err, tail(out.String(), 20))
	}
	var found []metrics
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		m := metrics{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q", pattern, sc.Text())
			}
			m[f[i+1]] = v
		}
		found = append(found, m)
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%s -test.bench %s: %d result lines, want 1\n%s", filepath.Base(bin), pattern, len(found), tail(out.String(), 20))
	}
	return found[0], nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func median(ms []metrics, unit string) float64 {
	return medianOf(ms, func(m metrics) float64 { return m[unit] })
}

// benchPair runs benchmarks a and b of pkg as interleaved pairs.
func (w *workspace) benchPair(n int, pkg, a, b, benchtime string, env ...string) (as, bs []metrics, err error) {
	logf("%s: %s vs %s, %d pairs", pkg, a, b, n)
	return pairs(n,
		func(int) (metrics, error) { return w.goBench(pkg, a, benchtime, env...) },
		func(int) (metrics, error) { return w.goBench(pkg, b, benchtime, env...) })
}

// proofs: the fast path's speed-up over circl, server and client, for one
// element (a citizen's single check). Ratio: circl's cost ÷ the fast path's.
func proofs(c *config, w *workspace) ([]row, error) {
	var rows []row
	for _, e := range []struct{ name, bench, what, target string }{
		{"proof-server", "BenchmarkServerEvaluate", "server: evaluate 1 element with its proof, **circl ÷ fast path** cost", "≤ 300 µs a check under load (below)"},
		{"proof-client", "BenchmarkClientCheck", "Go client: blind, check the proof, finalize, 1 element, **circl ÷ fast path** cost", "fast ≤ 300 µs CPU"},
	} {
		if !c.wants("proof", e.name) {
			continue
		}
		circl, fast, err := w.benchPair(c.pairs, "hashing", "^"+e.bench+"$/^circl$", "^"+e.bench+"$/^fast$", "3000x")
		if err != nil {
			return rows, err
		}
		wallUnit, scale := "ns/op", 1e3 // the server's benchmark times only the evaluation
		if e.name == "proof-client" {
			wallUnit, scale = "client-µs/op", 1 // the client's clocks its own parts only
		}
		rows = append(rows, row{
			what: e.what,
			figures: fmt.Sprintf("circl %.0f µs, fast %.0f µs wall; circl %.0f µs, fast %.0f µs CPU per op",
				median(circl, wallUnit)/scale, median(fast, wallUnit)/scale, median(circl, "cpu-µs/op"), median(fast, "cpu-µs/op")),
			wall:   ratios(c.pairs, func(i int) float64 { return circl[i][wallUnit] / fast[i][wallUnit] }),
			cpu:    ratios(c.pairs, func(i int) float64 { return circl[i]["cpu-µs/op"] / fast[i]["cpu-µs/op"] }),
			pairs:  c.pairs,
			target: e.target,
		})
	}
	if c.wants("proof", "hash") {
		// Ingest's direct evaluation: the fast path's Key.Hash against
		// circl's FullEvaluate, all cores.
		circl, fast, err := w.benchPair(c.pairs, "hashing", "^BenchmarkCirclFullEvaluate$", "^BenchmarkHash$", "20000x")
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{
			what: "direct evaluation (ingest's hash, no proof), all cores, **circl `FullEvaluate` ÷ `Key.Hash`** cost",
			figures: fmt.Sprintf("circl %.0f, fast %.0f evaluations/s; circl %.1f µs, fast %.1f µs CPU per op",
				1e9/median(circl, "ns/op"), 1e9/median(fast, "ns/op"), median(circl, "cpu-µs/op"), median(fast, "cpu-µs/op")),
			wall:   ratios(c.pairs, func(i int) float64 { return circl[i]["ns/op"] / fast[i]["ns/op"] }),
			cpu:    ratios(c.pairs, func(i int) float64 { return circl[i]["cpu-µs/op"] / fast[i]["cpu-µs/op"] }),
			pairs:  c.pairs,
			target: "—",
		})
	}
	return rows, nil
}

// evaluate: the evaluate route against the evaluation alone. Ratio: the
// route's rate ÷ the evaluation's (wall); the evaluation's CPU ÷ the
// route's, which includes the in-process HTTP client.
func evaluate(c *config, w *workspace) ([]row, error) {
	api, key, err := w.benchPair(c.pairs, "api", "^BenchmarkEvaluate$/^elements=1$", "^BenchmarkKeyEvaluate$/^elements=1$", "3s")
	if err != nil {
		return nil, err
	}
	return []row{{
		what: "`POST /v1/evaluate`, 1 element per request, **route ÷ `hashing.Key.Evaluate` alone** on all cores",
		figures: fmt.Sprintf("route %.0f, alone %.0f elements/s; route %.0f µs, alone %.0f µs CPU per element (route: server and client)",
			median(api, "elements/s"), median(key, "elements/s"), median(api, "cpu-µs/element"), median(key, "cpu-µs/element")),
		wall:   ratios(c.pairs, func(i int) float64 { return api[i]["elements/s"] / key[i]["elements/s"] }),
		cpu:    ratios(c.pairs, func(i int) float64 { return key[i]["cpu-µs/element"] / api[i]["cpu-µs/element"] }),
		pairs:  c.pairs,
		target: "≥ 80 %",
	}}, nil
}

// buckets: the bucket route against a constant handler, per store. Ratio:
// the route's rate ÷ the constant handler's; CPU: constant's ÷ the route's.
func buckets(c *config, w *workspace) ([]row, error) {
	var rows []row
	for _, store := range []string{"embedded", "redis"} {
		if store == "redis" && !haveRedis() {
			logf("bucket/redis skipped: no redis-server on PATH")
			continue
		}
		api, constant, err := w.benchPair(c.heavyPairs, "api", "^BenchmarkBucket$/^"+store+"$/^api$", "^BenchmarkBucket$/^"+store+"$/^constant$", c.bucketTime)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{
			what: fmt.Sprintf("`GET /v1/buckets`, %s store, 1 M identifiers, **route ÷ a constant fiber handler** of the same body", store),
			figures: fmt.Sprintf("route %.0f, constant %.0f req/s; p99 %.1f / %.1f ms; %.0f / %.0f µs CPU per request (server and client)",
				median(api, "req/s"), median(constant, "req/s"), median(api, "p99-µs")/1e3, median(constant, "p99-µs")/1e3,
				median(api, "cpu-µs/req"), median(constant, "cpu-µs/req")),
			wall:   ratios(c.heavyPairs, func(i int) float64 { return api[i]["req/s"] / constant[i]["req/s"] }),
			cpu:    ratios(c.heavyPairs, func(i int) float64 { return constant[i]["cpu-µs/req"] / api[i]["cpu-µs/req"] }),
			pairs:  c.heavyPairs,
			target: "≥ 80 %",
		})
	}
	return rows, nil
}

// bucketStack: the bucket experiment's baseline, the bare constant handler,
// against the same handler behind this server's own stack (request checks,
// metrics, security headers, timeouts, connection caps, ReduceMemoryUsage):
// how much of the bucket route's budget the stack alone takes. Ratio: the
// stacked handler's rate ÷ the bare one's; CPU: bare ÷ stacked.
func bucketStack(c *config, w *workspace) ([]row, error) {
	stack, constant, err := w.benchPair(c.heavyPairs, "api", "^BenchmarkBucket$/^embedded$/^constant-stack$", "^BenchmarkBucket$/^embedded$/^constant$", c.bucketTime)
	if err != nil {
		return nil, err
	}
	return []row{{
		what: "the bucket experiment's constant body **behind this server's stack ÷ the bare constant handler** (embedded)",
		figures: fmt.Sprintf("stack %.0f, bare %.0f req/s; %.0f / %.0f µs CPU per request (server and client)",
			median(stack, "req/s"), median(constant, "req/s"), median(stack, "cpu-µs/req"), median(constant, "cpu-µs/req")),
		wall:   ratios(c.heavyPairs, func(i int) float64 { return stack[i]["req/s"] / constant[i]["req/s"] }),
		cpu:    ratios(c.heavyPairs, func(i int) float64 { return constant[i]["cpu-µs/req"] / stack[i]["cpu-µs/req"] }),
		pairs:  c.heavyPairs,
		target: "none: the ceiling for the bucket route",
	}}, nil
}

// ingests: ingest against the direct evaluation alone, per store. Ratio:
// identifiers per CPU-second of ingest ÷ evaluations per CPU-second of
// Key.Hash; wall: identifiers/s ÷ evaluations/s on all cores.
func ingests(c *config, w *workspace) ([]row, error) {
	var rows []row
	n := strconv.Itoa(c.ingestN)
	for _, e := range []struct{ store, target string }{{"embedded", "≥ 95 %"}, {"redis", "≥ 90 %"}} {
		if e.store == "redis" && !haveRedis() {
			logf("ingest/redis skipped: no redis-server on PATH")
			continue
		}
		logf("ingest/%s vs hashing BenchmarkHash, %d pairs", e.store, c.heavyPairs)
		ing, hash, err := pairs(c.heavyPairs,
			func(int) (metrics, error) {
				return w.goBench("ingest", "^BenchmarkIngest$/^"+e.store+"$", "1x", "KHABARDAR_BENCH_N="+n)
			},
			func(int) (metrics, error) { return w.goBench("hashing", "^BenchmarkHash$", n+"x") })
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{
			what: fmt.Sprintf("ingest, %s store, %s identifiers, **ingest ÷ `Key.Hash` alone**", e.store, n),
			figures: fmt.Sprintf("ingest %.0f ids/s, hash alone %.0f/s; %.1f / %.1f µs CPU per identifier; %.1f stored B/id",
				median(ing, "ids/s"), 1e9/median(hash, "ns/op"), median(ing, "cpu-µs/id"), median(hash, "cpu-µs/op"), median(ing, "stored-B/id")),
			wall:   ratios(c.heavyPairs, func(i int) float64 { return ing[i]["ids/s"] * hash[i]["ns/op"] / 1e9 }),
			cpu:    ratios(c.heavyPairs, func(i int) float64 { return hash[i]["cpu-µs/op"] / ing[i]["cpu-µs/id"] }),
			pairs:  c.heavyPairs,
			target: e.target + " (CPU)",
		})
	}
	return rows, nil
}

func haveRedis() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}
