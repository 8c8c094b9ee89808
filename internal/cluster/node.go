package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/socketio"
)

// Defaults of a Node's Config beyond those of package wire, which are the
// reference's.
const (
	DefaultBlockTime         = 5 * time.Second
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultHeartbeatTimeout  = 10 * time.Second
	DefaultRequestTimeout    = 5 * time.Second
	// DefaultMaxQueueBytes bounds what waits to be sent to Redis: 16 MiB
	// is some 30 s of a busy chat's broadcasts (500 of 1 KB a second).
	DefaultMaxQueueBytes = 16 << 20
)

// Log attribute keys.
const (
	logKeyError  = "err"
	logKeyNsp    = "nsp"
	logKeyStream = "stream"
	logKeyType   = "type"
	logKeyNode   = "node"
)

// Config configures a Node. Zero fields take the documented defaults; those
// that name things in Redis must be the same on every node, Node.js ones
// included.
type Config struct {
	// Client is the Redis client: a *redis.Client, a failover (Sentinel)
	// client or a *redis.ClusterClient. Required. The Node does not close
	// it.
	Client redis.UniversalClient
	// StreamName is the stream, or the prefix of the streams (default
	// "socket.io").
	StreamName string
	// StreamCount is the number of streams namespaces are spread over by
	// hash (default 1).
	StreamCount int
	// ChannelPrefix is the prefix of the PUB/SUB channels (default
	// "socket.io").
	ChannelPrefix string
	// ShardedPubSub uses sharded PUB/SUB (SPUBLISH, SSUBSCRIBE; Redis 7).
	// On a Redis Cluster the node then holds a PUB/SUB connection per
	// hash slot of its channels, two per namespace.
	ShardedPubSub bool
	// MaxLen is the length XADD trims the stream to, roughly (default
	// 10,000).
	MaxLen int64
	// ReadCount is the most entries one XREAD returns (default 100).
	ReadCount int64
	// BlockTime is how long one XREAD blocks (default 5 s); Close may wait
	// that long for the readers.
	BlockTime time.Duration
	// HeartbeatInterval is how often the node says it is alive (default
	// 5 s); HeartbeatTimeout is how long a silent peer is taken for alive
	// (default 10 s).
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// RequestTimeout bounds the wait for the answers to FetchSockets and
	// ServerSideEmitWithAck (default 5 s).
	RequestTimeout time.Duration
	// MaxQueueBytes bounds what waits to be sent to Redis (default
	// 16 MiB); past it, broadcasts are refused with ErrBacklog.
	MaxQueueBytes int
	// SessionKeyPrefix is the prefix of the keys of the sessions kept for
	// connection state recovery (default "sio:session:").
	SessionKeyPrefix string
	// SessionRefresh is how often the session of a live socket is written
	// again, with connection state recovery on (default a third of the
	// recovery window). Such a session lives for the window and this
	// interval, so that the clients of a node that dies have at least the
	// window to come back.
	SessionRefresh time.Duration
	// Logger receives logs (default slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.StreamName == "" {
		c.StreamName = wire.DefaultStreamName
	}
	if c.StreamCount <= 0 {
		c.StreamCount = 1
	}
	if c.ChannelPrefix == "" {
		c.ChannelPrefix = wire.DefaultChannelPrefix
	}
	if c.MaxLen <= 0 {
		c.MaxLen = wire.DefaultMaxLen
	}
	if c.ReadCount <= 0 {
		c.ReadCount = wire.DefaultReadCount
	}
	if c.BlockTime <= 0 {
		c.BlockTime = DefaultBlockTime
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if c.SessionKeyPrefix == "" {
		c.SessionKeyPrefix = wire.DefaultSessionKeyPrefix
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Node is one process's membership of the cluster: its stream readers,
// its PUB/SUB connection, its publisher and the adapters of its
// namespaces. It is safe for concurrent use.
type Node struct {
	cfg    Config
	uid    string
	log    *slog.Logger
	pub    *publisher
	keeper *keeper
	// perSlot: sharded PUB/SUB on a Redis Cluster, where one SSUBSCRIBE
	// takes channels of one hash slot, on a server of that slot; the
	// node then has a PUB/SUB connection per slot of its channels, and
	// otherwise one (see pubsub.go).
	perSlot bool

	ctx    context.Context // ends when the node closes
	cancel context.CancelFunc
	wg     sync.WaitGroup
	nextID atomic.Uint64 // request ids

	mu       sync.Mutex
	adapters map[string]*adapter // by namespace
	streams  map[string]bool     // stream -> its reader has its start
	// For each stream, the id of the last entry whose adapter the reader
	// looked up, and of the last it handled; both "" until it knows where
	// the stream ends.
	looked   map[string]string
	done     map[string]string
	channels map[string]bool // channel -> subscription confirmed
	toSub    []string        // channels to subscribe to
	peers    map[string]time.Time
	requests map[string]*request
	pubsubs  map[int]*redis.PubSub // by slot (0 but per slot)
	changed  chan struct{}         // closed, and replaced, when streams or channels change
	subWake  chan struct{}
	closed   bool
}

// New starts a Node: its stream readers, PUB/SUB connection, publisher and
// heartbeats. It does not wait for Redis; see Ready.
func New(cfg Config) (*Node, error) {
	if cfg.Client == nil {
		return nil, errors.New("cluster: Config.Client is required")
	}
	cfg = cfg.withDefaults()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("cluster: node id: %w", err)
	}
	nd := &Node{
		cfg:      cfg,
		uid:      hex.EncodeToString(b[:]),
		adapters: make(map[string]*adapter),
		streams:  make(map[string]bool),
		looked:   make(map[string]string),
		done:     make(map[string]string),
		channels: make(map[string]bool),
		peers:    make(map[string]time.Time),
		requests: make(map[string]*request),
		pubsubs:  make(map[int]*redis.PubSub),
		changed:  make(chan struct{}),
		subWake:  make(chan struct{}, 1),
	}
	nd.log = cfg.Logger.With(logKeyNode, nd.uid)
	nd.ctx, nd.cancel = context.WithCancel(context.Background())
	nd.pub = newPublisher(cfg.Client, cfg.ShardedPubSub, cfg.MaxLen, cfg.MaxQueueBytes, nd.log)
	nd.keeper = newKeeper(nd)
	_, isCluster := cfg.Client.(*redis.ClusterClient)
	nd.perSlot = cfg.ShardedPubSub && isCluster
	names := []string{cfg.StreamName}
	if cfg.StreamCount > 1 {
		names = names[:0]
		for i := range cfg.StreamCount {
			names = append(names, cfg.StreamName+"-"+strconv.Itoa(i))
		}
	}
	for _, s := range names {
		nd.streams[s] = false
	}
	nd.wg.Add(4 + len(names))
	go nd.pub.run(&nd.wg)
	go nd.keeper.run(&nd.wg)
	go nd.subscribeLoop()
	go nd.heartbeatLoop()
	for _, s := range names {
		go nd.readLoop(s)
	}
	return nd, nil
}

// UID returns the node's id, which its messages carry.
func (nd *Node) UID() string { return nd.uid }

// NewAdapter returns the adapter of namespace n: the function to set as
// socketio.Config.NewAdapter. It does no I/O; the namespace's channels are
// subscribed to in the background (see Ready).
func (nd *Node) NewAdapter(n *socketio.Namespace) socketio.Adapter {
	a := &adapter{
		node:    nd,
		nsp:     n,
		name:    n.Name(),
		local:   socketio.NewMemoryAdapter(),
		stream:  wire.StreamName(nd.cfg.StreamName, nd.cfg.StreamCount, n.Name()),
		public:  wire.PublicChannel(nd.cfg.ChannelPrefix, n.Name()),
		private: wire.PrivateChannel(nd.cfg.ChannelPrefix, n.Name(), nd.uid),
	}
	nd.mu.Lock()
	closed := nd.closed
	if !closed {
		nd.adapters[a.name] = a
		a.base = nd.looked[a.stream]
		for _, ch := range []string{a.public, a.private} {
			if _, ok := nd.channels[ch]; !ok {
				nd.channels[ch] = false
				nd.toSub = append(nd.toSub, ch)
			}
		}
	}
	nd.mu.Unlock()
	if !closed {
		wake(nd.subWake)
		a.publish(&wire.Message{Type: wire.TypeInitialHeartbeat})
	}
	return a
}

// adapter returns the adapter of a namespace, or nil.
func (nd *Node) adapter(nsp string) *adapter {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.adapters[nsp]
}

// Ready waits until the node's readers know where the streams end and its
// channels are subscribed to: from then on it gets what other nodes send.
func (nd *Node) Ready(ctx context.Context) error {
	for {
		nd.mu.Lock()
		ready, changed, closed := nd.readyLocked(), nd.changed, nd.closed
		nd.mu.Unlock()
		switch {
		case closed:
			return ErrClosed
		case ready:
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for Redis: %w", ctx.Err())
		}
	}
}

func (nd *Node) readyLocked() bool {
	for _, ok := range nd.streams {
		if !ok {
			return false
		}
	}
	for _, ok := range nd.channels {
		if !ok {
			return false
		}
	}
	return true
}

// changedLocked wakes those waiting in Ready.
func (nd *Node) changedLocked() {
	close(nd.changed)
	nd.changed = make(chan struct{})
}

// ServerCount returns the number of nodes serving namespace nsp, this one
// included: the subscribers of its public channel, as the reference counts
// them.
func (nd *Node) ServerCount(ctx context.Context, nsp string) (int, error) {
	ch := wire.PublicChannel(nd.cfg.ChannelPrefix, nsp)
	count := func(ctx context.Context, c redis.UniversalClient) (int64, error) {
		var res map[string]int64
		var err error
		if nd.cfg.ShardedPubSub {
			res, err = c.PubSubShardNumSub(ctx, ch).Result()
		} else {
			res, err = c.PubSubNumSub(ctx, ch).Result()
		}
		return res[ch], err
	}
	var total int64
	var err error
	if cc, ok := nd.cfg.Client.(*redis.ClusterClient); ok {
		var sum atomic.Int64
		err = cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := count(ctx, c)
			sum.Add(n)
			return err
		})
		total = sum.Load()
	} else {
		total, err = count(ctx, nd.cfg.Client)
	}
	if err != nil {
		return 0, fmt.Errorf("cluster: counting the nodes of %s: %w", nsp, err)
	}
	return int(total), nil
}

// Peers returns the ids of the parley nodes heard from within the
// heartbeat timeout. Node.js nodes, which send no heartbeats, are counted
// only while they send something else.
func (nd *Node) Peers() []string {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	cutoff := time.Now().Add(-nd.cfg.HeartbeatTimeout)
	var list []string
	for uid, at := range nd.peers {
		if at.After(cutoff) {
			list = append(list, uid)
		}
	}
	return list
}

// heard notes that node uid is alive.
func (nd *Node) heard(uid string) {
	if uid == "" || uid == wire.EmitterUID {
		return
	}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	nd.peers[uid] = time.Now()
}

// gone forgets node uid, which said it closed.
func (nd *Node) gone(uid string) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	delete(nd.peers, uid)
	for id, r := range nd.requests {
		if r.dropNodeLocked(uid) {
			delete(nd.requests, id)
		}
	}
}

// heartbeatLoop says the node is alive, in every namespace, and forgets
// the peers that went silent.
func (nd *Node) heartbeatLoop() {
	defer nd.wg.Done()
	t := time.NewTicker(nd.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-nd.ctx.Done():
			return
		case <-t.C:
		}
		nd.mu.Lock()
		list := make([]*adapter, 0, len(nd.adapters))
		for _, a := range nd.adapters {
			list = append(list, a)
		}
		cutoff := time.Now().Add(-nd.cfg.HeartbeatTimeout)
		for uid, at := range nd.peers {
			if at.Before(cutoff) {
				delete(nd.peers, uid)
			}
		}
		nd.mu.Unlock()
		for _, a := range list {
			a.publish(&wire.Message{Type: wire.TypeHeartbeat})
		}
	}
}

// Close says goodbye in every namespace (ADAPTER_CLOSE), sends what is
// queued until ctx ends, then stops the node's goroutines and waits for
// them (up to BlockTime, for the stream readers). Requests waiting for
// answers fail with ErrClosed. It returns an error if something queued
// could not be sent.
func (nd *Node) Close(ctx context.Context) error {
	nd.mu.Lock()
	if nd.closed {
		nd.mu.Unlock()
		return nil
	}
	list := make([]*adapter, 0, len(nd.adapters))
	for _, a := range nd.adapters {
		list = append(list, a)
	}
	nd.mu.Unlock()
	for _, a := range list {
		a.publish(&wire.Message{Type: wire.TypeAdapterClose})
	}
	nd.mu.Lock()
	nd.closed = true
	requests := nd.requests
	nd.requests = make(map[string]*request)
	nd.changedLocked()
	nd.mu.Unlock()
	for _, r := range requests {
		r.fail(ErrClosed)
	}
	err := nd.pub.close(ctx)
	nd.cancel()
	nd.mu.Lock()
	pubsubs := make([]*redis.PubSub, 0, len(nd.pubsubs))
	for _, ps := range nd.pubsubs {
		pubsubs = append(pubsubs, ps)
	}
	nd.mu.Unlock()
	for _, ps := range pubsubs {
		if cerr := ps.Close(); cerr != nil && err == nil && !errors.Is(cerr, redis.ErrClosed) {
			err = fmt.Errorf("cluster: closing PUB/SUB: %w", cerr)
		}
	}
	wake(nd.subWake)
	nd.wg.Wait()
	return err
}

// wake signals a channel of capacity 1 without blocking.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// newRequestID returns an id for a request, unique to this node.
func (nd *Node) newRequestID() string {
	return nd.uid + "-" + strconv.FormatUint(nd.nextID.Add(1), 36)
}

// backoff returns the wait after n failures in a row: 50 ms doubling up
// to 5 s.
func backoff(n int) time.Duration {
	d := 50 * time.Millisecond << min(n, 7)
	return min(d, 5*time.Second)
}

// sleep waits d or until the node closes, and reports whether it is open.
func (nd *Node) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-nd.ctx.Done():
		return false
	}
}
