package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"
)

// cmdListingsFlag sets or clears a stored listing's flags (listing.go)
// without its YAML file, e.g. after a verify run shows its data is made up:
//
//	khabardar listings flag ID --fabricated|--verified|--sensitive[=false]...
//
// Flags not named keep their value. A change that would leave the listing
// both verified and fabricated is refused rather than resolved by clearing
// the other flag quietly: the operator says --verified=false.
func cmdListingsFlag(fs *pflag.FlagSet, cfg *Config) runFunc {
	verified := fs.Bool("verified", false, "Khabardar confirmed the data is real (--verified=false clears it)")
	fabricated := fs.Bool("fabricated", false, "the data is shown to be fake: never counted as found or in /v1/stats totals")
	sensitive := fs.Bool("sensitive", false, "being in the listing says something harmful about a person")
	return func(ctx context.Context, ids []string, stdout io.Writer, log *slog.Logger) error {
		if len(ids) != 1 {
			return usageError{"name exactly one listing ID"}
		}
		set := map[string]bool{}
		fs.Visit(func(f *pflag.Flag) {
			switch f.Name {
			case "verified", "fabricated", "sensitive":
				set[f.Name] = true
			}
		})
		if len(set) == 0 {
			return usageError{"name a flag to set or clear: --verified, --fabricated or --sensitive (=false to clear)"}
		}

		e, err := cfg.adminEnv(ctx, log)
		if err != nil {
			return err
		}
		defer e.store.Close()
		l, err := listingOrHint(ctx, e.store, ids[0])
		if err != nil {
			return err
		}
		before := *l
		if set["verified"] {
			l.Verified = *verified
		}
		if set["fabricated"] {
			l.Fabricated = *fabricated
		}
		if set["sensitive"] {
			l.Sensitive = *sensitive
		}
		if l.Verified && l.Fabricated {
			switch {
			case set["verified"] && set["fabricated"]:
				return usageError{"a listing cannot be both verified and fabricated"}
			case set["verified"]:
				return usageError{fmt.Sprintf("listing %s is fabricated and cannot also be verified: add --fabricated=false", l.ID)}
			}
			return usageError{fmt.Sprintf("listing %s is verified and cannot also be fabricated: add --verified=false", l.ID)}
		}
		if err := e.store.PutListing(ctx, l); err != nil {
			return err
		}
		var changed []string
		for _, f := range []struct {
			name    string
			was, is bool
		}{{"verified", before.Verified, l.Verified}, {"fabricated", before.Fabricated, l.Fabricated}, {"sensitive", before.Sensitive, l.Sensitive}} {
			if f.was != f.is {
				changed = append(changed, fmt.Sprintf("%s %v → %v", f.name, f.was, f.is))
			}
		}
		what := "unchanged"
		if len(changed) > 0 {
			what = strings.Join(changed, ", ")
		}
		fmt.Fprintf(stdout, "listing %s: %s (verified %v, fabricated %v, sensitive %v)\n", l.ID, what, l.Verified, l.Fabricated, l.Sensitive)
		return nil
	}
}
