package eioparser

// CloseReason says why an Engine.IO session closed: what the server tells
// its handler, and what a client reports when its connection ends. Its
// values are the reference implementation's reason strings, which
// Socket.IO passes on to its sockets as their disconnect reasons.
type CloseReason string

// The reasons an Engine.IO session closes.
const (
	// ReasonTransportClose: the peer closed the connection, or sent a close
	// packet.
	ReasonTransportClose CloseReason = "transport close"
	// ReasonTransportError: the connection failed, or a request broke the
	// transport's rules.
	ReasonTransportError CloseReason = "transport error"
	// ReasonPingTimeout: no pong came within the ping timeout.
	ReasonPingTimeout CloseReason = "ping timeout"
	// ReasonParseError: the peer sent what does not decode.
	ReasonParseError CloseReason = "parse error"
	// ReasonForcedClose: the server closed the session on purpose.
	ReasonForcedClose CloseReason = "forced close"
	// ReasonServerShutdown: the server is shutting down.
	ReasonServerShutdown CloseReason = "server shutting down"
	// ReasonSlowConsumer: the session's send queue overflowed its bound.
	ReasonSlowConsumer CloseReason = "slow consumer"
)
