package socketio

import (
	"testing"

	"github.com/parley-chat/parley/internal/sioparser"
)

// BenchmarkRecoveryRecord is what recovery adds to a broadcast, without
// the network: giving a small chat event its offset, keeping it, and
// encoding it for the recipients, in a log that is full (100,000 events),
// so that each record also drops the oldest.
func BenchmarkRecoveryRecord(b *testing.B) {
	l := newRecoveryLog(RecoveryConfig{})
	data, _, err := sioparser.AppendEventArgs(nil, nil, "chat-message",
		map[string]any{"from": "alice", "room": "general", "text": "hello, world"})
	if err != nil {
		b.Fatal(err)
	}
	rooms := []string{"general"}
	record := func() {
		bc := &Broadcast{Packet: &sioparser.Packet{Type: sioparser.PacketEvent, Namespace: "/", Data: data}, Rooms: rooms}
		l.record(bc)
		_ = bc.Frames()
	}
	for range DefaultMaxRecoveryPackets {
		record()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		record()
	}
}
