// Package verify helps a journalist judge a seller's sample without sending
// it anywhere: is it plausible real data, and is it new or a repackaged
// listing that Khabardar already knows?
//
// It has three parts, all pure functions but ReadFiles:
//
//   - Assess runs offline tests of plausibility on the sample's identifiers
//     (the CNIC province mix against the 2023 census, gender digits, mobile
//     prefixes, IMEI check digits and type codes, duplicates, sequences) and
//     concludes "plausible", "suspicious" or "fabricated", with reasons.
//   - Choose picks the identifiers to look up; the caller looks them up
//     through client (blinded: nothing raw leaves the machine) and Origin
//     turns the matches into each listing's share of the sample with a 95%
//     Wilson interval, and says whether the sample looks new or repackaged.
//   - Report renders all of it as a terminal table, JSON or a
//     self-contained HTML page.
//
// Identifiers are held in memory only. Nothing here prints, logs or writes a
// value or any part of one longer than an operator prefix ("0300"): reports
// hold counts, shares and test statistics.
package verify

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ingest"
)

// Sample is a seller's sample as read from its files.
type Sample struct {
	Files     []string // base names, as given
	Rows      int      // data rows read, unreadable ones included
	RowErrors int      // rows that could not be read (bad JSON, broken quoting)
	Values    int      // candidate values: non-empty identifier cells, numbers found in text

	// IDs are the valid identifiers in file order, repeats included. They
	// redact themselves when printed; only Canonical reveals them.
	IDs []identifier.ID
	// Rejected counts the values that are not identifiers, by reason.
	Rejected map[identifier.Reason]int

	// imeiChecked counts the valid IMEIs whose check digit was verified:
	// written with 15 digits, or found in text (which does not say how long
	// they were; nearly every IMEI is written with 15).
	imeiChecked int
}

// NewSample returns an empty sample.
func NewSample() *Sample { return &Sample{Rejected: map[identifier.Reason]int{}} }

// String describes the sample by its counts, never its values.
func (s *Sample) String() string {
	return fmt.Sprintf("verify.Sample{files: %d, rows: %d, values: %d, identifiers: %d}", len(s.Files), s.Rows, s.Values, len(s.IDs))
}

// GoString is String, so that %#v cannot print the identifiers either.
func (s *Sample) GoString() string { return s.String() }

// Add adds one value read by an ingest reader. Empty cells are no values.
func (s *Sample) Add(v ingest.Value) {
	if v.Raw == "" && v.ID.IsZero() && v.Err == nil {
		return
	}
	s.Values++
	id, err := v.Parse()
	if err != nil {
		var pe *identifier.ParseError
		reason := identifier.ReasonUnrecognised
		if errors.As(err, &pe) {
			reason = pe.Reason
		}
		s.Rejected[reason]++
		return
	}
	s.IDs = append(s.IDs, id)
	if id.Kind() == identifier.IMEI && (v.Raw == "" || digitCount(string(v.Raw)) == 15) {
		s.imeiChecked++
	}
}

// Counts returns the number of valid identifiers of each kind, repeats
// included.
func (s *Sample) Counts() Kinds {
	var c Kinds
	for _, id := range s.IDs {
		c.Add(id.Kind(), 1)
	}
	return c
}

// ReadFiles reads sample files with the ingest readers (CSV/TSV, JSON lines,
// XLSX, free text; opt as for ingest). progress, if set, is called now and
// then with the file and the bytes read. Errors name files and rows, never
// values.
func ReadFiles(paths []string, opt ingest.Options, progress func(file string, done, total int64)) (*Sample, error) {
	s := NewSample()
	for _, p := range paths {
		if err := s.readFile(p, opt, progress); err != nil {
			return nil, err
		}
		s.Files = append(s.Files, filepath.Base(p))
	}
	return s, nil
}

func (s *Sample) readFile(path string, opt ingest.Options, progress func(string, int64, int64)) error {
	r, err := ingest.Open(path, opt)
	if err != nil {
		return err
	}
	defer r.Close()
	for rows := 0; ; rows++ {
		if progress != nil && rows%4096 == 0 {
			done, total := r.Progress()
			progress(path, done, total)
		}
		_, values, err := r.Next()
		var re *ingest.RowError
		switch {
		case errors.Is(err, io.EOF):
			if progress != nil {
				done, total := r.Progress()
				progress(path, done, total)
			}
			return nil
		case errors.As(err, &re):
			s.Rows++
			s.RowErrors++
			continue
		case err != nil:
			return err // the readers name the file and row
		}
		s.Rows++
		for _, v := range values {
			s.Add(v)
		}
	}
}

// digitCount counts the digits of s in any script Parse reads.
func digitCount(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9', 0x660 <= r && r <= 0x669, 0x6F0 <= r && r <= 0x6F9, 0xFF10 <= r && r <= 0xFF19:
			n++
		}
	}
	return n
}

// digits returns the body of an identifier's canonical form (identifier.Info
// Fixed): 13 digits for a CNIC, the 10-digit national number (3XXXXXXXXX) of
// a mobile number, 14 for an IMEI (TAC and serial).
func digits(id identifier.ID) string {
	in, ok := identifier.InfoOf(id.Kind())
	if !ok {
		return ""
	}
	return string(id.Canonical())[len(in.Name)+1+len(in.Fixed):]
}
