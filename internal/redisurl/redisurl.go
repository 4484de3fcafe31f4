// Package redisurl turns the --redis setting into a go-redis client: one
// server, or a Redis Cluster.
//
//	redis://[user:pass@]host:port[/db][?options]      one server (go-redis ParseURL)
//	rediss://…                                         the same over TLS
//	redis-cluster://[user:pass@]host:port[,host:port…][?options]
//	rediss-cluster://…                                 a cluster, over TLS
//
// A cluster URL lists one or more seed nodes; the client discovers the rest.
// Options are go-redis's (dial_timeout, read_timeout, max_retries, …). A
// cluster has only database 0, so a cluster URL has no path.
//
// # Failing fast
//
// go-redis waits 5 s to dial, 3 s to read, and retries 3 times: a Redis
// that has stopped answering would hold every request for seconds, and the
// service's callers (a browser, an SMS gateway) would pile up behind it.
// With failFast, and unless the URL says otherwise, Client dials and reads
// for at most FailFast, dials once per try, retries once, and waits at most
// FailFast for a pooled connection, so a request fails with 503 within
// about a second; a healthy Redis answers the service's small commands in
// well under a millisecond. Batch work (ingest pipelines 100,000 records,
// whose replies take longer than that to read) keeps go-redis's defaults.
//
// # Cluster failover
//
// go-redis's cluster client routes by a slot map it reloads only on a
// MOVED or ASK reply, or when the map is older than
// ClusterStateReloadInterval (60 s). A master that dies (SIGKILL, a crashed
// host) sends no MOVED: its slots stay mapped to it, every command for them
// fails with a connection error, and the replica the cluster promotes
// within seconds goes unused until the map ages out (a reload while the
// master is dead and not yet replaced finds it still in place and restarts
// the 60 s). Measured with serve on three masters with a replica each,
// cluster-node-timeout 2 s (e2e TestClusterFailover, three runs):
// the survivors reported cluster_state:ok 3.4–4.5 s after the SIGKILL, and
// serve answered 503 for another 44–46 s, the 60 s less the map's age (55 s
// in the run). So Client makes the cluster client reload its slot
// map whenever a node fails a command without a Redis reply (see
// reloadOnConnError): 200 again 0–0.12 s after cluster_state:ok in five
// runs, often before it, as the promoted replica knows first. go-redis runs
// one reload at a time, and one more 200 ms after it if failures went on
// meanwhile, so a dead node costs a few CLUSTER SLOTS a second while it
// lasts; a reload often lands before go-redis's own bounded retries of the
// failing command (MaxRedirects, 3) are spent, and these then go to the
// promoted replica.
package redisurl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// IsCluster reports whether u names a cluster.
func IsCluster(u string) bool {
	return strings.HasPrefix(u, "redis-cluster://") || strings.HasPrefix(u, "rediss-cluster://")
}

// Client returns a client for u, failing fast if failFast is set (see the
// package doc). Its errors never quote u, which may hold a password.
func Client(u string, failFast bool) (redis.UniversalClient, error) {
	if !IsCluster(u) {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("the Redis URL does not parse: want redis://host:port/db or redis-cluster://host:port,host:port")
		}
		if failFast {
			setFailFast(u, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout, &opt.MaxRetries, &opt.DialerRetries)
		}
		return redis.NewClient(opt), nil
	}
	opt, err := ClusterOptions(u)
	if err != nil {
		return nil, err
	}
	if failFast {
		setFailFast(u, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout, &opt.MaxRetries, &opt.DialerRetries)
	}
	c := redis.NewClusterClient(opt)
	c.OnNewNode(func(n *redis.Client) { n.AddHook(reloadOnConnError{c}) })
	return c, nil
}

// reloadOnConnError is a hook on each node of a cluster client that has the
// cluster client reload its slot map (ReloadState: in the background, at
// most one reload at a time) when a command or pipeline on the node fails
// without a reply from Redis: the node may be dead and its slots served by
// a promoted replica now (see the package doc). On the node rather than on
// the cluster client, so that the reload starts at the first failure and
// the cluster client's retries of the same command can use the new map.
type reloadOnConnError struct{ cluster *redis.ClusterClient }

var _ redis.Hook = reloadOnConnError{}

func (h reloadOnConnError) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnConnError) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		// Not for CLUSTER SLOTS, which the reload itself sends, to a dead
		// node among others: that would keep reloading.
		if connError(err) && cmd.Name() != "cluster" {
			h.cluster.ReloadState(ctx)
		}
		return err
	}
}

func (h reloadOnConnError) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		failed := connError(err)
		for _, cmd := range cmds {
			failed = failed || connError(cmd.Err())
		}
		if failed {
			h.cluster.ReloadState(ctx)
		}
		return err
	}
}

// connError reports whether err means a node gave no reply: a dial, read
// or write error, a timeout, a pool timeout. Not a Redis error reply
// (redis.Nil is one), which the node did send, nor the caller's
// cancellation or a closed client.
func connError(err error) bool {
	var reply redis.Error
	return err != nil && !errors.As(err, &reply) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, redis.ErrClosed)
}

// FailFast bounds each Redis dial, read, write and pool wait (see the
// package doc).
const FailFast = 250 * time.Millisecond

// setFailFast sets the timeouts and retries the URL u leaves unset.
func setFailFast(u string, dial, read, write, pool *time.Duration, retries, dialerRetries *int) {
	set := func(option string, d *time.Duration) {
		if !strings.Contains(u, option+"=") {
			*d = FailFast
		}
	}
	set("dial_timeout", dial)
	set("read_timeout", read)
	set("write_timeout", write)
	set("pool_timeout", pool)
	if !strings.Contains(u, "max_retries=") {
		*retries = 1
	}
	// One dial per attempt: go-redis dials up to 5 times, 100 ms apart,
	// within each of the command's attempts, so a refused dial (a dead
	// cluster master) held a request for 3 s before its 503 — 4 cluster
	// attempts × 2 node attempts × 0.4 s.
	if !strings.Contains(u, "dialer_retries=") {
		*dialerRetries = 1
	}
}

// ClusterOptions parses a cluster URL into go-redis's options.
func ClusterOptions(u string) (*redis.ClusterOptions, error) {
	bad := fmt.Errorf("the Redis Cluster URL does not parse: want redis-cluster://[user:pass@]host:port[,host:port…][?options]")
	scheme, rest, _ := strings.Cut(u, "://")
	scheme = strings.TrimSuffix(scheme, "-cluster")
	authority, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexByte(authority, '/'); i >= 0 {
		if path := authority[i:]; path != "/" && path != "/0" {
			return nil, fmt.Errorf("a Redis Cluster has only database 0: drop the path from the URL")
		}
		authority = authority[:i]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	seeds := strings.Split(hosts, ",")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, bad
	}
	for _, s := range seeds[1:] {
		if s == "" {
			return nil, bad
		}
		q.Add("addr", s)
	}
	plain := scheme + "://" + userinfo + seeds[0]
	if enc := q.Encode(); enc != "" {
		plain += "?" + enc
	}
	opt, err := redis.ParseClusterURL(plain)
	if err != nil || seeds[0] == "" {
		return nil, bad
	}
	return opt, nil
}
