package engineio_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// TestWaitQueue checks each way Session.WaitQueue ends: the writer took
// the queue, the session closed, the client read nothing for WriteTimeout
// (a slow consumer, closed), the context ended.
func TestWaitQueue(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	chunk := bytes.Repeat([]byte("z"), 8<<10)
	tests := []struct {
		name string
		// stalled: the session's client never polls.
		stalled bool
		// during runs while WaitQueue waits.
		during  func(s *engineio.Session, cancel context.CancelFunc)
		want    error
		reason  eioparser.CloseReason // the close, if any
		atLeast time.Duration         // the shortest wait
	}{
		{name: "drained"},
		{name: "closed", stalled: true, during: func(s *engineio.Session, _ context.CancelFunc) { s.Close() },
			want: engineio.ErrClosed, reason: eioparser.ReasonForcedClose},
		{name: "never read", stalled: true, want: engineio.ErrSlowConsumer,
			reason: eioparser.ReasonSlowConsumer, atLeast: writeTimeout},
		{name: "context done", stalled: true, during: func(_ *engineio.Session, cancel context.CancelFunc) { cancel() },
			want: context.Canceled},
	}
	srv := newTestServer(t, engineio.Config{WriteTimeout: writeTimeout}, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *testSession
			var ec *sioclient.EngineConn
			if tt.stalled {
				h = srv.session(t, pollHandshake(t, srv))
			} else {
				ec = dial(t, siotest.Context(t), srv, sioclient.TransportWebSocket, nil)
				h = srv.session(t, ec.SID())
			}
			if err := h.s.WaitQueue(context.Background(), 0); err != nil {
				t.Fatalf("WaitQueue with nothing queued: %v", err)
			}
			const n = 10
			for range n {
				if err := h.s.Send(eioparser.Packet{Data: chunk}); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- h.s.WaitQueue(ctx, len(chunk)) }()
			if tt.during != nil {
				tt.during(h.s, cancel)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("WaitQueue did not return")
			}
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("WaitQueue: %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d < tt.atLeast || (tt.atLeast == 0 && d >= writeTimeout) {
				t.Errorf("WaitQueue returned after %v", d)
			}
			if tt.reason != "" {
				h.waitClosed(t, tt.reason)
			} else if cl := h.closes(); len(cl) != 0 {
				t.Errorf("session closed: %+v", cl)
			}
			if ec != nil {
				for i := range n {
					if p := read(t, siotest.Context(t), ec); len(p.Data) != len(chunk) {
						t.Fatalf("message %d: %d bytes", i, len(p.Data))
					}
				}
			}
		})
	}
}

// TestSendWithin checks that Session.SendWithin queues a message only when
// the queue then stays within the limit (never above MaxQueueBytes), and
// that a refusal leaves the session open, as a full queue does not for
// Send.
func TestSendWithin(t *testing.T) {
	const chunkSize = 8 << 10
	chunk := eioparser.Packet{Data: bytes.Repeat([]byte("z"), chunkSize)}
	srv := newTestServer(t, engineio.Config{MaxQueueBytes: 5 * chunkSize}, false)
	h := srv.session(t, pollHandshake(t, srv)) // never polls: the queue only grows
	steps := []struct {
		limit int
		want  bool
	}{
		{2 * chunkSize, true},        // one chunk and its entry
		{2 * chunkSize, false},       // a second would not fit
		{3 * chunkSize, true},        // with more room, it does
		{100 * chunkSize, true},      // three chunks
		{100 * chunkSize, true},      // four: still within MaxQueueBytes
		{100 * chunkSize, false},     // a fifth and the entries would not be
		{chunkSize / 2, false},       // less than is queued already
		{5*chunkSize + 1<<10, false}, // MaxQueueBytes bounds every limit
	}
	for i, st := range steps {
		sent, err := h.s.SendWithin(st.limit, chunk)
		if err != nil || sent != st.want {
			t.Fatalf("step %d: SendWithin(%d): %t, %v; want %t", i, st.limit, sent, err, st.want)
		}
	}
	if cl := h.closes(); len(cl) != 0 {
		t.Fatalf("a refused SendWithin closed the session: %+v", cl)
	}
	h.s.Close()
	if sent, err := h.s.SendWithin(100*chunkSize, chunk); sent || !errors.Is(err, engineio.ErrClosed) {
		t.Errorf("SendWithin after Close: %t, %v; want false, ErrClosed", sent, err)
	}
}
