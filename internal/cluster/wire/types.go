package wire

import "encoding/json"

// Type is the type of a cluster message, socket.io-adapter's MessageType.
// Its String method returns the reference's name of the type.
type Type int

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Type -linecomment

// The message types, numbered as in socket.io-adapter.
const (
	TypeInitialHeartbeat       Type = 1  // INITIAL_HEARTBEAT
	TypeHeartbeat              Type = 2  // HEARTBEAT
	TypeBroadcast              Type = 3  // BROADCAST
	TypeSocketsJoin            Type = 4  // SOCKETS_JOIN
	TypeSocketsLeave           Type = 5  // SOCKETS_LEAVE
	TypeDisconnectSockets      Type = 6  // DISCONNECT_SOCKETS
	TypeFetchSockets           Type = 7  // FETCH_SOCKETS
	TypeFetchSocketsResponse   Type = 8  // FETCH_SOCKETS_RESPONSE
	TypeServerSideEmit         Type = 9  // SERVER_SIDE_EMIT
	TypeServerSideEmitResponse Type = 10 // SERVER_SIDE_EMIT_RESPONSE
	TypeBroadcastClientCount   Type = 11 // BROADCAST_CLIENT_COUNT
	TypeBroadcastAck           Type = 12 // BROADCAST_ACK
	TypeAdapterClose           Type = 13 // ADAPTER_CLOSE
)

// The first and last message types.
const typeFirst, typeLast = TypeInitialHeartbeat, TypeAdapterClose

// valid reports whether t is one of the message types.
func (t Type) valid() bool { return t >= typeFirst && t <= typeLast }

// hasData reports whether messages of type t carry data: all but the
// heartbeats and ADAPTER_CLOSE.
func (t Type) hasData() bool {
	return t != TypeInitialHeartbeat && t != TypeHeartbeat && t != TypeAdapterClose
}

// mayHoldBinary reports whether the data of type t may hold binary values,
// and so is sent as MessagePack when it does; other types always go as JSON.
func (t Type) mayHoldBinary() bool {
	switch t {
	case TypeBroadcast, TypeFetchSocketsResponse, TypeServerSideEmit, TypeServerSideEmitResponse, TypeBroadcastAck:
		return true
	}
	return false
}

// IsResponse reports whether t answers a request: it is published on the
// private channel of the node that asked.
func (t Type) IsResponse() bool {
	switch t {
	case TypeFetchSocketsResponse, TypeServerSideEmitResponse, TypeBroadcastClientCount, TypeBroadcastAck:
		return true
	}
	return false
}

// EmitterUID is the uid of the messages of @socket.io/redis-emitter, a
// process that publishes but is no node of the cluster.
const EmitterUID = "emitter"

// Message is one cluster message. Which fields beside UID, Nsp and Type
// are meaningful depends on Type; the others are zero.
type Message struct {
	// UID is the id of the node that sent the message.
	UID string
	// Nsp is the namespace, such as "/".
	Nsp  string
	Type Type

	// Opts selects the sockets of BROADCAST, SOCKETS_JOIN, SOCKETS_LEAVE,
	// DISCONNECT_SOCKETS and FETCH_SOCKETS.
	Opts Options
	// RequestID ties a request to its responses: FETCH_SOCKETS,
	// SERVER_SIDE_EMIT and BROADCAST when they expect answers, and every
	// response. Empty when absent.
	RequestID string
	// Packet is the event of a BROADCAST.
	Packet Packet
	// Rooms are what SOCKETS_JOIN joins and SOCKETS_LEAVE leaves.
	Rooms []string
	// Close tells DISCONNECT_SOCKETS to close the connections too.
	Close bool
	// Args is what SERVER_SIDE_EMIT sends: a JSON array of the event name
	// and its arguments.
	Args Value
	// Reply is the answer of SERVER_SIDE_EMIT_RESPONSE and BROADCAST_ACK.
	Reply Value
	// Sockets are the sockets of FETCH_SOCKETS_RESPONSE.
	Sockets []SocketInfo
	// ClientCount is the count of BROADCAST_CLIENT_COUNT: how many sockets
	// of the answering node got the broadcast.
	ClientCount int64
}

// Ephemeral reports whether m travels over PUB/SUB rather than in the
// stream: the requests FETCH_SOCKETS and SERVER_SIDE_EMIT, a BROADCAST that
// expects acknowledgements, every response, the heartbeats and
// ADAPTER_CLOSE. (The reference publishes the last three in neither way;
// parley's nodes send them over PUB/SUB, which its peers ignore.)
func (m *Message) Ephemeral() bool {
	switch m.Type {
	case TypeBroadcast:
		return m.RequestID != ""
	case TypeSocketsJoin, TypeSocketsLeave, TypeDisconnectSockets:
		return false
	}
	return true
}

// Options selects sockets: those in any of Rooms (every socket of the
// namespace when Rooms is empty), less those in any of Except. A socket's
// id is a room with that socket alone.
type Options struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// Flags are the broadcast flags of socket.io-adapter's BroadcastFlags.
// Unknown flags are ignored when decoding, false ones are not sent.
type Flags struct {
	Volatile  bool
	Compress  bool
	Local     bool
	Broadcast bool
	Binary    bool
	// Timeout is the acknowledgement timeout in milliseconds, 0 when unset.
	Timeout int64
}

// Packet is the Socket.IO packet of a BROADCAST, as socket.io-adapter
// passes it: Type is 2 (EVENT) for events, binary or not, and Data is the
// JSON array of the event name and arguments.
type Packet struct {
	Type int
	Data Value
	// Nsp is the packet's namespace, empty when absent (the reference
	// sends none; the message's Nsp is the one that counts).
	Nsp string
	// ID is the acknowledgement id, when HasID.
	ID    int64
	HasID bool
}

// SocketInfo describes a socket in a FETCH_SOCKETS_RESPONSE.
type SocketInfo struct {
	ID string
	// Handshake is the reference's handshake object: headers, time,
	// address, xdomain, secure, issued, url, query, auth.
	Handshake Value
	Rooms     []string
	// Data is what the application attached to the socket, null if nothing.
	Data Value
}

// Value is a JSON value in which binary data is a placeholder object
// {"_placeholder":true,"num":N}, N indexing Attachments.
type Value struct {
	JSON        json.RawMessage
	Attachments [][]byte
}

// binary reports whether v holds binary data.
func (v *Value) binary() bool { return len(v.Attachments) > 0 }

// binary reports whether m's data holds binary values.
func (m *Message) binary() bool {
	if m.Packet.Data.binary() || m.Args.binary() || m.Reply.binary() {
		return true
	}
	for i := range m.Sockets {
		if m.Sockets[i].Handshake.binary() || m.Sockets[i].Data.binary() {
			return true
		}
	}
	return false
}
