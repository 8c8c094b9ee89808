package eioparser

import (
	"bytes"
	"encoding/base64"
	"fmt"
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
func DecodePayload(payload []byte) ([]Packet, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidPayload)
	}
	packets := make([]Packet, 0, bytes.Count(payload, []byte{PayloadSeparator})+1)
	for len(payload) > 0 || len(packets) == 0 {
		part := payload
		if i := bytes.IndexByte(payload, PayloadSeparator); i >= 0 {
			part, payload = payload[:i], payload[i+1:]
			if len(payload) == 0 {
				return nil, fmt.Errorf("%w: trailing separator", ErrInvalidPayload)
			}
		} else {
			payload = nil
		}
		if len(part) > 0 && part[0] == 'b' {
			data := make([]byte, base64.StdEncoding.DecodedLen(len(part)-1))
			n, err := base64.StdEncoding.Decode(data, part[1:])
			if err != nil {
				return nil, fmt.Errorf("%w: bad base64: %v", ErrInvalidPayload, err)
			}
			packets = append(packets, Packet{Type: PacketMessage, Data: data[:n], Binary: true})
			continue
		}
		p, err := DecodeText(part)
		if err != nil {
			return nil, fmt.Errorf("decoding payload: %w", err)
		}
		packets = append(packets, p)
	}
	return packets, nil
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
