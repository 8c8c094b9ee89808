package sioclient

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/eioparser"
)

// Errors of the client.
var (
	// ErrClosed is returned for operations on a closed connection, and by
	// EngineConn.Err after Close.
	ErrClosed = errors.New("sioclient: connection closed")
	// ErrServerClosed is EngineConn.Err when the server closed the
	// connection with a close packet or a WebSocket close frame.
	ErrServerClosed = errors.New("sioclient: connection closed by server")
	// ErrDisconnected is returned for operations on a socket that is not
	// connected to its namespace, and by EmitWithAck when the socket
	// disconnects before the acknowledgement arrives.
	ErrDisconnected = errors.New("sioclient: socket disconnected")
	// ErrHandshake means the server's first packet was not a valid open
	// packet.
	ErrHandshake = errors.New("sioclient: bad handshake")
	// ErrUpgrade means the upgrade to WebSocket failed.
	ErrUpgrade = errors.New("sioclient: upgrade failed")
)

// StatusError is an HTTP answer other than 200 to a polling request.
type StatusError struct {
	Method string // GET or POST
	Code   int    // the HTTP status
	Body   string // the answer's body, such as the server's JSON error
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("sioclient: %s: HTTP %d: %s", e.Method, e.Code, e.Body)
}

// ConnectError is the CONNECT_ERROR the server answered a namespace
// connection with.
type ConnectError struct {
	// Message is the error's "message" member, or the payload when it is
	// a bare string.
	Message string
	// Data is the error's "data" member, nil when absent.
	Data json.RawMessage
}

func (e *ConnectError) Error() string { return "sioclient: connect refused: " + e.Message }

// DisconnectReason says why a Socket disconnected. Its values are the
// JavaScript client's reason strings.
type DisconnectReason string

// The reasons a Socket disconnects, as the JavaScript client names them.
// Those of the connection beneath are the Engine.IO close reasons of
// package eioparser.
const (
	ReasonServerDisconnect DisconnectReason = "io server disconnect"
	ReasonClientDisconnect DisconnectReason = "io client disconnect"
	ReasonTransportClose                    = DisconnectReason(eioparser.ReasonTransportClose)
	ReasonTransportError                    = DisconnectReason(eioparser.ReasonTransportError)
	ReasonParseError                        = DisconnectReason(eioparser.ReasonParseError)
)
