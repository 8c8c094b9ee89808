package sioparser

import (
	"encoding/json"
)

// PacketType is the type of a Socket.IO v5 packet, the first character of
// its encoding.
type PacketType byte

// The Socket.IO v5 packet types.
const (
	PacketConnect      PacketType = 0
	PacketDisconnect   PacketType = 1
	PacketEvent        PacketType = 2
	PacketAck          PacketType = 3
	PacketConnectError PacketType = 4
	PacketBinaryEvent  PacketType = 5
	PacketBinaryAck    PacketType = 6
)

// String returns the spec's name of the packet type.
func (t PacketType) String() string {
	switch t {
	case PacketConnect:
		return "CONNECT"
	case PacketDisconnect:
		return "DISCONNECT"
	case PacketEvent:
		return "EVENT"
	case PacketAck:
		return "ACK"
	case PacketConnectError:
		return "CONNECT_ERROR"
	case PacketBinaryEvent:
		return "BINARY_EVENT"
	case PacketBinaryAck:
		return "BINARY_ACK"
	}
	return "UNKNOWN"
}

// Packet is one decoded Socket.IO packet.
//
// Data holds the packet's JSON payload exactly as sent, with binary
// placeholders ({"_placeholder":true,"num":N}) left in place; Attachments
// holds the binary attachments in placeholder order. A Packet is not safe for
// concurrent mutation; once encoded it may be shared read-only.
type Packet struct {
	Type PacketType
	// Namespace is the namespace, "/" when the encoding omits it.
	Namespace string
	// ID is the acknowledgement id; meaningful only when HasID is true.
	ID    uint64
	HasID bool
	// Data is the JSON payload (an array for events and acks, an object or
	// nothing for CONNECT, an object for CONNECT_ERROR), nil when absent.
	Data json.RawMessage
	// Attachments are the binary attachments, for BINARY_EVENT and BINARY_ACK.
	Attachments [][]byte
}
