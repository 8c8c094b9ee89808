package socketio

import (
	"encoding/json"
	"fmt"
	"sync"
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

	mu          sync.RWMutex
	middlewares []Middleware
	onConnect   []func(*Socket)
	sockets     map[string]*Socket
}

func newNamespace(srv *Server, name string) *Namespace {
	n := &Namespace{name: name, srv: srv, sockets: make(map[string]*Socket)}
	n.adapter = srv.cfg.NewAdapter(n)
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

// connect runs the middleware for a new socket and, if it passes, adds the
// socket to the namespace, answers the CONNECT and calls the handlers.
func (n *Namespace) connect(c *conn, auth json.RawMessage) (*Socket, error) {
	so, err := newSocket(n, c, auth)
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	middlewares := n.middlewares
	handlers := n.onConnect
	n.mu.RUnlock()
	for _, m := range middlewares {
		if err := m(so); err != nil {
			return nil, err
		}
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrDisconnected
	}
	c.sockets[n.name] = so
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()
	n.mu.Lock()
	n.sockets[so.id] = so
	n.mu.Unlock()
	n.adapter.Join(so, so.id)

	reply, err := json.Marshal(struct {
		SID string `json:"sid"`
	}{so.id})
	if err != nil {
		return nil, fmt.Errorf("socketio: encoding connect reply: %w", err)
	}
	if err := c.sendPacket(&Packet{Type: PacketConnect, Namespace: n.name, Data: reply}); err != nil {
		so.onClose(ReasonServerDisconnect)
		return nil, err
	}
	for _, h := range handlers {
		h(so)
	}
	return so, nil
}

func (n *Namespace) remove(so *Socket) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sockets[so.id] == so {
		delete(n.sockets, so.id)
	}
}
