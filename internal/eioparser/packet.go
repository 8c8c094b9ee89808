package eioparser

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"iter"
)

// PacketType is an Engine.IO packet type, encoded as one ASCII digit. Its
// String method returns the spec's name of the type.
type PacketType byte

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=PacketType -linecomment

// The Engine.IO v4 packet types.
const (
	PacketOpen    PacketType = '0' // open
	PacketClose   PacketType = '1' // close
	PacketPing    PacketType = '2' // ping
	PacketPong    PacketType = '3' // pong
	PacketMessage PacketType = '4' // message
	PacketUpgrade PacketType = '5' // upgrade
	PacketNoop    PacketType = '6' // noop
)

// Packet is one Engine.IO packet. Binary is set only for message packets
// carrying binary data.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool
}

// PayloadSeparator separates the packets of an HTTP long-polling payload.
const PayloadSeparator = '\x1e'

// DecodeText decodes one text packet as received in a WebSocket text frame
// or in a polling payload. Data aliases text.
func DecodeText(text []byte) (Packet, error) {
	if len(text) == 0 {
		return Packet{}, fmt.Errorf("%w: empty", ErrInvalidPacket)
	}
	t := PacketType(text[0])
	if t < PacketOpen || t > PacketNoop {
		return Packet{}, fmt.Errorf("%w: unknown type %q", ErrInvalidPacket, text[0])
	}
	return Packet{Type: t, Data: text[1:]}, nil
}

// DecodePayload decodes an HTTP long-polling payload: packets separated by
// 0x1e, binary ones as "b" followed by base64. Text data aliases payload.
// It fails if any packet is invalid; to act on each packet as it is
// decoded, without holding them all, range over Payload instead.
func DecodePayload(payload []byte) ([]Packet, error) {
	var packets []Packet
	for p, err := range Payload(payload) {
		if err != nil {
			return nil, err
		}
		packets = append(packets, p)
	}
	return packets, nil
}

// Payload yields the packets of an HTTP long-polling payload one by one, as
// DecodePayload decodes them, and stops after yielding the first error with
// a zero Packet. It holds nothing but the payload itself, so that a payload
// of many small packets costs no memory per packet. Text data aliases
// payload.
func Payload(payload []byte) iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		if len(payload) == 0 {
			yield(Packet{}, fmt.Errorf("%w: empty", ErrInvalidPayload))
			return
		}
		for rest := payload; rest != nil; {
			part := rest
			if i := bytes.IndexByte(rest, PayloadSeparator); i >= 0 {
				part, rest = rest[:i], rest[i+1:]
				if len(rest) == 0 {
					yield(Packet{}, fmt.Errorf("%w: trailing separator", ErrInvalidPayload))
					return
				}
			} else {
				rest = nil
			}
			p, err := decodePayloadPacket(part)
			if !yield(p, err) || err != nil {
				return
			}
		}
	}
}

// CheckPayload reports whether payload is a valid polling payload, as
// DecodePayload would, without holding its packets or decoding its binary
// ones into memory: a server can check a payload whole before it acts on any
// of its packets, then range over Payload.
func CheckPayload(payload []byte) error {
	var scratch [768]byte // the decoding of 1,024 base64 characters
	if len(payload) == 0 {
		return fmt.Errorf("%w: empty", ErrInvalidPayload)
	}
	for rest := payload; rest != nil; {
		part := rest
		if i := bytes.IndexByte(rest, PayloadSeparator); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
			if len(rest) == 0 {
				return fmt.Errorf("%w: trailing separator", ErrInvalidPayload)
			}
		} else {
			rest = nil
		}
		if len(part) > 0 && part[0] == 'b' {
			if err := checkBase64(part[1:], scratch[:]); err != nil {
				return fmt.Errorf("%w: bad base64: %v", ErrInvalidPayload, err)
			}
			continue
		}
		if _, err := DecodeText(part); err != nil {
			return fmt.Errorf("decoding payload: %w", err)
		}
	}
	return nil
}

// checkBase64 decodes b in pieces of 1,024 characters into scratch, which
// holds at least 768 bytes, and reports the first error. Padding can only
// end the last piece, so each piece decodes as the whole would.
func checkBase64(b, scratch []byte) error {
	if err := noNewlines(b); err != nil {
		return err
	}
	const piece = 1024
	for len(b) > piece {
		if _, err := base64.StdEncoding.Decode(scratch, b[:piece]); err != nil {
			return err
		}
		b = b[piece:]
	}
	_, err := base64.StdEncoding.Decode(scratch, b)
	return err
}

// noNewlines refuses CR and LF in base64, which encoding/base64 skips:
// clients send none, and skipping them would make a piece of 1,024
// characters (checkBase64) decode differently from the whole.
func noNewlines(b []byte) error {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		return fmt.Errorf("line break at byte %d", i)
	}
	return nil
}

// decodePayloadPacket decodes one packet of a polling payload.
func decodePayloadPacket(part []byte) (Packet, error) {
	if len(part) > 0 && part[0] == 'b' {
		if err := noNewlines(part[1:]); err != nil {
			return Packet{}, fmt.Errorf("%w: bad base64: %v", ErrInvalidPayload, err)
		}
		data := make([]byte, base64.StdEncoding.DecodedLen(len(part)-1))
		n, err := base64.StdEncoding.Decode(data, part[1:])
		if err != nil {
			return Packet{}, fmt.Errorf("%w: bad base64: %v", ErrInvalidPayload, err)
		}
		return Packet{Type: PacketMessage, Data: data[:n], Binary: true}, nil
	}
	p, err := DecodeText(part)
	if err != nil {
		return Packet{}, fmt.Errorf("decoding payload: %w", err)
	}
	return p, nil
}

// AppendPayloadPacket appends p to a polling payload being built in dst,
// with a separator before it unless it is the first.
func AppendPayloadPacket(dst []byte, p Packet) []byte {
	if len(dst) > 0 {
		dst = append(dst, PayloadSeparator)
	}
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, byte(p.Type))
	return append(dst, p.Data...)
}

// PayloadSize is the number of bytes p takes in a polling payload, its
// separator included: at most what AppendPayloadPacket appends for it.
func PayloadSize(p Packet) int {
	if p.Binary {
		return 2 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 2 + len(p.Data)
}
