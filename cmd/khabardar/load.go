package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar/loadgen"
)

const loadLong = `Drives the lookup flow (config, evaluate with proof, bucket) against the
servers with synthetic mobile numbers, until --checks checks or --duration,
and reports checks/s, latency percentiles per operation, errors by kind and
the memory of --pids over time. Servers rate-limit evaluations per address:
give an API key (KHABARDAR_API_KEY) or start them with higher --rate-* limits.
`

func cmdLoad(fs *pflag.FlagSet, cfg *Config) runFunc {
	servers := fs.String("server", envOr("KHABARDAR_SERVER", DefaultServer), "comma-separated base URLs of the servers (env KHABARDAR_SERVER)")
	var lc loadgen.Config
	fs.IntVar(&lc.Concurrency, "concurrency", loadgen.DefaultConcurrency, "virtual users, one check at a time each")
	fs.IntVar(&lc.Checks, "checks", loadgen.DefaultChecks, "stop after this many checks")
	fs.DurationVar(&lc.Duration, "duration", loadgen.DefaultDuration, "or after this long")
	fs.IntVar(&lc.Batch, "batch", loadgen.DefaultBatch, "identifiers per check")
	fs.IntVar(&lc.Pool, "pool", loadgen.DefaultPool, "distinct synthetic numbers to draw from")
	fs.Float64Var(&lc.Rate, "rate", 0, "checks started per second (0: as fast as the users go); a soak runs at about 70% of the maximum")
	fs.DurationVar(&lc.SampleEvery, "sample-every", loadgen.DefaultSampleEvery, "how often to sample --pids' memory")
	pids := fs.String("pids", "", "comma-separated PIDs of server processes whose memory to sample (Linux)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		for _, s := range strings.Split(*servers, ",") {
			if s = strings.TrimSpace(s); s != "" {
				lc.Targets = append(lc.Targets, s)
			}
		}
		for _, p := range strings.Split(*pids, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			pid, err := strconv.Atoi(p)
			if err != nil || pid <= 0 {
				return usageError{"--pids takes process IDs, such as 1234,1240"}
			}
			lc.PIDs = append(lc.PIDs, pid)
		}
		lc.APIKey = os.Getenv("KHABARDAR_API_KEY")
		if err := lc.Validate(); err != nil {
			return usageError{errorText(err)}
		}
		rep, err := loadgen.Run(ctx, lc)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, rep)
		}
		printLoad(stdout, rep)
		return nil
	}
}

func printLoad(w io.Writer, r *loadgen.Report) {
	fmt.Fprintf(w, "%d checks in %.1f s: %.0f checks/s; %d failed\n\n", r.Checks, r.Elapsed.Seconds(), r.ChecksPerSec, r.Failed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcount\tper s\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) }
	for _, name := range []string{loadgen.OpCheck, loadgen.OpEvaluate, loadgen.OpBucket, loadgen.OpConfig} {
		op, ok := r.Ops[name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t\n", name, op.Count, op.PerSecond, ms(op.P50), ms(op.P95), ms(op.P99), ms(op.Max))
	}
	tw.Flush()
	if len(r.Errors) > 0 {
		fmt.Fprintln(w, "\nerrors:")
		kinds := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			fmt.Fprintf(w, "  %-12s %d\n", k, r.Errors[k])
		}
	}
	if len(r.Memory) > 0 {
		first, last := r.Memory[0], r.Memory[len(r.Memory)-1]
		fmt.Fprintln(w, "\nmemory (RSS MB):")
		for pid, start := range first.RSS {
			end, ok := last.RSS[pid]
			if !ok {
				fmt.Fprintf(w, "  pid %d: %.1f at start, gone at the end\n", pid, float64(start)/1e6)
				continue
			}
			fmt.Fprintf(w, "  pid %d: %.1f at start, %.1f at %.0f s (%+.1f %%), %d samples\n", pid,
				float64(start)/1e6, float64(end)/1e6, last.At.Seconds(), 100*float64(end-start)/float64(start), len(r.Memory))
		}
	}
}
