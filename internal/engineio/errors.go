package engineio

import (
	"errors"
)

// Errors returned by Session.Send.
var (
	ErrClosed       = errors.New("engineio: session closed")
	ErrSlowConsumer = errors.New("engineio: send queue full")
)

// requestError is an HTTP error the reference server answers with.
type requestError struct {
	status  int
	code    int
	message string
}

// The reference server's request errors.
var (
	errUnknownTransport = requestError{400, 0, "Transport unknown"}
	errUnknownSID       = requestError{400, 1, "Session ID unknown"}
	errBadHandshake     = requestError{400, 2, "Bad handshake method"}
	errBadRequest       = requestError{400, 3, "Bad request"}
	errForbidden        = requestError{403, 4, "Forbidden"}
	errBadVersion       = requestError{400, 5, "Unsupported protocol version"}
	errTooLarge         = requestError{413, 3, "Payload too large"}
)

// errBodyTimeout is parley's own: the reference server has no body timeout
// but Node.js's, which closes the connection after 5 minutes.
var errBodyTimeout = requestError{408, 3, "Request timeout"}
