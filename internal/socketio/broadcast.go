package socketio

import (
	"context"
	"encoding/json"
	"errors"
)

// BroadcastOperator selects the sockets of a broadcast or of an operation
// on sockets: on every node of the cluster, unless Local. Its methods that
// select return new operators; an operator is safe for concurrent use.
type BroadcastOperator struct {
	nsp     *Namespace
	rooms   []string
	except  []string
	local   bool
	tracker *Tracker
}

// To adds rooms to those the broadcast reaches.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := *b
	c.rooms = append(append([]string(nil), b.rooms...), rooms...)
	return &c
}

// Except leaves out the sockets in any of rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := *b
	c.except = append(append([]string(nil), b.except...), rooms...)
	return &c
}

// Local keeps the broadcast or operation to this node's sockets.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := *b
	c.local = true
	return &c
}

// Track times the broadcast's way to this node's sockets with t (see
// Tracker), which the caller releases once Emit has returned.
func (b *BroadcastOperator) Track(t *Tracker) *BroadcastOperator {
	c := *b
	c.tracker = t
	return &c
}

// Emit encodes the event once and sends it to every selected socket. An
// error after encoding means the other nodes will not get it (see
// Adapter.Broadcast); this node's sockets got it.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	p, err := newEventPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	return b.nsp.broadcast(&Broadcast{Packet: p, Rooms: b.rooms, Except: b.except, Local: b.local, Tracker: b.tracker})
}

// EmitRaw broadcasts an event whose arguments are already encoded.
func (b *BroadcastOperator) EmitRaw(event string, args []json.RawMessage, attachments [][]byte) error {
	p := newRawEventPacket(b.nsp.name, event, args, attachments)
	return b.nsp.broadcast(&Broadcast{Packet: p, Rooms: b.rooms, Except: b.except, Local: b.local, Tracker: b.tracker})
}

// Sockets returns the selected local sockets.
func (b *BroadcastOperator) Sockets() []*Socket {
	return b.nsp.adapter.Sockets(b.rooms, b.except)
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) error {
	if b.local {
		joinLocal(b.nsp.adapter, b.rooms, b.except, rooms)
		return nil
	}
	return b.nsp.adapter.AddSockets(b.rooms, b.except, rooms)
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...string) error {
	if b.local {
		leaveLocal(b.nsp.adapter, b.rooms, b.except, rooms)
		return nil
	}
	return b.nsp.adapter.DelSockets(b.rooms, b.except, rooms)
}

// DisconnectSockets disconnects the selected sockets; with closeConn,
// their connections are closed too.
func (b *BroadcastOperator) DisconnectSockets(closeConn bool) error {
	if b.local {
		disconnectLocal(b.nsp.adapter, b.rooms, b.except, closeConn)
		return nil
	}
	return b.nsp.adapter.DisconnectSockets(b.rooms, b.except, closeConn)
}

// FetchSockets describes the selected sockets. When some node does not
// answer in time, it returns those it has with an error.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]RemoteSocket, error) {
	var list []RemoteSocket
	var err error
	if b.local {
		list = fetchLocal(b.nsp.adapter, b.rooms, b.except)
	} else {
		list, err = b.nsp.adapter.FetchSockets(ctx, b.rooms, b.except)
	}
	for i := range list {
		list[i].nsp = b.nsp
	}
	return list, err
}

// The operations on this node's sockets alone, for any adapter.

func joinLocal(a Adapter, rooms, except, join []string) {
	for _, so := range a.Sockets(rooms, except) {
		a.Join(so, join...)
	}
}

func leaveLocal(a Adapter, rooms, except, leave []string) {
	for _, so := range a.Sockets(rooms, except) {
		for _, r := range leave {
			a.Leave(so, r)
		}
	}
}

func disconnectLocal(a Adapter, rooms, except []string, closeConn bool) {
	for _, so := range a.Sockets(rooms, except) {
		so.Disconnect(closeConn)
	}
}

func fetchLocal(a Adapter, rooms, except []string) []RemoteSocket {
	sockets := a.Sockets(rooms, except)
	list := make([]RemoteSocket, len(sockets))
	for i, so := range sockets {
		list[i] = so.Describe()
	}
	return list
}

// ErrNoSequencer is returned by EmitInSequence on a namespace whose
// adapter is no Sequencer.
var ErrNoSequencer = errors.New("socketio: the adapter keeps no shared log of sequences")

// EmitInSequence encodes the event once and appends it to the cluster's
// shared log as number id of the sequence seq (see Sequencer), from which
// every node's selected sockets get it, this node's too. done is called
// with the outcome; it must not block.
func (b *BroadcastOperator) EmitInSequence(seq string, id int64, force bool, done func(SequenceResult), event string, args ...any) error {
	sq, ok := b.nsp.adapter.(Sequencer)
	if !ok {
		return ErrNoSequencer
	}
	p, err := newEventPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	return sq.BroadcastInSequence(&Broadcast{Packet: p, Rooms: b.rooms, Except: b.except}, seq, id, force, done)
}
