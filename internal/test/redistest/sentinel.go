package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// DefaultMasterName is the name a LocalSentinel's Sentinels know their
// master by, unless SentinelConfig says otherwise.
const DefaultMasterName = "mymaster"

// SentinelConfig configures Sentinel. The zero value is one master and
// one Sentinel.
type SentinelConfig struct {
	// MasterName is the name of the master (default DefaultMasterName).
	MasterName string
	// Replicas is the number of replicas of the master (default none);
	// a failover needs one.
	Replicas int
	// Sentinels is the number of Sentinels (default 1). With several,
	// a majority of them must agree that the master is down.
	Sentinels int
}

// LocalSentinel is a master, its replicas and the Sentinels watching
// them, which a test started (see Sentinel).
type LocalSentinel struct {
	// MasterName is the name the Sentinels know the master by.
	MasterName string
	// Sentinels are the host:port of the Sentinels.
	Sentinels []string
	// Master is the server that was master when Sentinel started; after
	// a Failover, one of Replicas.
	Master *LocalServer
	// Replicas are the master's replicas.
	Replicas []*LocalServer

	tb    testing.TB
	procs []*LocalServer // the Sentinels
}

// Sentinel starts a master, cfg.Replicas replicas of it and cfg.Sentinels
// Sentinels watching it, each a process of the test's own on a free
// loopback port, in a directory of its own. The Sentinels take the master
// for down after 1 s without an answer. It returns once the replicas are
// in sync and every Sentinel knows the master, its replicas and the other
// Sentinels; the processes are killed when the test ends. It skips the
// test as Server does.
func Sentinel(tb testing.TB, cfg SentinelConfig) *LocalSentinel {
	tb.Helper()
	if cfg.MasterName == "" {
		cfg.MasterName = DefaultMasterName
	}
	cfg.Sentinels = max(cfg.Sentinels, 1)
	bin := serverBinary(tb)
	ls := &LocalSentinel{MasterName: cfg.MasterName, tb: tb}
	// No delay before a full sync, which goes over the socket: on every
	// server, since any may become master.
	nodelay := []string{"--repl-diskless-sync-delay", "0"}
	ls.Master = newLocalServer(tb, bin, nodelay...)
	ls.Master.Start()
	tb.Cleanup(ls.Master.Stop)
	host, port, _ := net.SplitHostPort(ls.Master.Addr)
	for range cfg.Replicas {
		r := newLocalServer(tb, bin, append([]string{"--replicaof", host, port}, nodelay...)...)
		r.Start()
		tb.Cleanup(r.Stop)
		ls.Replicas = append(ls.Replicas, r)
	}
	mc := ls.Master.client()
	defer mc.Close()
	poll(tb, "the replicas to be in sync", formTimeout, func(ctx context.Context) error {
		return replicasOnline(ctx, mc, len(ls.Replicas))
	})

	quorum := cfg.Sentinels/2 + 1
	for range cfg.Sentinels {
		s := &LocalServer{tb: tb, bin: bin, dir: tb.TempDir(), Addr: net.JoinHostPort("127.0.0.1", freePort(tb))}
		_, sport, _ := net.SplitHostPort(s.Addr)
		conf := filepath.Join(s.dir, "sentinel.conf")
		text := fmt.Sprintf("port %s\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
			"sentinel monitor %s %s %s %d\n"+
			"sentinel down-after-milliseconds %[3]s 1000\n"+
			"sentinel failover-timeout %[3]s 5000\n"+
			"sentinel parallel-syncs %[3]s 1\n",
			sport, s.dir, cfg.MasterName, host, port, quorum)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
		s.args = []string{conf, "--sentinel"}
		s.Start()
		tb.Cleanup(s.Stop)
		ls.procs = append(ls.procs, s)
		ls.Sentinels = append(ls.Sentinels, s.Addr)
	}
	for _, s := range ls.procs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		poll(tb, "Sentinel "+s.Addr+" to know the master, its replicas and the other Sentinels", formTimeout, func(ctx context.Context) error {
			return ls.knows(ctx, sc, ls.Master.Addr)
		})
		_ = sc.Close()
	}
	return ls
}

// replicasOnline says why the master of c has not n replicas online, or
// nil.
func replicasOnline(ctx context.Context, c *redis.Client, n int) error {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	online := strings.Count(info, "state=online")
	if online != n {
		return fmt.Errorf("%d of %d replicas online", online, n)
	}
	return nil
}

// knows says why Sentinel sc does not name master as the master, with
// every other server its replica and the other Sentinels, or nil.
func (ls *LocalSentinel) knows(ctx context.Context, sc *redis.SentinelClient, master string) error {
	addr, err := sc.GetMasterAddrByName(ctx, ls.MasterName).Result()
	if err != nil {
		return err
	}
	if got := net.JoinHostPort(addr[0], addr[1]); got != master {
		return fmt.Errorf("master %s, want %s", got, master)
	}
	replicas, err := sc.Replicas(ctx, ls.MasterName).Result()
	if err != nil {
		return err
	}
	var up []string
	for _, r := range replicas {
		if !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected") {
			up = append(up, net.JoinHostPort(r["ip"], r["port"]))
		}
	}
	for _, r := range ls.Replicas {
		if r.Addr != master && r.Running() && !slices.Contains(up, r.Addr) {
			return fmt.Errorf("replica %s not among %v", r.Addr, up)
		}
	}
	others, err := sc.Sentinels(ctx, ls.MasterName).Result()
	if err != nil {
		return err
	}
	if len(others) != len(ls.procs)-1 {
		return fmt.Errorf("%d other Sentinels known, want %d", len(others), len(ls.procs)-1)
	}
	return nil
}

// Client returns a client of the master through the Sentinels (go-redis's
// failover client), closed when the test ends.
func (ls *LocalSentinel) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: ls.MasterName, SentinelAddrs: ls.Sentinels})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// URL returns the URL of the master through the Sentinels, in parley's
// form: redis+sentinel://s1,s2/master/0.
func (ls *LocalSentinel) URL() string {
	return "redis+sentinel://" + strings.Join(ls.Sentinels, ",") + "/" + ls.MasterName + "/0"
}

// InSync waits until every running replica has all that the master
// wrote, so that a Failover loses nothing; the test fails after 15 s.
func (ls *LocalSentinel) InSync() {
	ls.tb.Helper()
	mc := ls.Master.client()
	defer mc.Close()
	poll(ls.tb, "the replicas to have all the master wrote", formTimeout, func(ctx context.Context) error {
		offset, err := replOffset(ctx, mc, "master_repl_offset")
		if err != nil {
			return err
		}
		for _, r := range ls.Replicas {
			if r == ls.Master || !r.Running() {
				continue
			}
			rc := r.client()
			got, err := replOffset(ctx, rc, "slave_repl_offset")
			_ = rc.Close()
			if err != nil {
				return err
			}
			if got < offset {
				return fmt.Errorf("replica %s at %d, master at %d", r.Addr, got, offset)
			}
		}
		return nil
	})
}

// replOffset reads a replication offset from INFO replication.
func replOffset(ctx context.Context, c *redis.Client, field string) (int64, error) {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in INFO replication", field)
}

// Failover kills the master (SIGKILL, by its pid), runs meanwhile (if not
// nil) while no server is master, and waits until every Sentinel names
// one of the replicas master, and that replica says it is: it returns it,
// now ls.Master. The test fails if that takes more than 15 s.
func (ls *LocalSentinel) Failover(meanwhile func()) *LocalServer {
	ls.tb.Helper()
	old := ls.Master
	old.Stop()
	if meanwhile != nil {
		meanwhile()
	}
	var promoted *LocalServer
	for _, s := range ls.procs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		poll(ls.tb, "Sentinel "+s.Addr+" to promote a replica", formTimeout, func(ctx context.Context) error {
			addr, err := sc.GetMasterAddrByName(ctx, ls.MasterName).Result()
			if err != nil {
				return err
			}
			got := net.JoinHostPort(addr[0], addr[1])
			for _, r := range ls.Replicas {
				if r.Addr == got && r.Running() {
					promoted = r
					return nil
				}
			}
			return fmt.Errorf("master %s", got)
		})
		_ = sc.Close()
	}
	c := promoted.client()
	defer c.Close()
	poll(ls.tb, "replica "+promoted.Addr+" to be master", formTimeout, func(ctx context.Context) error {
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("role %v", role)
		}
		return nil
	})
	ls.Master = promoted
	return promoted
}
