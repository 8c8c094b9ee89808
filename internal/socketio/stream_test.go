package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// streamSeq sends so the events seq from..to-1, each with cjk, in pieces,
// then done; it must run within Socket.Async.
func streamSeq(so *socketio.Socket, from, to int) error {
	ctx := context.Background()
	st := so.NewStream()
	for i := from; i < to; i++ {
		if st.Full() {
			if err := st.Send(ctx); err != nil {
				return err
			}
		}
		if err := st.Emit("seq", i, cjk); err != nil {
			return err
		}
	}
	if err := st.Send(ctx); err != nil {
		return err
	}
	return so.Emit("done", to)
}

// TestStreamBeyondQueueBound has a connection handler and an event
// handler each send a client 400 events of 6 KB (2.4 MB, over the 2 MB
// bound of the send queue) with a Stream, within Socket.Async: the client
// gets all of them, in order, and stays connected; what it sends
// meanwhile is handled after, in order; and the transport goes on, so
// that a client that reconnects over polling can upgrade to WebSocket in
// the middle of it.
func TestStreamBeyondQueueBound(t *testing.T) {
	const n = 400
	modes := map[string]sioclient.Transport{
		"websocket":             sioclient.TransportWebSocket,
		"polling":               sioclient.TransportPolling,
		"upgrade":               sioclient.TransportUpgrade,
		"upgrade during stream": sioclient.TransportPolling,
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var cfg socketio.Config
			if name == "upgrade during stream" {
				// A small queue: the stream takes hundreds of polls, so
				// that the upgrade surely comes in the middle of it.
				cfg.Engine.MaxQueueBytes = 64 << 10
			}
			srv := newTestServer(t, cfg)
			nsp := srv.Of("/")
			failed := make(chan error, 2)
			nsp.OnConnection(func(so *socketio.Socket) {
				so.Async(func() {
					if err := streamSeq(so, 0, n); err != nil {
						failed <- err
					}
				})
			})
			nsp.On("more", func(so *socketio.Socket, e *socketio.Event) {
				so.Async(func() {
					if err := streamSeq(so, n, 2*n); err != nil {
						failed <- err
					}
					_ = e.Ack("streamed")
				})
			})
			nsp.On("hello", func(so *socketio.Socket, e *socketio.Event) { _ = e.Ack("hello") })
			ctx := siotest.Context(t)
			c := dialRecovery(t, srv.URL, mode, nil)
			upgraded := make(chan error, 1)
			if name == "upgrade during stream" {
				go func() { upgraded <- c.ec.Upgrade(ctx) }()
			} else {
				upgraded <- nil
			}
			// Sent during the first stream, handled after it, in order.
			for _, m := range []string{`21["hello"]`, `22["more"]`, `23["hello"]`} {
				if err := c.ec.SendMessage([]byte(m), false); err != nil {
					t.Fatal(err)
				}
			}
			var want []string
			for i := range n {
				want = append(want, fmt.Sprint("seq ", i))
			}
			want = append(want, "done", "ack hello")
			for i := n; i < 2*n; i++ {
				want = append(want, fmt.Sprint("seq ", i))
			}
			want = append(want, "done", "ack streamed", "ack hello")
			for i, w := range want {
				name, args, err := c.eventOrAck(ctx)
				if err != nil {
					t.Fatalf("message %d of %d: %v", i, len(want), err)
				}
				var got string
				switch {
				case name == "":
					var s string
					_ = json.Unmarshal(args[0], &s)
					got = "ack " + s
				case name == "seq":
					var text string
					_ = json.Unmarshal(args[1], &text)
					got = "seq " + string(args[0])
					if text != cjk {
						got += " (other text)"
					}
				default:
					got = name
				}
				if got != w {
					t.Fatalf("message %d: %q, want %q", i, got, w)
				}
			}
			if err := <-upgraded; err != nil {
				t.Errorf("upgrade: %v", err)
			}
			select {
			case err := <-failed:
				t.Errorf("stream: %v", err)
			case <-c.ec.Done():
				t.Errorf("connection closed: %v", c.ec.Err())
			default:
			}
		})
	}
}

// TestStreamClientNeverReads has a Stream wait for a client that reads
// nothing: the wait ends after the engine's WriteTimeout, closing the
// connection as a slow consumer, and the disconnect handlers run after
// the function given to Async has returned.
func TestStreamClientNeverReads(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	srv := newTestServer(t, socketio.Config{Engine: engineio.Config{WriteTimeout: writeTimeout, MaxQueueBytes: 64 << 10}})
	nsp := srv.Of("/")
	type outcome struct {
		err      error
		returned time.Time
	}
	streamed := make(chan outcome, 1)
	var returned atomic.Bool
	closed := make(chan socketio.DisconnectReason, 1)
	nsp.OnConnection(func(so *socketio.Socket) {
		so.OnDisconnect(func(_ *socketio.Socket, r socketio.DisconnectReason) {
			if !returned.Load() {
				r = "before the stream returned"
			}
			closed <- r
		})
		so.Async(func() {
			err := streamSeq(so, 0, 100)
			streamed <- outcome{err, time.Now()}
			returned.Store(true)
		})
	})
	// A polling client that connects and never polls again.
	sid := rawPollHandshake(t, srv.URL)
	start := time.Now()
	rawPost(t, srv.URL, sid, "0")
	var o outcome
	select {
	case o = <-streamed:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
	if !errors.Is(o.err, engineio.ErrSlowConsumer) {
		t.Errorf("stream: %v, want %v", o.err, engineio.ErrSlowConsumer)
	}
	if d := o.returned.Sub(start); d < writeTimeout {
		t.Errorf("the stream ended after %v, before the write timeout", d)
	}
	select {
	case r := <-closed:
		if r != socketio.ReasonSlowConsumer {
			t.Errorf("disconnect reason %q, want %q", r, socketio.ReasonSlowConsumer)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect")
	}
}

// TestStreamTrySend checks when TrySend queues what a Stream keeps: while
// the socket connects, up to a piece, held for after the CONNECT reply;
// then, while the queue stays within its bound less the share kept free.
func TestStreamTrySend(t *testing.T) {
	const bound = 64 << 10 // a piece is 8 KiB, the share kept free 16 KiB
	srv := newTestServer(t, socketio.Config{Engine: engineio.Config{MaxQueueBytes: bound}})
	nsp := srv.Of("/")
	type try struct {
		size int
		want bool
	}
	results := make(chan string, 1)
	run := func(so *socketio.Socket, tries []try) {
		var out []string
		for _, tr := range tries {
			st := so.NewStream()
			if err := st.Emit("blob", strings.Repeat("x", tr.size)); err != nil {
				out = append(out, err.Error())
				continue
			}
			if sent, err := st.TrySend(); sent != tr.want || err != nil {
				out = append(out, fmt.Sprintf("%d bytes: %t, %v; want %t", tr.size, sent, err, tr.want))
			}
			if sent := st.Buffered() == 0; sent != tr.want {
				out = append(out, fmt.Sprintf("%d bytes: %d kept after TrySend", tr.size, st.Buffered()))
			}
		}
		results <- strings.Join(out, "; ")
	}
	nsp.OnConnection(func(so *socketio.Socket) {
		run(so, []try{{4 << 10, true}, {3 << 10, true}, {2 << 10, false}})
	})
	nsp.On("try", func(so *socketio.Socket, e *socketio.Event) {
		// Nothing reads the queue: it only grows.
		run(so, []try{{30 << 10, true}, {8 << 10, true}, {10 << 10, false}, {100, true}})
		so.CloseTransport()
	})
	sid := rawPollHandshake(t, srv.URL)
	rawPost(t, srv.URL, sid, "0")
	if r := result(t, results); r != "" {
		t.Errorf("connecting: %s", r)
	}
	rawPost(t, srv.URL, sid, `2["try"]`)
	if r := result(t, results); r != "" {
		t.Errorf("connected: %s", r)
	}
	// The session was closed: collect its queue and close packet.
	for range 20 {
		resp, err := http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.HasSuffix(string(b), "\x1e1") || string(b) == "1" {
			break
		}
	}
}

// rawPollHandshake opens a polling session by hand, and returns its id.
func rawPollHandshake(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	var open struct{ SID string }
	if !strings.HasPrefix(body, "0") || json.Unmarshal([]byte(body[1:]), &open) != nil || open.SID == "" {
		t.Fatalf("handshake: %q", body)
	}
	return open.SID
}

// result returns what results gets, or fails the test after 5 s.
func result(t *testing.T, results <-chan string) string {
	t.Helper()
	select {
	case r := <-results:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no result")
		return ""
	}
}

// rawPost sends one Socket.IO packet of a polling session by hand, as an
// Engine.IO message.
func rawPost(t *testing.T, url, sid, packet string) {
	t.Helper()
	resp, err := http.Post(url+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("4"+packet))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %q: %s", packet, resp.Status)
	}
}
