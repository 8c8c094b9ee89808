package wire

import "testing"

func benchBroadcast() Message {
	return Message{UID: "6c4b5a3f2e1d0c9b", Nsp: "/", Type: TypeBroadcast,
		Packet: Packet{Type: 2, Data: val(`["chat-message",{"id":12345,"room":"general","name":"alice","text":"hello world","at":1700000000000}]`)},
		Opts:   Options{Rooms: []string{"room:general"}, Except: []string{"Xk2vM9qLp0aZbC3dE4fG"}}}
}

func benchBinaryBroadcast() Message {
	m := benchBroadcast()
	m.Packet.Data = val(`["file",{"name":"a.png","body":{"_placeholder":true,"num":0}}]`, make([]byte, 1024))
	return m
}

func BenchmarkEncodeEntry(b *testing.B) {
	m := benchBroadcast()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeEntry(&m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEntry(b *testing.B) {
	m := benchBroadcast()
	e, _ := EncodeEntry(&m)
	b.ReportAllocs()
	b.SetBytes(int64(len(e.Data)))
	for b.Loop() {
		if _, err := DecodeEntry(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEntryBinary(b *testing.B) {
	m := benchBinaryBroadcast()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeEntry(&m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEntryBinary(b *testing.B) {
	m := benchBinaryBroadcast()
	e, _ := EncodeEntry(&m)
	b.ReportAllocs()
	b.SetBytes(int64(len(e.Data)))
	for b.Loop() {
		if _, err := DecodeEntry(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePayload(b *testing.B) {
	m := Message{UID: "6c4b5a3f2e1d0c9b", Nsp: "/", Type: TypeServerSideEmit, RequestID: "0123456789abcdef",
		Args: val(`["presence",{"room":"general","people":["alice","bob","carol"]}]`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodePayload(&m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	m := Message{UID: "6c4b5a3f2e1d0c9b", Nsp: "/", Type: TypeServerSideEmit, RequestID: "0123456789abcdef",
		Args: val(`["presence",{"room":"general","people":["alice","bob","carol"]}]`)}
	p, _ := EncodePayload(&m)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := DecodePayload(p); err != nil {
			b.Fatal(err)
		}
	}
}
