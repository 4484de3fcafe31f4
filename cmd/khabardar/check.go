package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar/client"
	"github.com/khabardar/khabardar/identifier"
)

// DefaultServer is where check looks when neither --server nor
// KHABARDAR_SERVER says: a local `khabardar serve`.
const DefaultServer = "http://127.0.0.1:8080"

const checkLong = `Checks whether each CNIC, mobile number or IMEI appears in a sale listing that
Khabardar knows, without sending it anywhere: each value is blinded on this
machine, the server's answer is verified against the key it publishes, and the
match is made here. The server learns only a bucket that thousands of other
values share.

Values typed on the command line can be seen by other users of this machine
(ps) and stay in your shell history: prefer '-' and type or pipe them in.

A value may name its kind: cnic:XXXXX-XXXXXXX-X, phone:03XX-XXXXXXX, imei:...
An invalid value is reported by its position (#N), never repeated.

Values checked together, or one after another from the same network, can be
linked by the server: the bucket numbers of a CNIC and a mobile number
checked from one address can single a person out of a leaked CNIC-SIM list.
Check only what you need, one value at a time, each from a different network
if that matters to you.

A server that asks for bucket numbers of more than 16 bits (shared by fewer
than about 6,900 mobile numbers) is refused: --max-bucket-bits lowers that
limit, --unsafe-max-bucket-bits raises it.
`

const checkExit = `0 every value was checked, found or not; 1 a value was invalid
(the others are still checked) or the check failed; 2 bad usage; 3 the
server has no listings loaded, so a check cannot tell anything (nothing
could have been found).`

// exitNoListings is check's exit code for a server with no listings.
const exitNoListings = 3

// checkInput is one value to check: its 1-based position and either its
// identifier or why it is not one.
type checkInput struct {
	pos int
	id  identifier.ID
	err *identifier.ParseError
}

func cmdCheck(fs *pflag.FlagSet, cfg *Config) runFunc {
	server := fs.String("server", envOr("KHABARDAR_SERVER", DefaultServer), "the Khabardar server's `URL` (env KHABARDAR_SERVER)")
	// No default from the environment: help would print the secret.
	apiKey := fs.String("api-key", "", "an API `KEY`, for higher limits (env KHABARDAR_API_KEY, which other users cannot see in ps, unlike this flag)")
	kindName := fs.String("kind", "", "read every value as this kind: "+identifier.NameList()+" (default: detect each)")
	asJSON := fs.Bool("json", false, "print JSON")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	bits := addBucketBitsFlags(fs)
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		values := args
		bitsOpt, err := bits.option(fs, "check", os.Stderr)
		if err != nil {
			return err
		}
		kind, err := identifier.ParseKind(*kindName)
		if err != nil {
			return usageError{"--kind must be " + identifier.NameList()}
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
		c, err := client.New(*server, client.WithAPIKey(flagOrEnv(*apiKey, "KHABARDAR_API_KEY")), client.WithUserAgent("khabardar-cli/1"), bitsOpt)
		if err != nil {
			return usageError{strings.TrimPrefix(err.Error(), "client: ")}
		}
		if len(valid) > 0 {
			ctx, cancel := context.WithTimeout(ctx, *timeout)
			defer cancel()
			// The config first: a server asking for too many bucket bits is
			// refused before anything else is said or sent.
			if _, err = c.Config(ctx); err != nil {
				return checkError(err, *timeout)
			}
			if distinctCount(valid) > 1 {
				fmt.Fprintln(os.Stderr, linkageNote)
			}
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
		empty := len(results) > 0 && results[0].Catalogue.Empty()
		if empty && !*asJSON {
			fmt.Fprintln(stdout, "\nNo listings are loaded yet: a check cannot tell you anything. Ask the server's operator, or check again later.")
		}
		if len(invalid) > 0 {
			what := "are not valid identifiers"
			if len(invalid) == 1 {
				what = "is not a valid identifier"
			}
			return fmt.Errorf("%d of %d values %s (%s); nothing about them was sent", len(invalid), len(values), what, strings.Join(invalid, ", "))
		}
		if empty {
			return exitCodeErr(exitNoListings)
		}
		return nil
	}
}

// linkageNote is printed when several values are checked at once.
const linkageNote = "khabardar check: note: the server can tell these values were checked together, and the bucket numbers of two of them (say a CNIC and a mobile number) can single a person out of a leaked CNIC-SIM list; if that matters, check one value at a time, each from a different network."

func distinctCount(ids []identifier.ID) int {
	seen := map[identifier.ID]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	return len(seen)
}

// envMaxBucketBits lowers the bucket-bits limit of check and verify, as
// --max-bucket-bits does; raising it takes the flag.
const envMaxBucketBits = "KHABARDAR_MAX_BUCKET_BITS"

// bucketBitsFlags are check's and verify's limit on the bucket bits a server
// may ask for (client.WithMaxBucketBits).
type bucketBitsFlags struct {
	max, unsafe int
}

func addBucketBitsFlags(fs *pflag.FlagSet) *bucketBitsFlags {
	b := &bucketBitsFlags{}
	fs.IntVar(&b.max, "max-bucket-bits", 0, fmt.Sprintf(
		"refuse a server that asks for bucket numbers of more than `N` bits, N from 4 to %d (default %d; env %s); fewer bits hide each value among more",
		client.DefaultMaxBucketBits, client.DefaultMaxBucketBits, envMaxBucketBits))
	fs.IntVar(&b.unsafe, "unsafe-max-bucket-bits", 0, fmt.Sprintf(
		"accept bucket numbers of up to `N` bits, N up to 32: above %d each 4 bits more hide each value among 16 times fewer; only for a server you run yourself",
		client.DefaultMaxBucketBits))
	return b
}

// option checks the flags after parsing and returns the client option. It
// warns on stderr when the limit is raised above the default.
func (b *bucketBitsFlags) option(fs *pflag.FlagSet, cmd string, stderr io.Writer) (client.Option, error) {
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[f.Name] = true })
	def := client.DefaultMaxBucketBits
	lower := func(what string, n int) (client.Option, error) {
		switch {
		case n > def:
			return nil, usageError{fmt.Sprintf("%s can only lower the limit of %d bucket bits; to accept more, which hides every value you check among fewer others, use --unsafe-max-bucket-bits %d", what, def, n)}
		case n < 4:
			return nil, usageError{fmt.Sprintf("%s must be from 4 to %d", what, def)}
		}
		return client.WithMaxBucketBits(n), nil
	}
	switch {
	case set["max-bucket-bits"] && set["unsafe-max-bucket-bits"]:
		return nil, usageError{"--max-bucket-bits and --unsafe-max-bucket-bits are alternatives"}
	case set["unsafe-max-bucket-bits"]:
		n := b.unsafe
		if n < 4 || n > 32 {
			return nil, usageError{"--unsafe-max-bucket-bits must be from 4 to 32"}
		}
		if n > def {
			at := client.About(client.MobileNumbersPerBucket(n))
			if client.MobileNumbersPerBucket(n) < 2 {
				at = "so few that the bucket number alone can single out the number checked"
			}
			fmt.Fprintf(stderr, "khabardar %s: warning: --unsafe-max-bucket-bits %d accepts a server that asks for bucket numbers of up to %d bits. "+
				"The bucket number is what the server learns about each value you check: at %d bits %s possible mobile numbers share one; at %d bits, %s. "+
				"Use it only with a server you run yourself.\n",
				cmd, n, n, def, client.About(client.MobileNumbersPerBucket(def)), n, at)
		}
		return client.WithUnsafeMaxBucketBits(n), nil
	case set["max-bucket-bits"]:
		return lower("--max-bucket-bits", b.max)
	}
	if v := os.Getenv(envMaxBucketBits); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, usageError{fmt.Sprintf("%s=%q is not a whole number", envMaxBucketBits, v)}
		}
		return lower(envMaxBucketBits, n)
	}
	return client.WithMaxBucketBits(0), nil
}

// flagOrEnv is a flag's value, or when it is empty the environment's:
// for secrets, whose environment value must not become a flag default that
// help prints.
func flagOrEnv(flag, name string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv(name)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
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
	var bb *client.BucketBitsError
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
	case errors.As(err, &bb):
		msg := "refused: " + strings.TrimPrefix(bb.Error(), "client: ")
		if bb.Bits > client.DefaultMaxBucketBits && bb.Bits <= 32 {
			msg += fmt.Sprintf(" If you run this server yourself and chose %d bits on purpose, --unsafe-max-bucket-bits %d accepts it.", bb.Bits, bb.Bits)
		}
		return errors.New(msg)
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
		case !r.Found && r.Catalogue.Empty() && len(r.Listings) == 0:
			fmt.Fprintf(w, "#%d (%s): %s\n", in.pos, r.Kind, client.NoListings)
			continue
		case !r.Found && r.Catalogue.Empty():
			fmt.Fprintf(w, "#%d (%s): %s; it is only in %d %s shown to be fabricated\n", in.pos, r.Kind, client.NoListings, len(r.Listings), noun(len(r.Listings)))
		case !r.Found && len(r.Listings) == 0:
			fmt.Fprintf(w, "#%d (%s): %s\n", in.pos, r.Kind, client.NotFound(r.Catalogue))
			continue
		case !r.Found:
			fmt.Fprintf(w, "#%d (%s): %s; it is only in %d %s shown to be fabricated\n", in.pos, r.Kind, client.NotFound(r.Catalogue), len(r.Listings), noun(len(r.Listings)))
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
	Results   []checkResultJSON `json:"results"`
	Catalogue *client.Catalogue `json:"catalogue,omitempty"` // what the values were checked against
	Server    *checkServerJSON  `json:"server,omitempty"`
}

type checkServerJSON struct {
	URL         string `json:"url"`
	KeyID       string `json:"key_id"`
	Fingerprint string `json:"fingerprint"`
}

type checkResultJSON struct {
	Position  int    `json:"position"`
	InputKind string `json:"input_kind,omitempty"`
	Found     *bool  `json:"found,omitempty"`
	// Status is found, not_found, no_listings (the server has none: the
	// check could not tell) or invalid.
	Status   string            `json:"status"`
	Listings []checkListing    `json:"listings,omitzero"`
	Error    *checkInvalidJSON `json:"error,omitempty"`
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
			r.InputKind, r.Status = in.err.Kind.String(), "invalid"
			r.Error = &checkInvalidJSON{Reason: in.err.Reason, Message: in.err.Error()}
			continue
		}
		res := results[next]
		next++
		r.InputKind, r.Found = res.Kind.String(), &res.Found
		switch {
		case res.Found:
			r.Status = "found"
		case res.Catalogue.Empty():
			r.Status = "no_listings"
		default:
			r.Status = "not_found"
		}
		out.Catalogue = &res.Catalogue
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
