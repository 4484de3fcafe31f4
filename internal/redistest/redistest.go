// Package redistest gives tests a Redis keyspace of their own.
//
// URL hands each caller an isolated, empty keyspace and takes it back when the
// caller's test ends. Where it comes from, in order:
//
//  1. redis-server on PATH: a private server on a free loopback port, with no
//     persistence (--save "" --appendonly no), started lazily on the first
//     call and shut down when the last keyspace handed out is returned. Each
//     caller gets a logical database of its own (SELECT n, one of
//     localDatabases), flushed before it is handed out and again when it is
//     returned, so concurrent tests in one binary never see each other's keys.
//  2. KHABARDAR_TEST_REDIS_URL: a server someone else runs. Each caller
//     claims one of databases 1–15 with a key in database 0 (so parallel test
//     binaries sharing the server take turns instead of clobbering each
//     other), flushes it, and releases it when its test ends.
//  3. Otherwise the test fails, saying how to install Redis, unless
//     KHABARDAR_ALLOW_SKIP=1 (then it is skipped; KHABARDAR_REQUIRE_REDIS=1
//     makes it fail regardless): a bare machine cannot look like a pass.
//
// Both sources are a pool of leases: an isolated keyspace handed out until the
// test's cleanup. A Redis Cluster has only database 0, so a cluster helper
// leases the whole cluster (one holder at a time, FLUSHALL on every master),
// reusing startServer, waitPing and eachMaster.
package redistest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/khabardar/khabardar/internal/prereq"
	"github.com/khabardar/khabardar/internal/redisurl"
)

const (
	// EnvURL names an externally run Redis used when redis-server is not on PATH.
	EnvURL = "KHABARDAR_TEST_REDIS_URL"
	// EnvRequire, set to 1, makes "no Redis" a failure even under
	// KHABARDAR_ALLOW_SKIP=1.
	EnvRequire = "KHABARDAR_REQUIRE_REDIS"

	// localDatabases is how many logical databases the private server has:
	// how many keyspaces can be leased at once.
	localDatabases = 64
	// leaseWait bounds how long URL waits for a free keyspace.
	leaseWait = 2 * time.Minute
)

// URL returns the URL of an empty Redis keyspace that belongs to t until t
// ends. See the package doc for where it comes from.
func URL(t testing.TB) string {
	t.Helper()
	if path, err := exec.LookPath("redis-server"); err == nil {
		return local.lease(t, path)
	}
	if u := os.Getenv(EnvURL); u != "" {
		return leaseExternal(t, u)
	}
	requireOrSkip(t, "no Redis: redis-server is not on PATH and "+EnvURL+" is not set")
	return ""
}

// requireOrSkip fails t for want of Redis, saying how to install it; see
// package prereq for KHABARDAR_ALLOW_SKIP=1 and KHABARDAR_REQUIRE_REDIS=1.
func requireOrSkip(t testing.TB, msg string) {
	t.Helper()
	prereq.Missing(t, EnvRequire, msg, "apt-get install -y redis-server")
}

// local is the private server of this test binary.
var local localServer

type localServer struct {
	mu   sync.Mutex
	srv  *server
	held int      // leases out
	free chan int // database numbers not leased
}

func (l *localServer) lease(t testing.TB, path string) string {
	t.Helper()
	l.mu.Lock()
	if l.srv == nil {
		srv, err := startServer(path, "--databases", strconv.Itoa(localDatabases))
		if err != nil {
			l.mu.Unlock()
			t.Fatalf("redistest: %v", err)
		}
		l.srv = srv
		l.free = make(chan int, localDatabases)
		for db := 0; db < localDatabases; db++ {
			l.free <- db
		}
	}
	srv, free := l.srv, l.free
	l.held++
	l.mu.Unlock()

	release := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.held--; l.held == 0 {
			// Nobody holds a keyspace: stop the server rather than leave it
			// running after the test binary exits.
			l.srv.stop()
			l.srv = nil
		}
	}
	var db int
	select {
	case db = <-free:
	case <-time.After(leaseWait):
		release()
		t.Fatalf("redistest: all %d databases stayed leased for %v", localDatabases, leaseWait)
	}
	u := fmt.Sprintf("redis://%s/%d", srv.addr, db)
	if err := flushDB(u); err != nil {
		free <- db
		release()
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() {
		_ = flushDB(u) // free the memory before the next holder
		free <- db
		release()
	})
	return u
}

// server is a redis-server process of ours.
type server struct {
	addr string
	cmd  *exec.Cmd
	dir  string
	exit chan struct{} // closed when the process has exited
	out  *bytes.Buffer // its output, for errors
}

// startServer starts redis-server on a free loopback port with no
// persistence and waits until it answers PING.
func startServer(path string, extra ...string) (*server, error) {
	var lastErr error
	for try := 0; try < 3; try++ { // the free port can be taken before redis binds it
		srv, err := startServerOnce(path, extra)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startServerOnce(path string, extra []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: the server outlives the test that started it while
	// other tests hold leases. With no persistence it writes nothing there.
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--daemonize", "no", "--loglevel", "warning",
	}, extra...)
	srv := &server{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	if err := srv.run(path, args); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return srv, nil
}

// run starts the process with args and waits until it answers PING.
func (s *server) run(path string, args []string) error {
	cmd := exec.Command(path, args...)
	s.out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	killWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd, s.exit = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.exit) }()
	if err := waitPing(s.addr, s.exit, 10*time.Second); err != nil {
		s.cmd.Process.Kill()
		<-s.exit
		return fmt.Errorf("redis-server did not answer: %v; its output: %s", err, strings.TrimSpace(s.out.String()))
	}
	return nil
}

// restart stops the process gracefully (SIGTERM: a cluster node saves its
// configuration, AOF is flushed) and starts it again on the same port and
// directory with the same arguments.
func (s *server) restart() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exit
	}
	return s.run(s.cmd.Path, s.cmd.Args[1:])
}

func (s *server) stop() {
	s.cmd.Process.Kill()
	<-s.exit
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitPing polls addr until PING answers, the process exits or timeout passes.
func waitPing(addr string, exit <-chan struct{}, timeout time.Duration) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, DisableIdentity: true})
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-exit:
			return fmt.Errorf("exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func flushDB(u string) error {
	c, err := client(u)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.FlushDB(ctx).Err()
}

// leaseExternal claims one of databases 1–15 of the server at u.
func leaseExternal(t testing.TB, u string) string {
	t.Helper()
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("redistest: %s does not parse as a Redis URL", EnvURL) // the URL may hold a password
	}
	opt.DB = 0
	c := redis.NewClient(opt)
	token := make([]byte, 8)
	rand.Read(token)
	tok := hex.EncodeToString(token)
	const ttl = 10 * time.Minute
	ctx := context.Background()
	deadline := time.Now().Add(leaseWait)
	for {
		for db := 1; db <= 15; db++ {
			claim := fmt.Sprintf("khabardar-test:lease:%d", db)
			ok, err := c.SetNX(ctx, claim, tok, ttl).Result()
			if err != nil {
				c.Close()
				t.Fatalf("redistest: claim a database on %s: %v", EnvURL, err)
			}
			if !ok {
				continue
			}
			leased := withDB(u, db)
			stop := make(chan struct{})
			go func() { // keep the claim alive while the test runs long
				tick := time.NewTicker(ttl / 3)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						c.Expire(ctx, claim, ttl)
					}
				}
			}()
			t.Cleanup(func() {
				close(stop)
				_ = flushDB(leased)
				// Release only our own claim, in case it expired and was retaken.
				c.Eval(ctx, `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, []string{claim}, tok)
				c.Close()
			})
			if err := flushDB(leased); err != nil {
				t.Fatalf("redistest: flush database %d on %s: %v", db, EnvURL, err)
			}
			return leased
		}
		if time.Now().After(deadline) {
			c.Close()
			t.Fatalf("redistest: databases 1-15 on %s stayed claimed for %v", EnvURL, leaseWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// withDB returns u with its database number replaced by db.
func withDB(u string, db int) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/" + strconv.Itoa(db)
	return p.String()
}

// client opens a client for u, one server's or a cluster's; callers only
// use the UniversalClient interface and eachMaster.
func client(u string) (redis.UniversalClient, error) { return redisurl.Client(u, false) }

// eachMaster calls fn with every master holding part of the keyspace: the
// client itself, or each master of a cluster.
func eachMaster(ctx context.Context, c redis.UniversalClient, fn func(ctx context.Context, c redis.UniversalClient) error) error {
	if cc, ok := c.(*redis.ClusterClient); ok {
		var mu sync.Mutex // fn runs concurrently on each master
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(ctx, m)
		})
	}
	return fn(ctx, c)
}

// Dump returns every key in the keyspace at url with its value's bytes:
// a string's value; a hash's fields and values; a set's or sorted set's
// members; a list's elements; a stream's field names and values — each
// concatenated. Tests scan it for bytes that must not be stored.
func Dump(t testing.TB, url string) map[string][]byte {
	t.Helper()
	c, err := client(url)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	defer c.Close()
	ctx := context.Background()
	out := map[string][]byte{}
	err = eachMaster(ctx, c, func(ctx context.Context, c redis.UniversalClient) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, "*", 1000).Result()
			if err != nil {
				return err
			}
			if err := dumpPage(ctx, c, keys, out); err != nil {
				return err
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatalf("redistest: dump: %v", err)
	}
	return out
}

// dumpPage adds the values of keys to out, in two pipelines: the types,
// then the values.
func dumpPage(ctx context.Context, c redis.UniversalClient, keys []string, out map[string][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	pipe := c.Pipeline()
	types := make([]*redis.StatusCmd, len(keys))
	for i, k := range keys {
		types[i] = pipe.Type(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	pipe = c.Pipeline()
	reads := make([]func() ([]string, error), len(keys))
	for i, k := range keys {
		switch typ := types[i].Val(); typ {
		case "none": // deleted since SCAN
		case "string":
			cmd := pipe.Get(ctx, k)
			reads[i] = func() ([]string, error) { v, err := cmd.Result(); return []string{v}, err }
		case "hash":
			cmd := pipe.HGetAll(ctx, k)
			reads[i] = func() ([]string, error) {
				var parts []string
				for f, v := range cmd.Val() {
					parts = append(parts, f, v)
				}
				return parts, cmd.Err()
			}
		case "set":
			reads[i] = pipe.SMembers(ctx, k).Result
		case "zset":
			reads[i] = pipe.ZRange(ctx, k, 0, -1).Result
		case "list":
			reads[i] = pipe.LRange(ctx, k, 0, -1).Result
		case "stream":
			cmd := pipe.XRange(ctx, k, "-", "+")
			reads[i] = func() ([]string, error) {
				var parts []string
				for _, m := range cmd.Val() {
					for f, v := range m.Values {
						parts = append(parts, f, fmt.Sprint(v))
					}
				}
				return parts, cmd.Err()
			}
		default:
			return fmt.Errorf("cannot dump a key of type %s", typ)
		}
	}
	_, _ = pipe.Exec(ctx) // errors are read per command
	for i, read := range reads {
		if read == nil {
			continue
		}
		parts, err := read()
		if err == redis.Nil {
			continue // deleted since TYPE
		}
		if err != nil {
			return err
		}
		out[keys[i]] = []byte(strings.Join(parts, ""))
	}
	return nil
}

// UsedMemory returns INFO memory used_memory of the server at url, summed
// over the masters of a cluster. It counts the whole server, not one
// database: measure differences.
func UsedMemory(t testing.TB, url string) int64 {
	t.Helper()
	c, err := client(url)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	defer c.Close()
	var total int64
	err = eachMaster(context.Background(), c, func(ctx context.Context, c redis.UniversalClient) error {
		info, err := c.Info(ctx, "memory").Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return err
				}
				total += n
				return nil
			}
		}
		return fmt.Errorf("INFO memory has no used_memory")
	})
	if err != nil {
		t.Fatalf("redistest: used_memory: %v", err)
	}
	return total
}
