package adaptertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
)

// A cluster adapter whose broker is memory: the nodes of one cluster in
// one process, each handling what the others send on a goroutine of its
// own, in the order it was sent, and sharing a log of broadcasts and the
// sessions of connection state recovery. It is the suite's own backend,
// which it passes without Redis, and the adapter the faults of
// faults_test.go break.

// hubTimeout bounds the wait for the answers to a request.
const hubTimeout = 2 * time.Second

// hub is the broker of one cluster.
type hub struct {
	mu       sync.Mutex
	nodes    []*hubNode
	silent   int        // members that never answer
	log      []hubEntry // every broadcast, with recovery: offset i+1 is log[i]
	sessions map[string]*hubSession
}

// hubEntry is a broadcast in the hub's log.
type hubEntry struct {
	nsp    string
	packet *sioparser.Packet
	rooms  []string
	except []string
}

// hubSession is a session kept for recovery, and the socket that wrote it.
type hubSession struct {
	state *socketio.SessionState
	owner *socketio.Socket
}

func newHub() *hub { return &hub{sessions: make(map[string]*hubSession)} }

// hubNode is one node: its adapters, and the queue of what other nodes
// sent it, which one goroutine runs in order.
type hubNode struct {
	h *hub

	mu       sync.Mutex
	adapters map[string]*hubAdapter
	queue    []func()
	closed   bool
	done     uint64 // the offset of the last log entry it handled
	wake     chan struct{}
	stopped  chan struct{}
}

// addNode adds a node to the cluster and starts its goroutine.
func (h *hub) addNode() *hubNode {
	h.mu.Lock()
	defer h.mu.Unlock()
	nd := &hubNode{h: h, adapters: make(map[string]*hubAdapter), done: uint64(len(h.log)),
		wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	h.nodes = append(h.nodes, nd)
	go nd.run()
	return nd
}

// push queues f to run on the node's goroutine; it never blocks.
func (nd *hubNode) push(f func()) {
	nd.mu.Lock()
	if !nd.closed {
		nd.queue = append(nd.queue, f)
	}
	nd.mu.Unlock()
	select {
	case nd.wake <- struct{}{}:
	default:
	}
}

func (nd *hubNode) run() {
	defer close(nd.stopped)
	for {
		nd.mu.Lock()
		list, closed := nd.queue, nd.closed
		nd.queue = nil
		nd.mu.Unlock()
		if closed {
			return
		}
		for _, f := range list {
			f()
		}
		if len(list) == 0 {
			<-nd.wake
		}
	}
}

// close takes the node out of the cluster and stops its goroutine.
func (nd *hubNode) close() {
	h := nd.h
	h.mu.Lock()
	for i, n := range h.nodes {
		if n == nd {
			h.nodes = append(h.nodes[:i], h.nodes[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	nd.mu.Lock()
	nd.closed = true
	nd.mu.Unlock()
	select {
	case nd.wake <- struct{}{}:
	default:
	}
	<-nd.stopped
}

// adapter returns the node's adapter of namespace nsp, nil if none.
func (nd *hubNode) adapter(nsp string) *hubAdapter {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.adapters[nsp]
}

// others returns the nodes but nd; h.mu is held.
func (h *hub) othersLocked(nd *hubNode) []*hubNode {
	var list []*hubNode
	for _, n := range h.nodes {
		if n != nd {
			list = append(list, n)
		}
	}
	return list
}

// hubAdapter is a node's adapter of one namespace.
type hubAdapter struct {
	node     *hubNode
	nsp      *socketio.Namespace
	name     string
	local    socketio.Adapter
	recovery bool // set once, by EnableRecovery, before any socket
	base     uint64
	// delivering holds the broadcasts of other nodes while Deliver hands
	// them back to the adapter, for the faults that tell them apart.
	delivering sync.Map
}

var _ socketio.SharedRecovery = (*hubAdapter)(nil)

// newAdapter is the node's socketio.Config.NewAdapter.
func (nd *hubNode) newAdapter(n *socketio.Namespace) socketio.Adapter { return nd.newHubAdapter(n) }

func (nd *hubNode) newHubAdapter(n *socketio.Namespace) *hubAdapter {
	nd.h.mu.Lock()
	base := uint64(len(nd.h.log))
	nd.h.mu.Unlock()
	a := &hubAdapter{node: nd, nsp: n, name: n.Name(), local: socketio.NewMemoryAdapter(), base: base}
	nd.mu.Lock()
	nd.adapters[a.name] = a
	nd.mu.Unlock()
	return a
}

func (a *hubAdapter) Join(so *socketio.Socket, rooms ...string) {
	a.local.Join(so, rooms...)
	a.touched(so)
}

func (a *hubAdapter) Leave(so *socketio.Socket, room string) {
	a.local.Leave(so, room)
	a.touched(so)
}

func (a *hubAdapter) LeaveAll(so *socketio.Socket)       { a.local.LeaveAll(so) }
func (a *hubAdapter) Rooms(so *socketio.Socket) []string { return a.local.Rooms(so) }
func (a *hubAdapter) Sockets(rooms, except []string) []*socketio.Socket {
	return a.local.Sockets(rooms, except)
}

// touched keeps the session of so current, with recovery on.
func (a *hubAdapter) touched(so *socketio.Socket) {
	if a.recovery {
		a.SessionChanged(so)
	}
}

// toOthers runs f on the adapter of each other node, in order with what
// this node sent them before.
func (a *hubAdapter) toOthers(f func(o *hubAdapter)) {
	h := a.node.h
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, nd := range h.othersLocked(a.node) {
		nd.push(func() {
			if o := nd.adapter(a.name); o != nil {
				f(o)
			}
		})
	}
}

// Broadcast delivers b to the local sockets, then to the others; with
// recovery, it appends b to the log, whose entries every node, this one
// included, delivers in order.
func (a *hubAdapter) Broadcast(b *socketio.Broadcast) error {
	if b.Local {
		return a.local.Broadcast(b)
	}
	if !a.recovery {
		_ = a.local.Broadcast(b)
		a.toOthers(func(o *hubAdapter) { o.deliver(o.broadcast(b.Packet, b.Rooms, b.Except, "")) })
		return nil
	}
	h := a.node.h
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, hubEntry{nsp: a.name, packet: b.Packet, rooms: b.Rooms, except: b.Except})
	offset := uint64(len(h.log))
	for _, nd := range h.nodes {
		nd.push(func() {
			if o := nd.adapter(a.name); o != nil {
				o.deliver(o.broadcast(b.Packet, b.Rooms, b.Except, strconv.FormatUint(offset, 10)))
			}
			nd.mu.Lock()
			nd.done = offset
			nd.mu.Unlock()
		})
	}
	return nil
}

// deliver hands a broadcast of the log or of another node to the
// namespace.
func (a *hubAdapter) deliver(b *socketio.Broadcast) {
	a.delivering.Store(b, true)
	defer a.delivering.Delete(b)
	_ = a.nsp.Deliver(b)
}

// isDelivery reports whether b is a broadcast of the log or of another
// node that the adapter is delivering.
func (a *hubAdapter) isDelivery(b *socketio.Broadcast) bool {
	_, ok := a.delivering.Load(b)
	return ok
}

// broadcast is a broadcast of p for this node, with its own copy of it.
func (a *hubAdapter) broadcast(p *sioparser.Packet, rooms, except []string, offset string) *socketio.Broadcast {
	q := *p
	return &socketio.Broadcast{Packet: &q, Rooms: rooms, Except: except, Offset: offset}
}

// onSockets applies an operation on sockets to the local ones, then to
// those of the other nodes, keeping the sessions of those it changed
// current. With recovery on, it goes with the log's broadcasts, to every
// node, this one included: in order with them.
func (a *hubAdapter) onSockets(rooms, except []string, op func(l socketio.Adapter)) {
	apply := func(o *hubAdapter) {
		var sel []*socketio.Socket
		if o.recovery {
			sel = o.local.Sockets(rooms, except)
		}
		op(o.local)
		for _, so := range sel {
			o.SessionChanged(so)
		}
	}
	if !a.recovery {
		apply(a)
		a.toOthers(apply)
		return
	}
	h := a.node.h
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, nd := range h.nodes {
		nd.push(func() {
			if o := nd.adapter(a.name); o != nil {
				apply(o)
			}
		})
	}
}

func (a *hubAdapter) AddSockets(rooms, except, join []string) error {
	a.onSockets(rooms, except, func(l socketio.Adapter) { _ = l.AddSockets(rooms, except, join) })
	return nil
}

func (a *hubAdapter) DelSockets(rooms, except, leave []string) error {
	a.onSockets(rooms, except, func(l socketio.Adapter) { _ = l.DelSockets(rooms, except, leave) })
	return nil
}

func (a *hubAdapter) DisconnectSockets(rooms, except []string, closeConn bool) error {
	a.onSockets(rooms, except, func(l socketio.Adapter) { _ = l.DisconnectSockets(rooms, except, closeConn) })
	return nil
}

// ask runs f on each other node's adapter, which calls answer at most
// once, and waits for the answers, as many as the other nodes and the
// silent members, until ctx ends or hubTimeout.
func (a *hubAdapter) ask(ctx context.Context, f func(o *hubAdapter, answer func(any))) ([]any, error) {
	h := a.node.h
	h.mu.Lock()
	others := h.othersLocked(a.node)
	want := len(others) + h.silent
	h.mu.Unlock()
	answers := make(chan any, len(others))
	for _, nd := range others {
		nd.push(func() {
			if o := nd.adapter(a.name); o != nil {
				var once sync.Once
				f(o, func(v any) { once.Do(func() { answers <- v }) })
			}
		})
	}
	t := time.NewTimer(hubTimeout)
	defer t.Stop()
	var list []any
	for len(list) < want {
		select {
		case v := <-answers:
			list = append(list, v)
		case <-ctx.Done():
			return list, fmt.Errorf("hub: %d of %d nodes answered: %w", len(list), want, ctx.Err())
		case <-t.C:
			return list, fmt.Errorf("hub: %d of %d nodes answered in %v", len(list), want, hubTimeout)
		}
	}
	return list, nil
}

func (a *hubAdapter) FetchSockets(ctx context.Context, rooms, except []string) ([]socketio.RemoteSocket, error) {
	list, _ := a.local.FetchSockets(ctx, rooms, except)
	answers, err := a.ask(ctx, func(o *hubAdapter, answer func(any)) {
		remote, _ := o.local.FetchSockets(ctx, rooms, except)
		answer(remote)
	})
	for _, v := range answers {
		list = append(list, v.([]socketio.RemoteSocket)...)
	}
	return list, err
}

func (a *hubAdapter) ServerSideEmit(args *sioparser.Message) error {
	a.toOthers(func(o *hubAdapter) { o.nsp.HandleServerSideEmit(args, nil) })
	return nil
}

// reply is a node's reply to a server-side event.
type reply struct {
	data json.RawMessage
	atts [][]byte
}

func (a *hubAdapter) ServerSideEmitWithAck(ctx context.Context, args *sioparser.Message) (*sioparser.Message, error) {
	answers, err := a.ask(ctx, func(o *hubAdapter, answer func(any)) {
		o.nsp.HandleServerSideEmit(args, func(data json.RawMessage, atts [][]byte) { answer(reply{data, atts}) })
	})
	out := &sioparser.Message{Args: []json.RawMessage{}}
	for _, v := range answers {
		r := v.(reply)
		in := sioparser.Message{Args: []json.RawMessage{r.data}, Attachments: r.atts}
		val, derr := in.Decode(0)
		if derr != nil {
			return out, derr
		}
		var data []byte
		if data, out.Attachments, derr = sioparser.AppendEventArgs(nil, out.Attachments, val); derr != nil {
			return out, derr
		}
		split, derr := sioparser.SplitArgs(data)
		if derr != nil {
			return out, derr
		}
		out.Args = append(out.Args, split...)
	}
	return out, err
}

// Shared recovery: the hub's log and sessions.

func (a *hubAdapter) EnableRecovery(socketio.RecoveryConfig) { a.recovery = true }

func (a *hubAdapter) LogRange() (start, end string, ok bool) {
	a.node.mu.Lock()
	done := max(a.node.done, a.base)
	a.node.mu.Unlock()
	return strconv.FormatUint(a.base, 10), strconv.FormatUint(done, 10), true
}

func (a *hubAdapter) ParseOffset(offset string) (socketio.Offset, bool) {
	n, err := strconv.ParseUint(offset, 10, 64)
	return socketio.Offset{Hi: n}, err == nil && offset == strconv.FormatUint(n, 10)
}

func (a *hubAdapter) ReadAfter(_ context.Context, offset string, limit int) ([]socketio.LoggedEvent, string, bool, error) {
	o, ok := a.ParseOffset(offset)
	if !ok {
		return nil, offset, false, fmt.Errorf("hub: offset %q: %w", offset, socketio.ErrRecoveryGap)
	}
	h := a.node.h
	h.mu.Lock()
	defer h.mu.Unlock()
	from := min(o.Hi, uint64(len(h.log)))
	to := min(from+uint64(limit), uint64(len(h.log)))
	var events []socketio.LoggedEvent
	for i := from; i < to; i++ {
		e := h.log[i]
		if e.nsp == a.name && e.packet.Type == sioparser.PacketEvent && !e.packet.HasID {
			events = append(events, socketio.LoggedEvent{Offset: strconv.FormatUint(i+1, 10), Packet: e.packet, Rooms: e.rooms, Except: e.except})
		}
	}
	next := offset
	if to > from {
		next = strconv.FormatUint(to, 10)
	}
	return events, next, to == uint64(len(h.log)), nil
}

func (a *hubAdapter) TakeSession(_ context.Context, pid, offset string) (*socketio.SessionState, bool, error) {
	h := a.node.h
	h.mu.Lock()
	s := h.sessions[pid]
	delete(h.sessions, pid)
	n := uint64(len(h.log))
	h.mu.Unlock()
	if s == nil {
		return nil, false, nil
	}
	o, ok := a.ParseOffset(offset)
	kept := ok && o.Hi >= 1 && o.Hi <= n
	// The client is here now: a socket another node still has of it goes.
	a.toOthers(func(o *hubAdapter) { _ = o.local.DisconnectSockets([]string{s.state.SID}, nil, true) })
	state := *s.state
	return &state, kept, nil
}

func (a *hubAdapter) SessionChanged(so *socketio.Socket) {
	s := so.Session()
	if s == nil || !so.Connected() {
		return
	}
	h := a.node.h
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions[s.PID] = &hubSession{state: s, owner: so}
}

func (a *hubAdapter) SessionClosed(so *socketio.Socket, s *socketio.SessionState) {
	own := so.Session()
	if own == nil {
		return
	}
	pid := own.PID
	h := a.node.h
	h.mu.Lock()
	defer h.mu.Unlock()
	cur := h.sessions[pid]
	if cur == nil || cur.owner != so {
		return // taken over by a new connection of the client
	}
	if s == nil {
		delete(h.sessions, pid)
		return
	}
	cur.state = s
}

// hubFactory starts clusters of hub adapters, each wrapped by wrap unless
// nil.
func hubFactory(wrap func(n *socketio.Namespace, a *hubAdapter) socketio.Adapter) Factory {
	return Factory{
		Binary:   true,
		Recovery: true,
		Start: func(tb testing.TB, n int, cfg socketio.Config) *Cluster {
			h := newHub()
			start := func(tb testing.TB) *Node {
				nd := h.addNode()
				sc := cfg
				sc.NewAdapter = nd.newAdapter
				if wrap != nil {
					sc.NewAdapter = func(n *socketio.Namespace) socketio.Adapter { return wrap(n, nd.newHubAdapter(n)) }
				}
				srv := socketio.NewServer(sc)
				hs := httptest.NewServer(srv)
				var once sync.Once
				var err error
				stop := func() error {
					once.Do(func() {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						defer cancel()
						err = srv.Shutdown(ctx)
						hs.Close()
						nd.close()
					})
					return err
				}
				tb.Cleanup(func() {
					if err := stop(); err != nil {
						tb.Errorf("closing a node: %v", err)
					}
				})
				return &Node{Server: srv, URL: hs.URL, Close: stop}
			}
			c := &Cluster{
				AddSilent: func(testing.TB) {
					h.mu.Lock()
					h.silent++
					h.mu.Unlock()
				},
				AddNode: start,
			}
			for range n {
				c.Nodes = append(c.Nodes, start(tb))
			}
			return c
		},
	}
}

// TestHub runs the suite against the hub adapter.
func TestHub(t *testing.T) { Run(t, hubFactory(nil)) }
