package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/presence"
)

// This file is the chat as one node of a cluster (docs/cluster.md): the
// cluster's presence, kept in Redis by package presence. Each node says
// who of its own people is in which room; the changes that are news to
// the cluster (a first arrival, a last departure) are announced, once,
// by the node that made them, to every node's sockets through the
// cluster adapter. The messages' order is sequence.go's.

// Defaults of ClusterConfig.
const (
	DefaultNodeTTL    = 15 * time.Second
	DefaultGapWait    = 250 * time.Millisecond
	DefaultCheckEvery = 5 * time.Second
	DefaultLocalAfter = time.Second
)

// Bounds of the presence writer.
const (
	// maxPresenceQueue bounds the changes waiting for Redis; past it they
	// are dropped, and the node's whole presence is put right from its
	// own state once Redis answers again (resync).
	maxPresenceQueue = 100_000
	// presenceBatch is the most changes written in one round trip.
	presenceBatch = 256
	// reapBatch is the most entries of a dead node taken back by one
	// script, and reapRounds the most scripts one sweep runs.
	reapBatch  = 500
	reapRounds = 100
	// presenceTimeout bounds one round trip to Redis, and awaitTimeout
	// what a join waits for its change to be written before it lists the
	// room's people.
	presenceTimeout = 5 * time.Second
	awaitTimeout    = time.Second
	listTimeout     = 2 * time.Second
)

// Presence is the cluster's presence, as the chat uses it: package
// presence's Redis.
type Presence interface {
	Apply(ctx context.Context, node string, ops []presence.Op) ([]bool, error)
	Entries(ctx context.Context, node string) ([]presence.Entry, error)
	Renew(ctx context.Context, node string, ttl time.Duration) (presence.Lease, error)
	Reap(ctx context.Context, self string, count int) (node string, gone []presence.Entry, err error)
	Names(ctx context.Context, room, after string, limit int) ([]string, error)
	Counts(ctx context.Context, rooms []string) ([]int, error)
	Online(ctx context.Context, id string) (bool, error)
}

var _ Presence = (*presence.Redis)(nil)

// ClusterConfig makes a Chat one node of a chat that several processes
// serve, with one shared store (PostgreSQL) and one Redis, whose
// namespace has a cluster adapter. Zero fields take the documented
// defaults.
type ClusterConfig struct {
	// Presence is the cluster's presence; required.
	Presence Presence
	// NodeTTL is the lease the node renews every third of it: when a node
	// dies, its people are announced gone by the others within about
	// NodeTTL and a third, unless they came back on another node (default
	// 15 s).
	NodeTTL time.Duration
	// GapWait is how long a message that arrives before one with a lower
	// id waits for it before the node reads the missing ones from the
	// store (default 250 ms).
	GapWait time.Duration
	// CheckEvery is how often the node compares the last ids of its rooms
	// with the store's, so that it reads what it was never told of (a
	// message lost with Redis) even when no later message shows the gap
	// (default 5 s).
	CheckEvery time.Duration
	// LocalAfter is how long a message this node stored may wait for the
	// cluster's stream (Redis is slow or away) before the node delivers
	// it to its own sockets without it, in id order still (default 1 s):
	// the other nodes get it once the stream has it.
	LocalAfter time.Duration
}

func (c ClusterConfig) withDefaults() ClusterConfig {
	if c.NodeTTL <= 0 {
		c.NodeTTL = DefaultNodeTTL
	}
	if c.GapWait <= 0 {
		c.GapWait = DefaultGapWait
	}
	if c.CheckEvery <= 0 {
		c.CheckEvery = DefaultCheckEvery
	}
	if c.LocalAfter <= 0 {
		c.LocalAfter = DefaultLocalAfter
	}
	return c
}

// presenceOp is a change of this node's presence, waiting for Redis.
type presenceOp struct {
	op presence.Op
	// except is the socket that made the change, which its announcement
	// leaves out (it knows).
	except string
	// done, when not nil, is closed once the change is written or
	// dropped.
	done chan struct{}
}

// node is the chat's part in the cluster: the writer of its presence,
// and its lease. It is owned by the Chat, which starts it in New and
// stops it in Close.
type node struct {
	c    *Chat
	cfg  ClusterConfig
	pres Presence
	uid  string

	// mu guards the fields below; it is taken under Chat.mu (changes are
	// queued in the order Chat.mu makes them), and never held over I/O.
	mu    sync.Mutex
	queue []*presenceOp
	// dirty: Redis lost the node's entries, or the queue overflowed;
	// resync before writing more, announcing the arrivals it makes unless
	// quiet (Redis lost everything, so nobody heard the people go).
	dirty, quiet bool
	healthy      bool // the last round trip to Redis succeeded
	wake         chan struct{}

	stop chan struct{}
	done chan struct{}
}

func newNode(c *Chat, cfg ClusterConfig) *node {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return &node{
		c: c, cfg: cfg.withDefaults(), pres: cfg.Presence, uid: hex.EncodeToString(b[:]),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// joinLocked queues the change "p is in room on this node" (room "": p is
// online here), announced, if news, to the room but the socket so (""
// for none). It returns the queued change, whose done a caller may wait
// on. Chat.mu is held.
func (n *node) joinLocked(room string, p *person, so string) *presenceOp {
	op := &presenceOp{op: presence.Op{Entry: presence.Entry{Room: room, ID: p.id, Name: p.name}}, except: so, done: make(chan struct{})}
	n.push(op)
	return op
}

// leaveLocked queues the change "p is no longer in room on this node".
// Chat.mu is held.
func (n *node) leaveLocked(room string, p *person) {
	n.push(&presenceOp{op: presence.Op{Entry: presence.Entry{Room: room, ID: p.id, Name: p.name}, Leave: true}})
}

func (n *node) push(op *presenceOp) {
	n.mu.Lock()
	if !n.dirty {
		if len(n.queue) < maxPresenceQueue {
			n.queue = append(n.queue, op)
			op = nil
		} else {
			n.c.log.Warn("cluster presence: too many changes wait for Redis; the node's presence will be put right from its own once Redis answers", "queued", len(n.queue))
			n.dropQueueLocked()
			n.dirty = true
		}
	}
	n.mu.Unlock()
	if op != nil && op.done != nil {
		close(op.done)
	}
	wake(n.wake)
}

// dropQueueLocked forgets the queued changes, telling those who wait.
func (n *node) dropQueueLocked() {
	for _, op := range n.queue {
		if op.done != nil {
			close(op.done)
		}
	}
	clear(n.queue)
	n.queue = n.queue[:0]
}

// await waits, a little, for op to be written, when Redis answers.
func (n *node) await(op *presenceOp) {
	if op == nil {
		return
	}
	n.mu.Lock()
	healthy := n.healthy
	n.mu.Unlock()
	if !healthy {
		return
	}
	t := time.NewTimer(awaitTimeout)
	defer t.Stop()
	select {
	case <-op.done:
	case <-t.C:
	case <-n.stop:
	}
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// run is the presence writer: it renews the node's lease, writes the
// queued changes in order and announces what they changed, puts the
// node's presence right when Redis lost it, and reaps the nodes whose
// lease ran out. It returns when Close stops it.
func (n *node) run() {
	defer close(n.done)
	every := n.cfg.NodeTTL / 3
	renew := time.NewTicker(every)
	defer renew.Stop()
	var (
		leased     bool      // the lease is known to be held
		leaseSince time.Time // since when it has been renewed without a miss
		failures   int
		nextReap   time.Time
	)
	retry := time.NewTimer(0)
	<-retry.C
	for {
		ok := true
		if !leased {
			ok = n.renew(&leased, &leaseSince)
		}
		if ok {
			ok = n.resyncIfDirty()
		}
		if ok {
			ok = n.writeQueued()
		}
		now := time.Now()
		if ok && leased && now.After(nextReap) && !leaseSince.IsZero() && now.Sub(leaseSince) >= n.cfg.NodeTTL {
			// Only a node that has held its lease for a whole NodeTTL
			// reaps: after Redis was away, the others have had the time
			// to renew theirs.
			ok = n.reap()
			nextReap = now.Add(every)
		}
		n.mu.Lock()
		n.healthy = ok
		more := len(n.queue) > 0 || n.dirty
		n.mu.Unlock()
		var wait <-chan time.Time
		switch {
		case !ok:
			failures++
			retry.Reset(backoff(failures))
			wait = retry.C
		case more:
			// More to write: go on at once, but renew the lease and stop
			// on time however busy.
			failures = 0
			select {
			case <-n.stop:
				n.shutdown()
				return
			case <-renew.C:
				leased = false
			default:
			}
			continue
		default:
			failures = 0
		}
		select {
		case <-n.stop:
			n.shutdown()
			return
		case <-renew.C:
			leased = false
		case <-n.wake:
		case <-wait:
		}
	}
}

// renew renews the lease; a fresh one means Redis lost this node's
// entries (or never had them): the node puts them back.
func (n *node) renew(leased *bool, since *time.Time) bool {
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	defer cancel()
	lease, err := n.pres.Renew(ctx, n.uid, n.cfg.NodeTTL)
	if err != nil {
		n.c.log.Warn("cluster presence: renewing the node's lease", "err", err)
		*since = time.Time{}
		return false
	}
	if lease != presence.LeaseHeld {
		if lease == presence.LeaseReaped {
			n.c.log.Warn("cluster presence: this node's lease ran out and the others announced its people gone; announcing them back", "node", n.uid)
		}
		n.mu.Lock()
		n.dirty = true
		n.quiet = lease == presence.LeaseNew
		n.mu.Unlock()
	}
	*leased = true
	if since.IsZero() {
		*since = time.Now()
	}
	return true
}

// writeQueued writes up to a batch of the queued changes.
func (n *node) writeQueued() bool {
	n.mu.Lock()
	k := min(len(n.queue), presenceBatch)
	batch := make([]*presenceOp, k)
	copy(batch, n.queue)
	n.mu.Unlock()
	if k == 0 {
		return true
	}
	ops := make([]presence.Op, k)
	for i, op := range batch {
		ops[i] = op.op
	}
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	defer cancel()
	changed, err := n.pres.Apply(ctx, n.uid, ops)
	if err != nil {
		n.c.log.Warn("cluster presence: writing changes", "changes", k, "err", err)
		return false
	}
	n.mu.Lock()
	// The batch is still the queue's head, unless an overflow or a resync
	// dropped it meanwhile.
	if len(n.queue) >= k && n.queue[0] == batch[0] {
		clear(n.queue[:k])
		n.queue = n.queue[k:]
	}
	n.mu.Unlock()
	for i, op := range batch {
		if changed[i] {
			n.c.announcePresence(op.op, op.except)
		}
		if op.done != nil {
			close(op.done)
		}
	}
	return true
}

// resyncIfDirty puts Redis's entries of this node right from the node's
// own state: after Redis lost them (its lease ran out, or Redis started
// afresh) or the queue overflowed. The changes it makes are announced.
func (n *node) resyncIfDirty() bool {
	c := n.c
	c.mu.Lock()
	n.mu.Lock()
	if !n.dirty {
		n.mu.Unlock()
		c.mu.Unlock()
		return true
	}
	// What is queued is in the state taken now: it need not be written.
	n.dropQueueLocked()
	quiet := n.quiet
	n.dirty, n.quiet = false, false
	n.mu.Unlock()
	// An entry is a person's in a room: the same whatever its name.
	type key struct{ room, id string }
	want := make(map[key]string)
	for _, p := range c.people {
		want[key{"", p.id}] = p.name
		for _, r := range p.rooms {
			if _, in := r.members[p]; in {
				want[key{r.name, p.id}] = p.name
			}
		}
	}
	c.mu.Unlock()

	fail := func(what string, err error) bool {
		c.log.Warn("cluster presence: putting the node's presence right", "step", what, "err", err)
		n.mu.Lock()
		n.dirty = true
		n.quiet = n.quiet || quiet
		n.mu.Unlock()
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	defer cancel()
	held, err := n.pres.Entries(ctx, n.uid)
	if err != nil {
		return fail("read", err)
	}
	var ops []presence.Op
	has := make(map[key]bool, len(held))
	for _, e := range held {
		k := key{e.Room, e.ID}
		has[k] = true
		if _, ok := want[k]; !ok {
			ops = append(ops, presence.Op{Entry: e, Leave: true})
		}
	}
	for k, name := range want {
		if !has[k] {
			ops = append(ops, presence.Op{Entry: presence.Entry{Room: k.room, ID: k.id, Name: name}})
		}
	}
	for len(ops) > 0 {
		batch := ops[:min(len(ops), presenceBatch)]
		ops = ops[len(batch):]
		changed, err := n.pres.Apply(ctx, n.uid, batch)
		if err != nil {
			return fail("write", err)
		}
		for i, ch := range changed {
			if ch && (batch[i].Leave || !quiet) {
				c.announcePresence(batch[i], "")
			}
		}
	}
	c.log.Info("cluster presence: the node's presence is put right", "entries", len(want), "node", n.uid)
	return true
}

// reap takes back the entries of the nodes whose lease ran out, and
// announces the people they alone had as gone.
func (n *node) reap() bool {
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	defer cancel()
	for range reapRounds {
		dead, gone, err := n.pres.Reap(ctx, n.uid, reapBatch)
		if err != nil {
			n.c.log.Warn("cluster presence: reaping", "err", err)
			return false
		}
		if dead == "" {
			return true
		}
		for _, e := range gone {
			if e.Room == "" {
				n.c.log.Info("user left with their node", "name", e.Name, "id", e.ID, "node", dead)
				continue
			}
			n.c.announcePresence(presence.Op{Entry: e, Leave: true}, "")
		}
	}
	return true
}

// shutdown writes what is queued, if Redis answers, and makes the lease
// end after the presence grace: the people of this node who come back on
// another within it are not announced, the others are, by the node that
// reaps this one.
func (n *node) shutdown() {
	deadline := time.Now().Add(presenceTimeout)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		left := len(n.queue)
		n.mu.Unlock()
		if left == 0 || !n.writeQueued() {
			break
		}
	}
	n.mu.Lock()
	n.dropQueueLocked()
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	defer cancel()
	if _, err := n.pres.Renew(ctx, n.uid, max(n.c.cfg.PresenceGrace, 0)); err != nil {
		n.c.log.Warn("cluster presence: ending the node's lease", "err", err)
	}
}

// close stops the writer and waits for it.
func (n *node) close() {
	close(n.stop)
	<-n.done
}

// announcePresence tells a room's members, on every node, of a change
// that is news to the cluster; the socket except, if any, is left out.
func (c *Chat) announcePresence(op presence.Op, except string) {
	if op.Room == "" {
		return // online at all: no room to tell
	}
	ev := EventUserConnected
	if op.Leave {
		ev = EventUserDisconnected
	}
	to := c.nsp.To(roomKey(op.Room))
	if except != "" {
		to = to.Except(except)
	}
	if err := to.Emit(ev, op.Name, op.Room); err != nil {
		c.log.Warn("announcing to the other nodes", "event", ev, "room", op.Room, "err", err)
	}
}

// backoff returns the wait after n failures in a row: 50 ms doubling up
// to 5 s.
func backoff(n int) time.Duration {
	return min(50*time.Millisecond<<min(n, 7), 5*time.Second)
}
