package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/record"
	"github.com/khabardar/khabardar/wire"
)

func cmdKeysInit(fs *pflag.FlagSet, cfg *Config) runFunc {
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"keys init takes no arguments"}
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		if k, err := hashing.LoadKey(cfg.KeyFile); err == nil {
			// Already done: say so and succeed, so that scripts and the
			// README's steps can run it again safely.
			fmt.Fprintf(stdout, "%s already holds the server key; nothing to do (a new key would make every stored hash unmatchable)\n", cfg.KeyFile)
			printKey(stdout, k)
			return nil
		} else if !errors.Is(err, hashing.ErrNoKey) {
			return err
		}
		k, created, err := hashing.LoadOrCreateKey(cfg.KeyFile)
		if err != nil {
			return err
		}
		if !created {
			return fmt.Errorf("%s appeared while creating the key", cfg.KeyFile)
		}
		fmt.Fprintf(stdout, "created %s (mode 0600)\n", cfg.KeyFile)
		printKey(stdout, k)
		return nil
	}
}

func cmdKeysShow(fs *pflag.FlagSet, cfg *Config) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"keys show takes no arguments"}
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		k, err := hashing.LoadKey(cfg.KeyFile)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, map[string]any{
				"suite":       hashing.Suite,
				"mode":        wire.ModeVOPRF,
				"key_id":      k.ID(),
				"public_key":  base64.RawURLEncoding.EncodeToString(k.PublicKey()),
				"fingerprint": k.Fingerprint(),
				"created":     k.Created(),
			})
		}
		printKey(stdout, k)
		return nil
	}
}

func printKey(w io.Writer, k *hashing.Key) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "suite:\t%s (RFC 9497 VOPRF)\n", hashing.Suite)
	fmt.Fprintf(tw, "key id:\t%s\n", k.ID())
	fmt.Fprintf(tw, "public key:\t%s\n", base64.RawURLEncoding.EncodeToString(k.PublicKey()))
	fmt.Fprintf(tw, "fingerprint:\t%s\n", k.Fingerprint())
	fmt.Fprintf(tw, "created:\t%s\n", k.Created().Format("2006-01-02 15:04:05 MST"))
	tw.Flush()
}

func cmdListingsAdd(fs *pflag.FlagSet, cfg *Config) runFunc {
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) == 0 {
			return usageError{"name one or more listing YAML files"}
		}
		// Read and validate every file before writing any.
		var all []*khabardar.Listing
		for _, name := range args {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			ls, err := khabardar.DecodeListings(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %s", name, errorText(err))
			}
			all = append(all, ls...)
		}
		s, err := cfg.admin(ctx, log)
		if err != nil {
			return err
		}
		defer s.Close()
		today := khabardar.Date{Time: time.Now().UTC().Truncate(24 * time.Hour)}
		for _, l := range all {
			verb := "added"
			l.Added = today
			if old, err := s.Listing(ctx, l.ID); err == nil {
				verb = "updated"
				if !old.Added.IsZero() {
					l.Added = old.Added
				}
			}
			if err := s.PutListing(ctx, l); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s listing %s\n", verb, l.ID)
		}
		return nil
	}
}

func cmdListingsList(fs *pflag.FlagSet, cfg *Config) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"listings list takes no arguments"}
		}
		ls, err := cfg.listings(ctx, log)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, ls)
		}
		if len(ls) == 0 {
			fmt.Fprintln(stdout, "no listings; add one with: khabardar listings add FILE.yaml")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "ID\tSTATUS\tVERIFIED\tFABRICATED\tSENSITIVE\tFIRST SEEN\tADDED\t%sTITLE\n", kindColumns())
		yn := func(b bool) string {
			if b {
				return "yes"
			}
			return "no"
		}
		for _, l := range ls {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", l.ID, l.Status, yn(l.Verified), yn(l.Fabricated), yn(l.Sensitive),
				orDash(l.FirstSeen.String()), orDash(l.Added.String()), countColumns(l.Counts), l.Title)
		}
		return tw.Flush()
	}
}

// listings returns the stored listings, through the running server if
// there is one.
func (c *Config) listings(ctx context.Context, log *slog.Logger) ([]*khabardar.Listing, error) {
	s, err := c.admin(ctx, log)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Listings(ctx)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdListingsRemove(fs *pflag.FlagSet, cfg *Config) runFunc {
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 1 {
			return usageError{"name exactly one listing ID"}
		}
		s, err := cfg.admin(ctx, log)
		if err != nil {
			return err
		}
		defer s.Close()
		id := args[0]
		l, err := listingOrHint(ctx, s, id)
		if err != nil {
			return err
		}
		if err := s.RemoveListing(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed listing %s and its %d identifiers\n", id, l.Counts.Total())
		return nil
	}
}

// listingOrHint returns listing id, or for an unknown one an error that
// says where the IDs are.
func listingOrHint(ctx context.Context, s khabardar.Store, id string) (*khabardar.Listing, error) {
	l, err := s.Listing(ctx, id)
	if khabardar.ErrorCode(err) == khabardar.ENOTFOUND {
		return nil, khabardar.Errorf(khabardar.ENOTFOUND, "no listing %s; run 'khabardar listings list' to see the IDs, or 'khabardar listings add FILE.yaml' to add it", shown(id))
	}
	return l, err
}

func cmdStats(fs *pflag.FlagSet, cfg *Config) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"stats takes no arguments"}
		}
		ls, err := cfg.listings(ctx, log)
		if err != nil {
			return err
		}
		c := khabardar.Summarize(ls)
		var all khabardar.Counts
		fabricated := 0
		for _, l := range ls {
			if l.Fabricated {
				fabricated++
				continue
			}
			all = all.Plus(l.Counts)
		}
		if *asJSON {
			return writeJSON(stdout, map[string]any{"catalogue": c, "listings_stored": len(ls), "fabricated": fabricated, "identifiers": all})
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "listings stored:\t%d (%d fabricated, %d that can answer \"found\")\n", len(ls), fabricated, c.Listings)
		fmt.Fprintf(tw, "identifiers:\t%d (%s; fabricated listings apart)\n", all.Total(), byKind(all))
		fmt.Fprintf(tw, "newest added:\t%s\n", orDash(c.NewestAdded.String()))
		if c.Empty() {
			fmt.Fprintln(tw, "warning:\tno listings are loaded: every check answers that it cannot tell anything")
		}
		return tw.Flush()
	}
}

// versionInfo is what 'khabardar version' prints.
type versionInfo struct {
	Version      string `json:"version"`
	Commit       string `json:"commit,omitempty"`
	CommitTime   string `json:"commit_time,omitempty"`
	Modified     bool   `json:"modified,omitempty"` // built from a checkout with uncommitted changes
	Go           string `json:"go"`
	Platform     string `json:"platform"`
	KeyFormat    int    `json:"key_file_format"`
	RecordFormat int    `json:"record_format"`
	Suite        string `json:"suite"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: "(unknown)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		KeyFormat: hashing.KeyFileFormat, RecordFormat: record.Format, Suite: hashing.Suite}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.CommitTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

func cmdVersion(fs *pflag.FlagSet, cfg *Config) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"version takes no arguments"}
		}
		v := buildVersion()
		if *asJSON {
			return writeJSON(stdout, v)
		}
		commit := v.Commit
		if commit == "" {
			commit = "unknown (not built from a git checkout)"
		} else if v.Modified {
			commit += " (with uncommitted changes)"
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "khabardar:\t%s\n", v.Version)
		fmt.Fprintf(tw, "commit:\t%s\n", commit)
		if v.CommitTime != "" {
			fmt.Fprintf(tw, "commit time:\t%s\n", v.CommitTime)
		}
		fmt.Fprintf(tw, "go:\t%s %s\n", v.Go, v.Platform)
		fmt.Fprintf(tw, "key file format:\t%d (%s)\n", v.KeyFormat, v.Suite)
		fmt.Fprintf(tw, "record format:\t%d\n", v.RecordFormat)
		return tw.Flush()
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// kindColumns is a table header cell per kind, each followed by a tab.
func kindColumns() string {
	var b strings.Builder
	for _, k := range identifier.Kinds {
		b.WriteString(strings.ToUpper(k.String()) + "\t")
	}
	return b.String()
}

// countColumns is a table cell per kind, each followed by a tab.
func countColumns(c khabardar.Counts) string {
	var b strings.Builder
	for _, k := range identifier.Kinds {
		b.WriteString(strconv.FormatInt(c[k], 10) + "\t")
	}
	return b.String()
}

// byKind says counts in words, by kind name: "cnic 2, phone 0, imei 1".
func byKind(c khabardar.Counts) string {
	parts := make([]string, 0, len(identifier.Kinds))
	for _, k := range identifier.Kinds {
		parts = append(parts, k.String()+" "+strconv.FormatInt(c[k], 10))
	}
	return strings.Join(parts, ", ")
}
