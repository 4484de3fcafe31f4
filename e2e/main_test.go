package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/internal/redistest"
)

// binPath is the khabardar binary built once for these tests: they drive the
// real command, as an operator would.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "khabardar-bin-")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "khabardar")
	if out, err := exec.Command("go", "build", "-o", binPath, "github.com/khabardar/khabardar/cmd/khabardar").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building khabardar: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary with a private environment: its own data directory,
// key file and TMPDIR, so a test can check that nothing lands elsewhere.
type cli struct {
	t      *testing.T
	dir    string // the test's working directory
	data   string
	tmp    string
	env    []string
	output bytes.Buffer // everything any command printed, for privacy scans
}

func newCLI(t *testing.T, redisURL string) *cli {
	t.Helper()
	dir := t.TempDir()
	c := &cli{t: t, dir: dir, data: filepath.Join(dir, "data"), tmp: filepath.Join(dir, "tmp")}
	if err := os.Mkdir(c.tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	c.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + c.tmp, "KHABARDAR_DATA=" + c.data,
		"KHABARDAR_LOG_LEVEL=debug"} // every log line, for the privacy scans
	if redisURL != "" {
		c.env = append(c.env, "KHABARDAR_REDIS_URL="+redisURL, "KHABARDAR_KEY_FILE="+filepath.Join(dir, "keys", "key.json"))
	}
	return c
}

// stores runs f on the embedded store, on Redis and on a three-master
// Redis Cluster.
func stores(t *testing.T, f func(t *testing.T, c *cli)) {
	t.Run("embedded", func(t *testing.T) { f(t, newCLI(t, "")) })
	t.Run("redis", func(t *testing.T) { f(t, newCLI(t, redistest.URL(t))) })
	t.Run("cluster", func(t *testing.T) { f(t, newCLI(t, redistest.ClusterURL(t))) })
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	return c.runWithInput("", args...)
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("khabardar %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// write creates a file in the test's directory and returns its path.
func (c *cli) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cli) addListing(id string) {
	c.t.Helper()
	c.ok("listings", "add", c.write(id+".yaml", listingYAML(id, "")))
}

func listingYAML(id, extra string) string {
	return fmt.Sprintf(`id: %s
title: Test listing %s
source: {kind: whatsapp, description: a group}
first_seen: 2025-01-02
status: active
categories:
  - {category: location, price_pkr: 500}
%s`, id, id, extra)
}

// ingest runs an ingest with --json and decodes its summary.
func (c *cli) ingest(listing string, args ...string) summary {
	c.t.Helper()
	out := c.ok(append([]string{"ingest", "--listing", listing, "--json"}, args...)...)
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		c.t.Fatalf("summary: %v\n%s", err, out)
	}
	return s
}

type counts struct{ CNIC, Phone, IMEI, Passport int64 }

type summary struct {
	Rows         int64
	EmptyRows    int64 `json:"rows_without_identifier"`
	Identifiers  counts
	New          counts
	AlertsQueued int64 `json:"alerts_queued"`
	Duplicates   int64
	Rejected     map[string]struct {
		Count int64
		Rows  []struct {
			File string
			Row  int
		}
	}
	ListingCounts counts `json:"listing_counts"`
}

func (c *cli) listingCounts(id string) counts {
	c.t.Helper()
	var ls []struct {
		ID     string
		Counts counts
	}
	if err := json.Unmarshal([]byte(c.ok("listings", "list", "--json")), &ls); err != nil {
		c.t.Fatal(err)
	}
	for _, l := range ls {
		if l.ID == id {
			return l.Counts
		}
	}
	c.t.Fatalf("listing %s not listed", id)
	return counts{}
}
