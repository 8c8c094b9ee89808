package sioclient

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/parley-chat/parley/internal/sioparser"
)

// Event is an event received from the server.
type Event struct {
	Name string
	// Message holds the arguments; Bind and String decode them, a binary
	// one into a *[]byte.
	sioparser.Message
	// Ack acknowledges the event; it is nil when the server asked for no
	// acknowledgement. Only the first call sends.
	Ack AckFunc
}

// AckFunc acknowledges an event with args; []byte arguments become binary
// attachments.
type AckFunc func(args ...any) error

// Handler handles one event. Handlers of a Client run one at a time, on
// its read goroutine.
type Handler func(e *Event)

// socketState is the life cycle of a Socket.
type socketState uint8

const (
	stateIdle socketState = iota
	stateConnecting
	stateConnected
	stateDisconnected
)

// ackResult is an acknowledgement, or the error that replaces it.
type ackResult struct {
	msg *sioparser.Message
	err error
}

// Socket is the client side of one namespace. It is safe for concurrent
// use. A Socket disconnected from its namespace may Connect again.
type Socket struct {
	c   *Client
	nsp string

	mu         sync.Mutex
	state      socketState
	id         string
	pid        string
	handlers   map[string]Handler
	anyHandler func(e *Event)
	acks       map[uint64]chan ackResult
	nextAckID  uint64
	ready      chan struct{} // closed when the CONNECT is answered
	connectErr error
	done       chan struct{} // closed on disconnect
	reason     DisconnectReason
}

// Namespace returns the socket's namespace.
func (so *Socket) Namespace() string { return so.nsp }

// ID returns the socket id the server assigned, "" before Connect.
func (so *Socket) ID() string {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.id
}

// PID returns the private session id the server gave with the socket id
// when connection state recovery is on, "" otherwise. A client that
// reconnects with it and the offset of the last event it got (the CONNECT
// payload {"pid", "offset"}) is recovered when the server answers with the
// same pid, as the official client's socket.recovered tells.
func (so *Socket) PID() string {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.pid
}

// Connected reports whether the socket is connected to its namespace.
func (so *Socket) Connected() bool {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.state == stateConnected
}

// Done returns a channel closed when the socket, once connected,
// disconnects. It is nil before Connect.
func (so *Socket) Done() <-chan struct{} {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.done
}

// Reason returns why the socket disconnected (ReasonServerDisconnect...),
// "" while it has not.
func (so *Socket) Reason() DisconnectReason {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.reason
}

// On sets the handler of an event, replacing any earlier one.
func (so *Socket) On(event string, h Handler) {
	so.mu.Lock()
	defer so.mu.Unlock()
	so.handlers[event] = h
}

// OnAny sets the handler of events that have no handler of their own.
func (so *Socket) OnAny(h Handler) {
	so.mu.Lock()
	defer so.mu.Unlock()
	so.anyHandler = h
}

// Connect sends the CONNECT packet, with auth as its payload unless nil,
// and waits for the answer. A refusal is returned as a *ConnectError.
func (so *Socket) Connect(ctx context.Context, auth any) error {
	p := &sioparser.Packet{Type: sioparser.PacketConnect, Namespace: so.nsp}
	if auth != nil {
		data, err := rawJSON(auth)
		if err != nil {
			return err
		}
		p.Data = data
	}
	so.mu.Lock()
	if so.state == stateConnecting || so.state == stateConnected {
		so.mu.Unlock()
		return fmt.Errorf("sioclient: namespace %s: already connected", so.nsp)
	}
	so.state = stateConnecting
	so.id, so.pid, so.reason, so.connectErr = "", "", "", nil
	so.ready = make(chan struct{})
	so.done = make(chan struct{})
	ready := so.ready
	so.mu.Unlock()

	if err := so.c.SendPacket(p); err != nil {
		so.end(ReasonTransportClose)
		return err
	}
	select {
	case <-ready:
	case <-ctx.Done():
		so.end(ReasonClientDisconnect)
		return fmt.Errorf("sioclient: connecting to %s: %w", so.nsp, ctx.Err())
	}
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.connectErr
}

// onConnect completes a Connect.
func (so *Socket) onConnect(p *sioparser.Packet) {
	var body struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}
	_ = json.Unmarshal(p.Data, &body)
	so.mu.Lock()
	defer so.mu.Unlock()
	if so.state != stateConnecting {
		return
	}
	so.state = stateConnected
	so.id, so.pid = body.SID, body.PID
	close(so.ready)
}

// onConnectError fails a Connect.
func (so *Socket) onConnectError(p *sioparser.Packet) {
	ce := &ConnectError{}
	var body struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(p.Data, &body) == nil {
		ce.Message, ce.Data = body.Message, body.Data
	} else {
		_ = json.Unmarshal(p.Data, &ce.Message) // a bare string
	}
	so.mu.Lock()
	if so.state != stateConnecting {
		so.mu.Unlock()
		return
	}
	so.connectErr = ce
	so.mu.Unlock()
	so.end(ReasonServerDisconnect)
}

// end disconnects the socket once, failing pending acknowledgements and a
// pending Connect.
func (so *Socket) end(reason DisconnectReason) {
	so.mu.Lock()
	if so.state != stateConnecting && so.state != stateConnected {
		so.mu.Unlock()
		return
	}
	if so.state == stateConnecting && so.connectErr == nil {
		so.connectErr = fmt.Errorf("sioclient: connecting to %s: %w (%s)", so.nsp, ErrDisconnected, reason)
	}
	so.state = stateDisconnected
	so.reason = reason
	acks := so.acks
	so.acks = nil
	select {
	case <-so.ready:
	default:
		close(so.ready)
	}
	close(so.done)
	so.mu.Unlock()
	for _, ch := range acks {
		ch <- ackResult{err: ErrDisconnected}
	}
}

// Disconnect leaves the namespace, telling the server.
func (so *Socket) Disconnect() error {
	if !so.Connected() {
		return ErrDisconnected
	}
	err := so.c.SendPacket(&sioparser.Packet{Type: sioparser.PacketDisconnect, Namespace: so.nsp})
	so.end(ReasonClientDisconnect)
	return err
}

// Emit sends an event. []byte arguments, also inside []any and
// map[string]any values, are sent as binary attachments.
func (so *Socket) Emit(event string, args ...any) error {
	p, err := encodeEvent(sioparser.PacketEvent, so.nsp, append([]any{event}, args...))
	if err != nil {
		return err
	}
	if !so.Connected() {
		return ErrDisconnected
	}
	return so.c.SendPacket(p)
}

// EmitWithAck sends an event and waits for its acknowledgement, until ctx
// is done (use context.WithTimeout for a timeout) or the socket
// disconnects (ErrDisconnected). It must not be called from a handler.
func (so *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*sioparser.Message, error) {
	p, err := encodeEvent(sioparser.PacketEvent, so.nsp, append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	ch := make(chan ackResult, 1)
	so.mu.Lock()
	if so.state != stateConnected {
		so.mu.Unlock()
		return nil, ErrDisconnected
	}
	id := so.nextAckID
	so.nextAckID++
	if so.acks == nil {
		so.acks = make(map[uint64]chan ackResult)
	}
	so.acks[id] = ch
	so.mu.Unlock()

	p.ID, p.HasID = id, true
	if err := so.c.SendPacket(p); err != nil {
		so.takeAck(id)
		return nil, err
	}
	select {
	case r := <-ch:
		return r.msg, r.err
	case <-ctx.Done():
		so.takeAck(id)
		return nil, fmt.Errorf("sioclient: waiting for ack of %q: %w", event, ctx.Err())
	}
}

func (so *Socket) takeAck(id uint64) chan ackResult {
	so.mu.Lock()
	defer so.mu.Unlock()
	ch := so.acks[id]
	delete(so.acks, id)
	return ch
}

// onAck hands an acknowledgement to the EmitWithAck waiting for it.
func (so *Socket) onAck(p *sioparser.Packet) {
	ch := so.takeAck(p.ID)
	if ch == nil {
		return // late or unknown
	}
	args, err := sioparser.SplitArgs(p.Data)
	if err != nil {
		ch <- ackResult{err: fmt.Errorf("sioclient: decoding ack: %w", err)}
		return
	}
	ch <- ackResult{msg: &sioparser.Message{Args: args, Attachments: p.Attachments}}
}

// onEvent calls the event's handler.
func (so *Socket) onEvent(p *sioparser.Packet) {
	name, args, err := sioparser.EventName(p.Data)
	if err != nil {
		return
	}
	so.mu.Lock()
	h := so.handlers[name]
	if h == nil {
		h = so.anyHandler
	}
	connected := so.state == stateConnected
	so.mu.Unlock()
	if h == nil || !connected {
		return
	}
	e := &Event{Name: name, Message: sioparser.Message{Args: args, Attachments: p.Attachments}}
	if p.HasID {
		var once sync.Once
		id := p.ID
		e.Ack = func(args ...any) error {
			err := fmt.Errorf("sioclient: event %q already acknowledged", name)
			once.Do(func() {
				var ack *sioparser.Packet
				if ack, err = encodeEvent(sioparser.PacketAck, so.nsp, args); err != nil {
					return
				}
				ack.ID, ack.HasID = id, true
				err = so.c.SendPacket(ack)
			})
			return err
		}
	}
	h(e)
}
