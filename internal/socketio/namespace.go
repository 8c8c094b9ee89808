package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/sioparser"
)

// Middleware runs when a client connects to a namespace, before the
// connection handlers. Returning an error refuses the connection with a
// CONNECT_ERROR packet (see ConnectError).
type Middleware func(s *Socket) error

// Namespace is a communication channel multiplexed over connections, with
// its own sockets, rooms, middleware and handlers. It is safe for concurrent
// use.
type Namespace struct {
	name    string
	srv     *Server
	adapter Adapter

	// recovery is nil unless connection state recovery is on; orderMu then
	// serialises broadcasts, so that offsets reach every socket in order,
	// and a restored socket's switch from replay to live (see replay.go).
	recovery *recoveryLog
	orderMu  sync.Mutex
	// shared is the adapter when it shares recovery with other nodes
	// (see SharedRecovery); nil otherwise. It is set once the adapter is
	// made, and read only by what the application calls (Deliver, which
	// an adapter may call from the start, reads neither it nor adapter).
	shared SharedRecovery

	mu          sync.RWMutex
	middlewares []Middleware
	onConnect   []func(*Socket)
	handlers    map[string]EventHandler
	serverSide  map[string]ServerSideHandler
	sockets     map[string]*Socket
}

func newNamespace(srv *Server, name string) *Namespace {
	n := &Namespace{name: name, srv: srv, sockets: make(map[string]*Socket)}
	if srv.cfg.Recovery != nil {
		n.recovery = newRecoveryLog(*srv.cfg.Recovery)
	}
	n.adapter = srv.cfg.NewAdapter(n)
	if sr, ok := n.adapter.(SharedRecovery); ok && n.recovery != nil {
		n.shared = sr
		n.recovery.useShared(sr)
		sr.EnableRecovery(n.recovery.cfg)
	}
	return n
}

// Name returns the namespace's name, such as "/" or "/admin".
func (n *Namespace) Name() string { return n.name }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// Use adds a middleware, run in the order added.
func (n *Namespace) Use(m Middleware) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.middlewares = append(n.middlewares, m)
}

// OnConnection adds a handler called for each socket that joins.
func (n *Namespace) OnConnection(h func(*Socket)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.onConnect = append(n.onConnect, h)
}

// On sets the handler of event for every socket of the namespace, present
// and future. A handler a socket sets for itself (Socket.On) takes
// precedence; a socket's OnAny handler comes after this one. Handlers set
// here cost a socket nothing, where each Socket.On costs memory for as long
// as the socket lives: prefer this for handlers that all sockets share.
func (n *Namespace) On(event string, h EventHandler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.handlers == nil {
		n.handlers = make(map[string]EventHandler)
	}
	n.handlers[event] = h
}

// handler returns the namespace's handler of event, or nil.
func (n *Namespace) handler(event string) EventHandler {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.handlers[event]
}

// Socket returns the local socket with the given id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// SocketCount returns the number of local sockets in the namespace.
func (n *Namespace) SocketCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

// To selects the sockets in any of rooms for a broadcast.
func (n *Namespace) To(rooms ...string) *BroadcastOperator {
	return (&BroadcastOperator{nsp: n}).To(rooms...)
}

// Except excludes the sockets in any of rooms from a broadcast.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator {
	return (&BroadcastOperator{nsp: n}).Except(rooms...)
}

// Emit sends an event to every socket in the namespace.
func (n *Namespace) Emit(event string, args ...any) error {
	return (&BroadcastOperator{nsp: n}).Emit(event, args...)
}

// Local selects this node's sockets only, for a broadcast or an operation
// on sockets.
func (n *Namespace) Local() *BroadcastOperator {
	return &BroadcastOperator{nsp: n, local: true}
}

// FetchSockets describes every socket of the namespace, on every node.
func (n *Namespace) FetchSockets(ctx context.Context) ([]RemoteSocket, error) {
	return (&BroadcastOperator{nsp: n}).FetchSockets(ctx)
}

// SocketsJoin makes every socket of the namespace, on every node, join
// rooms.
func (n *Namespace) SocketsJoin(rooms ...string) error {
	return (&BroadcastOperator{nsp: n}).SocketsJoin(rooms...)
}

// SocketsLeave makes every socket of the namespace, on every node, leave
// rooms.
func (n *Namespace) SocketsLeave(rooms ...string) error {
	return (&BroadcastOperator{nsp: n}).SocketsLeave(rooms...)
}

// DisconnectSockets disconnects every socket of the namespace, on every
// node.
func (n *Namespace) DisconnectSockets(closeConn bool) error {
	return (&BroadcastOperator{nsp: n}).DisconnectSockets(closeConn)
}

// Deliver sends b to this node's sockets as a broadcast made here reaches
// them (kept for replay when recovery is on), but to no other node: a
// cluster adapter calls it with what other nodes broadcast. It sets
// b.Local.
//
// With a SharedRecovery adapter, b.Offset is the broadcast's offset in the
// shared log, and the adapter calls Deliver in the log's order, for this
// node's own broadcasts too.
func (n *Namespace) Deliver(b *Broadcast) error {
	b.Local = true
	if n.recovery == nil {
		return n.adapterBroadcast(b)
	}
	return n.recordAndBroadcast(b)
}

// broadcast hands b to the adapter; with recovery on, it first gives the
// event its offset and keeps it for replay, unless the adapter shares
// recovery: then b goes to the shared log, and reaches this node's sockets
// when the adapter delivers it back, with its offset (see SharedRecovery).
func (n *Namespace) broadcast(b *Broadcast) error {
	if n.recovery == nil || n.shared != nil && !b.Local {
		return n.adapterBroadcast(b)
	}
	return n.recordAndBroadcast(b)
}

func (n *Namespace) recordAndBroadcast(b *Broadcast) error {
	n.orderMu.Lock()
	defer n.orderMu.Unlock()
	n.recovery.record(b)
	return n.adapterBroadcast(b)
}

// adapterBroadcast hands b to the adapter, and counts the local sockets it
// was queued for.
func (n *Namespace) adapterBroadcast(b *Broadcast) error {
	err := n.adapter.Broadcast(b)
	if b.sent > 0 {
		n.srv.obs.EventsSent(b.sent)
		b.sent = 0
	}
	return err
}

// connect runs the middleware for a new socket and, if it passes, adds the
// socket to the namespace, answers the CONNECT and calls the handlers. With
// recovery on, a client that sends the private id and offset of a session
// still kept gets that socket back, with the events it missed.
func (n *Namespace) connect(c *conn, auth json.RawMessage) (*Socket, error) {
	var (
		restored *SessionState
		seq      uint64 // the offset the restored socket's replay starts after
		offset   string // the same in a shared log
	)
	if n.recovery != nil {
		if pid, off, ok := parseRecoveryAuth(auth); ok {
			if n.shared != nil {
				restored, offset = n.restoreShared(pid, off), off
			} else {
				restored, seq, _ = n.recovery.restore(pid, off)
			}
			if restored == nil {
				n.srv.obs.Recovery(false)
			}
		}
	}
	so, err := newSocket(n, c, auth, restored)
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	middlewares := n.middlewares
	handlers := n.onConnect
	n.mu.RUnlock()
	if restored == nil || n.recovery.cfg.RunMiddlewares {
		for _, m := range middlewares {
			if err := m(so); err != nil {
				return nil, err
			}
		}
	}

	if restored != nil {
		so.restoring = restored.Rooms
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrDisconnected
	}
	c.setSocketLocked(so)
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()
	n.mu.Lock()
	n.sockets[so.id] = so
	n.mu.Unlock()
	if n.shared != nil {
		// From now on the session is kept where every node can take it
		// back: a restored one at once, as its old copy is gone.
		so.mu.Lock()
		so.tracked = true
		so.mu.Unlock()
		if restored != nil {
			n.shared.SessionChanged(so)
		}
	}

	reply, err := json.Marshal(struct {
		SID string `json:"sid"`
		PID string `json:"pid,omitempty"`
	}{so.id, so.pid})
	if err != nil {
		return nil, fmt.Errorf("socketio: encoding connect reply: %w", err)
	}
	first := encodeForEngine(&sioparser.Packet{Type: sioparser.PacketConnect, Namespace: n.name, Data: reply})
	if restored != nil {
		// A restored socket hears it is connected first, then gets what it
		// missed, in pieces, then joins its rooms; only then do the
		// handlers run, with its rooms back, and what they send follows.
		// As the client takes in the missed events (it is connected), its
		// offset moves on: if it is cut off on the way, it comes back from
		// there. This may wait for the client: it runs on a goroutine of
		// its own, and what the connection receives meanwhile waits.
		c.startReplay(func() {
			var err error
			if n.shared != nil {
				err = so.catchUpShared(first, restored.Rooms, offset)
			} else {
				err = so.catchUp(first, restored.Rooms, seq)
			}
			if err != nil {
				c.logger().Debug("replay of missed events failed", logKeyNamespace, n.name, logKeyError, err)
				if errors.Is(err, ErrRecoveryGap) {
					n.srv.obs.Recovery(false)
					c.eio.Close()
				}
				return // the connection is closing; onClose follows
			}
			n.srv.obs.Recovery(true)
			n.connected(so, handlers, nil)
		})
		return so, nil
	}
	n.adapter.Join(so, so.id)
	if n.shared != nil {
		n.shared.SessionChanged(so)
	}
	n.connected(so, handlers, first)
	return so, nil
}

// connected calls the connection handlers of a socket that is in its
// rooms, then sends first, the CONNECT reply unless it went already, and
// what was sent to the socket meanwhile. The handlers run before the client
// hears it is connected, so that whatever they set up (rooms joined, say)
// is in place by then, as in the reference server; what they send follows
// the CONNECT reply, and then what they gave Socket.Async.
func (n *Namespace) connected(so *Socket, handlers []func(*Socket), first []eioparser.Packet) {
	if obs := n.srv.cfg.Observer; obs != nil {
		obs.SocketConnected(so)
	}
	so.holdFirst(first)
	for _, h := range handlers {
		h(so)
	}
	// An error means the connection is closing; onClose follows.
	_ = so.release()
	so.runDeferred()
}

func (n *Namespace) remove(so *Socket) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sockets[so.id] == so {
		delete(n.sockets, so.id)
	}
}
