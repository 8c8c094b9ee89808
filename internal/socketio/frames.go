package socketio

import (
	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/sioparser"
)

// The glue between the two wire formats: what a Socket.IO packet becomes on
// an Engine.IO session. A packet to one socket is encoded when it is sent; a
// broadcast is encoded once, for all its recipients.

// encodeForEngine encodes p as Engine.IO messages: the text packet, then
// one binary message per attachment.
func encodeForEngine(p *sioparser.Packet) []eioparser.Packet {
	return appendForEngine(make([]eioparser.Packet, 0, 1+len(p.Attachments)), p)
}

// appendForEngine appends the Engine.IO messages of p to dst.
func appendForEngine(dst []eioparser.Packet, p *sioparser.Packet) []eioparser.Packet {
	dst = append(dst, eioparser.Packet{Type: eioparser.PacketMessage, Data: sioparser.EncodePacket(nil, p)})
	for _, a := range p.Attachments {
		dst = append(dst, eioparser.Packet{Type: eioparser.PacketMessage, Data: a, Binary: true})
	}
	return dst
}

// Frames returns the broadcast's Engine.IO messages, encoded on first use.
func (b *Broadcast) Frames() []eioparser.Packet {
	b.once.Do(func() { b.frames = encodeForEngine(b.Packet) })
	return b.frames
}

// setFrames sets the broadcast's Engine.IO messages, encoded by the caller
// (the recovery log, which encodes the event with its offset), unless they
// were encoded already.
func (b *Broadcast) setFrames(frames []eioparser.Packet) {
	b.once.Do(func() { b.frames = frames })
}
