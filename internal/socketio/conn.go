package socketio

import (
	"encoding/json"
	"errors"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioparser"
)

// Log attribute keys.
const (
	logKeySID       = "sid"
	logKeyNamespace = "nsp"
	logKeyError     = "err"
	logKeyEvent     = "event"
)

// conn is the Socket.IO side of one Engine.IO session: it decodes packets
// and routes them to the sockets it holds, one per joined namespace.
type conn struct {
	srv   *Server
	eio   *engineio.Session
	reasm *sioparser.PacketReassembler // used by handleMessage, never concurrently

	mu           sync.Mutex
	sockets      []*Socket // one per joined namespace: few, of those the server has
	closed       bool
	connectTimer *time.Timer
	// replayDone is set while a restored socket's replay, or a function
	// given to Socket.Async, runs on a goroutine of its own (see
	// startReplay), and closed when it is over; the messages that arrive
	// meanwhile wait in waiting, for it to handle them after.
	replayDone   chan struct{}
	waiting      []waitingMessage
	waitingBytes int
}

// waitingMessage is a message received during a replay.
type waitingMessage struct {
	data   []byte
	binary bool
}

// waitingOverhead is what a waiting message is counted for besides its
// data.
const waitingOverhead = 64

// newConn is the engineio.Config.NewSession hook.
func (s *Server) newConn(es *engineio.Session) engineio.Handler {
	c := &conn{
		srv:   s,
		eio:   es,
		reasm: sioparser.NewPacketReassembler(s.cfg.MaxAttachmentBytes),
	}
	c.connectTimer = time.AfterFunc(s.cfg.ConnectTimeout, c.onConnectTimeout)
	if s.cfg.Observer != nil {
		s.cfg.Observer.ConnOpened(es.Transport())
	}
	return c
}

// logger returns a logger for this connection, made on demand.
func (c *conn) logger() *slog.Logger { return c.srv.log.With(logKeySID, c.eio.ID()) }

func (c *conn) onConnectTimeout() {
	c.mu.Lock()
	idle := len(c.sockets) == 0 && !c.closed
	c.mu.Unlock()
	if idle {
		c.logger().Debug("no namespace joined in time")
		c.eio.Close()
	}
}

// send queues encoded packets on the session.
func (c *conn) send(msgs ...eioparser.Packet) error {
	return c.eio.Send(msgs...)
}

// sendPacket encodes p and queues it.
func (c *conn) sendPacket(p *sioparser.Packet) error {
	return c.send(encodeForEngine(p)...)
}

// HandleMessage implements engineio.Handler. While a replay runs, it only
// keeps the message for the replay's goroutine to handle after, in order,
// so that it returns at once: a polling POST that carries a CONNECT then
// ends, and the client can go on (poll, upgrade, answer pings) while its
// missed events stream in. What waits is bounded by twice the largest
// message a client may send.
func (c *conn) HandleMessage(data []byte, binary bool) {
	c.mu.Lock()
	if c.replayDone != nil {
		c.waitingBytes += len(data) + waitingOverhead
		over := c.waitingBytes > c.srv.maxWaiting
		if !over {
			c.waiting = append(c.waiting, waitingMessage{data, binary})
		}
		c.mu.Unlock()
		if over {
			c.logger().Debug("too much received during a replay; closing connection")
			c.eio.Close()
		}
		return
	}
	c.mu.Unlock()
	c.handleMessage(data, binary)
}

// startReplay runs replay, a restored socket's catch-up and connection
// handlers or what an application gave Socket.Async, on a goroutine of its
// own, which then handles the messages that arrived meanwhile. Called from that goroutine (a CONNECT among those
// messages), it runs replay there and then.
func (c *conn) startReplay(replay func()) {
	c.mu.Lock()
	if c.replayDone != nil {
		c.mu.Unlock()
		c.guard(replay)
		return
	}
	done := make(chan struct{})
	c.replayDone = done
	c.mu.Unlock()
	go func() {
		defer close(done)
		c.guard(replay)
		for {
			c.mu.Lock()
			msgs := c.waiting
			c.waiting, c.waitingBytes = nil, 0
			if len(msgs) == 0 || c.closed {
				c.replayDone = nil
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			for _, m := range msgs {
				c.handleMessage(m.data, m.binary)
			}
		}
	}()
}

// guard runs f, closing the connection if it panics.
func (c *conn) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.logger().Error("handler panicked; closing connection", "panic", r, "stack", string(debug.Stack()))
			c.eio.Close()
		}
	}()
	f()
}

// handleMessage decodes a message and hands its packet to its socket.
func (c *conn) handleMessage(data []byte, binary bool) {
	c.guard(func() { c.dispatch(data, binary) })
}

func (c *conn) dispatch(data []byte, binary bool) {
	var (
		p   *sioparser.Packet
		err error
	)
	if binary {
		p, err = c.reasm.AddBinary(data)
	} else {
		p, err = c.reasm.AddText(data)
	}
	if err != nil {
		c.logger().Debug("invalid packet", logKeyError, err)
		c.eio.Close()
		return
	}
	if p == nil {
		return // waiting for attachments
	}
	switch p.Type {
	case sioparser.PacketConnect:
		c.onConnect(p)
	case sioparser.PacketDisconnect:
		if so := c.socket(p.Namespace); so != nil {
			so.onClose(ReasonClientDisconnect)
		}
	case sioparser.PacketEvent, sioparser.PacketBinaryEvent:
		if so := c.socket(p.Namespace); so != nil {
			so.onEvent(p)
		}
	case sioparser.PacketAck, sioparser.PacketBinaryAck:
		if so := c.socket(p.Namespace); so != nil {
			so.onAck(p)
		}
	default:
		c.logger().Debug("unexpected packet from client", "type", p.Type.String())
		c.eio.Close()
	}
}

// HandleClose implements engineio.Handler. It waits for a replay under
// way to end, as it does, the session being closed: the disconnect
// handlers then come after the connection handlers, as they would without
// a replay.
func (c *conn) HandleClose(reason eioparser.CloseReason) {
	if obs := c.srv.cfg.Observer; obs != nil {
		obs.ConnClosed(DisconnectReason(reason))
	}
	c.mu.Lock()
	c.closed = true
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	replay := c.replayDone
	c.mu.Unlock()
	if replay != nil {
		<-replay
	}
	c.mu.Lock()
	sockets := slices.Clone(c.sockets)
	c.mu.Unlock()
	for _, so := range sockets {
		so.onClose(DisconnectReason(reason))
	}
}

func (c *conn) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.socketLocked(nsp)
}

// socketLocked returns the socket of namespace nsp, nil if none; c.mu is
// held.
func (c *conn) socketLocked(nsp string) *Socket {
	for _, so := range c.sockets {
		if so.nsp.name == nsp {
			return so
		}
	}
	return nil
}

// setSocketLocked makes so the connection's socket of its namespace, in
// place of any other; c.mu is held.
func (c *conn) setSocketLocked(so *Socket) {
	for i, old := range c.sockets {
		if old.nsp.name == so.nsp.name {
			c.sockets[i] = so
			return
		}
	}
	c.sockets = append(c.sockets, so)
}

func (c *conn) removeSocket(so *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.sockets, so); i >= 0 {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	}
}

// errInvalidNamespace is what the reference server answers for a namespace
// that does not exist.
var errInvalidNamespace = &ConnectError{Message: "Invalid namespace"}

// onConnect joins the namespace a CONNECT packet names.
func (c *conn) onConnect(p *sioparser.Packet) {
	n := c.srv.namespace(p.Namespace)
	if n == nil {
		c.refuse(p.Namespace, errInvalidNamespace)
		return
	}
	c.mu.Lock()
	dup := c.socketLocked(n.name) != nil
	closed := c.closed
	c.mu.Unlock()
	if dup || closed {
		c.logger().Debug("duplicate connect", logKeyNamespace, n.name)
		return
	}
	auth := p.Data
	if len(auth) == 0 {
		auth = json.RawMessage("{}")
	}
	so, err := n.connect(c, auth)
	if err != nil {
		var ce *ConnectError
		if !errors.As(err, &ce) {
			ce = &ConnectError{Message: err.Error()}
		}
		c.refuse(n.name, ce)
		return
	}
	_ = so
}

func (c *conn) refuse(nsp string, e *ConnectError) {
	_ = c.sendPacket(&sioparser.Packet{Type: sioparser.PacketConnectError, Namespace: nsp, Data: e.payload()})
}
