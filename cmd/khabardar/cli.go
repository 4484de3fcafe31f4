package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/redisurl"
)

// runFunc is a command's body, run once its flags are parsed; args are the
// positional arguments.
type runFunc func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error

// buildFunc declares a command's flags on fs and returns its body, which
// reads them: flags are known before parsing, so help and completion list
// them, and the body stays a plain function of its inputs.
type buildFunc func(fs *pflag.FlagSet, cfg *Config) runFunc

// Exit codes shared by every command; a command documents its own beside
// these in its help.
const (
	exitFailed  = 1
	exitUsage   = 2
	exitDefault = "0 done; 1 failed (the message says why); 2 bad usage (the message says which flag or argument)."
)

// run is main without the process: it returns the exit code. Logs are JSON
// on stderr and carry no request or file data.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var level slog.LevelVar // serve's --log-level may change it after its flags
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: &level}))
	redisurl.SetLogger(log) // go-redis's own lines: JSON too, and sampled
	cfg, err := newConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "khabardar:", err)
		return exitUsage
	}
	cfg.logLevel = &level
	if err := cfg.applyLogLevel(); err != nil {
		fmt.Fprintln(stderr, "khabardar:", err)
		return exitUsage
	}
	root := newRoot(cfg, log, stdout, stderr)
	root.SetArgs(compatArgs(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var done exitCodeErr
	if errors.As(err, &done) {
		return int(done) // the command has said what it had to
	}
	name := "khabardar"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", name, scrubQuoted(ue.msg), name)
		return exitUsage
	}
	msg := errorText(err)
	if cmd != nil {
		// Packages prefix their errors with their name ("ingest: open …");
		// after "khabardar ingest:" once is enough.
		msg = strings.TrimPrefix(msg, cmd.Name()+": ")
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, msg)
	return exitFailed
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

// Command groups of the top-level help.
const (
	groupServe   = "serve"
	groupCatalog = "catalogue"
	groupCheck   = "check"
	groupTest    = "test"
)

// leaf is one command: its help and its build function. store: it takes
// the store and key flags (--data, --redis, --key-file, ...).
type leaf struct {
	use, short, long, example, exit string
	group                           string
	aliases                         []string
	store                           bool
	build                           buildFunc
}

// newRoot builds the command tree. Every command's help is prose with
// examples and exit codes; flags are --long style and name their
// environment variable.
func newRoot(cfg *Config, log *slog.Logger, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "khabardar",
		Short: "Is my data being sold? Check CNICs, mobile numbers and IMEIs against known sale listings",
		Long: `Khabardar answers one question for Pakistani citizens, SMS users and
journalists: is my CNIC, mobile number or IMEI in a listing of data for
sale? Identifiers are stored only as keyed hashes (RFC 9497 VOPRF outputs),
and the website and 'khabardar check' blind a value before it leaves the
machine, so the server never sees it.

Operators run 'serve' and feed it listings; citizens use the website or SMS;
journalists use 'check', 'verify' and the API. On the embedded store (the
default), the catalogue commands work while 'serve' runs: they reach the
running server through its admin socket in the data directory.

The commands that use the store take the store and key flags: --data DIR
(KHABARDAR_DATA, default ./khabardar-data), --redis URL
(KHABARDAR_REDIS_URL: redis://host:port/db or redis-cluster://host:port,...)
and --key-file FILE (KHABARDAR_KEY_FILE, default DIR/key.json; required with
--redis). Every flag names its environment variable in its command's help;
a flag wins over the environment.`,
		Example: `  khabardar serve                                   # the service on 127.0.0.1:8080
  khabardar listings add examples/listing-pakdata-shop.yaml
  khabardar ingest --listing pakdata-shop-2025 examples/leak-sample.csv
  khabardar check -                                 # type a value; it is never sent
  khabardar help ingest`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Annotations:   map[string]string{"exit": exitDefault + " Each command's help gives its own."},
		// No subcommand: the help, exit 0.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return cmd.Help()
		},
		Args: cobra.ArbitraryArgs,
	}
	root.SuggestionsMinimumDistance = 2
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	root.AddGroup(
		&cobra.Group{ID: groupServe, Title: "Run the service:"},
		&cobra.Group{ID: groupCatalog, Title: "Keep the catalogue (operators; on the embedded store these work while serve runs):"},
		&cobra.Group{ID: groupCheck, Title: "Check and verify (citizens, journalists):"},
		&cobra.Group{ID: groupTest, Title: "Try and measure:"},
	)
	root.SetHelpCommand(helpCommand(root))
	root.SetHelpCommandGroupID("")
	root.SetCompletionCommandGroupID("")
	setTemplates(root)

	add := func(parent *cobra.Command, l leaf) *cobra.Command {
		c := &cobra.Command{
			Use: l.use, Short: l.short, Long: l.long, Example: l.example, GroupID: l.group, Aliases: l.aliases,
			Annotations: map[string]string{"exit": strings.Join(strings.Fields(l.exit), " ")},
		}
		if l.exit == "" {
			c.Annotations["exit"] = exitDefault
		}
		fs := c.Flags()
		if l.store {
			cfg.register(fs)
		}
		body := l.build(fs, cfg)
		c.RunE = func(cmd *cobra.Command, args []string) error {
			return body(cmd.Context(), args, stdout, log)
		}
		parent.AddCommand(c)
		return c
	}
	group := func(use, short, long, example, id string) *cobra.Command {
		g := &cobra.Command{
			Use: use, Short: short, Long: long, Example: example, GroupID: id,
			Annotations: map[string]string{"exit": "0 the help was printed; 2 an unknown subcommand."},
			Args:        cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return unknownCommand(cmd, args[0])
				}
				return cmd.Help()
			},
		}
		root.AddCommand(g)
		return g
	}

	add(root, leaf{
		use:   "serve [flags]",
		short: "Run the lookup service, the website and the SMS webhooks",
		long: `Runs the HTTP service: the public API (/v1/config, /v1/evaluate,
/v1/buckets, /v1/listings, /v1/stats), the citizen website embedded in the
binary, and the SMS webhooks when a gateway's secret is set. It binds its
listeners first, and creates the server key and the data directory only once
they are up, so a port in use changes nothing on disk.

On the embedded store it also opens an admin socket (DATA/admin.sock, mode
0600, this user only) through which the catalogue commands (listings,
ingest, apikeys, keys show, stats) reach the running server: the bolt file
admits one process, and the server applies their changes at once (its bucket
cache is cleared for the buckets an ingest touched). With --redis every
replica and command share the store directly.

SIGINT or SIGTERM finishes in-flight requests, then exits. Secrets (SMS
gateways, KHABARDAR_ALERTS_SECRET, KHABARDAR_KANNEL_SENDSMS_PASSWORD) come
from the environment only, never flags. Alerts go out by SMS through Kannel's
sendsms interface (--kannel-sendsms-url) or else Twilio's Messages API
(--twilio-account-sid), never in --alerts-quiet-hours; the start log says
whether they are on.`,
		example: `  khabardar serve                                         # 127.0.0.1:8080, store in ./khabardar-data
  khabardar serve --addr :8080 --public-url https://khabardar.pk
  KHABARDAR_REDIS_URL=redis://10.0.0.5:6379/0 khabardar serve --key-file /etc/khabardar/key.json
  khabardar serve --addr 127.0.0.1:0 --metrics-addr off  # any free port; no metrics`,
		exit:  "0 stopped by SIGINT or SIGTERM; 1 could not start (a port in use, the store unreachable: the message says which) or failed while serving; 2 bad usage.",
		group: groupServe,
		store: true,
		build: cmdServe,
	})

	keys := group("keys", "Create and show the server key",
		`The server key is the secret salt of every stored hash: an identifier is
stored as the VOPRF output under this key, and clients check the server's
proofs against its public half. Losing it makes every stored hash
unmatchable; leaking it lets its holder test guesses offline. Keep
DATA/key.json (mode 0600) backed up and private; with Redis, every replica
reads the same --key-file.`,
		`  khabardar keys init
  khabardar keys show --json`, groupCatalog)
	keys.PersistentFlags().AddFlagSet(storeFlags(cfg))
	add(keys, leaf{
		use:   "init",
		short: "Create the server key (once; never replaces one)",
		long: `Creates the server key file (mode 0600) if there is none. On a key file
that exists it changes nothing and says which key it holds: replacing a key
would orphan every stored hash. 'serve' and the other commands also create
the key on first use, so this is only needed to make the key before anything
else (to back it up, or to copy it to Redis replicas).`,
		example: `  khabardar keys init
  khabardar keys init --key-file /etc/khabardar/key.json`,
		exit:  "0 the key was created, or already existed; 1 it could not be read or written; 2 bad usage.",
		build: cmdKeysInit,
	})
	add(keys, leaf{
		use:   "show [--json]",
		short: "Print the public key, key id and fingerprint",
		long: `Prints the suite, the key id, the public key (base64url) and its
fingerprint: what /v1/config publishes and what a journalist can compare
out of band before trusting a server's answers. Never the secret.`,
		example: `  khabardar keys show
  khabardar keys show --json | jq -r .fingerprint`,
		build: cmdKeysShow,
	})

	listings := group("listings", "Add, list, flag and remove sale listings",
		`A listing is one offer of data for sale (a website, a WhatsApp group, a
social page): its title, source, dates, categories with prices, and flags
(verified, fabricated, sensitive). Identifiers are attached to a listing
with 'khabardar ingest'. See examples/listing-pakdata-shop.yaml.`,
		`  khabardar listings add examples/listing-pakdata-shop.yaml
  khabardar listings list
  khabardar listings flag pakdata-shop-2025 --fabricated
  khabardar listings remove pakdata-shop-2025`, groupCatalog)
	listings.PersistentFlags().AddFlagSet(storeFlags(cfg))
	add(listings, leaf{
		use:   "add FILE...",
		short: "Add or update listings from YAML files",
		long: `Reads every FILE (YAML, several documents per file allowed), validates
all of them before writing any, and adds each listing or updates the one
with its id. Unknown fields are errors.`,
		example: `  khabardar listings add examples/listing-pakdata-shop.yaml
  khabardar listings add listings/*.yaml`,
		build: cmdListingsAdd,
	})
	add(listings, leaf{
		use:     "list [--json]",
		aliases: []string{"ls"},
		short:   "List listings with their flags and identifier counts",
		long: `Lists every listing: id, status, the verified, fabricated and sensitive
flags, first seen, identifiers by kind, and title. --json prints the full
records.`,
		example: `  khabardar listings list
  khabardar listings list --json | jq '.[] | select(.fabricated)'`,
		build: cmdListingsList,
	})
	add(listings, leaf{
		use:     "remove ID",
		aliases: []string{"rm"},
		short:   "Remove a listing and its identifiers",
		long: `Removes the listing ID and every exposure stored for it; an identifier
also in another listing stays found through that one.`,
		example: `  khabardar listings remove pakdata-shop-2025`,
		build:   cmdListingsRemove,
	})
	add(listings, leaf{
		use:   "flag ID --verified|--fabricated|--sensitive[=false]...",
		short: "Set or clear a listing's flags",
		long: `Sets or clears a stored listing's flags without its YAML file, e.g. after
'khabardar verify' shows its data is made up. Flags not named keep their
value. A listing cannot be both verified and fabricated: the change is
refused rather than resolved quietly (say --verified=false).

  verified    Khabardar confirmed the data is real
  fabricated  shown to be fake: never reported as found, left out of /v1/stats
  sensitive   being in it says something harmful about a person`,
		example: `  khabardar listings flag pakdata-shop-2025 --fabricated
  khabardar listings flag pakdata-shop-2025 --verified=false --fabricated`,
		build: cmdListingsFlag,
	})

	add(root, leaf{
		use:   "ingest --listing ID [flags] FILE...",
		short: "Load identifiers from CSV/TSV, JSON lines, XLSX or text into a listing",
		long: `Reads leaked identifiers from each FILE, parses them (CNICs, mobile
numbers, IMEIs, in any of the forms leaks hold), turns each into its keyed
hash on this machine and stores only that, attached to the listing ID.
Re-running is safe: counts stay exact, and a run killed part way is finished
by running it again.

Rejected values are counted by reason with their row numbers, never their
values. Columns are found by header and content; --column names them.
With 'serve' running on the embedded store, the hashes go through its admin
socket and lookups see them at once.`,
		example: `  khabardar ingest --listing pakdata-shop-2025 examples/leak-sample.csv
  khabardar ingest --listing pakdata-shop-2025 --column mobile=phone --column cnic_no=cnic dump.xlsx
  khabardar ingest --listing pakdata-shop-2025 --format text whatsapp-export.txt --json`,
		exit:  "0 ingested (rejected values are counted, not failures); 1 a file could not be read or the store written (re-run to finish); 2 bad usage.",
		group: groupCatalog,
		store: true,
		build: cmdIngest,
	})

	apikeys := group("apikeys", "Create, list and revoke API keys for journalists and partners",
		`An API key gives a newsroom or partner higher limits for 'check', 'verify'
and the API. The secret is printed once and only its keyed hash is stored;
a revoked key is refused at once (401), never demoted to anonymous limits.`,
		`  khabardar apikeys create --name "Dawn investigations desk"
  khabardar apikeys list
  khabardar apikeys revoke k_1a2b3c4d`, groupCatalog)
	apikeys.PersistentFlags().AddFlagSet(storeFlags(cfg))
	add(apikeys, leaf{
		use:   "create --name NAME [--rate R] [--max-batch N] [--json]",
		short: "Create an API key (the secret is shown once)",
		long: `Creates an API key for NAME with its own evaluation rate and batch size,
prints its id and secret once, and stores only the secret's keyed hash.
Give the secret to its holder over a private channel; they pass it as
Authorization: Bearer, or KHABARDAR_API_KEY to check and verify.`,
		example: `  khabardar apikeys create --name "Dawn investigations desk"
  khabardar apikeys create --name "Partner NGO" --rate 50000-D --max-batch 500 --json`,
		build: cmdAPIKeysCreate,
	})
	add(apikeys, leaf{
		use:     "list [--json]",
		aliases: []string{"ls"},
		short:   "List API keys (never their secrets)",
		long: `Lists every API key: its id, the name of who holds it, its evaluation
rate and batch size, when it was created and whether (and when) it was
revoked. The secrets are not stored, so they cannot be listed: a lost
secret means a new key.`,
		example: `  khabardar apikeys list`,
		build:   cmdAPIKeysList,
	})
	add(apikeys, leaf{
		use:   "revoke ID",
		short: "Revoke an API key at once",
		long: `Marks the key revoked; the next request with it gets 401 (the server does
not cache keys). Revoking twice is harmless.`,
		example: `  khabardar apikeys revoke k_1a2b3c4d`,
		build:   cmdAPIKeysRevoke,
	})

	alertsGroup := group("alerts", "Count subscribers and send queued alerts", alertsLong,
		`  khabardar alerts stats
  khabardar alerts send-pending`, groupCatalog)
	alertsGroup.PersistentFlags().AddFlagSet(storeFlags(cfg))
	add(alertsGroup, leaf{
		use:   "stats [--json]",
		short: "Count subscribers, watches and queued alerts (counts only, never who)",
		long: `Prints how many people subscribed, how many identifiers they watch and how
many alerts wait to be sent: counts, never a number or an identifier.`,
		example: `  khabardar alerts stats --json`,
		build:   cmdAlertsStats,
	})
	add(alertsGroup, leaf{
		use:   "send-pending [--json]",
		short: "Send the alerts that are due now, once, and say what happened",
		long: `Runs one pass of the alert worker, as serve does by itself after each
ingest: claims the alerts that are due, sends them through the outbound
gateway within the send rate and outside the quiet hours, and prints how
many were sent, left to retry, dropped and held. While serve runs on the
embedded store, the pass runs in the server.`,
		example: `  khabardar alerts send-pending`,
		build:   cmdAlertsSend,
	})

	add(root, leaf{
		use:   "migrate",
		short: "Upgrade the store's records to this khabardar's format",
		long:  migrateLong,
		example: `  khabardar migrate
  KHABARDAR_REDIS_URL=redis://10.0.0.5:6379/0 khabardar migrate`,
		exit:  "0 migrated, or nothing to do; 1 the store could not be read or written (run it again to finish); 2 bad usage.",
		group: groupCatalog,
		store: true,
		build: cmdMigrate,
	})

	add(root, leaf{
		use:   "stats [--json]",
		short: "Print the catalogue's figures: listings, identifiers, newest listing",
		long: `Prints what the catalogue holds: listings (fabricated ones apart),
identifiers by kind, and the newest listing's date: what /v1/stats and the
website show, read from the store (through the admin socket while serve
runs on the embedded store).`,
		example: `  khabardar stats
  khabardar stats --json`,
		group: groupCatalog,
		store: true,
		build: cmdStats,
	})

	add(root, leaf{
		use:   "check [flags] VALUE... | -",
		short: "Check identifiers against a server; the value never leaves this process",
		long:  checkLong,
		example: `  khabardar check -                                  # type or pipe values: out of ps and history
  khabardar check 0312-3456789
  khabardar check --json cnic:61101-2345678-9 imei:490154203237518
  KHABARDAR_SERVER=https://khabardar.pk khabardar check - < numbers.txt`,
		exit:  checkExit,
		group: groupCheck,
		build: cmdCheck,
	})
	add(root, leaf{
		use:   "verify [flags] SAMPLE...",
		short: "Judge a seller's sample: plausible? new or repackaged?",
		long:  verifyLong,
		example: `  khabardar verify sample.csv
  khabardar verify --offline sample.xlsx             # plausibility only, nothing looked up
  khabardar verify --html report.html --api-key "$KEY" sample.csv chat.txt`,
		exit:  verifyExit,
		group: groupCheck,
		build: cmdVerify,
	})
	add(root, leaf{
		use:   "sms-sim --from NUMBER [flags]",
		short: "Send SMS to a server as a gateway would, and print the replies",
		long:  smsSimLong,
		example: `  KHABARDAR_TWILIO_AUTH_TOKEN=test khabardar sms-sim --from +923121234567
  echo "CNIC 61101-2345678-9" | KHABARDAR_SMS_SECRET=s khabardar sms-sim --gateway kannel --from 03121234567`,
		group: groupTest,
		build: cmdSMSSim,
	})
	add(root, leaf{
		use:   "load --server URL[,URL...] [flags]",
		short: "Drive the lookup flow with synthetic numbers and measure",
		long:  loadLong,
		example: `  khabardar load --server http://127.0.0.1:8080 --checks 2000
  khabardar load --server http://a:8080,http://b:8080 --duration 5m --rate 300 --pids 1234,1235 --json`,
		group: groupTest,
		build: cmdLoad,
	})
	add(root, leaf{
		use:   "version [--json]",
		short: "Print the version, commit, Go version and data format versions",
		long: `Prints the module version and the commit it was built from (when built
from a git checkout), the Go version, and the versions of the key file and
stored record formats this binary reads and writes.`,
		example: `  khabardar version
  khabardar version --json`,
		build: cmdVersion,
	})
	root.AddCommand(completionCommand(root))
	return root
}

// exitCodeErr ends a command that has printed its outcome with an exit code
// of its own (check's 3: no listings loaded); run prints nothing more.
type exitCodeErr int

func (e exitCodeErr) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// storeFlags returns the store and key flags on a flag set of their own, for
// a group's persistent flags.
func storeFlags(cfg *Config) *pflag.FlagSet {
	fs := pflag.NewFlagSet("store", pflag.ContinueOnError)
	cfg.register(fs)
	return fs
}

// unknownCommand is the usage error for an unknown subcommand, with
// cobra's suggestions.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %s for %q", shown(name), cmd.CommandPath())
	cmd.SuggestionsMinimumDistance = 2
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{msg}
}

// shown quotes a word typed on the command line for an error message,
// unless it may be a mobile number, CNIC or IMEI typed in the wrong place
// (khabardar 0300-1234567): an error never repeats one.
func shown(s string) string {
	if mayBeIdentifier(s) {
		return "(not repeated: it may be an identifier)"
	}
	return strconv.Quote(s)
}

// mayBeIdentifier reports whether s parses as an identifier, or holds 7
// digits or more and, besides a kind prefix ("cnic:…"), no letter but one
// or two before the digits, as a passport number's:
// a mistyped identifier is as private as a valid one. IDs such as
// ak_1a2b3c4d are not.
func mayBeIdentifier(s string) bool {
	if _, err := identifier.Parse(identifier.Unknown, identifier.Raw(s)); err == nil {
		return true
	}
	rest := strings.ToLower(s)
	for _, k := range identifier.Kinds {
		rest = strings.TrimPrefix(rest, k.String()+":")
	}
	// A mistyped value of a kind with letters (a passport number) keeps
	// its digits after a letter or two.
	body := strings.TrimLeftFunc(rest, unicode.IsLetter)
	if n := len(rest) - len(body); n > 0 && (n > 2 || body == "" || !strings.ContainsAny(body[:1], "0123456789 -")) {
		return false
	}
	return digitCount(body) >= 7 && !strings.ContainsFunc(body, unicode.IsLetter)
}

func digitCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// quoted matches a quoted word in a message of cobra's or pflag's, such as
// invalid argument "0300-1234567" for "--max-batch" flag.
var quoted = regexp.MustCompile(`"[^"]*"`)

// scrubQuoted replaces every quoted word that may be an identifier in a
// usage message: cobra and pflag quote what was typed.
func scrubQuoted(msg string) string {
	return quoted.ReplaceAllStringFunc(msg, func(q string) string {
		if mayBeIdentifier(strings.Trim(q, `"`)) {
			return "(not repeated: it may be an identifier)"
		}
		return q
	})
}

// helpCommand is cobra's help command without its echo of an unknown topic.
func helpCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help prints the help of any command: khabardar help COMMAND [SUBCOMMAND].",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return usageError{fmt.Sprintf("no help for %s: no such command; run 'khabardar help' to list them", shown(strings.Join(args, " ")))}
			}
			return cmd.Help()
		},
	}
}

// usageTemplate is cobra's, with the exit codes after the examples.
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} COMMAND{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}{{$cmds := .Commands}}{{if eq (len .Groups) 0}}

Commands:{{range $cmds}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{else}}{{range $group := .Groups}}

{{.Title}}{{range $cmds}}{{if (and (eq .GroupID $group.ID) (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if not .AllChildCommandsHaveGroup}}

More:{{range $cmds}}{{if (and (eq .GroupID "") (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Store and key flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{with .Annotations}}{{with index . "exit"}}

Exit codes:
  {{.}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

Run '{{.CommandPath}} COMMAND --help' for a command's help.{{end}}
`

func setTemplates(root *cobra.Command) {
	root.SetUsageTemplate(usageTemplate)
}

// compatArgs keeps the single-dash long flags of earlier releases working
// (-addr :8080, -json): a "-name" or "-name=value" whose name is a long flag
// somewhere in the tree becomes "--name". Arguments after "--" are left
// alone, as are "-" (standard input) and anything not a known flag name.
func compatArgs(root *cobra.Command, args []string) []string {
	names := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	names["help"] = true
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && names[name] {
				out[i] = "-" + a
			}
		}
	}
	return out
}

// completionCommand prints shell completion scripts (cobra's generators).
func completionCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "Print a shell completion script",
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Long: `Prints a script that completes khabardar's commands and flags in your
shell. Load it for this session, or install it as your shell expects.`,
		Example: `  source <(khabardar completion bash)
  khabardar completion bash > /etc/bash_completion.d/khabardar
  khabardar completion zsh > "${fpath[1]}/_khabardar"
  khabardar completion fish > ~/.config/fish/completions/khabardar.fish`,
		Annotations: map[string]string{"exit": "0 printed; 2 no shell, or one not supported."},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{"name one shell: bash, zsh, fish or powershell"}
			}
			w := cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return usageError{fmt.Sprintf("no completion for %q: bash, zsh, fish or powershell", args[0])}
		},
	}
}
