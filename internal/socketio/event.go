package socketio

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/parley-chat/parley/internal/sioparser"
)

// Event is one event received from a client.
type Event struct {
	Name string
	sioparser.Message

	socket *Socket
	ackID  uint64
	hasAck bool
	acked  sync.Once
}

// HasAck reports whether the client waits for an acknowledgement.
func (e *Event) HasAck() bool { return e.hasAck }

// Ack acknowledges the event with args. It returns ErrNoAck when the client
// asked for none, and ErrAcked after the first call.
func (e *Event) Ack(args ...any) error {
	data, atts, err := sioparser.AppendEventArgs(nil, nil, args...)
	if err != nil {
		return err
	}
	return e.sendAck(data, atts)
}

// AckRaw acknowledges the event with already encoded arguments.
func (e *Event) AckRaw(args []json.RawMessage, attachments [][]byte) error {
	return e.sendAck(appendRawArray(nil, args), attachments)
}

func (e *Event) sendAck(data []byte, atts [][]byte) error {
	if !e.hasAck {
		return ErrNoAck
	}
	err := ErrAcked
	e.acked.Do(func() {
		p := &sioparser.Packet{Type: sioparser.PacketAck, Namespace: e.socket.nsp.name, ID: e.ackID, HasID: true, Data: data, Attachments: atts}
		if len(atts) > 0 {
			p.Type = sioparser.PacketBinaryAck
		}
		err = e.socket.send(p)
	})
	return err
}

// newEventPacket encodes an event with its arguments.
func newEventPacket(nsp, event string, args []any) (*sioparser.Packet, error) {
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	data, atts, err := sioparser.AppendEventArgs(nil, nil, all...)
	if err != nil {
		return nil, fmt.Errorf("socketio: encoding %q: %w", event, err)
	}
	p := &sioparser.Packet{Type: sioparser.PacketEvent, Namespace: nsp, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = sioparser.PacketBinaryEvent
	}
	return p, nil
}

// newRawEventPacket builds an event from encoded arguments.
func newRawEventPacket(nsp, event string, args []json.RawMessage, atts [][]byte) *sioparser.Packet {
	name, _ := json.Marshal(event)
	data := appendRawArray(nil, append([]json.RawMessage{name}, args...))
	p := &sioparser.Packet{Type: sioparser.PacketEvent, Namespace: nsp, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = sioparser.PacketBinaryEvent
	}
	return p
}

func appendRawArray(dst []byte, elems []json.RawMessage) []byte {
	dst = append(dst, '[')
	for i, e := range elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e...)
	}
	return append(dst, ']')
}

// lastArgIsString reports whether the last element of an event's JSON
// array, the event name when there are no arguments, is a string.
func lastArgIsString(data json.RawMessage) bool {
	i := len(data) - 2 // before the closing bracket
	for i >= 0 && isJSONSpace(data[i]) {
		i--
	}
	return i >= 0 && data[i] == '"'
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
