package socketio

import "errors"

// Errors returned by the packet codec (DecodePacket, PacketReassembler and the
// argument helpers). They are wrapped with context; test with errors.Is. Any
// of them on an incoming packet means the peer broke the protocol and the
// connection should be closed, as the official server does.
var (
	// ErrInvalidPacketType means the first character is not a packet type
	// from 0 to 6 (or the packet is empty).
	ErrInvalidPacketType = errors.New("socketio: invalid packet type")

	// ErrInvalidAttachmentCount means a BINARY_EVENT or BINARY_ACK packet
	// does not start with <digits>-.
	ErrInvalidAttachmentCount = errors.New("socketio: invalid attachment count")

	// ErrTooManyAttachments means a packet announces more than
	// MaxPacketAttachments attachments.
	ErrTooManyAttachments = errors.New("socketio: too many attachments")

	// ErrInvalidPacketNamespace means the namespace is not valid UTF-8.
	ErrInvalidPacketNamespace = errors.New("socketio: invalid packet namespace")

	// ErrInvalidAckID means the acknowledgement id is too long or too large,
	// present on a packet type that cannot carry one, or missing from an
	// ACK or BINARY_ACK.
	ErrInvalidAckID = errors.New("socketio: invalid ack id")

	// ErrInvalidPacketPayload means the payload is not valid JSON or not of
	// the shape the packet type requires.
	ErrInvalidPacketPayload = errors.New("socketio: invalid packet payload")

	// ErrUnexpectedAttachment means a binary message arrived while no packet
	// was awaiting attachments.
	ErrUnexpectedAttachment = errors.New("socketio: unexpected binary attachment")

	// ErrAttachmentsPending means a text message arrived while a packet was
	// still awaiting binary attachments.
	ErrAttachmentsPending = errors.New("socketio: text packet while attachments pending")

	// ErrAttachmentsTooLarge means the attachments of one packet exceed the
	// PacketReassembler's byte limit.
	ErrAttachmentsTooLarge = errors.New("socketio: attachments too large")

	// ErrInvalidPlaceholder means a binary packet holds a placeholder object
	// whose num is not the index of one of its attachments.
	ErrInvalidPlaceholder = errors.New("socketio: invalid attachment placeholder")

	// ErrInvalidEventArgs means event or ack data is not a JSON array, or an
	// event lacks its name.
	ErrInvalidEventArgs = errors.New("socketio: invalid event arguments")

	// ErrInvalidArgJSON means an argument given to AppendEventArgs as
	// json.RawMessage is not valid JSON, or a value cannot be encoded.
	ErrInvalidArgJSON = errors.New("socketio: invalid argument JSON")
)
