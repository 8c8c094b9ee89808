package sioparser

import "errors"

// Errors returned by the decoders (DecodePacket, PacketReassembler and the
// argument helpers). They are wrapped with context; test with errors.Is. Any
// of them on an incoming packet means the peer broke the protocol and the
// connection should be closed, as the official server does.
var (
	// ErrInvalidPacketType means the first character is not a packet type
	// from 0 to 6 (or the packet is empty).
	ErrInvalidPacketType = errors.New("sioparser: invalid packet type")

	// ErrInvalidAttachmentCount means a BINARY_EVENT or BINARY_ACK packet
	// does not start with <digits>-.
	ErrInvalidAttachmentCount = errors.New("sioparser: invalid attachment count")

	// ErrTooManyAttachments means a packet announces more than
	// MaxPacketAttachments attachments.
	ErrTooManyAttachments = errors.New("sioparser: too many attachments")

	// ErrInvalidPacketNamespace means the namespace is not valid UTF-8.
	ErrInvalidPacketNamespace = errors.New("sioparser: invalid packet namespace")

	// ErrInvalidAckID means the acknowledgement id is too long or too large,
	// present on a packet type that cannot carry one, or missing from an
	// ACK or BINARY_ACK.
	ErrInvalidAckID = errors.New("sioparser: invalid ack id")

	// ErrInvalidPacketPayload means the payload is not valid JSON or not of
	// the shape the packet type requires.
	ErrInvalidPacketPayload = errors.New("sioparser: invalid packet payload")

	// ErrUnexpectedAttachment means a binary message arrived while no packet
	// was awaiting attachments.
	ErrUnexpectedAttachment = errors.New("sioparser: unexpected binary attachment")

	// ErrAttachmentsPending means a text message arrived while a packet was
	// still awaiting binary attachments.
	ErrAttachmentsPending = errors.New("sioparser: text packet while attachments pending")

	// ErrAttachmentsTooLarge means the attachments of one packet exceed the
	// PacketReassembler's byte limit.
	ErrAttachmentsTooLarge = errors.New("sioparser: attachments too large")

	// ErrInvalidPlaceholder means a binary packet holds a placeholder object
	// whose num is not the index of one of its attachments.
	ErrInvalidPlaceholder = errors.New("sioparser: invalid attachment placeholder")

	// ErrInvalidEventArgs means event or ack data is not a JSON array, or an
	// event lacks its name.
	ErrInvalidEventArgs = errors.New("sioparser: invalid event arguments")

	// ErrInvalidArgJSON means an argument given to AppendEventArgs as
	// json.RawMessage is not valid JSON, or a value cannot be encoded.
	ErrInvalidArgJSON = errors.New("sioparser: invalid argument JSON")
)

// ErrArgument is what Message's accessors return when the message has no
// argument at the index asked for, or the argument does not decode into the
// value given: a mismatch with what the application expects, not a protocol
// error.
var ErrArgument = errors.New("sioparser: invalid argument")
