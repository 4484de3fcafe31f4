package ingest

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
)

// Config says where an ingest writes and how hard it works.
type Config struct {
	Store     khabardar.Store
	Key       *hashing.Key
	Layout    khabardar.Layout
	ListingID string
	Options   Options // how files are read

	// BatchSize is how many exposures go to the store in one write (default
	// 100,000, a few MB in memory). Larger batches put more records into each
	// bucket write: with 65,536 buckets a batch of 20,000 costs nearly one
	// bucket update per identifier, one of 100,000 about 0.6. A killed run
	// redoes at most the batches in flight.
	BatchSize int
	// Workers parse and hash in parallel (default GOMAXPROCS).
	Workers int
	// Progress, if set, is called now and then from the reading goroutine.
	Progress func(file string, done, total int64)
	// Watches, if set, is asked after each stored batch to queue alerts
	// for the subscribers who watch one of its exposures.
	Watches khabardar.WatchMatcher
}

// RowRef names a row of a file: never its value.
type RowRef struct {
	File string `json:"file"`
	Row  int    `json:"row"`
}

// Rejection counts one reason's rejected values and keeps the first rows.
type Rejection struct {
	Count int64    `json:"count"`
	Rows  []RowRef `json:"rows"` // the first MaxRejectRows, sorted
}

// MaxRejectRows is how many row numbers a summary keeps per reason.
const MaxRejectRows = 20

// Summary is what an ingest did. It holds counts and row numbers only.
type Summary struct {
	Listing       string                `json:"listing"`
	Files         []string              `json:"files"`
	Rows          int64                 `json:"rows"`
	EmptyRows     int64                 `json:"rows_without_identifier"`
	Identifiers   khabardar.Counts      `json:"identifiers"`    // valid values read, by kind
	New           khabardar.Counts      `json:"new"`            // not yet in the listing before this run
	Duplicates    int64                 `json:"duplicates"`     // valid values the listing already had (repeats in the file, or an earlier run)
	Rejected      map[string]*Rejection `json:"rejected"`       // by reason code
	ListingCounts khabardar.Counts      `json:"listing_counts"` // the listing's exact counts after the run
	AlertsQueued  int64                 `json:"alerts_queued"`  // alerts this run queued for subscribers watching its identifiers
	Elapsed       time.Duration         `json:"elapsed_ns"`
}

// RejectedTotal is the number of rejected values and rows.
func (s *Summary) RejectedTotal() int64 {
	var n int64
	for _, r := range s.Rejected {
		n += r.Count
	}
	return n
}

func (s *Summary) reject(reason string, ref RowRef) {
	r := s.Rejected[reason]
	if r == nil {
		r = &Rejection{}
		s.Rejected[reason] = r
	}
	r.Count++
	r.Rows = append(r.Rows, ref)
	if len(r.Rows) > 4*MaxRejectRows { // workers finish out of order: keep the lowest
		sortRows(r.Rows)
		r.Rows = r.Rows[:MaxRejectRows]
	}
}

func sortRows(rows []RowRef) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].File != rows[j].File {
			return rows[i].File < rows[j].File
		}
		return rows[i].Row < rows[j].Row
	})
}

// chunk is a run of rows handed from the reader to a worker.
type chunk struct {
	file   string
	rows   []int
	values [][]Value
	bad    []rowError // rows the reader could not read
}

type rowError struct {
	row    int
	reason string
}

// result is a worker's output for one chunk.
type result struct {
	exposures []khabardar.Exposure
	kinds     khabardar.Counts
	rejects   []rowError
	file      string
	rows      int64
	emptyRows int64
}

const chunkRows = 512

// Run ingests files into the listing: reads them as a stream, parses and
// hashes on Workers goroutines, writes in batches, then recounts the listing
// so its counts are exact even when an earlier run was killed part way. Raw
// values live only in memory, in flight; nothing is written but exposures.
func Run(ctx context.Context, cfg Config, files []string) (*Summary, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100_000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if _, err := cfg.Store.Listing(ctx, cfg.ListingID); err != nil {
		return nil, err
	}
	// Open every file first, so a typo fails before anything is written.
	readers := make([]Reader, len(files))
	for i, f := range files {
		r, err := Open(f, cfg.Options)
		if err != nil { // the error names the file
			for _, o := range readers[:i] {
				o.Close()
			}
			return nil, err
		}
		readers[i] = r
	}
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()

	start := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sum := &Summary{Listing: cfg.ListingID, Files: files, Rejected: map[string]*Rejection{}}

	chunks := make(chan chunk, cfg.Workers*2)
	results := make(chan result, cfg.Workers*2)

	go func() { // reader
		defer close(chunks)
		for i, r := range readers {
			if err := readFile(ctx, files[i], r, chunks, cfg.Progress); err != nil {
				cancel(err)
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				res, err := work(c, cfg.Key, cfg.Layout)
				if err != nil {
					cancel(err)
					continue // drain, so the reader never blocks
				}
				select {
				case results <- res:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	// The writer has a goroutine of its own, so workers keep hashing while a
	// batch is written; at most two batches wait, which bounds memory.
	batches := make(chan []khabardar.Exposure, 1)
	var added khabardar.Counts
	var alertsQueued atomic.Int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for b := range batches {
			if ctx.Err() != nil {
				continue // drain
			}
			n, err := cfg.Store.AddExposures(ctx, cfg.ListingID, b)
			if err != nil {
				cancel(err)
				continue
			}
			added = added.Plus(n)
			if cfg.Watches != nil {
				// After the batch is stored: an alert never names a
				// listing that does not yet hold the identifier. A re-run
				// matches again, and the store queues each alert once.
				q, err := cfg.Watches.MatchWatches(ctx, cfg.ListingID, b)
				if err != nil {
					cancel(err)
					continue
				}
				alertsQueued.Add(int64(q))
			}
		}
	}()

	// This goroutine collects results into batches and the summary.
	batch := make([]khabardar.Exposure, 0, cfg.BatchSize)
	for res := range results {
		if ctx.Err() != nil {
			continue // drain
		}
		sum.Rows += res.rows
		sum.EmptyRows += res.emptyRows
		sum.Identifiers = sum.Identifiers.Plus(res.kinds)
		for _, r := range res.rejects {
			sum.reject(r.reason, RowRef{File: res.file, Row: r.row})
		}
		for len(res.exposures) > 0 {
			n := min(cfg.BatchSize-len(batch), len(res.exposures))
			batch = append(batch, res.exposures[:n]...)
			res.exposures = res.exposures[n:]
			if len(batch) == cfg.BatchSize {
				batches <- batch
				batch = make([]khabardar.Exposure, 0, cfg.BatchSize)
			}
		}
	}
	if len(batch) > 0 && ctx.Err() == nil {
		batches <- batch
	}
	close(batches)
	<-writerDone
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	sum.New = added
	sum.AlertsQueued = alertsQueued.Load()
	counts, err := cfg.Store.Recount(ctx, cfg.ListingID)
	if err != nil {
		return nil, err
	}
	sum.ListingCounts = counts
	sum.Duplicates = sum.Identifiers.Total() - sum.New.Total()
	for _, r := range sum.Rejected {
		sortRows(r.Rows)
		r.Rows = r.Rows[:min(len(r.Rows), MaxRejectRows)]
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// readFile streams one file's rows into chunks.
func readFile(ctx context.Context, name string, r Reader, out chan<- chunk, progress func(string, int64, int64)) error {
	c := chunk{file: name}
	send := func() error {
		select {
		case out <- c:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if progress != nil {
			done, total := r.Progress()
			progress(name, done, total)
		}
		c = chunk{file: name}
		return nil
	}
	for {
		row, values, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		switch {
		case errors.As(err, &re):
			c.bad = append(c.bad, rowError{row: re.Row, reason: re.Reason})
		case err != nil:
			return err // readers name the file and row
		default:
			c.rows = append(c.rows, row)
			c.values = append(c.values, values) // readers never reuse it
		}
		if len(c.rows)+len(c.bad) >= chunkRows {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if len(c.rows)+len(c.bad) > 0 {
		return send()
	}
	if progress != nil {
		done, total := r.Progress()
		progress(name, done, total)
	}
	return nil
}

// work parses and hashes one chunk.
func work(c chunk, key *hashing.Key, layout khabardar.Layout) (result, error) {
	res := result{file: c.file, rows: int64(len(c.rows)) + int64(len(c.bad))}
	res.rejects = append(res.rejects, c.bad...)
	for i, values := range c.values {
		found := false
		for _, v := range values {
			id, err := v.ID, v.Err
			if id.IsZero() && err == nil {
				if string(v.Raw) == "" {
					continue // an empty cell is no identifier, not a rejection
				}
				id, err = identifier.Parse(v.Kind, v.Raw)
			}
			if err != nil {
				res.rejects = append(res.rejects, rowError{row: c.rows[i], reason: reasonOf(err)})
				found = true
				continue
			}
			e, err := key.Exposure(id, layout)
			if err != nil {
				return res, err
			}
			res.exposures = append(res.exposures, e)
			res.kinds.Add(id.Kind(), 1)
			found = true
		}
		if !found {
			res.emptyRows++
		}
	}
	return res, nil
}

func reasonOf(err error) string {
	var pe *identifier.ParseError
	if errors.As(err, &pe) {
		return string(pe.Reason)
	}
	return "invalid"
}
