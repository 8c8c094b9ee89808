package wire

import "errors"

// Errors of the decoders, wrapped with context; test with errors.Is. Any of
// them means the peer sent what the format does not allow: the message is
// to be dropped.
var (
	// ErrUnknownType means the type is not one of the message types.
	ErrUnknownType = errors.New("wire: unknown message type")
	// ErrNoNamespace means the message names no namespace.
	ErrNoNamespace = errors.New("wire: message without namespace")
	// ErrMalformed means the message or its data is not of the shape its
	// type requires, or not valid JSON or MessagePack.
	ErrMalformed = errors.New("wire: malformed message")
	// ErrTooDeep means a value nests deeper than MaxDepth.
	ErrTooDeep = errors.New("wire: value nested too deep")
)
