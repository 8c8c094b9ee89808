package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ownCommands are the commands the benchmark itself sends to Redis during
// a window, left out of the counts.
var ownCommands = map[string]bool{"info": true}

// redisServer is the benchmark's own redis-server and a client of it.
type redisServer struct {
	*process
	client *redis.Client
}

// startRedis starts bin (redis-server) on a free loopback port, saving
// nothing, with its directory and log in dir.
func startRedis(ctx context.Context, bin, dir string) (*redisServer, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("the benchmark starts its own Redis: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	p, err := startProcess(ctx, "redis-server", addr, filepath.Join(dir, "redis.log"), childEnv(), path,
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "no")
	if err != nil {
		return nil, err
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		err := c.Ping(pctx).Err()
		if err == nil {
			break
		}
		if pctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("redis-server on %s does not answer: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &redisServer{process: p, client: c}, nil
}

// url is the URL the nodes use.
func (r *redisServer) url() string { return "redis://" + r.addr + "/0" }

// version returns redis-server's version, or "?".
func (r *redisServer) version(ctx context.Context) string {
	info, err := r.client.Info(ctx, "server").Result()
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return "?"
}

// flush empties Redis, so that a run starts from nothing.
func (r *redisServer) flush(ctx context.Context) error {
	return r.client.FlushAll(ctx).Err()
}

// commandStats reads INFO commandstats.
func (r *redisServer) commandStats(ctx context.Context) (cmdStats, error) {
	info, err := r.client.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("INFO commandstats: %w", err)
	}
	return parseCommandStats(info)
}

// cmdStat is one command's line of INFO commandstats.
type cmdStat struct {
	calls uint64
	usec  uint64 // Redis's time running it, microseconds
}

// cmdStats are INFO commandstats, by command in lower case ("xadd",
// "client|setinfo").
type cmdStats map[string]cmdStat

// parseCommandStats reads the text of INFO commandstats, whose lines are
// cmdstat_<name>:calls=<n>,usec=<n>,usec_per_call=<f>,...
func parseCommandStats(info string) (cmdStats, error) {
	out := cmdStats{}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		rest, ok := strings.CutPrefix(line, "cmdstat_")
		if !ok {
			return nil, fmt.Errorf("INFO commandstats: line %q", line)
		}
		name, fields, ok := strings.Cut(rest, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("INFO commandstats: line %q", line)
		}
		var s cmdStat
		var haveCalls bool
		for f := range strings.SplitSeq(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			var err error
			switch k {
			case "calls":
				s.calls, err = strconv.ParseUint(v, 10, 64)
				haveCalls = true
			case "usec":
				s.usec, err = strconv.ParseUint(v, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("INFO commandstats: %s of %s: %w", k, name, err)
			}
		}
		if !haveCalls {
			return nil, fmt.Errorf("INFO commandstats: no calls in %q", line)
		}
		out[strings.ToLower(name)] = s
	}
	return out, sc.Err()
}

// since returns the counts of s less those of before: what was run in
// between. A command missing from before was not run before.
func (s cmdStats) since(before cmdStats) cmdStats {
	out := cmdStats{}
	for name, a := range s {
		b := before[name]
		if a.calls > b.calls {
			out[name] = cmdStat{calls: a.calls - b.calls, usec: a.usec - min(a.usec, b.usec)}
		}
	}
	return out
}

// cmdRow is a command's line in the table of commands per message.
type cmdRow struct {
	name string
	// calls is how many ran in the load's window; idlePerSec how many
	// a second with the clients connected and nothing sent.
	calls      uint64
	idlePerSec float64
	// perMessage is (calls − idlePerSec × window) / messages, at least 0.
	perMessage float64
	usec       uint64
}

// perMessage makes the rows of the commands per message: load are the
// deltas over the load's window (of loadSecs, in which messages were
// sent), idle those over an idle window of idleSecs (nil when there was
// none). The benchmark's own commands are left out. Rows come most
// frequent first, then by name; the last is the total.
func perMessage(load cmdStats, loadSecs float64, idle cmdStats, idleSecs float64, messages uint64) []cmdRow {
	names := map[string]bool{}
	for n := range load {
		names[n] = true
	}
	for n := range idle {
		names[n] = true
	}
	var rows []cmdRow
	total := cmdRow{name: "all"}
	for n := range names {
		if ownCommands[n] {
			continue
		}
		r := cmdRow{name: n, calls: load[n].calls, usec: load[n].usec}
		if idleSecs > 0 {
			r.idlePerSec = float64(idle[n].calls) / idleSecs
		}
		if messages > 0 {
			r.perMessage = max(0, float64(r.calls)-r.idlePerSec*loadSecs) / float64(messages)
		}
		total.calls += r.calls
		total.usec += r.usec
		total.idlePerSec += r.idlePerSec
		total.perMessage += r.perMessage
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b cmdRow) int {
		return cmp.Or(cmp.Compare(b.perMessage, a.perMessage), cmp.Compare(b.calls, a.calls), cmp.Compare(a.name, b.name))
	})
	return append(rows, total)
}
