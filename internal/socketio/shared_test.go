package socketio

import (
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/sioparser"
)

// TestSharedLogLocate checks where offsets of a shared log are relative
// to what a namespace's log holds of it, and which of them a client may
// be restored from.
func TestSharedLogLocate(t *testing.T) {
	l := newRecoveryLog(RecoveryConfig{MaxPackets: 5})
	l.useShared(fakeShared{})
	data, _, err := sioparser.AppendEventArgs(nil, nil, "e", 1)
	if err != nil {
		t.Fatal(err)
	}
	// Events of the namespace at 1-2, 1-4, ... 1-20; the log keeps the
	// last 5 (1-12 to 1-20), its delivery started after 1-0, and the
	// reader is at 1-21 (an entry of another namespace).
	for i := 2; i <= 20; i += 2 {
		b := &Broadcast{Packet: &sioparser.Packet{Type: sioparser.PacketEvent, Namespace: "/", Data: data}, Offset: "1-" + strconv.Itoa(i)}
		l.record(b)
		if got := string(b.Frames()[0].Data); got != `2["e",1,"1-`+strconv.Itoa(i)+`"]` {
			t.Fatalf("frame %s", got)
		}
	}
	off := func(s string) Offset {
		o, ok := fakeShared{}.ParseOffset(s)
		if !ok {
			t.Fatalf("offset %q", s)
		}
		return o
	}
	start, end := off("1-0"), off("1-21")
	for _, tc := range []struct {
		offset string
		where  logPlace
		holds  bool
	}{
		{"1-0", beforeMemory, false},
		{"1-9", beforeMemory, false},
		{"1-10", inMemory, true}, // the last one dropped
		{"1-11", inMemory, false},
		{"1-12", inMemory, true},
		{"1-20", inMemory, true},
		{"1-21", inMemory, false}, // the reader's, of another namespace
		{"1-22", afterMemory, false},
		{"2-0", afterMemory, false},
	} {
		where, seq := l.locate(off(tc.offset), start, end)
		if where != tc.where {
			t.Errorf("locate(%s) = %v, want %v", tc.offset, where, tc.where)
		}
		if got := l.holds(off(tc.offset), start, end); got != tc.holds {
			t.Errorf("holds(%s) = %v", tc.offset, got)
		}
		if where != inMemory {
			continue
		}
		frames, _, last, err := l.read(nil, seq, nil, 1<<20)
		if err != nil || !last {
			t.Fatalf("read after %s: %v %v", tc.offset, last, err)
		}
		want := 0
		for i := 12; i <= 20; i += 2 {
			if off("1-"+strconv.Itoa(i)).Compare(off(tc.offset)) > 0 {
				want++
			}
		}
		if len(frames) != want {
			t.Errorf("read after %s: %d frames, want %d", tc.offset, len(frames), want)
		}
	}
	// A broadcast without offset (Local) carries the last one's.
	b := &Broadcast{Packet: &sioparser.Packet{Type: sioparser.PacketEvent, Namespace: "/", Data: data}, Local: true}
	l.record(b)
	if got := string(b.Frames()[0].Data); got != `2["e",1,"1-20"]` {
		t.Errorf("local broadcast's frame %s", got)
	}
	if st := l.stats(); st.Packets != 5 {
		t.Errorf("%d packets kept", st.Packets)
	}
}
