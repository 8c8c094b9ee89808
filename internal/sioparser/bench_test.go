package sioparser

import (
	"encoding/json"
	"testing"
)

const benchEvent = `2["chat-message",{"name":"alice","message":"hello world"}]`

func BenchmarkEncodePacket(b *testing.B) {
	p := &Packet{Type: PacketEvent, Namespace: "/", Data: []byte(benchEvent[1:])}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		buf = EncodePacket(buf[:0], p)
	}
}

func BenchmarkEncodePacketBinaryAck(b *testing.B) {
	p := &Packet{Type: PacketBinaryAck, Namespace: "/admin", ID: 456, HasID: true,
		Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3}}}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = EncodePacket(buf[:0], p)
	}
}

func BenchmarkDecodePacket(b *testing.B) {
	text := []byte(benchEvent)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, _, err := DecodePacket(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePacketNamespaceAck(b *testing.B) {
	text := []byte(`2/admin,456["project:delete",123]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodePacket(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReassemblerBinary(b *testing.B) {
	text := []byte(`52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	att0, att1 := []byte{1, 2, 3}, []byte{4, 5, 6}
	r := NewPacketReassembler(0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.AddText(text); err != nil {
			b.Fatal(err)
		}
		if _, err := r.AddBinary(att0); err != nil {
			b.Fatal(err)
		}
		if p, err := r.AddBinary(att1); err != nil || p == nil {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkAppendEventArgs(b *testing.B) {
	msg := testMessage{Name: "alice", Message: "hello world"}
	buf := make([]byte, 0, 128)
	b.Run("string+struct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _, _ = AppendEventArgs(buf[:0], nil, "chat-message", msg)
		}
	})
	b.Run("strings", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _, _ = AppendEventArgs(buf[:0], nil, "chat-message", "alice", "hello world")
		}
	})
	raw := json.RawMessage(`{"name":"alice","message":"hello world"}`)
	b.Run("string+raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _, _ = AppendEventArgs(buf[:0], nil, "chat-message", raw)
		}
	})
	m := map[string]any{"name": "alice", "message": "hello world"}
	b.Run("string+map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _, _ = AppendEventArgs(buf[:0], nil, "chat-message", m)
		}
	})
	att := make([][]byte, 0, 4)
	bin := []byte{1, 2, 3}
	b.Run("string+binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, att, _ = AppendEventArgs(buf[:0], att[:0], "file", bin)
		}
	})
}

// BenchmarkMarshalEventArgs is the encoding/json baseline for
// BenchmarkAppendEventArgs/string+struct.
func BenchmarkMarshalEventArgs(b *testing.B) {
	msg := testMessage{Name: "alice", Message: "hello world"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal([]any{"chat-message", msg}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitArgs(b *testing.B) {
	data := json.RawMessage(benchEvent[1:])
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := SplitArgs(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitArgsUnmarshal is the encoding/json baseline for
// BenchmarkSplitArgs.
func BenchmarkSplitArgsUnmarshal(b *testing.B) {
	data := json.RawMessage(benchEvent[1:])
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var args []json.RawMessage
		if err := json.Unmarshal(data, &args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventName(b *testing.B) {
	data := json.RawMessage(benchEvent[1:])
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := EventName(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolvePlaceholder(b *testing.B) {
	raw := json.RawMessage(`{"_placeholder":true,"num":1}`)
	att := [][]byte{{1}, {2}}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ResolvePlaceholder(raw, att); !ok {
			b.Fatal("not resolved")
		}
	}
}
