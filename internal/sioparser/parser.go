package sioparser

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The text encoding of a packet, as the spec's "Format" section gives it:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// Each packet travels as one Engine.IO message; the '4' message prefix and
// the binary attachments, which follow as separate binary messages, are the
// caller's business.

const (
	// MaxPacketAttachments is the most binary attachments one packet may
	// announce; DecodePacket rejects more with ErrTooManyAttachments. The
	// official server allows 10 by default.
	MaxPacketAttachments = 1000

	// MaxAckID is the largest acknowledgement id DecodePacket accepts,
	// 2^53-1: the largest integer a JavaScript peer holds exactly.
	MaxAckID = 1<<53 - 1

	// maxAckIDDigits bounds the digits, leading zeros included, of an
	// ack id; len("9007199254740991") is 16.
	maxAckIDDigits = 16

	// maxCountDigits bounds the digits of an attachment count.
	maxCountDigits = 10
)

// EncodePacket appends the text encoding of p to dst and returns the
// extended buffer. It writes no Engine.IO prefix. For BINARY_EVENT and
// BINARY_ACK it announces len(p.Attachments) attachments, which the caller
// sends after the text as binary messages, in order; other types ignore
// p.Attachments.
//
// EncodePacket does not validate p: the namespace must start with '/' and
// hold no ',', Data must be valid JSON of the shape the type requires (see
// DecodePacket), and Type must be one of the Packet constants. An empty
// namespace means "/". EncodePacket allocates only to grow dst.
func EncodePacket(dst []byte, p *Packet) []byte {
	dst = append(dst, '0'+byte(p.Type))
	if p.Type == PacketBinaryEvent || p.Type == PacketBinaryAck {
		dst = strconv.AppendUint(dst, uint64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// DecodePacket parses one text packet, without its Engine.IO '4' prefix,
// and returns it with the number of binary attachments it announces. It
// validates as strictly as the official server and returns an error wrapping
// one of the codec's sentinel errors when:
//
//   - the type is not 0-6 (ErrInvalidPacketType);
//   - a BINARY_EVENT or BINARY_ACK count is not <digits>- or exceeds
//     MaxPacketAttachments (ErrInvalidAttachmentCount, ErrTooManyAttachments);
//   - the namespace is not valid UTF-8 (ErrInvalidPacketNamespace);
//   - an ack id has more than 16 digits, exceeds MaxAckID, appears on a
//     CONNECT, DISCONNECT or CONNECT_ERROR, or is missing from an ACK or
//     BINARY_ACK (ErrInvalidAckID);
//   - the payload is not valid JSON, or not: an object or nothing for
//     CONNECT; nothing for DISCONNECT; an array starting with a string (the
//     event name) for EVENT and BINARY_EVENT; an array for ACK and
//     BINARY_ACK; an object, a string or nothing for CONNECT_ERROR
//     (ErrInvalidPacketPayload). Checking for reserved event names is the
//     caller's job.
//
// A namespace starts with '/' right after the type (and count) and runs to
// the first ',' or, like the official parser, to the end of the text, so
// "0/admin" and "0/admin," both connect to "/admin". Absent, it is "/".
//
// The returned packet's Data aliases text, with its capacity clipped, and
// holds the payload exactly as sent; it is nil when there is none. The caller
// must not modify or reuse text while the packet is in use (a
// PacketReassembler copies Data when it holds a packet). Attachments is nil:
// attach them with a PacketReassembler.
func DecodePacket(text []byte) (p *Packet, attachments int, err error) {
	if len(text) == 0 {
		return nil, 0, fmt.Errorf("decode packet: empty: %w", ErrInvalidPacketType)
	}
	c := text[0]
	if c < '0' || c > '6' {
		return nil, 0, fmt.Errorf("decode packet: type %q: %w", c, ErrInvalidPacketType)
	}
	p = &Packet{Type: PacketType(c - '0'), Namespace: "/"}
	i := 1

	binary := p.Type == PacketBinaryEvent || p.Type == PacketBinaryAck
	if binary {
		start := i
		for i < len(text) && isDigit(text[i]) {
			i++
		}
		if i == start || i >= len(text) || text[i] != '-' {
			return nil, 0, fmt.Errorf("decode packet: %v without <count>-: %w", p.Type, ErrInvalidAttachmentCount)
		}
		if i-start > maxCountDigits {
			return nil, 0, fmt.Errorf("decode packet: attachment count longer than %d digits: %w", maxCountDigits, ErrTooManyAttachments)
		}
		n := parseDigits(text[start:i])
		if n > MaxPacketAttachments {
			return nil, 0, fmt.Errorf("decode packet: %d attachments, limit %d: %w", n, MaxPacketAttachments, ErrTooManyAttachments)
		}
		attachments = int(n)
		i++ // '-'
	}

	if i < len(text) && text[i] == '/' {
		end := len(text)
		if j := bytes.IndexByte(text[i:], ','); j >= 0 {
			end = i + j
		}
		ns := text[i:end]
		if !utf8.Valid(ns) {
			return nil, 0, fmt.Errorf("decode packet: namespace not UTF-8: %w", ErrInvalidPacketNamespace)
		}
		p.Namespace = string(ns)
		i = min(end+1, len(text))
	}

	if i < len(text) && isDigit(text[i]) {
		start := i
		for i < len(text) && isDigit(text[i]) {
			i++
		}
		if i-start > maxAckIDDigits {
			return nil, 0, fmt.Errorf("decode packet: ack id longer than %d digits: %w", maxAckIDDigits, ErrInvalidAckID)
		}
		id := parseDigits(text[start:i])
		if id > MaxAckID {
			return nil, 0, fmt.Errorf("decode packet: ack id %d above %d: %w", id, uint64(MaxAckID), ErrInvalidAckID)
		}
		switch p.Type {
		case PacketEvent, PacketBinaryEvent, PacketAck, PacketBinaryAck:
		default:
			return nil, 0, fmt.Errorf("decode packet: ack id on %v: %w", p.Type, ErrInvalidAckID)
		}
		p.ID, p.HasID = id, true
	}
	if !p.HasID && (p.Type == PacketAck || p.Type == PacketBinaryAck) {
		return nil, 0, fmt.Errorf("decode packet: %v without ack id: %w", p.Type, ErrInvalidAckID)
	}

	if i < len(text) {
		p.Data = text[i:len(text):len(text)]
	}
	if err := checkPayload(p.Type, p.Data); err != nil {
		return nil, 0, fmt.Errorf("decode packet: %v: %w", p.Type, err)
	}
	return p, attachments, nil
}

// checkPayload checks that data, nil when absent, is valid JSON of the
// shape packets of type t carry.
func checkPayload(t PacketType, data []byte) error {
	if data == nil {
		switch t {
		case PacketConnect, PacketDisconnect, PacketConnectError:
			return nil
		}
		return fmt.Errorf("missing payload: %w", ErrInvalidPacketPayload)
	}
	if t == PacketDisconnect {
		return fmt.Errorf("unexpected payload: %w", ErrInvalidPacketPayload)
	}
	if !validJSON(data) {
		return fmt.Errorf("payload not valid JSON: %w", ErrInvalidPacketPayload)
	}
	i := skipWS(data, 0) // valid JSON: data[i] exists
	switch first := data[i]; t {
	case PacketConnect:
		if first != '{' {
			return fmt.Errorf("payload not an object: %w", ErrInvalidPacketPayload)
		}
	case PacketConnectError:
		if first != '{' && first != '"' {
			return fmt.Errorf("payload neither object nor string: %w", ErrInvalidPacketPayload)
		}
	case PacketAck, PacketBinaryAck:
		if first != '[' {
			return fmt.Errorf("payload not an array: %w", ErrInvalidPacketPayload)
		}
	case PacketEvent, PacketBinaryEvent:
		if first != '[' {
			return fmt.Errorf("payload not an array: %w", ErrInvalidPacketPayload)
		}
		if j := skipWS(data, i+1); data[j] != '"' {
			return fmt.Errorf("payload does not start with an event name: %w", ErrInvalidPacketPayload)
		}
	}
	return nil
}

// parseDigits returns the value of the ASCII digits d; callers bound
// len(d) to at most 19 so that it cannot overflow.
func parseDigits(d []byte) uint64 {
	var n uint64
	for _, c := range d {
		n = n*10 + uint64(c-'0')
	}
	return n
}
