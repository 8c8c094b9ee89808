package socketio

import (
	"encoding/json"
	"errors"

	"github.com/parley-chat/parley/internal/eioparser"
)

// Errors of the server side.
var (
	ErrDisconnected = errors.New("socketio: socket disconnected")
	ErrAckTimeout   = errors.New("socketio: operation has timed out")
	ErrNoAck        = errors.New("socketio: event has no acknowledgement")
	ErrAcked        = errors.New("socketio: event already acknowledged")
)

// ConnectError refuses a connection to a namespace. Middleware returns it
// to send the client a CONNECT_ERROR packet with Message and, when set,
// Data; any other error refuses with its text as the message.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return "socketio: connection refused: " + e.Message }

// payload returns the CONNECT_ERROR payload.
func (e *ConnectError) payload() json.RawMessage {
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{e.Message, e.Data}
	b, err := json.Marshal(body)
	if err != nil {
		b, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{e.Message})
	}
	return b
}

// DisconnectReason says why a socket left its namespace. Its values are the
// reference server's reason strings: its session's close reason when the
// session closed, or one of the namespace's own.
type DisconnectReason string

// The reasons a socket disconnects. The first are its Engine.IO session's
// close reasons, as package eioparser defines them.
const (
	ReasonTransportClose = DisconnectReason(eioparser.ReasonTransportClose)
	ReasonTransportError = DisconnectReason(eioparser.ReasonTransportError)
	ReasonPingTimeout    = DisconnectReason(eioparser.ReasonPingTimeout)
	ReasonParseError     = DisconnectReason(eioparser.ReasonParseError)
	ReasonForcedClose    = DisconnectReason(eioparser.ReasonForcedClose)
	ReasonServerShutdown = DisconnectReason(eioparser.ReasonServerShutdown)
	ReasonSlowConsumer   = DisconnectReason(eioparser.ReasonSlowConsumer)

	// ReasonServerDisconnect: the server disconnected the socket
	// (Socket.Disconnect).
	ReasonServerDisconnect DisconnectReason = "server namespace disconnect"
	// ReasonClientDisconnect: the client left the namespace, or closed its
	// connection after leaving it.
	ReasonClientDisconnect DisconnectReason = "client namespace disconnect"
)
