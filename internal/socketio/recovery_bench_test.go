package socketio

import (
	"strconv"
	"strings"
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

// fakeShared is a SharedRecovery that only parses offsets, for the log's
// benchmarks.
type fakeShared struct{ SharedRecovery }

func (fakeShared) ParseOffset(s string) (Offset, bool) {
	ms, seq, ok := strings.Cut(s, "-")
	hi, err1 := strconv.ParseUint(ms, 10, 64)
	lo, err2 := strconv.ParseUint(seq, 10, 64)
	return Offset{Hi: hi, Lo: lo}, ok && err1 == nil && err2 == nil
}

// BenchmarkRecoveryRecordShared is BenchmarkRecoveryRecord with a shared
// log's offsets (a cluster's stream ids), which the adapter gives: parsing
// the offset, keeping the event under it and encoding it with it.
func BenchmarkRecoveryRecordShared(b *testing.B) {
	l := newRecoveryLog(RecoveryConfig{})
	l.useShared(fakeShared{})
	data, _, err := sioparser.AppendEventArgs(nil, nil, "chat-message",
		map[string]any{"from": "alice", "room": "general", "text": "hello, world"})
	if err != nil {
		b.Fatal(err)
	}
	rooms := []string{"general"}
	offsets := make([]string, DefaultMaxRecoveryPackets+b.N)
	for i := range offsets {
		offsets[i] = "1764770000000-" + strconv.Itoa(i)
	}
	record := func(i int) {
		bc := &Broadcast{Packet: &sioparser.Packet{Type: sioparser.PacketEvent, Namespace: "/", Data: data}, Rooms: rooms, Offset: offsets[i]}
		l.record(bc)
		_ = bc.Frames()
	}
	for i := range DefaultMaxRecoveryPackets {
		record(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		record(DefaultMaxRecoveryPackets + i)
	}
}
