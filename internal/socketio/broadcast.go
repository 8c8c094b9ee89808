package socketio

import "encoding/json"

// BroadcastOperator selects the sockets of a broadcast. Its methods return
// new operators; an operator is safe for concurrent use.
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
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

// Emit encodes the event once and sends it to every selected socket.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	p, err := newEventPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	b.nsp.broadcast(&Broadcast{Packet: p, Rooms: b.rooms, Except: b.except})
	return nil
}

// EmitRaw broadcasts an event whose arguments are already encoded.
func (b *BroadcastOperator) EmitRaw(event string, args []json.RawMessage, attachments [][]byte) {
	p := newRawEventPacket(b.nsp.name, event, args, attachments)
	b.nsp.broadcast(&Broadcast{Packet: p, Rooms: b.rooms, Except: b.except})
}

// Sockets returns the selected local sockets.
func (b *BroadcastOperator) Sockets() []*Socket {
	return b.nsp.adapter.Sockets(b.rooms, b.except)
}

// DisconnectSockets disconnects the selected local sockets.
func (b *BroadcastOperator) DisconnectSockets(closeConn bool) {
	for _, so := range b.Sockets() {
		so.Disconnect(closeConn)
	}
}
