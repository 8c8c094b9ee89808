package presence

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key by default. Its braces are a hash tag: a
// Redis Cluster keeps all the keys in one slot.
const DefaultPrefix = "{parley}:presence"

// Entry is a person in a room: an identity id and its name, in Room, or
// online at all when Room is "".
type Entry struct {
	Room, ID, Name string
}

// Op is a change a node makes to its own entries: Entry joins (or, with
// Leave, leaves) the node's presence. A leave needs no name.
type Op struct {
	Entry
	Leave bool
}

// Config configures a Redis.
type Config struct {
	// Client is the Redis client; required. Redis does not close it.
	Client redis.UniversalClient
	// Prefix starts every key (default DefaultPrefix). It must not hold a
	// NUL and, with a Redis Cluster (a *redis.ClusterClient), must hold a
	// hash tag, {...}, which keeps every key in one slot: the scripts
	// touch several.
	Prefix string
}

// Redis is the cluster's presence, kept in Redis. It is safe for
// concurrent use; it holds no state of its own but its configuration.
type Redis struct {
	c       redis.UniversalClient
	prefix  string
	leases  string // sorted set: node uid -> end of its lease, in ms
	reaping string // set: the nodes whose entries are being taken back
}

// New returns the presence kept in cfg.Client.
func New(cfg Config) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("presence: Config.Client is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if strings.ContainsRune(cfg.Prefix, 0) {
		return nil, errors.New("presence: Config.Prefix holds a NUL")
	}
	if _, ok := cfg.Client.(*redis.ClusterClient); ok && !hasHashTag(cfg.Prefix) {
		// Else the scripts fail on a Redis Cluster, halfway through.
		return nil, fmt.Errorf("presence: Config.Prefix %q has no hash tag, {...}, which a Redis Cluster needs to keep the keys in one slot", cfg.Prefix)
	}
	return &Redis{c: cfg.Client, prefix: cfg.Prefix, leases: cfg.Prefix + ":nodes", reaping: cfg.Prefix + ":reaping"}, nil
}

// hasHashTag reports whether a key that starts with prefix has its hash
// tag there: a "{" followed, later, by a "}", not at once.
func hasHashTag(prefix string) bool {
	i := strings.IndexByte(prefix, '{')
	if i < 0 {
		return false
	}
	j := strings.IndexByte(prefix[i+1:], '}')
	return j > 0
}

// nodeKey is the set of node uid's entries.
func (r *Redis) nodeKey(uid string) string { return r.prefix + ":node:" + uid }

// roomKey is the hash of a room's people, and namesKey its sorted names.
func (r *Redis) roomKey(room string) string  { return r.prefix + ":room:" + room }
func (r *Redis) namesKey(room string) string { return r.prefix + ":names:" + room }

// Apply applies ops, node's changes to its own entries, in order, in one
// round trip, and reports for each whether it changed the cluster's
// presence: a join of a person that no node had in the room, or a leave
// of one that no node has there any more. An Op that changes nothing of
// the node's own (a join of what it has) reports false. On error, some of
// ops may have been applied: applying them again is harmless, but their
// changes are then not reported.
func (r *Redis) Apply(ctx context.Context, node string, ops []Op) ([]bool, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	key := r.nodeKey(node)
	run := func() ([]*redis.Cmd, error) {
		cmds := make([]*redis.Cmd, len(ops))
		_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, op := range ops {
				leave := "0"
				if op.Leave {
					leave = "1"
				}
				cmds[i] = applyScript.EvalSha(ctx, p, []string{key}, r.prefix, leave, op.Room, op.ID, op.Name)
			}
			return nil
		})
		return cmds, err
	}
	cmds, err := r.withScripts(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("presence: apply %d changes: %w", len(ops), err)
	}
	changed := make([]bool, len(ops))
	for i, c := range cmds {
		n, err := c.Int()
		if err != nil {
			return nil, fmt.Errorf("presence: apply: %w", err)
		}
		changed[i] = n == 1
	}
	return changed, nil
}

// withScripts runs a pipeline of scripts, loading them and running it
// again when Redis does not have them (a new or restarted Redis): the
// scripts change nothing a second run would undo.
func (r *Redis) withScripts(ctx context.Context, run func() ([]*redis.Cmd, error)) ([]*redis.Cmd, error) {
	cmds, err := run()
	if err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return cmds, err
	}
	for _, s := range scripts {
		if err := s.Load(ctx, r.c).Err(); err != nil {
			return nil, fmt.Errorf("loading a script: %w", err)
		}
	}
	return run()
}

// evalOne runs one script, loaded if need be.
func (r *Redis) evalOne(ctx context.Context, s *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	cmds, err := r.withScripts(ctx, func() ([]*redis.Cmd, error) {
		c := s.EvalSha(ctx, r.c, keys, args...)
		return []*redis.Cmd{c}, c.Err()
	})
	if err != nil {
		return nil, err
	}
	return cmds[0], nil
}

// Entries returns node's own entries, as Redis has them, without names.
func (r *Redis) Entries(ctx context.Context, node string) ([]Entry, error) {
	var out []Entry
	iter := r.c.SScan(ctx, r.nodeKey(node), 0, "", 1000).Iterator()
	for iter.Next(ctx) {
		room, id, ok := strings.Cut(iter.Val(), "\x00")
		if ok {
			out = append(out, Entry{Room: room, ID: id})
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("presence: reading the entries of node %s: %w", node, err)
	}
	return out, nil
}

// Lease is what Renew found of a node's lease.
type Lease int

// What Renew finds.
const (
	// LeaseHeld: the node held its lease; its entries are as it left
	// them.
	LeaseHeld Lease = iota
	// LeaseNew: the node had no lease. It is new, or Redis lost its keys
	// (it restarted empty); no other node announced its people gone.
	LeaseNew
	// LeaseReaped: the node's lease ran out and other nodes took back its
	// entries, announcing its people gone (within ReapedMark of it).
	LeaseReaped
)

// ReapedMark is how long Redis remembers that a node was reaped, for Renew
// to tell LeaseReaped from LeaseNew: one key per node reaped.
const ReapedMark = 24 * time.Hour

// Renew makes node's lease end ttl from now, by Redis's clock, and says
// what it found of the one before. A node that stops reaps nothing of its
// own: it renews its lease for the time its people may come back elsewhere
// unannounced, and stops renewing it.
func (r *Redis) Renew(ctx context.Context, node string, ttl time.Duration) (Lease, error) {
	c, err := r.evalOne(ctx, renewScript, []string{r.leases, r.reaping}, r.prefix, node, max(ttl.Milliseconds(), 0))
	if err != nil {
		return LeaseHeld, fmt.Errorf("presence: renewing the lease of node %s: %w", node, err)
	}
	n, err := c.Int()
	if err != nil {
		return LeaseHeld, fmt.Errorf("presence: renewing the lease of node %s: %w", node, err)
	}
	return Lease(n), nil
}

// Reap takes back up to count entries of a node whose lease ran out (never
// self's), and returns that node and the entries of the people it alone
// had, whom the caller announces gone: of several nodes reaping at once,
// each entry goes to one. It returns "" when no node is to be reaped.
func (r *Redis) Reap(ctx context.Context, self string, count int) (node string, gone []Entry, err error) {
	c, err := r.evalOne(ctx, reapScript, []string{r.leases, r.reaping}, r.prefix, max(count, 1), self, int64(ReapedMark/time.Second))
	if err != nil {
		return "", nil, fmt.Errorf("presence: reaping: %w", err)
	}
	vals, err := c.StringSlice()
	if err != nil {
		return "", nil, fmt.Errorf("presence: reaping: %w", err)
	}
	if len(vals) == 0 {
		return "", nil, nil
	}
	node = vals[0]
	for i := 1; i+2 < len(vals); i += 3 {
		gone = append(gone, Entry{Room: vals[i], ID: vals[i+1], Name: vals[i+2]})
	}
	return node, gone, nil
}

// Names returns up to limit of the names of room's people that sort after
// after ("" for the first), in byte order; several people of one name
// are listed together, and after skips them all.
func (r *Redis) Names(ctx context.Context, room, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return []string{}, nil
	}
	lo := "-"
	if after != "" {
		lo = "(" + after + "\x01" // past every "after\0id"
	}
	members, err := r.c.ZRangeByLex(ctx, r.namesKey(room), &redis.ZRangeBy{Min: lo, Max: "+", Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("presence: listing the people of %q: %w", room, err)
	}
	names := make([]string, len(members))
	for i, m := range members {
		names[i], _, _ = strings.Cut(m, "\x00")
	}
	return names, nil
}

// Counts returns the number of people in each of rooms, in one round
// trip.
func (r *Redis) Counts(ctx context.Context, rooms []string) ([]int, error) {
	if len(rooms) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.IntCmd, len(rooms))
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, room := range rooms {
			cmds[i] = p.HLen(ctx, r.roomKey(room))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("presence: counting the people of %d rooms: %w", len(rooms), err)
	}
	out := make([]int, len(rooms))
	for i, c := range cmds {
		out[i] = int(c.Val())
	}
	return out, nil
}

// Online reports whether the identity id is online on some node.
func (r *Redis) Online(ctx context.Context, id string) (bool, error) {
	ok, err := r.c.HExists(ctx, r.prefix+":online", id).Result()
	if err != nil {
		return false, fmt.Errorf("presence: is %s online: %w", id, err)
	}
	return ok, nil
}
