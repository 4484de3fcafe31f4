package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

// API key defaults. A key is for a newsroom or partner checking many
// identifiers; 10,000 evaluations an hour is five anonymous addresses' worth,
// and a batch of 1,000 is one request. MaxAPIKeyBatch caps what any key may
// send in one request, which bounds the server's work per request.
const (
	DefaultAPIKeyRate     = "10000-H"
	DefaultAPIKeyMaxBatch = 1000
	MaxAPIKeyBatch        = wire.MaxBatchLimit // the server caps every caller there
	maxAPIKeyName         = 100                // characters
)

// apiKeyPurpose is the hashing.Key.Keyed purpose of API key secrets. The
// server hashes a presented secret the same way to look it up.
const apiKeyPurpose = "api-key"

// apiKeySecretPrefix starts every secret, so that one found in a repository
// or a log is recognisable (and greppable by secret scanners).
const apiKeySecretPrefix = "khb_"

func cmdAPIKeysCreate(fs *pflag.FlagSet, cfg *Config) runFunc {
	name := fs.String("name", "", "who holds the key, e.g. \"Dawn investigations desk\" (required)")
	rate := fs.String("rate", DefaultAPIKeyRate, "evaluations allowed, as COUNT-PERIOD with period S, M, H or D")
	maxBatch := fs.Int("max-batch", DefaultAPIKeyMaxBatch, fmt.Sprintf("most identifiers per request, 1 to %d", MaxAPIKeyBatch))
	asJSON := fs.Bool("json", false, "print JSON, secret included")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"unexpected arguments; the name goes in --name"}
		}
		*name = strings.TrimSpace(*name)
		switch {
		case *name == "":
			return usageError{"--name is required: say who holds the key"}
		case utf8.RuneCountInString(*name) > maxAPIKeyName || strings.IndexFunc(*name, unicode.IsControl) >= 0:
			return usageError{fmt.Sprintf("--name must be at most %d characters, without control characters", maxAPIKeyName)}
		case *maxBatch < 1 || *maxBatch > MaxAPIKeyBatch:
			return usageError{fmt.Sprintf("--max-batch must be from 1 to %d, not %d", MaxAPIKeyBatch, *maxBatch)}
		}
		if _, err := ratelimit.ParseRate(*rate); err != nil {
			return usageError{"--rate: " + errorText(err)}
		}

		e, err := cfg.adminEnv(ctx, log)
		if err != nil {
			return err
		}
		defer e.store.Close()
		hasher := e.key.Keyed(apiKeyPurpose)
		var (
			k      *khabardar.APIKey
			secret string
		)
		// A conflict means a random ID was taken (one in 4×10⁹ per key): draw again.
		for try := 0; ; try++ {
			var id string
			if id, secret, err = newAPIKeySecret(); err != nil {
				return err
			}
			k = &khabardar.APIKey{
				ID:       id,
				Name:     *name,
				Hash:     hasher.Sum([]byte(secret)),
				Rate:     *rate,
				MaxBatch: *maxBatch,
				Created:  time.Now().UTC().Truncate(time.Second),
			}
			err = e.store.PutAPIKey(ctx, k)
			if khabardar.ErrorCode(err) != khabardar.ECONFLICT || try == 2 {
				break
			}
		}
		if err != nil {
			return err
		}
		log.Info("created an api key", "id", k.ID, "rate", k.Rate, "max_batch", k.MaxBatch)
		if *asJSON {
			return writeJSON(stdout, struct {
				*khabardar.APIKey
				Secret string `json:"secret"`
			}{k, secret})
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "created API key %s\n", k.ID)
		fmt.Fprintf(tw, "name:\t%s\n", k.Name)
		fmt.Fprintf(tw, "rate:\t%s evaluations\n", k.Rate)
		fmt.Fprintf(tw, "max batch:\t%d\n", k.MaxBatch)
		tw.Flush()
		fmt.Fprintf(stdout, "\nsecret:\n\n  %s\n\n", secret)
		fmt.Fprintln(stdout, "This secret is shown only now: the store keeps a keyed hash of it, not the secret.")
		fmt.Fprintln(stdout, "Give it to the holder over a private channel. If it is lost, create a new key")
		fmt.Fprintf(stdout, "and revoke this one: khabardar apikeys revoke %s\n", k.ID)
		return nil
	}
}

// newAPIKeySecret returns a new key ID ("ak_" and 8 hex digits) and secret
// ("khb_" and 32 random bytes in base64url): 256 bits, so the keyed hash needs
// no stretching.
func newAPIKeySecret() (id, secret string, err error) {
	b := make([]byte, 4+32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	return "ak_" + hex.EncodeToString(b[:4]), apiKeySecretPrefix + base64.RawURLEncoding.EncodeToString(b[4:]), nil
}

func cmdAPIKeysList(fs *pflag.FlagSet, cfg *Config) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"apikeys list takes no arguments"}
		}
		e, err := cfg.adminEnv(ctx, log)
		if err != nil {
			return err
		}
		defer e.store.Close()
		ks, err := e.store.APIKeys(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, ks) // APIKey's JSON leaves out the hash
		}
		if len(ks) == 0 {
			fmt.Fprintln(stdout, "no API keys; create one with: khabardar apikeys create --name NAME")
			return nil
		}
		const day = "2006-01-02 15:04 MST"
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRATE\tMAX BATCH\tCREATED\tREVOKED\tNAME")
		for _, k := range ks {
			revoked := "-"
			if k.Revoked != nil {
				revoked = k.Revoked.UTC().Format(day)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", k.ID, k.Rate, k.MaxBatch, k.Created.UTC().Format(day), revoked, k.Name)
		}
		return tw.Flush()
	}
}

func cmdAPIKeysRevoke(fs *pflag.FlagSet, cfg *Config) runFunc {
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 1 {
			return usageError{"name exactly one API key ID, e.g. khabardar apikeys revoke ak_1a2b3c4d"}
		}
		id := args[0]
		e, err := cfg.adminEnv(ctx, log)
		if err != nil {
			return err
		}
		defer e.store.Close()
		if err := e.store.RevokeAPIKey(ctx, id); err != nil {
			if khabardar.ErrorCode(err) == khabardar.ENOTFOUND {
				// Not the store's message: it would repeat what was typed.
				return khabardar.Errorf(khabardar.ENOTFOUND, "no API key %s; run 'khabardar apikeys list' to see the IDs", shown(id))
			}
			return err
		}
		log.Info("revoked an api key", "id", id)
		fmt.Fprintf(stdout, "revoked API key %s: requests with it are refused\n", id)
		return nil
	}
}
