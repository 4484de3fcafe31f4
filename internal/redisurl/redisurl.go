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
// for at most FailFast, retries once, and waits at most FailFast for a
// pooled connection, so a request fails with 503 within about a second;
// a healthy Redis answers the service's small commands in well under a
// millisecond. Batch work (ingest pipelines 100,000 records, whose replies
// take longer than that to read) keeps go-redis's defaults.
package redisurl

import (
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
			setFailFast(u, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout, &opt.MaxRetries)
		}
		return redis.NewClient(opt), nil
	}
	opt, err := ClusterOptions(u)
	if err != nil {
		return nil, err
	}
	if failFast {
		setFailFast(u, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout, &opt.MaxRetries)
	}
	return redis.NewClusterClient(opt), nil
}

// FailFast bounds each Redis dial, read, write and pool wait (see the
// package doc).
const FailFast = 250 * time.Millisecond

// setFailFast sets the timeouts and retries the URL u leaves unset.
func setFailFast(u string, dial, read, write, pool *time.Duration, retries *int) {
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
