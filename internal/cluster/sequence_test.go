package cluster_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/redistest"
)

// TestSequence appends numbered broadcasts from two nodes, out of order
// and twice, as two nodes storing a room's messages at once may: the
// stream takes each only after the one before and once, and both nodes'
// sockets, the sender's too, get them in order; a forced append goes past
// a gap; a Redis that lost the script (SCRIPT FLUSH) is sent it again.
func TestSequence(t *testing.T) {
	nodes := startCluster(t, 2)
	a, b := nodes[0], nodes[1]
	for _, s := range nodes {
		s.Of("/").Adapter().(socketio.Sequencer).UseSequences(func(_ string, _ []json.RawMessage, _ []string, deliver func(*socketio.Tracker)) { deliver(nil) })
	}
	ca, cb := connect(t, a), connect(t, b)
	results := make(chan socketio.SequenceResult, 1)
	emit := func(s *server, id int64, force bool) socketio.SequenceResult {
		t.Helper()
		err := s.Of("/").To().EmitInSequence("room:x", id, force, func(r socketio.SequenceResult) { results <- r }, "n", id)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-results:
			return r
		case <-time.After(5 * time.Second):
			t.Fatalf("append %d: no answer", id)
			return socketio.SequenceResult{}
		}
	}
	for i, tc := range []struct {
		on    *server
		id    int64
		force bool
		flush bool // SCRIPT FLUSH first
		want  socketio.SequenceStatus
		last  int64
	}{
		{a, 1, false, false, socketio.SequenceAppended, 0},
		{b, 3, false, false, socketio.SequenceGap, 1},
		{b, 2, false, false, socketio.SequenceAppended, 0},
		{a, 2, false, false, socketio.SequencePresent, 2},
		{b, 3, false, true, socketio.SequenceAppended, 0},
		{a, 6, true, false, socketio.SequenceAppended, 0},
		{b, 5, false, false, socketio.SequencePresent, 6},
		{b, 7, false, false, socketio.SequenceAppended, 0},
	} {
		if tc.flush {
			if err := redistest.Client(t).ScriptFlush(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if r := emit(tc.on, tc.id, tc.force); r.Status != tc.want || r.Last != tc.last {
			t.Errorf("%d: append %d (force %v): %+v, want status %d, last %d", i, tc.id, tc.force, r, tc.want, tc.last)
		}
	}
	for _, c := range []*client{ca, cb} {
		for _, want := range []int{1, 2, 3, 6, 7} {
			e := c.next(t)
			var got int
			if err := e.Bind(0, &got); err != nil || e.Name != "n" || got != want {
				t.Fatalf("got %s %v, want n %d", e.Name, e.Args, want)
			}
		}
	}
}
