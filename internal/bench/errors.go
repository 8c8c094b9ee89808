package bench

import "errors"

// Errors a run reports, in Result.Errors by their text, or returns.
var (
	// ErrConfig wraps an invalid Config.
	ErrConfig = errors.New("bench: invalid configuration")
	// ErrNoClients is returned when no client could connect.
	ErrNoClients = errors.New("bench: no client connected")
	// ErrHandshake is a bad or missing Engine.IO open packet.
	ErrHandshake = errors.New("bench: engine.io handshake failed")
	// ErrConnectRefused is a Socket.IO CONNECT_ERROR from the server.
	ErrConnectRefused = errors.New("bench: socket.io connect refused")
	// ErrServerClose is an Engine.IO close packet from the server.
	ErrServerClose = errors.New("bench: engine.io close from server")
	// ErrKicked is a Socket.IO DISCONNECT from the server.
	ErrKicked = errors.New("bench: socket.io disconnect from server")
	// ErrFrameTooLarge is a frame or payload beyond maxFrame.
	ErrFrameTooLarge = errors.New("bench: frame too large")
	// ErrStatus is an HTTP answer other than 200 to a polling request.
	ErrStatus = errors.New("bench: polling request failed")
)

// errStopped ends a slow reader's read loop: it stops reading, and leaves
// its connection open.
var errStopped = errors.New("bench: stopped reading")

// The hostile client's (Config.Hostile).
var (
	// errClosedByServer is a close frame, or a close packet, where the
	// hostile client waited for something else.
	errClosedByServer = errors.New("bench: connection closed by the server")
	// errStepTimeout is a step of the hostile client that had no answer
	// in time.
	errStepTimeout = errors.New("bench: no answer within the step's time")
)
