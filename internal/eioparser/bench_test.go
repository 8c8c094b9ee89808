package eioparser_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/eioparser"
)

// benchPayload is a polling payload of 16 packets: chat-sized text
// messages, a ping and a binary one.
var benchPayload = func() []byte {
	var b []byte
	for i := range 16 {
		switch i {
		case 7:
			b = eioparser.AppendPayloadPacket(b, eioparser.Packet{Type: eioparser.PacketPong})
		case 11:
			b = eioparser.AppendPayloadPacket(b, eioparser.Packet{Type: eioparser.PacketMessage, Data: make([]byte, 64), Binary: true})
		default:
			b = eioparser.AppendPayloadPacket(b, eioparser.Packet{Type: eioparser.PacketMessage, Data: []byte(`2["chat-message",{"room":"general","text":"hello, world"}]`)})
		}
	}
	return b
}()

func BenchmarkDecodePayload(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if _, err := eioparser.DecodePayload(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPayloadPacket(b *testing.B) {
	packets, err := eioparser.DecodePayload(benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	buf := make([]byte, 0, 2*len(benchPayload))
	for b.Loop() {
		buf = buf[:0]
		for _, p := range packets {
			buf = eioparser.AppendPayloadPacket(buf, p)
		}
	}
}
