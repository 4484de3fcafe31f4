package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/khabardar/khabardar/client"
	"github.com/khabardar/khabardar/identifier"
)

// DefaultServer is where check looks when neither --server nor
// KHABARDAR_SERVER says: a local `khabardar serve`.
const DefaultServer = "http://127.0.0.1:8080"

const checkUsage = `Usage: khabardar check [flags] VALUE...
       khabardar check [flags] -         read values from standard input, one per line

Checks whether each CNIC, mobile number or IMEI appears in a sale listing that
Khabardar knows, without sending it anywhere: each value is blinded on this
machine, the server's answer is verified against the key it publishes, and the
match is made here. The server learns only a bucket that thousands of other
values share.

Values typed on the command line can be seen by other users of this machine
(ps) and stay in your shell history: prefer '-' and type or pipe them in.
A value may name its kind: cnic:XXXXX-XXXXXXX-X, phone:03XX-XXXXXXX, imei:...
An invalid value is reported by its position (#N), never repeated.

Exit status: 0 every value was checked, found or not; 1 a value was invalid
(the others are still checked) or the check failed; 2 bad usage.

Flags:
`

// notFound is said of every identifier not found, so nobody takes it as an
// all-clear: Khabardar knows only the listings it has been given.
const notFound = "not found — this identifier is not in any listing Khabardar knows; that does not prove your data is safe"

// checkInput is one value to check: its 1-based position and either its
// identifier or why it is not one.
type checkInput struct {
	pos int
	id  identifier.ID
	err *identifier.ParseError
}

func cmdCheck(ctx context.Context, cfg *Config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), checkUsage)
		fs.PrintDefaults()
	}
	server := fs.String("server", envOr("KHABARDAR_SERVER", DefaultServer), "the Khabardar server's URL (env KHABARDAR_SERVER)")
	apiKey := fs.String("api-key", os.Getenv("KHABARDAR_API_KEY"), "an API key, for higher limits (env KHABARDAR_API_KEY, which other users cannot see in ps)")
	kindName := fs.String("kind", "", "read every value as this kind: cnic, phone or imei (default: detect each)")
	asJSON := fs.Bool("json", false, "print JSON")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	values, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	kind, err := identifier.ParseKind(*kindName)
	if err != nil {
		return usageError{"--kind must be cnic, phone or imei"}
	}
	if len(values) == 0 {
		return usageError{"name one or more values to check, or - to read them from standard input"}
	}
	if *timeout <= 0 {
		return usageError{"--timeout must be positive"}
	}
	values, err = expandStdin(values, os.Stdin)
	if err != nil {
		return err
	}

	inputs := make([]checkInput, len(values))
	var valid []identifier.ID
	var invalid []string
	for i, v := range values {
		inputs[i].pos = i + 1
		id, err := identifier.Parse(kind, identifier.Raw(v))
		if err != nil {
			var pe *identifier.ParseError
			if !errors.As(err, &pe) { // Parse returns only *ParseError; be safe anyway
				pe = &identifier.ParseError{Kind: kind, Reason: identifier.ReasonUnrecognised}
			}
			inputs[i].err = pe
			invalid = append(invalid, "#"+strconv.Itoa(i+1))
			continue
		}
		inputs[i].id = id
		valid = append(valid, id)
	}

	var results []client.Result
	var conf *client.Config
	c, err := client.New(*server, client.WithAPIKey(*apiKey), client.WithUserAgent("khabardar-cli/1"))
	if err != nil {
		return usageError{strings.TrimPrefix(err.Error(), "client: ")}
	}
	if len(valid) > 0 {
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		if results, err = c.Check(ctx, valid); err != nil {
			return checkError(err, *timeout)
		}
		if conf, err = c.Config(ctx); err != nil { // cached by Check: no request
			return checkError(err, *timeout)
		}
	}

	if *asJSON {
		err = printCheckJSON(stdout, inputs, results, conf, *server)
	} else {
		printCheck(stdout, inputs, results, conf)
	}
	if err != nil {
		return err
	}
	if len(invalid) > 0 {
		what := "are not valid identifiers"
		if len(invalid) == 1 {
			what = "is not a valid identifier"
		}
		return fmt.Errorf("%d of %d values %s (%s); nothing about them was sent", len(invalid), len(values), what, strings.Join(invalid, ", "))
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parseInterleaved parses flags anywhere among the values, as people type
// `khabardar check 0300-1234567 --json`; after "--" everything is a value.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var values []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(values, rest...), nil
		}
		if len(rest) == 0 {
			return values, nil
		}
		values, args = append(values, rest[0]), rest[1:]
	}
}

// expandStdin replaces each "-" with the non-blank lines of r.
func expandStdin(values []string, r io.Reader) ([]string, error) {
	var out []string
	read := false
	for _, v := range values {
		if v != "-" {
			out = append(out, v)
			continue
		}
		if read {
			return nil, usageError{"- can be given once"}
		}
		read = true
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				out = append(out, line)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
	}
	if len(out) == 0 {
		return nil, usageError{"standard input held no values"}
	}
	return out, nil
}

// checkError words the client's errors for a person at a terminal.
func checkError(err error, timeout time.Duration) error {
	var rl *client.RateLimitError
	var ae *client.APIError
	switch {
	case errors.As(err, &rl):
		wait := "later"
		if rl.RetryAfter > 0 {
			wait = "in " + rl.RetryAfter.String()
		}
		return fmt.Errorf("the server is limiting lookups; try again %s, or use an API key (--api-key) if you have one", wait)
	case errors.As(err, &ae) && ae.Status == 401:
		return fmt.Errorf("the server refused the API key: %s", ae.Message)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer from the server within %s (--timeout)", timeout)
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	}
	return err
}

func printCheck(w io.Writer, inputs []checkInput, results []client.Result, conf *client.Config) {
	next := 0
	for _, in := range inputs {
		if in.err != nil {
			fmt.Fprintf(w, "#%d: invalid — %s (%s)\n", in.pos, in.err.Error(), in.err.Reason)
			continue
		}
		r := results[next]
		next++
		genuine := 0
		for _, l := range r.Listings {
			if !l.Fabricated {
				genuine++
			}
		}
		noun := func(n int) string {
			if n == 1 {
				return "listing"
			}
			return "listings"
		}
		switch {
		case !r.Found && len(r.Listings) == 0:
			fmt.Fprintf(w, "#%d (%s): %s\n", in.pos, r.Kind, notFound)
			continue
		case !r.Found:
			fmt.Fprintf(w, "#%d (%s): %s; it is only in %d %s shown to be fabricated\n", in.pos, r.Kind, notFound, len(r.Listings), noun(len(r.Listings)))
		default:
			fmt.Fprintf(w, "#%d (%s): FOUND in %d %s\n", in.pos, r.Kind, genuine, noun(genuine))
		}
		for _, l := range r.Listings {
			fmt.Fprintf(w, "  - %s\n", printable(l.Title))
			seen := "first seen " + l.FirstSeen.String()
			if !l.LastSeen.IsZero() {
				seen += ", last seen " + l.LastSeen.String()
			}
			status := strings.ReplaceAll(printable(l.Status), "_", " ")
			if l.Verified {
				status += ", verified"
			}
			if l.Fabricated {
				status += ", FABRICATED: its data is made up"
			}
			fmt.Fprintf(w, "    source: %s · %s · status: %s\n", printable(l.Source.Kind), seen, status)
			var offered []string
			for _, cat := range l.Categories {
				offered = append(offered, categoryName(cat.Category)+" Rs "+rupees(cat.PricePKR))
			}
			if len(offered) > 0 {
				fmt.Fprintf(w, "    offered: %s\n", strings.Join(offered, "; "))
			}
		}
	}
	if conf != nil {
		fmt.Fprintf(w, "\nChecked with server key %s (fingerprint %s); every answer was proven to use it.\n", conf.KeyID, conf.Fingerprint)
	}
}

// categoryName spells out a listing category for people.
func categoryName(c string) string {
	names := map[string]string{
		"location":      "phone location",
		"cdr":           "call records (CDR)",
		"travel":        "travel history",
		"imei":          "IMEI details",
		"cnic_copy":     "CNIC copy",
		"sim_ownership": "SIM ownership",
		"family_tree":   "family tree",
		"bank":          "bank details",
		"other":         "other data",
	}
	if n, ok := names[c]; ok {
		return n
	}
	return printable(c)
}

// rupees writes n with thousands separators: 3500 → "3,500".
func rupees(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// printable drops control characters from server-supplied text, which could
// otherwise rewrite the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
}

// The --json output. It never holds the value checked: only its position
// and kind.
type checkJSON struct {
	Results []checkResultJSON `json:"results"`
	Server  *checkServerJSON  `json:"server,omitempty"`
}

type checkServerJSON struct {
	URL         string `json:"url"`
	KeyID       string `json:"key_id"`
	Fingerprint string `json:"fingerprint"`
}

type checkResultJSON struct {
	Position  int               `json:"position"`
	InputKind string            `json:"input_kind,omitempty"`
	Found     *bool             `json:"found,omitempty"`
	Listings  []checkListing    `json:"listings,omitzero"`
	Error     *checkInvalidJSON `json:"error,omitempty"`
}

type checkInvalidJSON struct {
	Reason  identifier.Reason `json:"reason"`
	Message string            `json:"message"`
}

type checkListing struct {
	ID         string         `json:"id"`
	Title      string         `json:"title"`
	SourceKind string         `json:"source_kind"`
	FirstSeen  string         `json:"first_seen"`
	LastSeen   string         `json:"last_seen,omitempty"`
	Status     string         `json:"status"`
	Verified   bool           `json:"verified"`
	Fabricated bool           `json:"fabricated"`
	Categories []checkPricing `json:"categories"`
}

type checkPricing struct {
	Category string `json:"category"`
	PricePKR int64  `json:"price_pkr"`
}

func printCheckJSON(w io.Writer, inputs []checkInput, results []client.Result, conf *client.Config, server string) error {
	out := checkJSON{Results: make([]checkResultJSON, len(inputs))}
	next := 0
	for i, in := range inputs {
		r := &out.Results[i]
		r.Position = in.pos
		if in.err != nil {
			r.InputKind = in.err.Kind.String()
			r.Error = &checkInvalidJSON{Reason: in.err.Reason, Message: in.err.Error()}
			continue
		}
		res := results[next]
		next++
		r.InputKind, r.Found = res.Kind.String(), &res.Found
		r.Listings = []checkListing{}
		for _, l := range res.Listings {
			cl := checkListing{
				ID: l.ID, Title: l.Title, SourceKind: l.Source.Kind, FirstSeen: l.FirstSeen.String(),
				LastSeen: l.LastSeen.String(), Status: l.Status, Verified: l.Verified, Fabricated: l.Fabricated, Categories: []checkPricing{},
			}
			for _, c := range l.Categories {
				cl.Categories = append(cl.Categories, checkPricing{c.Category, c.PricePKR})
			}
			r.Listings = append(r.Listings, cl)
		}
	}
	if conf != nil {
		u := server
		if p, err := url.Parse(server); err == nil {
			u = p.Redacted()
		}
		out.Server = &checkServerJSON{URL: u, KeyID: conf.KeyID, Fingerprint: conf.Fingerprint}
	}
	return writeJSON(w, out)
}
