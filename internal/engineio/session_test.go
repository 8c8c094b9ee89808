package engineio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestEcho(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, true)
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		ctx := siotest.Context(t)
		ec := dial(t, ctx, srv, mode, nil)
		msgs := []eioparser.Packet{
			{Type: eioparser.PacketMessage, Data: []byte("hello")},
			{Type: eioparser.PacketMessage, Data: []byte("")},
			{Type: eioparser.PacketMessage, Data: []byte("héllo wörld ✓")},
			{Type: eioparser.PacketMessage, Data: []byte{0, 1, 2, 0xff}, Binary: true},
			{Type: eioparser.PacketMessage, Data: []byte{}, Binary: true},
			{Type: eioparser.PacketMessage, Data: bytes.Repeat([]byte("x"), 100_000)},
			{Type: eioparser.PacketMessage, Data: bytes.Repeat([]byte{7}, 100_000), Binary: true},
		}
		if err := ec.Send(msgs...); err != nil {
			t.Fatal(err)
		}
		for i, want := range msgs {
			got := read(t, ctx, ec)
			if got.Type != want.Type || got.Binary != want.Binary || !bytes.Equal(got.Data, want.Data) {
				t.Errorf("message %d: got %v %v %.20q, want %v %v %.20q", i, got.Type, got.Binary, got.Data, want.Type, want.Binary, want.Data)
			}
		}
	})
}

func TestPollingPayload(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	sid := pollHandshake(t, srv)
	h := srv.session(t, sid)

	code, body, _ := httpDo(t, "POST", pollURL(srv.URL, sid), "4one\x1e4\x1ebAAEC\x1e4three", nil)
	if code != http.StatusOK || body != "ok" {
		t.Fatalf("POST: %d %q", code, body)
	}
	want := []event{{data: "one"}, {data: ""}, {data: "\x00\x01\x02", binary: true}, {data: "three"}}
	got := h.messages()
	if len(got) != len(want) {
		t.Fatalf("received %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].data != want[i].data || got[i].binary != want[i].binary {
			t.Errorf("message %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	if err := h.s.Send(
		eioparser.Packet{Data: []byte("a")},
		eioparser.Packet{Type: eioparser.PacketMessage, Data: []byte{0xfe}, Binary: true},
		eioparser.Packet{Type: eioparser.PacketMessage, Data: []byte("c")},
	); err != nil {
		t.Fatal(err)
	}
	code, body, hdr := httpDo(t, "GET", pollURL(srv.URL, sid), "", nil)
	if code != http.StatusOK || body != "4a\x1eb/g==\x1e4c" {
		t.Errorf("GET: %d %q", code, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestHeartbeat(t *testing.T) {
	const interval, timeout = 50 * time.Millisecond, 30 * time.Millisecond
	// slack bounds how late the server may act under the race detector.
	const slack = 150 * time.Millisecond
	srv := newTestServer(t, engineio.Config{PingInterval: interval, PingTimeout: timeout}, false)

	t.Run("timeout", func(t *testing.T) {
		siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
			ctx := siotest.Context(t)
			ec := dial(t, ctx, srv, mode, &sioclient.Options{NoPong: true, ReadControl: true})
			h := srv.session(t, ec.SID())
			var pingAt time.Time
			for pingAt.IsZero() {
				if p := read(t, ctx, ec); p.Type == eioparser.PacketPing {
					pingAt = time.Now()
				}
			}
			if d := pingAt.Sub(h.opened); d < interval || d > interval+slack {
				t.Errorf("first ping after %v, want %v", d, interval)
			}
			c := h.waitClosed(t, eioparser.ReasonPingTimeout)
			if d := c.at.Sub(h.opened); d < interval+timeout || d > interval+timeout+slack {
				t.Errorf("closed after %v, want %v", d, interval+timeout)
			}
			select {
			case <-ec.Done():
			case <-ctx.Done():
				t.Fatal("client still connected")
			}
		})
	})

	t.Run("alive", func(t *testing.T) {
		// A pong has to make a round trip within PingTimeout: leave room
		// for the race detector.
		srv := newTestServer(t, engineio.Config{PingInterval: interval, PingTimeout: 500 * time.Millisecond}, false)
		siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
			ctx := siotest.Context(t)
			ec := dial(t, ctx, srv, mode, &sioclient.Options{ReadControl: true})
			h := srv.session(t, ec.SID())
			pings := 0
			for pings < 5 {
				p, err := ec.Read(ctx)
				if err != nil {
					t.Fatalf("after %d pings: %v; server side: %+v", pings, err, h.closes())
				}
				if p.Type == eioparser.PacketPing {
					pings++
				}
			}
			if cl := h.closes(); len(cl) != 0 {
				t.Fatalf("session closed: %+v", cl)
			}
			if err := ec.SendMessage([]byte("still here"), false); err != nil {
				t.Fatal(err)
			}
			wait.For(t, "message", time.Second, func() bool { return len(h.messages()) == 1 })
		})
	})

	t.Run("client ping", func(t *testing.T) {
		// Only the server pings in Engine.IO v4: like the reference
		// server ("invalid heartbeat direction"), a ping from the client
		// closes its session.
		siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
			ctx := siotest.Context(t)
			ec := dial(t, ctx, srv, mode, &sioclient.Options{ReadControl: true})
			h := srv.session(t, ec.SID())
			if err := ec.Send(eioparser.Packet{Type: eioparser.PacketPing, Data: []byte("x")}); err != nil {
				t.Fatal(err)
			}
			h.waitClosed(t, eioparser.ReasonTransportError)
			for {
				p, err := ec.Read(ctx)
				if err != nil {
					break
				}
				if p.Type == eioparser.PacketPong {
					t.Fatalf("pong %q to the client's ping", p.Data)
				}
			}
		})
	})
}

// TestClientClose checks the reason a close packet from the client gives.
func TestClientClose(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		ec := dial(t, siotest.Context(t), srv, mode, nil)
		h := srv.session(t, ec.SID())
		if err := ec.Close(); err != nil {
			t.Fatal(err)
		}
		h.waitClosed(t, eioparser.ReasonTransportClose)
		if err := h.s.Send(eioparser.Packet{Data: []byte("late")}); !errors.Is(err, engineio.ErrClosed) {
			t.Errorf("Send after close: %v", err)
		}
	})
}

// TestTransportDrop checks the reason for a connection that goes away
// without a close packet: a WebSocket closed with a close frame closed its
// transport; one that vanished without, or a poll cut short, is a
// transport error.
func TestTransportDrop(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	t.Run("websocket close frame", func(t *testing.T) {
		ws, h := dialRawWebSocket(t, srv)
		_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		h.waitClosed(t, eioparser.ReasonTransportClose)
		_ = ws.Close()
	})
	t.Run("websocket", func(t *testing.T) {
		ws, h := dialRawWebSocket(t, srv)
		_ = ws.Close()
		h.waitClosed(t, eioparser.ReasonTransportError)
	})
	t.Run("polling", func(t *testing.T) {
		// A poll the client abandons closes the session, as in the
		// reference server ("poll connection closed prematurely").
		sid := pollHandshake(t, srv)
		h := srv.session(t, sid)
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, "GET", pollURL(srv.URL, sid), nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		wait.For(t, "pending poll", 2*time.Second, h.s.PollPending)
		cancel()
		<-done
		h.waitClosed(t, eioparser.ReasonTransportError)
	})
}

// TestSessionClose checks that Session.Close sends what is queued, then
// closes.
func TestSessionClose(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		ctx := siotest.Context(t)
		ec := dial(t, ctx, srv, mode, nil)
		h := srv.session(t, ec.SID())
		var want []string
		for i := range 50 {
			msg := fmt.Sprintf("message %d", i)
			want = append(want, msg)
			if err := h.s.Send(eioparser.Packet{Data: []byte(msg)}); err != nil {
				t.Fatal(err)
			}
		}
		h.s.Close()
		if err := h.s.Send(eioparser.Packet{Data: []byte("late")}); !errors.Is(err, engineio.ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
		for _, w := range want {
			if p := read(t, ctx, ec); string(p.Data) != w {
				t.Fatalf("read %q, want %q", p.Data, w)
			}
		}
		if p, err := ec.Read(ctx); !errors.Is(err, sioclient.ErrServerClosed) {
			t.Errorf("after the queue: %v %q, want ErrServerClosed", err, p.Data)
		}
		h.waitClosed(t, eioparser.ReasonForcedClose)
		wait.For(t, "session removed", 2*time.Second, func() bool { return srv.SessionCount() == 0 })
	}, sioclient.TransportWebSocket, sioclient.TransportPolling)
}

// TestSlowConsumer checks that a session whose queue overflows is closed
// while the others keep receiving.
func TestSlowConsumer(t *testing.T) {
	const maxQueue = 64 << 10
	srv := newTestServer(t, engineio.Config{MaxQueueBytes: maxQueue}, false)
	ctx := siotest.Context(t)

	var healthy []*sioclient.EngineConn
	for _, mode := range siotest.Transports {
		healthy = append(healthy, dial(t, ctx, srv, mode, nil))
	}

	// A polling session that never polls, and a WebSocket one that never
	// reads: the second fills the TCP buffers first.
	stalledPoll := srv.session(t, pollHandshake(t, srv))
	_, stalledWS := dialRawWebSocket(t, srv)

	chunk := bytes.Repeat([]byte("z"), 8<<10)
	var wg sync.WaitGroup
	for _, ec := range healthy {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := ec.Read(ctx); err != nil {
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, stalled := range []*testSession{stalledPoll, stalledWS} {
		sent := 0
		for {
			err := stalled.s.Send(eioparser.Packet{Data: chunk})
			if errors.Is(err, engineio.ErrSlowConsumer) {
				break
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent++
			if time.Now().After(deadline) {
				t.Fatalf("no slow consumer after %d messages", sent)
			}
			// Keep the healthy sessions busy meanwhile.
			for _, ec := range healthy {
				if err := srv.session(t, ec.SID()).s.Send(eioparser.Packet{Data: []byte("tick")}); err != nil {
					t.Fatalf("healthy %s session: %v", ec.Transport(), err)
				}
			}
			if len(healthy) > 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		stalled.waitClosed(t, eioparser.ReasonSlowConsumer)
		if err := stalled.s.Send(eioparser.Packet{Data: []byte("x")}); !errors.Is(err, engineio.ErrClosed) {
			t.Errorf("Send after slow consumer close: %v", err)
		}
	}
	for _, ec := range healthy {
		h := srv.session(t, ec.SID())
		if cl := h.closes(); len(cl) != 0 {
			t.Errorf("healthy %s session closed: %+v", ec.Transport(), cl)
		}
		if err := h.s.Send(eioparser.Packet{Data: []byte("still there")}); err != nil {
			t.Errorf("healthy %s session: %v", ec.Transport(), err)
		}
	}
	for _, ec := range healthy {
		_ = ec.Close()
	}
	wg.Wait()
}
