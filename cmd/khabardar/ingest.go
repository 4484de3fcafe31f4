package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ingest"
)

// columnsFlag collects repeated --column NAME[=KIND] flags.
type columnsFlag []ingest.ColumnSpec

func (c *columnsFlag) String() string { return fmt.Sprint(len(*c)) }

// Type names the value in help: --column NAME[=KIND].
func (c *columnsFlag) Type() string { return "NAME[=KIND]" }

func (c *columnsFlag) Set(s string) error {
	spec, err := ingest.ParseColumnSpec(s)
	if err != nil {
		return err
	}
	*c = append(*c, spec)
	return nil
}

func cmdIngest(fs *pflag.FlagSet, cfg *Config) runFunc {
	listing := fs.String("listing", "", "`ID` of the listing the identifiers were offered in (required)")
	var cols columnsFlag
	fs.Var(&cols, "column", "use this column, as NAME or NAME=cnic|phone|imei (repeatable; default: found by header and content)")
	format := fs.String("format", "", "csv, tsv, jsonl, xlsx or text (default: from the file name)")
	sheet := fs.String("sheet", "", "xlsx: read only this sheet (default: every sheet)")
	batch := fs.Int("batch", 100_000, "exposures per store write")
	workers := fs.Int("workers", 0, "hashing goroutines (default: one per core)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	progress := fs.Bool("progress", term.IsTerminal(int(os.Stderr.Fd())), "show a progress bar on stderr (default: when stderr is a terminal)")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if *listing == "" {
			return usageError{"--listing is required"}
		}
		if len(args) == 0 {
			return usageError{"name one or more files to ingest"}
		}
		e, err := cfg.adminEnv(ctx, log)
		if err != nil {
			return err
		}
		defer e.store.Close()
		if _, err := listingOrHint(ctx, e.store, *listing); err != nil {
			return err
		}

		run := ingest.Config{
			Store: e.store, Key: e.key, Layout: e.layout, ListingID: *listing,
			Options:   ingest.Options{Format: *format, Columns: cols, Sheet: *sheet},
			BatchSize: *batch, Workers: *workers,
		}
		if m, ok := e.store.(khabardar.WatchMatcher); ok {
			run.Watches = m
		}
		if *progress {
			run.Progress = progressBar()
		}
		sum, err := ingest.Run(ctx, run, args)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, sum)
		}
		printSummary(stdout, sum)
		return nil
	}
}

// progressBar draws one bar per file, by bytes read, on stderr.
func progressBar() func(string, int64, int64) {
	var bar *progressbar.ProgressBar
	var current string
	return func(file string, done, total int64) {
		if file != current {
			if bar != nil {
				bar.Finish()
			}
			current = file
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionSetDescription(file),
				progressbar.OptionShowBytes(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
			)
		}
		bar.Set64(done)
	}
}

func printSummary(w io.Writer, s *ingest.Summary) {
	rate := float64(s.Identifiers.Total()) / s.Elapsed.Seconds()
	fmt.Fprintf(w, "ingested %s into listing %s in %s (%.0f identifiers/s)\n", strings.Join(s.Files, ", "), s.Listing, s.Elapsed.Round(time.Millisecond), rate)
	fmt.Fprintf(w, "  rows:          %d (%d without an identifier)\n", s.Rows, s.EmptyRows)
	fmt.Fprintf(w, "  identifiers:   %d  (%s)\n", s.Identifiers.Total(), byKind(s.Identifiers))
	fmt.Fprintf(w, "  new:           %d  (%s)\n", s.New.Total(), byKind(s.New))
	fmt.Fprintf(w, "  duplicates:    %d  (repeated in the files or already in the listing)\n", s.Duplicates)
	fmt.Fprintf(w, "  rejected:      %d\n", s.RejectedTotal())
	for _, reason := range sortedKeys(s.Rejected) {
		r := s.Rejected[reason]
		var rows []string
		for _, ref := range r.Rows {
			if len(s.Files) > 1 {
				rows = append(rows, fmt.Sprintf("%s:%d", ref.File, ref.Row))
			} else {
				rows = append(rows, fmt.Sprint(ref.Row))
			}
		}
		more := ""
		if n := r.Count - int64(len(r.Rows)); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		fmt.Fprintf(w, "    %-22s %d  rows %s%s\n", reason+":", r.Count, strings.Join(rows, ", "), more)
	}
	fmt.Fprintf(w, "  listing now:   %d  (%s)\n", s.ListingCounts.Total(), byKind(s.ListingCounts))
	if s.AlertsQueued > 0 {
		fmt.Fprintf(w, "  alerts queued: %d  (subscribers watching these identifiers)\n", s.AlertsQueued)
	}
}

var _ pflag.Value = (*columnsFlag)(nil)
