package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/sioparser"
)

// Handshake is what the client sent when it connected.
type Handshake struct {
	// Auth is the CONNECT packet's payload, "{}" when it had none.
	Auth json.RawMessage
	// Headers and URL are those of the Engine.IO handshake request.
	Headers http.Header
	URL     *url.URL
	// Address is the client's remote address.
	Address string
	// Secure is true when the connection uses TLS.
	Secure bool
	// Time is when the socket connected.
	Time time.Time
}

// Query returns the query parameters of the handshake request.
func (h *Handshake) Query() url.Values { return h.URL.Query() }

// EventHandler handles one event received on a socket.
type EventHandler func(so *Socket, e *Event)

// Socket is one client's membership of one namespace. It is safe for
// concurrent use.
type Socket struct {
	id        string
	pid       string // private session id, with recovery on
	recovered bool
	nsp       *Namespace
	conn      *conn
	handshake Handshake

	mu           sync.Mutex
	connected    bool
	handlers     map[string]EventHandler
	anyHandler   EventHandler
	onDisconnect []func(*Socket, DisconnectReason)
	acks         map[uint64]*pendingAck
	nextAckID    uint64
	data         any
	// connecting is set until the CONNECT reply is sent; held keeps what
	// is sent to the socket until then.
	connecting atomic.Bool
	held       []eioparser.Packet
	// deferred keeps what Socket.Async was given while connecting, to run
	// once the CONNECT reply is queued.
	deferred []func()
	// restoring holds a restored socket's rooms until it has caught up
	// and joined them (see Socket.catchUp): if it closes before, they are
	// what recovery keeps.
	restoring []string
	// tracked is set once a SharedRecovery adapter keeps the socket's
	// session: its data changes are then told to it.
	tracked bool
}

func newSocket(n *Namespace, c *conn, auth json.RawMessage, restored *SessionState) (*Socket, error) {
	so := &Socket{
		nsp:       n,
		conn:      c,
		connected: true,
	}
	so.connecting.Store(true)
	switch {
	case restored != nil:
		so.id, so.pid, so.data, so.recovered = restored.SID, restored.PID, restored.Data, true
	case n.recovery != nil:
		id, err := newSocketID()
		if err != nil {
			return nil, err
		}
		so.pid = id
		fallthrough
	default:
		id, err := newSocketID()
		if err != nil {
			return nil, err
		}
		so.id = id
	}
	r := c.eio.Request()
	so.handshake = Handshake{
		Auth:    auth,
		Headers: r.Header,
		URL:     r.URL,
		Address: r.RemoteAddr,
		Secure:  r.TLS != nil,
		Time:    time.Now(),
	}
	return so, nil
}

// newSocketID returns 20 random URL-safe characters.
func newSocketID() (string, error) {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("socketio: socket id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// ID returns the socket's id, which is also the name of its own room.
func (so *Socket) ID() string { return so.id }

// Namespace returns the socket's namespace.
func (so *Socket) Namespace() *Namespace { return so.nsp }

// Recovered reports whether the socket was restored by connection state
// recovery: it kept its id, rooms and data, and got the events it missed.
func (so *Socket) Recovered() bool { return so.recovered }

// Handshake returns what the client sent when it connected.
func (so *Socket) Handshake() *Handshake { return &so.handshake }

// Transport returns the name of the connection's current transport.
func (so *Socket) Transport() string { return so.conn.eio.Transport() }

// Connected reports whether the socket is still in its namespace.
func (so *Socket) Connected() bool {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.connected
}

// SetData attaches application data to the socket.
//
// With a cluster adapter that shares recovery, the data goes into the
// session that other nodes may restore, as its JSON encoding (see
// SharedRecovery): a socket restored by another node has it back as a
// json.RawMessage.
func (so *Socket) SetData(v any) {
	so.mu.Lock()
	so.data = v
	tracked := so.tracked && so.connected
	connected := so.connected
	so.mu.Unlock()
	if tracked {
		so.nsp.shared.SessionChanged(so)
	}
	if obs := so.observer(); obs != nil && connected {
		obs.SocketUpdated(so)
	}
}

// Data returns what SetData attached.
func (so *Socket) Data() any {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.data
}

// On sets the handler of an event, replacing any earlier one.
func (so *Socket) On(event string, h EventHandler) {
	so.mu.Lock()
	defer so.mu.Unlock()
	if so.handlers == nil {
		so.handlers = make(map[string]EventHandler)
	}
	so.handlers[event] = h
}

// OnAny sets the handler of events that have no handler of their own.
func (so *Socket) OnAny(h EventHandler) {
	so.mu.Lock()
	defer so.mu.Unlock()
	so.anyHandler = h
}

// OnDisconnect adds a handler called once when the socket leaves its
// namespace, with the reason.
func (so *Socket) OnDisconnect(h func(*Socket, DisconnectReason)) {
	so.mu.Lock()
	defer so.mu.Unlock()
	so.onDisconnect = append(so.onDisconnect, h)
}

// Join adds the socket to rooms.
func (so *Socket) Join(rooms ...string) { so.nsp.adapter.Join(so, rooms...) }

// Leave removes the socket from a room.
func (so *Socket) Leave(room string) { so.nsp.adapter.Leave(so, room) }

// Rooms returns the rooms the socket is in, its own room included.
func (so *Socket) Rooms() []string { return so.nsp.adapter.Rooms(so) }

// To starts a broadcast to rooms that leaves this socket out.
func (so *Socket) To(rooms ...string) *BroadcastOperator {
	return so.nsp.To(rooms...).Except(so.id)
}

// Broadcast starts a broadcast to the whole namespace but this socket.
func (so *Socket) Broadcast() *BroadcastOperator {
	return so.nsp.Except(so.id)
}

// Emit sends an event to this socket. []byte arguments, also inside
// []any and map[string]any values, are sent as binary attachments.
//
// With recovery on, an event to one socket is not kept for replay, unlike
// a broadcast: what an application sends a socket as it connects (such as
// a chat's history) can be sent again, and keeping it made every
// connection grow the log. Such an event carries no offset, and clients
// keep the offset of the last broadcast they got. One exception: the
// official client takes an event's last argument for its offset whenever it
// is a string (the event name, for an event without arguments), so an event
// whose last argument is a string is sent as a broadcast to the socket's own
// room, with an offset, and kept, as in the reference server.
func (so *Socket) Emit(event string, args ...any) error {
	p, err := newEventPacket(so.nsp.name, event, args)
	if err != nil {
		return err
	}
	if so.nsp.recovery != nil && p.Type == sioparser.PacketEvent && lastArgIsString(p.Data) {
		if so.nsp.shared != nil {
			return so.emitAtOffset(p)
		}
		if !so.Connected() {
			return ErrDisconnected
		}
		return so.nsp.broadcast(&Broadcast{Packet: p, Rooms: []string{so.id}})
	}
	return so.sendEvent(p)
}

// EmitRaw sends an event whose arguments are already encoded; attachments
// are those the arguments' placeholders refer to. It sends exactly those
// arguments: even with recovery on, the event is never kept for replay and
// carries no offset (but see Emit about a last argument that is a string).
func (so *Socket) EmitRaw(event string, args []json.RawMessage, attachments [][]byte) error {
	return so.sendEvent(newRawEventPacket(so.nsp.name, event, args, attachments))
}

// AckHandler receives the client's acknowledgement of an event, or an
// error: ErrAckTimeout, or ErrDisconnected.
type AckHandler func(reply *sioparser.Message, err error)

// EmitWithAck sends an event that the client acknowledges; h is called
// once, with the acknowledgement or with an error after timeout (no
// timeout when it is zero) or on disconnect.
func (so *Socket) EmitWithAck(event string, timeout time.Duration, h AckHandler, args ...any) error {
	p, err := newEventPacket(so.nsp.name, event, args)
	if err != nil {
		return err
	}
	return so.sendWithAck(p, timeout, h)
}

// EmitRawWithAck is EmitWithAck with arguments already encoded;
// attachments are those their placeholders refer to.
func (so *Socket) EmitRawWithAck(event string, timeout time.Duration, h AckHandler, args []json.RawMessage, attachments [][]byte) error {
	return so.sendWithAck(newRawEventPacket(so.nsp.name, event, args, attachments), timeout, h)
}

// sendWithAck sends p with the next acknowledgement id, and calls h with
// the acknowledgement, or an error.
func (so *Socket) sendWithAck(p *sioparser.Packet, timeout time.Duration, h AckHandler) error {
	so.mu.Lock()
	if !so.connected {
		so.mu.Unlock()
		return ErrDisconnected
	}
	so.nextAckID++
	id := so.nextAckID
	pa := &pendingAck{handler: h}
	if so.acks == nil {
		so.acks = make(map[uint64]*pendingAck)
	}
	so.acks[id] = pa
	if timeout > 0 {
		pa.timer = time.AfterFunc(timeout, func() {
			if pa := so.takeAck(id); pa != nil {
				pa.handler(nil, ErrAckTimeout)
			}
		})
	}
	so.mu.Unlock()
	p.ID, p.HasID = id, true
	if err := so.sendEvent(p); err != nil {
		so.takeAck(id)
		return err
	}
	return nil
}

// pendingAck is an acknowledgement the server waits for.
type pendingAck struct {
	handler AckHandler
	timer   *time.Timer
}

// takeAck removes and returns a pending acknowledgement, stopping its timer.
func (so *Socket) takeAck(id uint64) *pendingAck {
	so.mu.Lock()
	defer so.mu.Unlock()
	pa := so.acks[id]
	if pa == nil {
		return nil
	}
	delete(so.acks, id)
	if pa.timer != nil {
		pa.timer.Stop()
	}
	return pa
}

// sendEvent queues one event packet for this socket, and counts it sent.
func (so *Socket) sendEvent(p *sioparser.Packet) error {
	if err := so.send(p); err != nil {
		return err
	}
	so.nsp.srv.obs.EventsSent(1)
	return nil
}

// send queues one packet for this socket.
func (so *Socket) send(p *sioparser.Packet) error {
	if !so.Connected() {
		return ErrDisconnected
	}
	return so.queue(encodeForEngine(p), nil)
}

// deliver queues an encoded broadcast for this socket, tracked by t when
// it is set, and reports whether it did.
func (so *Socket) deliver(frames []eioparser.Packet, t *Tracker) bool {
	// A full queue closes the connection; the socket is then removed by
	// HandleClose, so there is nothing more to do here.
	return so.queue(frames, t) == nil
}

// queue sends frames, tracked by t when it is set, or holds them while the
// socket is connecting: what the middleware and connection handlers send,
// and what is broadcast to the socket meanwhile, follows the CONNECT reply,
// which goes out once the handlers have run (see Namespace.connect). Held
// frames are not tracked. Once connecting is cleared, release has queued
// what was held, so that frames queued directly come after it.
func (so *Socket) queue(frames []eioparser.Packet, t *Tracker) error {
	if so.connecting.Load() {
		so.mu.Lock()
		if so.connecting.Load() {
			so.held = append(so.held, frames...)
			so.mu.Unlock()
			return nil
		}
		so.mu.Unlock()
	}
	return so.conn.eio.SendTracked(t, frames...)
}

// holdFirst puts first ahead of what is held while connecting, so that
// release sends it first, with what the handlers send after it, in one
// array.
func (so *Socket) holdFirst(first []eioparser.Packet) {
	if len(first) == 0 {
		return
	}
	so.mu.Lock()
	defer so.mu.Unlock()
	so.held = append(first, so.held...)
}

// release sends what was held while connecting and ends the connecting
// phase.
//
// The order matters: connecting is cleared only once the held frames are
// queued. A sender that sees it cleared (queue, Stream.TrySend) queues on
// the session at once, without Socket.mu; had it been cleared before,
// such a sender (a broadcast to a room the socket joined in its handlers)
// could queue its packet ahead of the CONNECT reply, and the client drops
// an event for a namespace it is not yet connected to. While it is still
// set, a sender waits for Socket.mu, which this holds, and comes after.
func (so *Socket) release() error {
	so.mu.Lock()
	defer so.mu.Unlock()
	frames := so.held
	so.held = nil
	if h := so.nsp.srv.cfg.releasing; h != nil {
		h(so)
	}
	err := so.conn.send(frames...)
	so.connecting.Store(false)
	return err
}

// Disconnect removes the socket from its namespace, telling the client;
// with closeConn, the whole connection is closed too.
func (so *Socket) Disconnect(closeConn bool) {
	if so.Connected() {
		_ = so.queue(encodeForEngine(&sioparser.Packet{Type: sioparser.PacketDisconnect, Namespace: so.nsp.name}), nil)
		so.onClose(ReasonServerDisconnect)
	}
	if closeConn {
		so.conn.eio.Close()
	}
}

// CloseTransport closes the socket's underlying connection, after flushing
// what is queued, without a DISCONNECT packet: the client sees "transport
// close" and, by default, reconnects. Every socket of the connection
// disconnects with reason "forced close".
func (so *Socket) CloseTransport() { so.conn.eio.Close() }

// onEvent dispatches an event packet to its handler.
func (so *Socket) onEvent(p *sioparser.Packet) {
	name, args, err := sioparser.EventName(p.Data)
	if err != nil {
		so.conn.logger().Debug("invalid event", logKeyError, err)
		so.conn.eio.Close()
		return
	}
	so.nsp.srv.obs.EventReceived(so.nsp.name, name)
	so.mu.Lock()
	h := so.handlers[name]
	anyHandler := so.anyHandler
	connected := so.connected
	so.mu.Unlock()
	if h == nil {
		h = so.nsp.handler(name)
	}
	if h == nil {
		h = anyHandler
	}
	obs := so.observer()
	if (h == nil && obs == nil) || !connected {
		so.conn.logger().Debug("event without handler", logKeyEvent, name)
		return
	}
	e := &Event{Name: name, Message: sioparser.Message{Args: args, Attachments: p.Attachments}, socket: so}
	if p.HasID {
		e.ackID, e.hasAck = p.ID, true
	}
	if obs != nil {
		obs.EventReceived(so, e)
	}
	if h == nil {
		so.conn.logger().Debug("event without handler", logKeyEvent, name)
		return
	}
	h(so, e)
}

// onAck hands an acknowledgement to the handler waiting for it.
func (so *Socket) onAck(p *sioparser.Packet) {
	if !p.HasID {
		return
	}
	pa := so.takeAck(p.ID)
	if pa == nil {
		return // late (timed out) or unknown: ignore, as the reference does
	}
	args, err := sioparser.SplitArgs(p.Data)
	if err != nil {
		pa.handler(nil, fmt.Errorf("socketio: decoding ack: %w", err))
		return
	}
	pa.handler(&sioparser.Message{Args: args, Attachments: p.Attachments}, nil)
}

// onClose removes the socket once, fails its pending acknowledgements and
// calls its disconnect handlers.
func (so *Socket) onClose(reason DisconnectReason) {
	so.mu.Lock()
	if !so.connected {
		so.mu.Unlock()
		return
	}
	so.connected = false
	acks := so.acks
	so.acks = nil
	handlers := so.onDisconnect
	data := so.data
	rooms := so.restoring
	so.mu.Unlock()

	if so.nsp.recovery != nil && so.pid != "" {
		var s *SessionState
		if recoverable(reason) {
			if rooms == nil {
				rooms = so.Rooms()
			}
			s = &SessionState{SID: so.id, PID: so.pid, Rooms: rooms, Data: data}
		}
		switch {
		case so.nsp.shared != nil:
			so.nsp.shared.SessionClosed(so, s)
		case s != nil:
			so.nsp.recovery.persist(s)
		}
	}
	if obs := so.observer(); obs != nil {
		obs.SocketDisconnected(so, reason)
	}
	so.nsp.adapter.LeaveAll(so)
	so.nsp.remove(so)
	so.conn.removeSocket(so)
	for _, pa := range acks {
		if pa.timer != nil {
			pa.timer.Stop()
		}
		pa.handler(nil, ErrDisconnected)
	}
	for _, h := range handlers {
		h(so, reason)
	}
}
