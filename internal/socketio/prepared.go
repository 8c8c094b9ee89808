package socketio

import (
	"errors"

	"github.com/parley-chat/parley/internal/eioparser"
)

// ErrOtherNamespace refuses to send a PreparedEvent to a socket of a
// namespace other than the one it was prepared for.
var ErrOtherNamespace = errors.New("socketio: event prepared for another namespace")

// A PreparedEvent is an event encoded once, to be sent as it is to many
// sockets of one namespace, each on its own: what every new connection
// gets, or a chat room's recent messages, sent as history to each socket
// that joins it, would otherwise be encoded again for each, and that
// garbage, in a burst of connections, is memory the process keeps. The
// sockets' queues share its bytes.
//
// It is sent as Socket.EmitRaw sends: even with recovery on, it is not
// kept for replay and carries no offset (see Socket.Emit about an event
// whose last argument is a string). A PreparedEvent never changes, and is
// safe for concurrent use.
type PreparedEvent struct {
	nsp    string
	frames []eioparser.Packet
	size   int
}

// PrepareEvent encodes an event for the sockets of n, with its arguments
// as Socket.Emit takes them.
func (n *Namespace) PrepareEvent(event string, args ...any) (*PreparedEvent, error) {
	p, err := newEventPacket(n.name, event, args)
	if err != nil {
		return nil, err
	}
	pe := &PreparedEvent{nsp: n.name, frames: encodeForEngine(p)}
	for _, f := range pe.frames {
		pe.size += eioparser.PayloadSize(f)
	}
	return pe, nil
}

// Size returns the bytes of the encoded event, as a send queue counts them
// (without the queue's own cost per entry): what keeping it costs, about.
func (pe *PreparedEvent) Size() int { return pe.size }

// Frames returns the event's Engine.IO messages, which the caller must not
// modify.
func (pe *PreparedEvent) Frames() []eioparser.Packet { return pe.frames }

// EmitPrepared sends this socket the event pe, prepared for its namespace.
func (so *Socket) EmitPrepared(pe *PreparedEvent) error {
	if pe.nsp != so.nsp.name {
		return ErrOtherNamespace
	}
	if !so.Connected() {
		return ErrDisconnected
	}
	if err := so.queue(pe.frames, nil); err != nil {
		return err
	}
	so.nsp.srv.obs.EventsSent(1)
	return nil
}

// EmitPrepared keeps the event pe, prepared for the socket's namespace, to
// be queued by Send or TrySend, as Emit does.
func (st *Stream) EmitPrepared(pe *PreparedEvent) error {
	if pe.nsp != st.so.nsp.name {
		return ErrOtherNamespace
	}
	st.frames = append(st.frames, pe.frames...)
	st.size += pe.size
	st.events++
	return nil
}
