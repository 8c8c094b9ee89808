package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The URL forms of --redis (docs/cluster.md, "Connecting to Redis"):
//
//	redis://[user:password@]host:6379[/db][?option=value...]
//	rediss://...                                     the same over TLS
//	redis+sentinel://[user:password@]host:26379,host2:26379/master[/db][?...]
//	rediss+sentinel://...                            Sentinel, TLS to all
//	redis+cluster://[user:password@]host:6379,host2:6379[?...]
//	rediss+cluster://...                             Redis Cluster over TLS
//
// The user and password are the data servers'; a Sentinel's own are the
// options sentinel_username and sentinel_password. The other options are
// go-redis's, by their snake-case names (dial_timeout=3s, pool_size=20,
// client_name=..., skip_verify=true for TLS without checking the
// certificate...). Valkey speaks the same protocol.

// Schemes of --redis.
const (
	schemeRedis    = "redis"
	schemeRedisTLS = "rediss"
	modeSentinel   = "sentinel" // redis+sentinel
	modeCluster    = "cluster"  // redis+cluster
)

// redisTarget is a parsed --redis: the options of one of go-redis's three
// clients.
type redisTarget struct {
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// client returns a new client of t.
func (t redisTarget) client() redis.UniversalClient {
	switch {
	case t.failover != nil:
		return redis.NewFailoverClient(t.failover)
	case t.cluster != nil:
		return redis.NewClusterClient(t.cluster)
	}
	return redis.NewClient(t.single)
}

// kind names the deployment t connects to, for logs.
func (t redisTarget) kind() string {
	switch {
	case t.failover != nil:
		return "sentinel"
	case t.cluster != nil:
		return "cluster"
	}
	return "redis"
}

// parseRedisURL reads a --redis URL (see the forms above). Errors never
// repeat the URL, which may hold a password.
func parseRedisURL(raw string) (redisTarget, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return redisTarget{}, errors.New("want a URL such as redis://host:6379/0")
	}
	scheme = strings.ToLower(scheme)
	base, mode, _ := strings.Cut(scheme, "+")
	if base != schemeRedis && base != schemeRedisTLS {
		return redisTarget{}, fmt.Errorf("scheme %q: want redis, rediss, redis+sentinel, rediss+sentinel, redis+cluster or rediss+cluster", scheme)
	}
	// The authority ends at the path or the query; the user information
	// at the last @ before that.
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostList := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hostList = authority[:i+1], authority[i+1:]
	}
	hosts, err := splitHosts(hostList)
	if err != nil {
		return redisTarget{}, err
	}
	path, query, _ := strings.Cut(tail, "?")
	switch mode {
	case "":
		if len(hosts) > 1 {
			return redisTarget{}, fmt.Errorf("%d hosts: a redis:// URL names one; use redis+sentinel:// or redis+cluster:// for several", len(hosts))
		}
		o, err := redis.ParseURL(base + "://" + userinfo + hosts[0] + tail)
		if err != nil {
			return redisTarget{}, err
		}
		return redisTarget{single: o}, nil
	case modeSentinel:
		return parseSentinel(base, userinfo, hosts, path, query)
	case modeCluster:
		return parseCluster(base, userinfo, hosts, path, query)
	}
	return redisTarget{}, fmt.Errorf("scheme %q: want redis, rediss, redis+sentinel, rediss+sentinel, redis+cluster or rediss+cluster", scheme)
}

// splitHosts splits a comma-separated list of host:port, adding a
// missing port (6379; go-redis's own default for Sentinel is 26379, which
// a Sentinel address must then name).
func splitHosts(list string) ([]string, error) {
	var hosts []string
	for _, h := range strings.Split(list, ",") {
		if h == "" {
			return nil, errors.New("an empty host")
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			if strings.Contains(strings.Trim(h, "[]"), ":") && !strings.HasPrefix(h, "[") {
				return nil, fmt.Errorf("host %q: write an IPv6 address in brackets", h)
			}
			h = net.JoinHostPort(strings.Trim(h, "[]"), "6379")
		}
		if strings.ContainsAny(h, " /\\") {
			return nil, fmt.Errorf("host %q is not host:port", h)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// parseSentinel reads the rest of a redis+sentinel:// URL: the path is
// /master[/db]. go-redis's own URL form takes the sentinel's credentials
// from the user information and the master's from options; this one is
// the other way round, as a client of the data expects.
func parseSentinel(base, userinfo string, hosts []string, path, query string) (redisTarget, error) {
	parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	if len(parts) == 0 || len(parts) > 2 {
		return redisTarget{}, errors.New("redis+sentinel:// wants the path /master-name or /master-name/db")
	}
	master, err := url.PathUnescape(parts[0])
	if err != nil || master == "" {
		return redisTarget{}, errors.New("redis+sentinel://: bad master name")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return redisTarget{}, fmt.Errorf("query: %w", err)
	}
	for _, k := range []string{"master_name", "addr", "username", "password", "db"} {
		if q.Has(k) {
			return redisTarget{}, fmt.Errorf("option %s: redis+sentinel:// takes it from the URL itself", k)
		}
	}
	q.Set("master_name", master)
	if len(parts) == 2 {
		q.Set("db", parts[1])
	}
	if user, pass, ok := userPassword(userinfo); ok {
		q.Set("username", user)
		q.Set("password", pass)
	}
	sentinelInfo := ""
	if q.Has("sentinel_username") || q.Has("sentinel_password") {
		sentinelInfo = url.UserPassword(q.Get("sentinel_username"), q.Get("sentinel_password")).String() + "@"
		q.Del("sentinel_username")
		q.Del("sentinel_password")
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	o, err := redis.ParseFailoverURL(base + "://" + sentinelInfo + hosts[0] + "?" + q.Encode())
	if err != nil {
		return redisTarget{}, err
	}
	return redisTarget{failover: o}, nil
}

// parseCluster reads the rest of a redis+cluster:// URL, which has no
// database: Redis Cluster has database 0 only.
func parseCluster(base, userinfo string, hosts []string, path, query string) (redisTarget, error) {
	if p := strings.Trim(path, "/"); p != "" && p != "0" {
		return redisTarget{}, errors.New("redis+cluster://: Redis Cluster has database 0 only")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return redisTarget{}, fmt.Errorf("query: %w", err)
	}
	if q.Has("addr") {
		return redisTarget{}, errors.New("option addr: redis+cluster:// lists its hosts before the path, separated by commas")
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	raw := base + "://" + userinfo + hosts[0]
	if len(q) > 0 {
		raw += "?" + q.Encode()
	}
	o, err := redis.ParseClusterURL(raw)
	if err != nil {
		return redisTarget{}, err
	}
	return redisTarget{cluster: o}, nil
}

// userPassword reads "user:password@" (or "password@", or ":password@").
func userPassword(userinfo string) (user, password string, ok bool) {
	if userinfo == "" {
		return "", "", false
	}
	u, err := url.Parse("redis://" + userinfo + "host")
	if err != nil || u.User == nil {
		return "", "", false
	}
	password, _ = u.User.Password()
	return u.User.Username(), password, true
}

// redisStartTimeout bounds the wait for Redis at start.
const redisStartTimeout = 10 * time.Second

// pingRedis checks that the client reaches Redis, so that a wrong URL
// fails at start rather than in the background.
func pingRedis(ctx context.Context, c redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, redisStartTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("--redis: cannot reach Redis: %w", err)
	}
	return nil
}
