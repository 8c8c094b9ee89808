package socketio

import (
	"github.com/parley-chat/parley/internal/engineio"
)

// Observer is told what happens to a server's connections and sockets, for
// monitoring such as the Socket.IO Admin UI (Config.Observer). Its methods
// are called on the paths they observe, synchronously and in the order
// things happen for one socket, some with locks of this package and of the
// application held (docs/locking.md): they must return quickly, never
// block, take no lock but leaves of their own, and never call back into
// the server. An observer queues what it needs and acts on it on a
// goroutine of its own. Methods are called concurrently for different
// connections.
type Observer interface {
	// ConnOpened: an Engine.IO session opened, on transport.
	ConnOpened(transport string)
	// ConnClosed: an Engine.IO session closed, for reason, before its
	// sockets are told.
	ConnClosed(reason DisconnectReason)
	// SocketConnected: so joined its namespace and its own room, before
	// its connection handlers run.
	SocketConnected(so *Socket)
	// SocketUpdated: so's transport changed (an upgrade to WebSocket) or
	// its data was set (Socket.SetData).
	SocketUpdated(so *Socket)
	// SocketDisconnected: so left its namespace, for reason, before it
	// leaves its rooms.
	SocketDisconnected(so *Socket, reason DisconnectReason)
	// RoomJoined: so, a local socket, joined room, which it was not in;
	// its own room too, as it connects. The memory adapter tells it, and
	// so a cluster adapter that keeps its local rooms in one.
	RoomJoined(so *Socket, room string)
	// RoomLeft: so left room, which it was in; every room, its own
	// included, as it disconnects.
	RoomLeft(so *Socket, room string)
	// EventReceived: so received e, before its handler runs. e's
	// arguments belong to the handler: an observer that keeps them copies
	// them.
	EventReceived(so *Socket, e *Event)
}

// observer returns the socket's server's observer, or nil.
func (so *Socket) observer() Observer {
	if so.nsp == nil || so.nsp.srv == nil {
		return nil
	}
	return so.nsp.srv.cfg.Observer
}

// Namespaces returns the server's namespaces, in no particular order.
func (s *Server) Namespaces() []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := make([]*Namespace, 0, len(s.namespaces))
	for _, n := range s.namespaces {
		list = append(list, n)
	}
	return list
}

// PollingCount returns the number of open Engine.IO connections on HTTP
// long-polling, not upgraded to WebSocket.
func (s *Server) PollingCount() int { return s.eio.PollingCount() }

// Traffic returns what the server's Engine.IO connections carried so far.
func (s *Server) Traffic() engineio.Traffic { return s.eio.Traffic() }

// ClientID returns the id of the socket's Engine.IO connection, which the
// connection's sockets in other namespaces share. It is a secret of the
// client's (it lets a polling client send and receive as that connection):
// show it only to those who may act as the server.
func (so *Socket) ClientID() string { return so.conn.eio.ID() }

// HandleUpgrade implements engineio.UpgradeHandler: the connection's
// sockets moved to WebSocket.
func (c *conn) HandleUpgrade() {
	obs := c.srv.cfg.Observer
	if obs == nil {
		return
	}
	c.mu.Lock()
	sockets := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, so := range sockets {
		obs.SocketUpdated(so)
	}
}
