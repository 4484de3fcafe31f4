package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/khabardar/khabardar/frontend"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/redisurl"
)

// TestKilledIngest kills an ingest with SIGKILL part way and checks that
// re-running it completes with exact counts.
func TestKilledIngest(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		const n = 60_000
		file := filepath.Join(c.dir, "big.csv")
		if _, err := fixture.CSVFile(file, n); err != nil {
			t.Fatal(err)
		}
		c.addListing("big")

		cmd := exec.Command(binPath, "ingest", "--listing", "big", "--batch", "500", file)
		cmd.Dir, cmd.Env = c.dir, c.env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once the store has taken some batches (or after 20 s at most).
		waitFor(t, 20*time.Second, func() bool { return storeHasData(t, c) })
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		s := c.ingest("big", file)
		want := counts{CNIC: n / 4, Phone: n / 2, IMEI: n / 4}
		if s.ListingCounts != want || s.Identifiers != want {
			t.Fatalf("after a killed run and a re-run: %+v, want %+v", s, want)
		}
		t.Logf("the re-run found %d of %d already stored", s.Duplicates, n)
		if got := c.listingCounts("big"); got != want {
			t.Fatalf("listings list after re-run: %+v", got)
		}
	})
}

// storeHasData reports whether the killed ingest has written anything yet.
func storeHasData(t *testing.T, c *cli) bool {
	if u := storeURL(c); u != "" {
		rdb, err := redisurl.Client(u, false)
		if err != nil {
			t.Fatal(err)
		}
		defer rdb.Close()
		var n atomic.Int64
		count := func(ctx context.Context, c *redis.Client) error {
			keys, err := c.Keys(ctx, "khb:b:*").Result()
			n.Add(int64(len(keys)))
			return err
		}
		if cc, ok := rdb.(*redis.ClusterClient); ok {
			cc.ForEachMaster(context.Background(), count)
		} else {
			count(context.Background(), rdb.(*redis.Client))
		}
		return n.Load() > 100
	}
	var size int64
	filepath.Walk(c.data, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.HasSuffix(p, "key.json") {
			size += fi.Size()
		}
		return nil
	})
	return size > 1<<20
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Logf("condition not met in %s; going on", limit)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServe runs the service on both stores over loopback and stops it with
// SIGTERM.
func TestServe(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.addListing("served")
		keyID := func() string {
			var k struct {
				KeyID string `json:"key_id"`
			}
			json.Unmarshal([]byte(c.ok("keys", "show", "--json")), &k)
			return k.KeyID
		}()

		srv := startServe(t, c)
		base := srv.base
		if srv.keyID != keyID {
			t.Fatalf("serve uses key %s, keys show says %s", srv.keyID, keyID)
		}

		tests := []struct {
			name, path string
			status     int
			contains   string
		}{
			{"health", "/healthz", 200, `"ok"`},
			{"ready", "/readyz", 200, `"ready"`},
			{"config", "/v1/config", 200, `"key_id":"` + keyID + `"`},
			{"config suite", "/v1/config", 200, `"suite":"ristretto255-SHA512"`},
			{"listings", "/v1/listings", 200, `"id":"served"`},
			{"listing", "/v1/listings/served", 200, `"counts":{"cnic":0,"phone":0,"imei":0,"passport":0}`},
			{"absent listing", "/v1/listings/absent", 404, `"code":"not_found"`},
			{"no such endpoint", "/v2/nothing", 404, `"code":"not_found"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r, err := http.Get(base + tt.path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(r.Body)
				r.Body.Close()
				if r.StatusCode != tt.status || !strings.Contains(string(body), tt.contains) {
					t.Fatalf("GET %s: %d %s", tt.path, r.StatusCode, body)
				}
				if r.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
					t.Fatalf("GET %s: missing security headers %v", tt.path, r.Header)
				}
			})
		}

		// The embedded website, under its own CSP.
		t.Run("site", func(t *testing.T) {
			r := apiCall(t, "GET", base+"/", "", nil)
			index, err := fs.ReadFile(frontend.Dist(), "index.html")
			if err != nil {
				t.Fatal(err)
			}
			if r.status != 200 || !bytes.Equal(r.body, index) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("GET /: %d %s, %d bytes; want the embedded index.html", r.status, r.header.Get("Content-Type"), len(r.body))
			}
			if csp := r.header.Get("Content-Security-Policy"); csp != siteCSP {
				t.Errorf("GET /: CSP %q", csp)
			}
			if r.header.Get("Cache-Control") != "no-cache" || r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Set-Cookie") != "" {
				t.Errorf("GET /: headers %v", r.header)
			}
		})

		logs := srv.stop(t)
		c.output.WriteString(logs)
		if strings.Contains(logs, "/v1/listings/absent") {
			t.Fatal("a request path reached the log")
		}
	})
}
