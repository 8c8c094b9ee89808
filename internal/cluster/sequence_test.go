package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
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

// TestSequenceNewScript checks that a sequence sent to a Redis that lacks
// the script (a new one, or a replica just promoted: scripts loaded are
// not replicated) is sent again at once, whole, not as a command that
// failed for want of Redis: no word of Redis being unreachable (and no
// wait of 50 ms or more before it goes again).
func TestSequenceNewScript(t *testing.T) {
	c := redistest.Client(t)
	var log bytes.Buffer
	var mu sync.Mutex
	cfg := testConfig(c, redistest.Prefix(t))
	cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &log}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := startServer(t, cfg)
	s.Of("/").Adapter().(socketio.Sequencer).UseSequences(nil)
	results := make(chan socketio.SequenceResult, 1)
	for id := range int64(5) {
		if err := c.ScriptFlush(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.Of("/").To().EmitInSequence("room:new", id+1, false, func(r socketio.SequenceResult) { results <- r }, "n", id); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-results:
			if r.Status != socketio.SequenceAppended {
				t.Errorf("append %d: %+v", id+1, r)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("append %d: no answer", id+1)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if log.Len() > 0 {
		t.Errorf("logged:\n%s", log.String())
	}
}

// lockedWriter is a writer safe for concurrent use.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
