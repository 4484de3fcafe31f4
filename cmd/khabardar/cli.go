package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/internal/redisurl"
)

const usage = `khabardar: is my data being sold?

Usage:
  khabardar serve [--addr HOST:PORT] [--max-batch N] [--rate-evaluate R] [--rate-bucket R]
                  [--rate-listing R] [--rate-global-evaluate R] [--trusted-proxies CIDRs]
                  [--bucket-cache-mb N] [--bucket-cache-ttl D] [--site-dir DIR | --no-site]
                  [--public-url URL] [--rate-sms-sender R] [--rate-sms-gateway R]
                                                run the lookup service, the website and the SMS webhooks
  khabardar keys init                           create the server key
  khabardar keys show [--json]                  print the public key, key id and fingerprint
  khabardar listings add FILE...                add or update listings from YAML files
  khabardar listings list [--json]              list listings with identifier counts
  khabardar listings remove ID                  remove a listing and its exposures
  khabardar listings flag ID --verified|--fabricated|--sensitive[=false]...   set or clear a listing's flags
  khabardar ingest --listing ID [flags] FILE... load identifiers from CSV/TSV, JSON lines, XLSX or text
  khabardar apikeys create --name NAME [--rate R] [--max-batch N]   a key for a journalist or partner (shown once)
  khabardar apikeys list [--json] | revoke ID   manage API keys
  khabardar check [--server URL] [--json] VALUE... | -   check identifiers against a server; the value never leaves this process
  khabardar verify [--server URL] [--api-key KEY] [--json | --html FILE] SAMPLE...   judge a seller's sample: plausible? new or repackaged?
  khabardar load --server URL[,URL...] [--checks N] [--duration D] [--concurrency N] [--pids PIDs] [--json]
                                                drive config, evaluate and bucket with synthetic numbers and measure
  khabardar sms-sim --from NUMBER [--server URL] [--gateway twilio|kannel]   send SMS to a server as a gateway would

Store and key flags (every command):
  --data DIR        embedded store directory (KHABARDAR_DATA, default ./khabardar-data)
  --redis URL       use Redis instead (KHABARDAR_REDIS_URL)
  --key-file FILE   server key (KHABARDAR_KEY_FILE, default DIR/key.json; required with --redis)

Run 'khabardar COMMAND -h' for a command's flags.
`

// run is main without the process: it returns the exit code (0 ok, 1 failed,
// 2 usage). Logs are JSON on stderr and carry no request or file data.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var level slog.LevelVar // serve's --log-level may change it after its flags
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: &level}))
	redisurl.SetLogger(log) // go-redis's own lines: JSON too, and sampled
	cfg, err := newConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "khabardar:", err)
		return 2
	}
	cfg.logLevel = &level
	if err := cfg.applyLogLevel(); err != nil {
		fmt.Fprintln(stderr, "khabardar:", err)
		return 2
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "keys" || cmd == "listings" || cmd == "apikeys") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	commands := map[string]func(context.Context, *Config, []string, io.Writer, *slog.Logger) error{
		"serve":           cmdServe,
		"keys init":       cmdKeysInit,
		"keys show":       cmdKeysShow,
		"listings add":    cmdListingsAdd,
		"listings list":   cmdListingsList,
		"listings remove": cmdListingsRemove,
		"listings flag":   cmdListingsFlag,
		"ingest":          cmdIngest,
		"apikeys create":  cmdAPIKeysCreate,
		"apikeys list":    cmdAPIKeysList,
		"apikeys revoke":  cmdAPIKeysRevoke,
		"check":           cmdCheck,
		"verify":          cmdVerify,
		"sms-sim":         cmdSMSSim,
		"load":            cmdLoad,
	}
	fn, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "khabardar: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	err = fn(ctx, cfg, rest, stdout, log)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "khabardar %s: %s\n", cmd, ue.msg)
		return 2
	default:
		fmt.Fprintf(stderr, "khabardar %s: %s\n", cmd, errorText(err))
		return 1
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errorText shows a *khabardar.Error by its message; other errors as they
// are (they come from our own code and name files, not values).
func errorText(err error) string {
	var e *khabardar.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// flags returns a flag set for a command with the store and key flags.
func flags(name string, cfg *Config, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfg.register(fs)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

func cmdKeysInit(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flags("keys init", cfg, stdout)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if k, err := hashing.LoadKey(cfg.KeyFile); err == nil {
		return fmt.Errorf("%s already holds key %s; a new key would make every stored hash unmatchable, so move the old file away deliberately first", cfg.KeyFile, k.ID())
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

func cmdKeysShow(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flags("keys show", cfg, stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
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
			"mode":        "voprf",
			"key_id":      k.ID(),
			"public_key":  base64.RawURLEncoding.EncodeToString(k.PublicKey()),
			"fingerprint": k.Fingerprint(),
			"created":     k.Created(),
		})
	}
	printKey(stdout, k)
	return nil
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

func cmdListingsAdd(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flags("listings add", cfg, stdout)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"name one or more listing YAML files"}
	}
	// Read and validate every file before writing any.
	var all []*khabardar.Listing
	for _, name := range fs.Args() {
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
	e, err := cfg.open(ctx, log)
	if err != nil {
		return err
	}
	defer e.store.Close()
	for _, l := range all {
		verb := "added"
		if _, err := e.store.Listing(ctx, l.ID); err == nil {
			verb = "updated"
		}
		if err := e.store.PutListing(ctx, l); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s listing %s\n", verb, l.ID)
	}
	return nil
}

func cmdListingsList(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flags("listings list", cfg, stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	e, err := cfg.open(ctx, log)
	if err != nil {
		return err
	}
	defer e.store.Close()
	ls, err := e.store.Listings(ctx)
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
	fmt.Fprintln(tw, "ID\tSTATUS\tVERIFIED\tFIRST SEEN\tCNIC\tPHONE\tIMEI\tTITLE")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%d\t%d\t%d\t%s\n", l.ID, l.Status, l.Verified, l.FirstSeen, l.Counts.CNIC, l.Counts.Phone, l.Counts.IMEI, l.Title)
	}
	return tw.Flush()
}

func cmdListingsRemove(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flags("listings remove", cfg, stdout)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"name exactly one listing ID"}
	}
	e, err := cfg.open(ctx, log)
	if err != nil {
		return err
	}
	defer e.store.Close()
	id := fs.Arg(0)
	l, err := e.store.Listing(ctx, id)
	if err != nil {
		return err
	}
	if err := e.store.RemoveListing(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed listing %s and its %d identifiers\n", id, l.Counts.Total())
	return nil
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
