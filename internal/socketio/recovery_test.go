package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// recoveryClient speaks Socket.IO over a bare Engine.IO connection as the
// official client does for recovery: it keeps the pid of its CONNECT reply
// and, as its offset, the last argument of the last event it got when that
// is a string.
type recoveryClient struct {
	ec       *sioclient.EngineConn
	sid, pid string
	offset   string
}

// dialRecovery connects to "/" with auth, and waits for the CONNECT reply.
func dialRecovery(t testing.TB, url string, mode sioclient.Transport, auth any) *recoveryClient {
	t.Helper()
	ctx := siotest.Context(t)
	ec, err := sioclient.DialEngine(ctx, url, &sioclient.Options{Transport: mode})
	if err != nil {
		t.Fatalf("dial %s: %v", mode, err)
	}
	t.Cleanup(func() { _ = ec.Close() })
	connect := []byte("0")
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			t.Fatal(err)
		}
		connect = append(connect, b...)
	}
	if err := ec.SendMessage(connect, false); err != nil {
		t.Fatal(err)
	}
	c := &recoveryClient{ec: ec}
	p, err := c.packet(ctx)
	if err != nil || p.Type != sioparser.PacketConnect {
		t.Fatalf("CONNECT reply: %+v, %v", p, err)
	}
	var reply struct{ SID, PID string }
	if err := json.Unmarshal(p.Data, &reply); err != nil {
		t.Fatalf("CONNECT reply %s: %v", p.Data, err)
	}
	c.sid, c.pid = reply.SID, reply.PID
	return c
}

// packet reads the next Socket.IO packet.
func (c *recoveryClient) packet(ctx context.Context) (*sioparser.Packet, error) {
	m, err := c.ec.Read(ctx)
	if err != nil {
		return nil, err
	}
	p, _, err := sioparser.DecodePacket(m.Data)
	return p, err
}

// event reads the next event and returns its name and arguments, the
// offset the official client would take from it included.
func (c *recoveryClient) event(ctx context.Context) (string, []json.RawMessage, error) {
	p, err := c.packet(ctx)
	if err != nil {
		return "", nil, err
	}
	return c.take(p)
}

// eventOrAck is event, but returns an acknowledgement's arguments, with
// no name, too.
func (c *recoveryClient) eventOrAck(ctx context.Context) (string, []json.RawMessage, error) {
	p, err := c.packet(ctx)
	if err != nil {
		return "", nil, err
	}
	if p.Type == sioparser.PacketAck {
		args, err := sioparser.SplitArgs(p.Data)
		return "", args, err
	}
	return c.take(p)
}

// take returns the name and arguments of event p, and keeps its offset.
func (c *recoveryClient) take(p *sioparser.Packet) (string, []json.RawMessage, error) {
	if p.Type != sioparser.PacketEvent {
		return "", nil, fmt.Errorf("packet %s, want an event", p.Type)
	}
	name, args, err := sioparser.EventName(p.Data)
	if err != nil {
		return "", nil, err
	}
	var last string
	if len(args) == 0 {
		c.offset = name
	} else if json.Unmarshal(args[len(args)-1], &last) == nil {
		c.offset = last
	}
	return name, args, nil
}

// auth is the CONNECT payload that asks for the client's session back.
func (c *recoveryClient) auth() map[string]string {
	return map[string]string{"pid": c.pid, "offset": c.offset}
}

// cjk is 2,000 CJK characters: 6,000 bytes of ordinary text, as JSON too.
var cjk = strings.Repeat("漢字かな", 500)

// leave closes the client and waits for the server to have kept its
// session: a socket leaves its namespace once its session is kept.
func leave(t testing.TB, srv *testServer, c *recoveryClient) {
	t.Helper()
	_ = c.ec.Close()
	wait.For(t, "the socket gone", 5*time.Second, func() bool { return srv.Of("/").Socket(c.sid) == nil })
}

// connectAndClose connects a client to "/" and closes it once it has the
// CONNECT reply, without reading what follows.
func connectAndClose(t testing.TB, url string) {
	t.Helper()
	ctx := siotest.Context(t)
	ec, err := sioclient.DialEngine(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	if err := ec.SendMessage([]byte("0"), false); err != nil {
		t.Fatal(err)
	}
	if m, err := ec.Read(ctx); err != nil || !strings.HasPrefix(string(m.Data), "0{") {
		t.Fatalf("CONNECT reply %q, %v", m.Data, err)
	}
}

// TestRecoveryReplayBeyondQueueBound restores a client that missed more
// than its send queue may hold (400 events of 6 KB, 2.4 MB, over the 2 MB
// bound): it gets every one of them, once, in order, then the live ones,
// and stays connected; also when broadcasts go on during the replay, and
// when the client, as the official one does, reconnects over polling and
// upgrades to WebSocket while the replay streams in (which needs the POST
// that carried its CONNECT to have ended).
func TestRecoveryReplayBeyondQueueBound(t *testing.T) {
	const missed = 400
	modes := map[string]sioclient.Transport{
		"websocket":             sioclient.TransportWebSocket,
		"polling":               sioclient.TransportPolling,
		"upgrade":               sioclient.TransportUpgrade,
		"upgrade during replay": sioclient.TransportPolling,
	}
	for _, live := range []int{0, 200} {
		for name, mode := range modes {
			t.Run(fmt.Sprintf("live=%d/%s", live, name), func(t *testing.T) {
				t.Parallel()
				cfg := socketio.Config{Recovery: &socketio.RecoveryConfig{}}
				if name == "upgrade during replay" {
					// A small queue: the replay takes hundreds of polls, so
					// that the upgrade surely comes in the middle of it.
					cfg.Engine.MaxQueueBytes = 64 << 10
				}
				srv := newTestServer(t, cfg)
				nsp := srv.Of("/")
				nsp.OnConnection(func(so *socketio.Socket) {
					if !so.Recovered() {
						so.Join("room")
					}
					so.SetData(so.Recovered())
				})
				// Acknowledged with whether the socket was recovered, once
				// its connection handler has run.
				nsp.On("hello", func(so *socketio.Socket, e *socketio.Event) { _ = e.Ack(so.Data()) })
				ctx := siotest.Context(t)
				c := dialRecovery(t, srv.URL, mode, nil)
				if c.pid == "" {
					t.Fatal("no pid with recovery on")
				}
				wait.For(t, "the socket in its room", 5*time.Second, func() bool {
					return len(nsp.To("room").Sockets()) == 1
				})
				if err := nsp.To("room").Emit("seq", -1, "before"); err != nil {
					t.Fatal(err)
				}
				if name, _, err := c.event(ctx); err != nil || name != "seq" {
					t.Fatalf("live event: %q, %v", name, err)
				}
				leave(t, srv, c)

				for i := range missed {
					if err := nsp.To("room").Emit("seq", i, cjk); err != nil {
						t.Fatal(err)
					}
				}
				// The live ones come at 3 MB/s, a pace any client on
				// loopback keeps up with, from before the reconnection
				// until after the switch to live.
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					tick := time.NewTicker(2 * time.Millisecond)
					defer tick.Stop()
					for i := missed; i < missed+live; i++ {
						_ = nsp.To("room").Emit("seq", i, cjk)
						<-tick.C
					}
				}()
				back := dialRecovery(t, srv.URL, mode, c.auth())
				if back.sid != c.sid || back.pid != c.pid {
					t.Errorf("reconnected as %s/%s, want %s/%s", back.sid, back.pid, c.sid, c.pid)
				}
				upgraded := make(chan error, 1)
				if name == "upgrade during replay" {
					go func() { upgraded <- back.ec.Upgrade(ctx) }()
				} else {
					upgraded <- nil
				}
				// An event sent during the replay is handled after it.
				if err := back.ec.SendMessage([]byte(`21["hello"]`), false); err != nil {
					t.Fatal(err)
				}
				total := missed + live
				acked := -1 // the events received before the ack
				for want := 0; want < total || acked < 0; {
					name, args, err := back.eventOrAck(ctx)
					if err != nil {
						t.Fatalf("event %d of %d: %v", want, total, err)
					}
					if name == "" {
						if acked >= 0 || string(args[0]) != "true" {
							t.Fatalf("ack %s (after %d events), want one [true]", args, acked)
						}
						acked = want
						continue
					}
					if want == total {
						t.Fatalf("event %s %.40s after the last one", name, args)
					}
					want++
					var got int
					var text string
					if name != "seq" || len(args) != 3 || json.Unmarshal(args[0], &got) != nil ||
						json.Unmarshal(args[1], &text) != nil || got != want-1 || text != cjk {
						t.Fatalf("event %d: %s %.40s, want seq %d", want-1, name, args, want-1)
					}
				}
				if acked < missed {
					t.Errorf("the event sent during the replay was handled after %d of the %d missed events", acked, missed)
				}
				wg.Wait()
				if err := <-upgraded; err != nil {
					t.Errorf("upgrade: %v", err)
				}
				ss := nsp.Socket(c.sid)
				if ss == nil || !ss.Recovered() {
					t.Fatal("the server socket is not the recovered one")
				}
				// Live again, in its room, and still connected.
				if err := nsp.To("room").Emit("seq", total, "after"); err != nil {
					t.Fatal(err)
				}
				name, args, err := back.event(ctx)
				if err != nil || name != "seq" || string(args[0]) != fmt.Sprint(total) {
					t.Fatalf("live event after the replay: %s %s, %v", name, args, err)
				}
				select {
				case <-back.ec.Done():
					t.Fatalf("connection closed: %v", back.ec.Err())
				default:
				}
				if !ss.Connected() {
					t.Error("server socket disconnected")
				}
			})
		}
	}
}

// TestRecoveryLogHoldsBroadcastsOnly connects and closes clients in a loop
// on a server that sends each new socket the last 50 long messages, as the
// chat sends its history: the recovery log keeps the 50 broadcasts, not
// 50 events more per connection, the heap does not grow with the loop, and
// once the window has passed the idle server keeps nothing.
func TestRecoveryLogHoldsBroadcastsOnly(t *testing.T) {
	const (
		window  = 2 * time.Second
		history = 50
		cycles  = 300
	)
	srv := newTestServer(t, socketio.Config{Recovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: window}})
	nsp := srv.Of("/")
	type message struct {
		ID   int    `json:"id"`
		Text string `json:"text"`
	}
	nsp.OnConnection(func(so *socketio.Socket) {
		for i := range history {
			_ = so.Emit("chat-message", message{i, cjk})
		}
	})
	for i := range history {
		if err := nsp.Emit("chat-message", message{i, cjk}); err != nil {
			t.Fatal(err)
		}
	}
	before := heapAlloc()
	for range cycles {
		connectAndClose(t, srv.URL)
	}
	wait.For(t, "connections gone", 5*time.Second, func() bool { return srv.ConnectionCount() == 0 })
	// At most the broadcasts: some may have expired if the loop was slow.
	if st := nsp.RecoveryStats(); st.Packets > history {
		t.Errorf("the log keeps %d events after %d connections, want the %d broadcasts at most", st.Packets, cycles, history)
	}
	grown := int64(heapAlloc()) - int64(before)
	t.Logf("heap grew by %d KB over %d connections", grown>>10, cycles)
	if grown > 16<<20 {
		t.Errorf("heap grew by %d MB over %d connections", grown>>20, cycles)
	}
	wait.For(t, "the idle log empty", 2*window, func() error {
		if st := nsp.RecoveryStats(); st != (socketio.RecoveryStats{}) {
			return fmt.Errorf("log holds %+v", st)
		}
		return nil
	})
}

// heapAlloc returns the bytes of live heap objects, after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestRecoveryBounds fills a namespace's log past each of its bounds: the
// oldest events or sessions go, what is kept stays within the bound, and a
// client whose events or session went is not recovered, while the newest
// is.
func TestRecoveryBounds(t *testing.T) {
	tests := []struct {
		name       string
		cfg        socketio.RecoveryConfig
		text       string // of each event
		events     int    // broadcast after the first client left
		clients    int    // that connect and leave after it
		maxPackets int
		maxBytes   int
		maxSession int
	}{
		{name: "packets", cfg: socketio.RecoveryConfig{MaxPackets: 10}, text: "hi", events: 50, clients: 1,
			maxPackets: 10, maxSession: 2},
		{name: "bytes", cfg: socketio.RecoveryConfig{MaxBytes: 256 << 10}, text: cjk, events: 100, clients: 1,
			maxPackets: 256 << 10 / len(cjk), maxBytes: 256 << 10, maxSession: 2},
		{name: "sessions", cfg: socketio.RecoveryConfig{MaxSessions: 20}, text: "hi", events: 1, clients: 60,
			maxPackets: 62, maxSession: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, socketio.Config{Recovery: &tt.cfg})
			nsp := srv.Of("/")
			ctx := siotest.Context(t)
			first := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, nil)
			if err := nsp.Emit("seq", "first"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := first.event(ctx); err != nil {
				t.Fatal(err)
			}
			leave(t, srv, first)
			for i := range tt.events {
				if err := nsp.Emit("seq", i, tt.text); err != nil {
					t.Fatal(err)
				}
			}
			var last *recoveryClient
			for range tt.clients {
				last = dialRecovery(t, srv.URL, sioclient.TransportWebSocket, nil)
				last.offset = first.offset // no event since it connected
				if err := nsp.Emit("seq", "mark"); err != nil {
					t.Fatal(err)
				}
				if _, _, err := last.event(ctx); err != nil {
					t.Fatal(err)
				}
				leave(t, srv, last)
			}
			st := nsp.RecoveryStats()
			if st.Packets > tt.maxPackets || st.Sessions > tt.maxSession || (tt.maxBytes > 0 && st.Bytes > tt.maxBytes) {
				t.Errorf("log holds %+v, want at most %d events, %d sessions, %d bytes", st, tt.maxPackets, tt.maxSession, tt.maxBytes)
			}
			if back := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, first.auth()); back.sid == first.sid {
				t.Error("the first client was recovered, though what it missed is gone")
			}
			if back := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, last.auth()); back.sid != last.sid {
				t.Error("the last client was not recovered")
			}
		})
	}
}

// TestRecoveryEmitToOneSocket checks which events sent to one socket are
// kept for replay: not those the client can take for no offset, which
// carry none; those whose last argument is a string, which the official
// client would take for its offset, are, with their offset.
func TestRecoveryEmitToOneSocket(t *testing.T) {
	tests := []struct {
		name string
		args []any
		kept bool
	}{
		{"object", []any{map[string]int{"id": 1}}, false},
		{"number last", []any{"text", 2}, false},
		{"string last", []any{1, "text"}, true},
		{"no arguments", nil, true},
	}
	srv := newTestServer(t, socketio.Config{Recovery: &socketio.RecoveryConfig{}})
	nsp := srv.Of("/")
	c := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, nil)
	ctx := siotest.Context(t)
	var ss *socketio.Socket
	wait.For(t, "server socket", 5*time.Second, func() bool { ss = nsp.Socket(c.sid); return ss != nil })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept := nsp.RecoveryStats().Packets
			if err := ss.Emit("ev", tt.args...); err != nil {
				t.Fatal(err)
			}
			_, args, err := c.event(ctx)
			if err != nil {
				t.Fatal(err)
			}
			offset := len(args) > len(tt.args)
			if got := nsp.RecoveryStats().Packets - kept; (got == 1) != tt.kept || offset != tt.kept {
				t.Errorf("kept %d, with an offset %v; want kept %v", got, offset, tt.kept)
			}
		})
	}
}

// TestRecoveryShutdown checks that Shutdown stops the log's sweep and
// drops what it keeps.
func TestRecoveryShutdown(t *testing.T) {
	srv := newTestServer(t, socketio.Config{Recovery: &socketio.RecoveryConfig{}})
	nsp := srv.Of("/")
	c := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, nil)
	if err := nsp.Emit("seq", 1); err != nil {
		t.Fatal(err)
	}
	leave(t, srv, c)
	if st := nsp.RecoveryStats(); st.Packets != 1 || st.Sessions != 1 || !st.Armed {
		t.Fatalf("log holds %+v, want 1 event, 1 session, a sweep set", st)
	}
	if err := srv.Shutdown(siotest.Context(t)); err != nil {
		t.Fatal(err)
	}
	if st := nsp.RecoveryStats(); st != (socketio.RecoveryStats{}) {
		t.Errorf("after Shutdown the log holds %+v", st)
	}
	if err := nsp.Emit("seq", 2); err != nil {
		t.Fatal(err)
	}
	if st := nsp.RecoveryStats(); st != (socketio.RecoveryStats{}) {
		t.Errorf("after Shutdown a broadcast is kept: %+v", st)
	}
}

// TestRecoveryReplayFlood restores a client that does not read what it
// missed but sends without pause meanwhile: what it sends waits for the
// replay only up to twice the largest message it may send, after which it
// is cut off, long before its write timeout.
func TestRecoveryReplayFlood(t *testing.T) {
	const maxPayload = 10_000
	srv := newTestServer(t, socketio.Config{
		Engine:   engineio.Config{MaxPayload: maxPayload, WriteTimeout: time.Minute},
		Recovery: &socketio.RecoveryConfig{},
	})
	nsp := srv.Of("/")
	ctx := siotest.Context(t)
	c := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, nil)
	if err := nsp.Emit("seq", "first"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.event(ctx); err != nil {
		t.Fatal(err)
	}
	leave(t, srv, c)
	for i := range 400 {
		if err := nsp.Emit("seq", i, cjk); err != nil {
			t.Fatal(err)
		}
	}

	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil { // open
		t.Fatal(err)
	}
	auth, _ := json.Marshal(c.auth())
	if err := ws.WriteMessage(websocket.TextMessage, append([]byte("40"), auth...)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the socket restored", 5*time.Second, func() bool { return nsp.Socket(c.sid) != nil })
	flood := []byte(`42["x","` + strings.Repeat("y", maxPayload/2) + `"]`)
	for range 10 { // 50 KB, over the 20 KB that may wait
		if err := ws.WriteMessage(websocket.TextMessage, flood); err != nil {
			break // cut off already
		}
	}
	wait.For(t, "the flooding client cut off", 10*time.Second, func() bool { return nsp.Socket(c.sid) == nil })
}
