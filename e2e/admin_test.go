package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/khabardar/khabardar/adminsock"
	"github.com/khabardar/khabardar/internal/fixture"
)

// catalogueSession runs the catalogue commands an operator uses, in order,
// and returns their outputs with what differs between two stores (keys,
// timings, times of day, API key ids and secrets) masked: the two sessions
// may straddle a minute.
func catalogueSession(t *testing.T, c *cli) []string {
	t.Helper()
	sample := c.write("leak.csv", "name,cnic,mobile,imei\n"+
		"a,35202-1234567-1,0300-1234567,352099001761481\n"+
		"b,42101-7654321-2,0321-7654321,\n"+
		"c,3.52021E+12,0421234567,352099001761482\n")
	mask := regexp.MustCompile(`in [0-9.]+(µs|ms|s) \([0-9]+ identifiers/s\)|"elapsed(_ns)?": *[0-9.e+]+|khb_[A-Za-z0-9_-]+|ak_[0-9a-f]+|"(created|revoked|key_id|public_key|fingerprint)": "[^"]*"|[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z| UTC)?`)
	var outs []string
	step := func(args ...string) string {
		out := c.ok(args...)
		outs = append(outs, strings.ReplaceAll(mask.ReplaceAllString(strings.Join(args, " ")+"\n"+out, "…"), c.dir, "DIR"))
		return out
	}
	step("listings", "add", c.write("one.yaml", checkListingOne))
	step("listings", "add", c.write("one.yaml", checkListingOne)) // updated
	step("ingest", "--listing", "data-shop", sample)
	step("ingest", "--listing", "data-shop", "--json", sample) // all duplicates now
	step("listings", "list")
	step("listings", "list", "--json")
	step("listings", "flag", "data-shop", "--sensitive")
	step("stats")
	step("stats", "--json")
	var k struct{ ID string }
	json.Unmarshal([]byte(step("apikeys", "create", "--name", "Desk", "--json")), &k)
	step("apikeys", "list")
	step("apikeys", "revoke", k.ID)
	step("apikeys", "list", "--json")
	return outs
}

// TestAdminSocket: with serve running on the embedded store, the catalogue
// commands work through its admin socket, print what they print without
// it, and their changes are served at once.
func TestAdminSocket(t *testing.T) {
	direct := newCLI(t, "")
	direct.ok("keys", "init")
	want := catalogueSession(t, direct)

	c := newCLI(t, "")
	c.ok("keys", "init")
	srv := startServe(t, c, "--bucket-cache-ttl", "5m")
	sock := adminsock.SocketPath(c.data)
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("admin socket: %v, mode %v", err, fi.Mode())
	}
	// Before anything is ingested: not found, and the bucket is cached for
	// 5 minutes.
	server := "--server=" + srv.base
	if out, _, code := c.run("check", server, foundPhone.typed); code != exitNoListings || !strings.Contains(out, "no listings are loaded") {
		t.Fatalf("before ingest: exit %d: %s", code, out)
	}

	got := catalogueSession(t, c)
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("through the socket:\n%s\nwithout it:\n%s", got[i], want[i])
		}
	}
	// The ingest is served at once, not after the bucket cache's 5 minutes.
	if out := c.ok("check", server, foundPhone.typed); !strings.Contains(out, "FOUND") {
		t.Errorf("right after an ingest through the socket: %s", out)
	}
	// A key created through the socket works at once; revoked, it is
	// refused at once.
	var k struct{ ID, Secret string }
	json.Unmarshal([]byte(c.ok("apikeys", "create", "--name", "Desk 2", "--json")), &k)
	c.ok("check", server, "--api-key", k.Secret, foundPhone.typed)
	c.ok("apikeys", "revoke", k.ID)
	if _, errs, code := c.run("check", server, "--api-key", k.Secret, foundPhone.typed); code != 1 || !strings.Contains(errs, "revoked") {
		t.Errorf("a revoked key: exit %d, %s", code, errs)
	}
	// keys show reads the key file, as the server does.
	var shown struct {
		KeyID string `json:"key_id"`
	}
	json.Unmarshal([]byte(c.ok("keys", "show", "--json")), &shown)
	if shown.KeyID != srv.keyID {
		t.Errorf("keys show: %s, the server's %s", shown.KeyID, srv.keyID)
	}

	logs := srv.stop(t)
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve left its socket after SIGTERM: %v", err)
	}
	scan(t, "serve's logs", []byte(logs))
	scan(t, "command output", c.output.Bytes())
}

// TestAdminSocketStale: a serve killed with SIGKILL leaves its socket file;
// the commands then open the store directly, and the next serve replaces
// the stale file.
func TestAdminSocketStale(t *testing.T) {
	c := newCLI(t, "")
	c.ok("keys", "init")
	srv := startServe(t, c)
	c.addListing("one")
	srv.cmd.Process.Signal(syscall.SIGKILL)
	<-srv.done
	sock := adminsock.SocketPath(c.data)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("SIGKILL left no socket file to test with: %v", err)
	}
	if out := c.ok("listings", "list"); !strings.Contains(out, "one") {
		t.Fatalf("listings list with a stale socket: %s", out)
	}
	srv = startServe(t, c)
	c.addListing("two")
	if got := c.listingCounts("two"); got != (counts{}) {
		t.Fatalf("counts %+v", got)
	}
	srv.stop(t)
}

// TestAdminSocketKilledIngest: an ingest through the socket killed part way
// (the command, then the server) and re-run ends with exact counts.
func TestAdminSocketKilledIngest(t *testing.T) {
	const n = 40_000
	want := counts{CNIC: n / 4, Phone: n / 2, IMEI: n / 4}
	c := newCLI(t, "")
	c.ok("keys", "init")
	file := filepath.Join(c.dir, "big.csv")
	if _, err := fixture.CSVFile(file, n); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, c)
	c.addListing("big")
	c.addListing("big2")
	startIngest := func(listing string) (*exec.Cmd, chan error) {
		cmd := exec.Command(binPath, "ingest", "--listing", listing, "--batch", "500", file)
		cmd.Dir, cmd.Env = c.dir, c.env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, done
	}
	partly := func(listing string) func() bool {
		return func() bool {
			var ls []struct {
				ID     string
				Counts counts
			}
			out, _, code := c.run("listings", "list", "--json")
			if code != 0 || json.Unmarshal([]byte(out), &ls) != nil {
				return false
			}
			i := slices.IndexFunc(ls, func(l struct {
				ID     string
				Counts counts
			}) bool {
				return l.ID == listing
			})
			return i >= 0 && ls[i].Counts.CNIC+ls[i].Counts.Phone+ls[i].Counts.IMEI > 2000
		}
	}

	t.Run("the command killed", func(t *testing.T) {
		cmd, done := startIngest("big")
		waitFor(t, 20*time.Second, partly("big"))
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		s := c.ingest("big", file)
		if s.ListingCounts != want || s.Identifiers != want {
			t.Fatalf("after a killed run and a re-run: %+v, want %+v", s, want)
		}
	})
	t.Run("the server killed", func(t *testing.T) {
		_, done := startIngest("big2")
		waitFor(t, 20*time.Second, partly("big2"))
		srv.cmd.Process.Signal(syscall.SIGKILL)
		<-srv.done
		select {
		case err := <-done:
			if err == nil {
				t.Log("the ingest finished before the server was killed")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the ingest did not end when its server was killed")
		}
		srv = startServe(t, c)
		s := c.ingest("big2", file)
		if s.ListingCounts != want || s.Identifiers != want {
			t.Fatalf("after a killed server and a re-run: %+v, want %+v", s, want)
		}
		if got := c.listingCounts("big"); got != want {
			t.Fatalf("the other listing: %+v", got)
		}
		srv.stop(t)
	})
}

// TestAdminSocketPathTooLong: a data directory too deep for a Unix socket
// path costs the live catalogue commands, not the service.
func TestAdminSocketPathTooLong(t *testing.T) {
	c := newCLI(t, "")
	c.data = filepath.Join(c.dir, strings.Repeat("d", 120))
	c.env = append(c.env, "KHABARDAR_DATA="+c.data) // the later one wins
	c.ok("keys", "init")
	srv := startServe(t, c)
	if r := apiCall(t, "GET", srv.base+"/v1/config", "", nil); r.status != 200 {
		t.Fatalf("GET /v1/config: %d", r.status)
	}
	if _, errs, code := c.run("listings", "list"); code != 1 || !strings.Contains(errs, "in use by another khabardar process") {
		t.Errorf("listings list beside serve without a socket: exit %d, %s", code, errs)
	}
	if logs := srv.stop(t); !strings.Contains(logs, "no admin socket") || !strings.Contains(logs, "too long a path") {
		t.Errorf("serve did not warn of its missing socket:\n%s", logs)
	}
}
