package sioparser

import (
	"encoding/json"
)

// PacketType is the type of a Socket.IO v5 packet, the first character of
// its encoding. Its String method returns the spec's name of the type.
type PacketType byte

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=PacketType -linecomment

// The Socket.IO v5 packet types.
const (
	PacketConnect      PacketType = 0 // CONNECT
	PacketDisconnect   PacketType = 1 // DISCONNECT
	PacketEvent        PacketType = 2 // EVENT
	PacketAck          PacketType = 3 // ACK
	PacketConnectError PacketType = 4 // CONNECT_ERROR
	PacketBinaryEvent  PacketType = 5 // BINARY_EVENT
	PacketBinaryAck    PacketType = 6 // BINARY_ACK
)

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
