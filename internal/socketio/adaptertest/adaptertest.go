package adaptertest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// Bounds of the suite's waits. A conforming adapter on one machine takes
// milliseconds where the suite gives it seconds; a broken one fails each
// check within Factory.Patience.
const (
	// DefaultPatience is Factory.Patience when zero.
	DefaultPatience = 5 * time.Second
	// requestWait is the context of a request that some node will not
	// answer: the adapter must end it, with an error, by then (or by its
	// own timeout, if shorter).
	requestWait = time.Second
	// recoveryWindow is the recovery window of the servers of the
	// recovery checks.
	recoveryWindow = 30 * time.Second
)

// Factory starts the clusters the suite runs on: each check starts one of
// its own.
type Factory struct {
	// Start starts a cluster of n nodes on a broker of their own (a key
	// prefix of their own on a shared server, say), each a
	// *socketio.Server made with cfg and NewAdapter set by Start to the
	// adapter under test, and returns once each node gets what the others
	// send: from then on, a broadcast made on any node reaches the sockets
	// of all. It stops the nodes still running and removes what they left
	// in the broker when tb ends (tb.Cleanup), and fails tb if it cannot
	// start them.
	Start func(tb testing.TB, n int, cfg socketio.Config) *Cluster
	// Binary says that the adapter carries binary attachments to the
	// other nodes (in broadcasts, server-side events and their replies);
	// the checks of binary payloads are skipped without it.
	Binary bool
	// Recovery says that the adapter shares connection state recovery
	// across nodes (socketio.SharedRecovery): a client that left one node
	// can be recovered by any. The recovery checks, on servers with
	// cfg.Recovery set, are skipped without it.
	Recovery bool
	// Patience bounds each wait of the suite: for an event, a state of the
	// servers, a request that every node answers (default
	// DefaultPatience).
	Patience time.Duration
}

// Cluster is what Factory.Start starts.
type Cluster struct {
	// Nodes are the cluster's nodes, as many as asked for.
	Nodes []*Node
	// AddSilent, when not nil, adds to the cluster a member that the
	// nodes count among those to answer their requests (FetchSockets,
	// ServerSideEmitWithAck) but that never answers, as a node that
	// hangs. The checks of what such requests do then are skipped without
	// it.
	AddSilent func(tb testing.TB)
	// AddNode, when not nil, starts one more node of the cluster, made as
	// the others, and returns it once it gets what the others send. The
	// check of a recovery by a node that started after the events the
	// client missed is skipped without it.
	AddNode func(tb testing.TB) *Node
}

// Node is one node of a cluster.
type Node struct {
	// Server is the node's Socket.IO server.
	Server *socketio.Server
	// URL is where clients reach Server (sioclient.Dial), such as an
	// httptest.Server's URL.
	URL string
	// Close stops the node as a process that shuts down does: it shuts
	// Server down, which disconnects its sockets, and takes its adapters
	// out of the cluster, so that the other nodes neither count it nor
	// wait for its answers any more. The suite calls it at most once; the
	// cleanup of Start must then leave the node alone.
	Close func() error
}

// need is what a check needs of the adapter beyond the basics.
type need uint8

const (
	needBinary   need = 1 << iota // Factory.Binary
	needRecovery                  // Factory.Recovery; servers with recovery on
	needSilent                    // Cluster.AddSilent
	needAddNode                   // Cluster.AddNode
)

// clusterSize is the number of nodes each check starts with.
const clusterSize = 3

// check is one check of the suite: a subtest group/name of Run.
type check struct {
	group, name string
	needs       need
	run         func(e *env)
	// recovery runs the check on servers with recovery on, though it
	// does not need it.
	recovery bool
}

// checks returns every check of the suite, in the order Run runs them.
func checks() []check {
	var list []check
	for _, f := range []func() []check{broadcastChecks, roomChecks, disconnectChecks, fetchChecks, serverSideChecks, namespaceChecks, closeChecks, recoveryChecks} {
		list = append(list, f()...)
	}
	return list
}

// withRecovery are the groups of checks that Run runs again on servers
// with recovery on, when the adapter shares it: such an adapter delivers
// its own node's broadcasts another way then (see socketio.SharedRecovery),
// and keeps the sessions current as rooms change and nodes close.
var withRecovery = []string{"Broadcast", "SocketsJoin", "SocketsLeave", "DisconnectSockets", "NodeClose"}

// Run runs the suite against the adapter whose clusters f starts: a
// subtest per group of checks (Broadcast, SocketsJoin, SocketsLeave,
// DisconnectSockets, FetchSockets, ServerSideEmit, Namespaces, NodeClose,
// Recovery), a subtest per check in it, each on a cluster of three nodes
// of its own; with f.Recovery, the subtest WithRecovery runs the groups of
// withRecovery again, on servers with recovery on. The checks run in
// parallel.
func Run(t *testing.T, f Factory) {
	if f.Start == nil {
		t.Fatal("adaptertest: Factory.Start is nil")
	}
	runGroups(t, f, checks())
	if !f.Recovery {
		return
	}
	t.Run("WithRecovery", func(t *testing.T) {
		t.Parallel()
		runGroups(t, f, recoveryVariants())
	})
}

// recoveryVariants returns the checks of the groups of withRecovery, to
// run on servers with recovery on.
func recoveryVariants() []check {
	var list []check
	for _, c := range checks() {
		if slices.Contains(withRecovery, c.group) {
			c.recovery = true
			list = append(list, c)
		}
	}
	return list
}

// runGroups runs list as subtests of t, by group.
func runGroups(t *testing.T, f Factory, list []check) {
	var groups []string
	byGroup := make(map[string][]check)
	for _, c := range list {
		if byGroup[c.group] == nil {
			groups = append(groups, c.group)
		}
		byGroup[c.group] = append(byGroup[c.group], c)
	}
	for _, g := range groups {
		t.Run(g, func(t *testing.T) {
			t.Parallel()
			for _, c := range byGroup[g] {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					runCheck(t, f, c)
				})
			}
		})
	}
}

// runCheck runs c on a cluster of its own, or skips it when the adapter
// lacks what it needs.
func runCheck(t testing.TB, f Factory, c check) {
	t.Helper()
	if c.needs&needBinary != 0 && !f.Binary {
		t.Skip("adaptertest: the adapter carries no binary attachments (Factory.Binary)")
	}
	if c.needs&needRecovery != 0 && !f.Recovery {
		t.Skip("adaptertest: the adapter does not share connection state recovery (Factory.Recovery)")
	}
	e := start(t, f, clusterSize, c.recovery || c.needs&needRecovery != 0)
	if c.needs&needSilent != 0 && e.cluster.AddSilent == nil {
		t.Skip("adaptertest: the factory cannot add a member that does not answer (Cluster.AddSilent)")
	}
	if c.needs&needAddNode != 0 && e.cluster.AddNode == nil {
		t.Skip("adaptertest: the factory cannot add a node to a running cluster (Cluster.AddNode)")
	}
	c.run(e)
}

// env is the cluster of one check and the clients it connected.
type env struct {
	t        testing.TB
	f        Factory
	patience time.Duration
	cluster  *Cluster
	fences   atomic.Int64

	mu      sync.Mutex
	clients []*client
	closed  []bool // the nodes the check closed
}

// start starts a cluster of n nodes, with connection state recovery on
// when recovery is set.
func start(t testing.TB, f Factory, n int, recovery bool) *env {
	t.Helper()
	cfg := socketio.Config{Logger: siotest.DiscardLogger()}
	if recovery {
		cfg.Recovery = &socketio.RecoveryConfig{MaxDisconnectionDuration: recoveryWindow}
	}
	c := f.Start(t, n, cfg)
	if c == nil || len(c.Nodes) != n {
		t.Fatalf("adaptertest: Factory.Start(%d) returned %v", n, c)
	}
	for i, nd := range c.Nodes {
		if nd == nil || nd.Server == nil || nd.URL == "" || nd.Close == nil {
			t.Fatalf("adaptertest: Factory.Start(%d): node %d is %+v: it needs a Server, a URL and Close", n, i, nd)
		}
	}
	p := f.Patience
	if p <= 0 {
		p = DefaultPatience
	}
	return &env{t: t, f: f, patience: p, cluster: c, closed: make([]bool, n)}
}

// addNode starts one more node (Cluster.AddNode) and returns its index.
func (e *env) addNode() int {
	e.t.Helper()
	nd := e.cluster.AddNode(e.t)
	if nd == nil || nd.Server == nil || nd.URL == "" || nd.Close == nil {
		e.t.Fatalf("adaptertest: Cluster.AddNode returned %+v: it needs a Server, a URL and Close", nd)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cluster.Nodes = append(e.cluster.Nodes, nd)
	e.closed = append(e.closed, false)
	return len(e.cluster.Nodes) - 1
}

// nsp returns the main namespace of node i.
func (e *env) nsp(i int) *socketio.Namespace { return e.cluster.Nodes[i].Server.Of("/") }

// closeNode closes node i.
func (e *env) closeNode(i int) {
	e.t.Helper()
	e.mu.Lock()
	closed := e.closed[i]
	e.closed[i] = true
	e.mu.Unlock()
	if closed {
		return
	}
	if err := e.cluster.Nodes[i].Close(); err != nil {
		e.t.Errorf("closing node %d: %v", i, err)
	}
}

// isClosed reports whether the check closed node i.
func (e *env) isClosed(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed[i]
}

// labels returns the labels of clients, for messages.
func labels(list []*client) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.label
	}
	return out
}

// nodeName names node i in messages.
func nodeName(i int) string { return fmt.Sprintf("node %d", i) }
