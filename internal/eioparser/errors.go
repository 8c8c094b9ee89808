package eioparser

import "errors"

// Errors returned by the decoders. They are wrapped with context; test
// with errors.Is. Either on a client's input means it broke the protocol.
var (
	// ErrInvalidPacket means a packet is empty or its type is not one of
	// the Packet constants.
	ErrInvalidPacket = errors.New("eioparser: invalid packet")
	// ErrInvalidPayload means a polling payload is empty, ends with a
	// separator, or holds a binary packet that is not valid base64.
	ErrInvalidPayload = errors.New("eioparser: invalid payload")
)
