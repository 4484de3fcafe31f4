package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/khabardar/khabardar/client"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ingest"
	"github.com/khabardar/khabardar/verify"
)

const verifyLong = `Helps judge a seller's sample ("fresh data of 2 million citizens") without
letting it out of this machine: is it plausible real data, and is it new, or
an old listing sold again?

1. Plausibility, offline: the share of values that are identifiers; the
   CNICs' province digits against the 2023 census, their area and gender
   digits; the mobile numbers' prefixes; the IMEIs' check digits and type
   codes; repeats; runs of consecutive numbers. Verdict: plausible,
   suspicious or fabricated, with the numbers behind it; "too few to judge"
   when fewer than half of the tests had enough values to look.
2. Known listings: each identifier is blinded here and matched here, as
   'khabardar check' does; the server sees only blinded values and bucket
   numbers. For each listing: how much of the sample it holds, with a 95%
   interval, and whether the sample looks new or repackaged.

SAMPLE files are CSV/TSV, JSON lines, XLSX or text (a chat export), read as
'khabardar ingest' reads them. Nothing from them is printed or written: the
output holds counts and shares only. Anonymous lookups are limited (2,000 an
hour by default), so at most --max-lookups identifiers, chosen at random, are
looked up; a random part measures the shares as well, with wider intervals.

The server is refused if it asks for bucket numbers of more than 16 bits:
see 'khabardar check --help' (--max-bucket-bits, --unsafe-max-bucket-bits).
`

const verifyExit = `0 the sample was judged (whatever the verdict); 1 it could not
be read or looked up; 2 bad usage.`

// verifyChunk is how many identifiers one client.Check looks up: a few full
// evaluation batches, so the progress bar moves and a rate limit part way
// leaves finished chunks to report.
const verifyChunk = 100

func cmdVerify(fs *pflag.FlagSet, cfg *Config) runFunc {
	server := fs.String("server", envOr("KHABARDAR_SERVER", DefaultServer), "the Khabardar server's `URL` (env KHABARDAR_SERVER)")
	// No default from the environment: help would print the secret.
	apiKey := fs.String("api-key", "", "an API `KEY`, for higher limits (env KHABARDAR_API_KEY, which other users cannot see in ps, unlike this flag)")
	asJSON := fs.Bool("json", false, "print JSON")
	htmlFile := fs.String("html", "", "also write a self-contained HTML report to this file")
	offline := fs.Bool("offline", false, "judge plausibility only: look nothing up")
	maxLookups := fs.Int("max-lookups", 1000, "look up at most this many distinct identifiers, chosen at random (0: all)")
	seed := fs.Uint64("seed", 0, "fix the random choice of identifiers to look up, to repeat a run (0: random)")
	var cols columnsFlag
	fs.Var(&cols, "column", "use this column, as NAME or NAME=cnic|phone|imei (repeatable; default: found by header and content)")
	format := fs.String("format", "", "csv, tsv, jsonl, xlsx or text (default: from the file name)")
	sheet := fs.String("sheet", "", "xlsx: read only this sheet (default: every sheet)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up the lookups after this long")
	progress := fs.Bool("progress", term.IsTerminal(int(os.Stderr.Fd())), "show progress bars on stderr for large samples (default: when stderr is a terminal)")
	bits := addBucketBitsFlags(fs)
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		files := args
		bitsOpt, err := bits.option(fs, "verify", os.Stderr)
		if err != nil {
			return err
		}
		switch {
		case len(files) == 0:
			return usageError{"name one or more sample files"}
		case *asJSON && *htmlFile != "":
			return usageError{"--json and --html are alternatives: the HTML report holds everything the JSON does"}
		case *maxLookups < 0:
			return usageError{"--max-lookups must be 0 (all) or more"}
		case *timeout <= 0:
			return usageError{"--timeout must be positive"}
		}
		c, err := client.New(*server, client.WithAPIKey(flagOrEnv(*apiKey, "KHABARDAR_API_KEY")), client.WithUserAgent("khabardar-cli/1"), bitsOpt)
		if err != nil && !*offline {
			return usageError{strings.TrimPrefix(err.Error(), "client: ")}
		}

		var readProgress func(string, int64, int64)
		if *progress && totalSize(files) > 4<<20 {
			readProgress = progressBar()
		}
		sample, err := verify.ReadFiles(files, ingest.Options{Format: *format, Columns: cols, Sheet: *sheet}, readProgress)
		if err != nil {
			return err
		}
		plaus := verify.Assess(sample)

		var (
			origin *verify.Origin
			srv    *verify.Server
			notes  []string
		)
		if !*offline && len(sample.IDs) > 0 {
			ctx, cancel := context.WithTimeout(ctx, *timeout)
			defer cancel()
			ids, distinct := verify.Choose(sample, *maxLookups, *seed)
			// A server with no listings: every lookup would say "not found"
			// and mean nothing, so say that instead and spend none.
			if _, err := c.Config(ctx); err != nil { // the bucket-bits limit first
				return checkError(err, *timeout)
			}
			cat, err := c.Catalogue(ctx)
			if err != nil {
				return checkError(err, *timeout)
			}
			if cat.Empty() {
				o := verify.NoListings(distinct)
				report := verify.NewReport(sample, plaus, &o, nil, nil)
				return writeVerifyReport(stdout, report, *asJSON, *htmlFile)
			}
			if len(ids) < distinct {
				notes = append(notes, fmt.Sprintf("%d of the sample's %d distinct identifiers were chosen at random to look up (--max-lookups %d); the intervals account for it.", len(ids), distinct, *maxLookups))
			}
			found, cut, err := lookup(ctx, c, ids, *progress && len(ids) > verifyChunk)
			if err != nil {
				return checkError(err, *timeout)
			}
			if cut != "" {
				notes = append(notes, cut)
			}
			// The whole catalogue, so that listings holding none of the sample
			// are reported too: their interval bounds how much they could hold.
			listings, err := c.Listings(ctx)
			if err != nil {
				return checkError(err, *timeout)
			}
			catalogue := make([]verify.ListingRef, len(listings))
			for i, l := range listings {
				catalogue[i] = verify.ListingRef{ID: l.ID, Title: l.Title}
			}
			o := verify.Origins(distinct, found, catalogue)
			origin = &o
			conf, err := c.Config(ctx) // cached by Check: no request
			if err != nil {
				return checkError(err, *timeout)
			}
			u := *server
			if p, err := url.Parse(u); err == nil {
				u = p.Redacted()
			}
			srv = &verify.Server{URL: u, KeyID: conf.KeyID, Fingerprint: conf.Fingerprint}
		}
		return writeVerifyReport(stdout, verify.NewReport(sample, plaus, origin, srv, notes), *asJSON, *htmlFile)
	}
}

// writeVerifyReport writes the report as text or JSON, and as HTML to
// htmlFile if one is named.
func writeVerifyReport(stdout io.Writer, report *verify.Report, asJSON bool, htmlFile string) error {
	if htmlFile != "" {
		var page bytes.Buffer
		if err := report.WriteHTML(&page, time.Now()); err != nil {
			return err
		}
		if err := os.WriteFile(htmlFile, page.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if asJSON {
		return report.WriteJSON(stdout)
	}
	if err := report.WriteText(stdout); err != nil {
		return err
	}
	if htmlFile != "" {
		fmt.Fprintf(stdout, "\nReport written to %s\n", htmlFile)
	}
	return nil
}

// lookup checks ids with the client, a chunk at a time, and returns each
// one's listing IDs. If the server starts limiting after some chunks, the
// finished ones are returned with a note (ids are in random order, so they
// are a random part of the sample); a limit before any chunk is an error.
func lookup(ctx context.Context, c *client.Client, ids []identifier.ID, showProgress bool) (found [][]string, note string, err error) {
	conf, err := c.Config(ctx)
	if err != nil {
		return nil, "", err
	}
	chunk := (verifyChunk + conf.MaxBatch - 1) / conf.MaxBatch * conf.MaxBatch
	var bar *progressbar.ProgressBar
	if showProgress {
		bar = progressbar.NewOptions(len(ids),
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("looking up, blinded"),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
		)
		defer bar.Finish()
	}
	for part := range slices.Chunk(ids, chunk) {
		results, err := c.Check(ctx, part)
		var rl *client.RateLimitError
		if errors.As(err, &rl) && len(found) > 0 {
			wait := "later"
			if rl.RetryAfter > 0 {
				wait = "in " + rl.RetryAfter.String()
			}
			return found, fmt.Sprintf("The server limited lookups after %d of %d identifiers: the shares are from those %d, a random part of the sample. Try again %s, or use an API key (--api-key).", len(found), len(ids), len(found), wait), nil
		}
		if err != nil {
			return nil, "", err
		}
		for _, r := range results {
			var ls []string
			for _, l := range r.Listings {
				ls = append(ls, l.ID)
			}
			found = append(found, ls)
		}
		if bar != nil {
			bar.Add(len(part))
		}
	}
	return found, "", nil
}

// totalSize adds up the files' sizes; unreadable ones count 0 (ReadFiles
// reports them).
func totalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}
