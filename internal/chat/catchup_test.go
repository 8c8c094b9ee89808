package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/testjs"
	"github.com/parley-chat/parley/internal/test/wait"
)

// This file tests catch-ups larger than a connection's send queue holds:
// auth {since}, join-room with since, and history pages.

// cjk is 2,000 CJK characters, the longest message: 6,000 bytes of
// ordinary text, as JSON too.
var cjk = strings.Repeat("漢字かな", 500)

// seed stores n messages of text in room, by Someone.
func seed(t *testing.T, st store.Store, room string, n int, text string) {
	t.Helper()
	msgs := make([]store.Message, n)
	for i := range msgs {
		msgs[i] = store.Message{Room: room, Author: "Someone", Text: text}
	}
	if _, err := st.Append(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

// sendLive has p send n messages to room, one every 2 ms, with texts
// "live N", and returns a function that waits for them to be stored and
// returns the last one's id.
func sendLive(t *testing.T, p *person, room string, n int) (wait func() int64) {
	var (
		wg   sync.WaitGroup
		last int64
		err  error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			var r sendReply
			if r, err = p.send(fmt.Sprint("live ", i), map[string]string{"room": room}); err != nil || !r.OK {
				err = fmt.Errorf("live message %d: %+v, %v", i, r, err)
				return
			}
			last = r.ID
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return func() int64 {
		t.Helper()
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		return last
	}
}

// checkCaughtUp checks that msgs, the messages of one room a client got,
// have the ids from..last, once each, in order: the stored ones (text cjk)
// as history, then, from some point on, only live ones.
func checkCaughtUp(t *testing.T, msgs []chat.ChatMessage, from, last int64, stored int64) {
	t.Helper()
	if got := ids(msgs); !slices.Equal(got, span(from, last)) {
		if len(got) > 10 {
			t.Fatalf("got %d message ids, %v ... %v, want %d..%d once each, in order", len(got), got[:5], got[len(got)-5:], from, last)
		}
		t.Fatalf("got message ids %v, want %d..%d once each, in order", got, from, last)
	}
	live := false
	for _, m := range msgs {
		switch {
		case m.ID <= stored && m.Message != cjk:
			t.Fatalf("message %d: text %.20q..., want the stored one", m.ID, m.Message)
		case m.ID <= stored && !m.History:
			t.Fatalf("stored message %d not marked as history", m.ID)
		case !m.History:
			live = true
		case live:
			t.Fatalf("history message %d after live ones", m.ID)
		}
	}
}

// connected fails the test if p's connection closed.
func connected(t *testing.T, p *person) {
	t.Helper()
	select {
	case <-p.c.Done():
		t.Fatalf("the connection closed (%s)", p.so.Reason())
	default:
	}
}

// TestCatchUpBeyondQueueBound has clients catch up on 400 messages of
// 2,000 CJK characters (2.4 MB, more than the 2 MB the send queue holds,
// and more than twice a 1 MiB one) while someone keeps sending to the
// room: a client that reconnects with auth {since}, one that joins a room
// with since, one that pages through history 200 at a time. Each gets every
// message, once, in order, the live ones after the history, and stays
// connected. (Each catch-up used to go in one Send, over the bound: the
// client was closed as a slow consumer, every time it came back.)
func TestCatchUpBeyondQueueBound(t *testing.T) {
	t.Parallel()
	const (
		stored = 400
		live   = 30
	)
	for _, bound := range []int{0, 1 << 20} {
		t.Run(fmt.Sprintf("queue=%d", bound), func(t *testing.T) {
			t.Parallel()
			siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
				st := openStore(t, filepath.Join(t.TempDir(), "chat.db"))
				seed(t, st, chat.DefaultRoom, stored, cjk)
				seed(t, st, "dev", stored, cjk)
				cfg := unlimited
				cfg.Store = st
				srv := startChat(t, cfg, socketio.Config{Engine: engineio.Config{MaxQueueBytes: bound}})
				maxQueue := bound
				if maxQueue == 0 {
					maxQueue = engineio.DefaultMaxQueueBytes
				}
				sender := join(t, srv.Server, tr, "Sender")
				sender.joinRoom("dev")

				t.Run("auth since", func(t *testing.T) {
					sender.t = t
					done := sendLive(t, sender, chat.DefaultRoom, live)
					p := connectAuth(t, srv.Server, tr, map[string]any{"since": 1})
					p.t = t
					last := done()
					wait.For(t, "the last live message", 10*time.Second, func() bool {
						return slices.Contains(ids(roomMessages(p, chat.DefaultRoom)), last)
					})
					p.sync()
					checkCaughtUp(t, roomMessages(p, chat.DefaultRoom), 2, last, stored)
					connected(t, p)
				})

				t.Run("join-room since", func(t *testing.T) {
					sender.t = t
					p := join(t, srv.Server, tr, "Joiner")
					done := sendLive(t, sender, "dev", live)
					var r roomReply
					p.ack(&r, chat.EventJoinRoom, map[string]any{"room": "dev", "since": 1})
					if !r.OK {
						t.Fatalf("join-room: %+v", r)
					}
					last := done()
					wait.For(t, "the last live message", 10*time.Second, func() bool {
						return slices.Contains(ids(roomMessages(p, "dev")), last)
					})
					p.sync()
					checkCaughtUp(t, roomMessages(p, "dev"), 2, last, stored)
					connected(t, p)
				})

				t.Run("join-room since, already listening", func(t *testing.T) {
					sender.t = t
					p := join(t, srv.Server, tr, "Listener")
					p.joinRoom("dev") // the last 50
					first := len(roomMessages(p, "dev"))
					done := sendLive(t, sender, "dev", live)
					var r roomReply
					p.ack(&r, chat.EventJoinRoom, map[string]any{"room": "dev", "since": 1})
					if !r.OK {
						t.Fatalf("join-room: %+v", r)
					}
					last := done()
					wait.For(t, "the last live message", 10*time.Second, func() bool {
						return slices.Contains(ids(roomMessages(p, "dev")), last)
					})
					p.sync()
					// It stays in the room: the live messages, which it
					// hears already, may come among the last pieces of the
					// history it asked for again. The history is what came
					// after 1 up to the room's last message when it asked
					// (live ones that came just before it asked among
					// them: a client drops what it has, by id), the live
					// ones run on to the last, with no gap between.
					var history, liveIDs []int64
					for _, m := range roomMessages(p, "dev")[first:] {
						if m.History {
							history = append(history, m.ID)
						} else {
							liveIDs = append(liveIDs, m.ID)
						}
					}
					if len(history) < stored-1 || !slices.Equal(history, span(2, history[len(history)-1])) ||
						len(liveIDs) == 0 || !slices.Equal(liveIDs, span(liveIDs[0], last)) ||
						liveIDs[0] > history[len(history)-1]+1 {
						t.Fatalf("history %v, live %v; want a run from 2, then live ones up to %d, with no gap", history, liveIDs, last)
					}
					connected(t, p)
				})

				t.Run("history limit 200", func(t *testing.T) {
					p := join(t, srv.Server, tr, "Reader")
					p.joinRoom("dev")
					var before int64 // pages back from the newest
					var got []chat.ChatMessage
					pages := 0
					for len(got) == 0 || got[0].ID > 1 {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						m, err := p.so.EmitWithAck(ctx, chat.EventHistory, map[string]any{"room": "dev", "before": before, "limit": chat.MaxHistoryLimit})
						cancel()
						pages++
						if err != nil {
							t.Fatalf("page %d, before %d: %v", pages, before, err)
						}
						var r historyReply
						if err := m.Bind(0, &r); err != nil {
							t.Fatal(err)
						}
						// An acknowledgement is one packet: it leaves most of
						// the queue to the rest.
						if size, most := len(m.Args[0]), maxQueue/4; size > most {
							t.Errorf("page %d: %d bytes, more than %d", pages, size, most)
						}
						if !r.OK || len(r.Messages) == 0 {
							t.Fatalf("page %d, before %d: %+v", pages, before, r)
						}
						if n := len(r.Messages); n < chat.MaxHistoryLimit && !r.More && r.Messages[0].ID > 1 {
							t.Fatalf("page %d: %d messages down to %d, and no more", pages, n, r.Messages[0].ID)
						}
						got = append(slices.Clone(r.Messages), got...)
						before = r.Messages[0].ID
					}
					if want := span(1, got[len(got)-1].ID); !slices.Equal(ids(got), want) {
						t.Fatalf("paged through %d messages, ids %v, want 1..%d", len(got), ids(got), len(want))
					}
					for _, m := range got {
						if (m.ID <= stored && m.Message != cjk) || !m.History {
							t.Fatalf("message %d: %.20q..., history %t", m.ID, m.Message, m.History)
						}
					}
					t.Logf("%d pages", pages)
					connected(t, p)
				})
			})
		})
	}
}

// historyReply is the acknowledgement of history.
type historyReply struct {
	OK       bool               `json:"ok"`
	Room     string             `json:"room"`
	Messages []chat.ChatMessage `json:"messages"`
	More     bool               `json:"more"`
	Error    string             `json:"error"`
}

// TestOfficialClientCatchUp has the official socket.io-client catch up on
// 400 messages of 2,000 CJK characters, over each transport, on a server
// with connection state recovery on, as parley runs
// (test/js/chat-catchup.test.mjs): with auth {since}, with join-room since,
// and paging through history 200 at a time.
func TestOfficialClientCatchUp(t *testing.T) {
	testjs.RequireNode(t)
	const stored = 400
	for _, mode := range []string{"websocket", "polling", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			st := openStore(t, filepath.Join(t.TempDir(), "chat.db"))
			seed(t, st, chat.DefaultRoom, stored, cjk)
			seed(t, st, "dev", stored, cjk)
			srv := startChat(t, chat.Config{Store: st}, socketio.Config{Recovery: &socketio.RecoveryConfig{}})
			testjs.Run(t, time.Minute, "chat-catchup.test.mjs",
				"PARLEY_URL="+srv.URL, "PARLEY_TRANSPORT="+mode, fmt.Sprint("PARLEY_STORED=", stored))
		})
	}
}

// rawClient speaks Socket.IO over a bare Engine.IO connection, as the
// official client does for connection state recovery: it keeps the pid of
// its CONNECT reply and, as its offset, the last argument of the last
// event it got when that is a string.
type rawClient struct {
	t        *testing.T
	ec       *sioclient.EngineConn
	sid, pid string
	offset   string
}

// dialRaw connects to "/" over WebSocket with auth, and reads the CONNECT
// reply.
func dialRaw(t *testing.T, url string, auth any) *rawClient {
	t.Helper()
	ec, err := sioclient.DialEngine(siotest.Context(t), url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ec.Close() })
	b, err := json.Marshal(auth)
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.SendMessage(append([]byte("0"), b...), false); err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, ec: ec}
	p := c.packet()
	var reply struct{ SID, PID string }
	if p.Type != sioparser.PacketConnect || json.Unmarshal(p.Data, &reply) != nil {
		t.Fatalf("CONNECT reply: %+v", p)
	}
	c.sid, c.pid = reply.SID, reply.PID
	return c
}

// packet reads the next Socket.IO packet.
func (c *rawClient) packet() *sioparser.Packet {
	c.t.Helper()
	m, err := c.ec.Read(siotest.Context(c.t))
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	p, _, err := sioparser.DecodePacket(m.Data)
	if err != nil {
		c.t.Fatalf("packet %q: %v", m.Data, err)
	}
	return p
}

// event reads the next event, and keeps its offset.
func (c *rawClient) event() (string, []json.RawMessage) {
	c.t.Helper()
	for {
		p := c.packet()
		if p.Type != sioparser.PacketEvent {
			continue
		}
		name, args, err := sioparser.EventName(p.Data)
		if err != nil {
			c.t.Fatal(err)
		}
		var last string
		if len(args) > 0 && json.Unmarshal(args[len(args)-1], &last) == nil {
			c.offset = last
		}
		return name, args
	}
}

// message reads events up to the next chat message, and returns it.
func (c *rawClient) message() chat.ChatMessage {
	c.t.Helper()
	for {
		name, args := c.event()
		if name != chat.EventChatMessage {
			continue
		}
		var m chat.ChatMessage
		if err := json.Unmarshal(args[0], &m); err != nil {
			c.t.Fatal(err)
		}
		return m
	}
}

// TestCatchUpCutOffIsRecovered cuts a client off in the middle of its
// catch-up on connecting, and has it come back with its session, as the
// official client does: the socket is restored without the default room,
// which it had not joined yet, and catches up again from the last message
// it names, then hears the room. (It used to be restored deaf to the room.)
func TestCatchUpCutOffIsRecovered(t *testing.T) {
	t.Parallel()
	const stored = 400
	st := openStore(t, filepath.Join(t.TempDir(), "chat.db"))
	seed(t, st, chat.DefaultRoom, stored, cjk)
	cfg := unlimited
	cfg.Store = st
	srv := startChat(t, cfg, socketio.Config{
		Recovery: &socketio.RecoveryConfig{},
		// A piece is 32 KiB, 5 messages: the catch-up takes many.
		Engine: engineio.Config{MaxQueueBytes: 256 << 10},
	})

	// An offset, as a client that was connected before has one: from a
	// broadcast whose last argument is a string.
	a := dialRaw(t, srv.URL, map[string]any{"since": stored})
	other := join(t, srv.Server, sioclient.TransportWebSocket, "Other")
	for {
		name, _ := a.event()
		if name == chat.EventUserConnected {
			break // welcome and the history before it have no offset
		}
	}
	if a.offset == "" {
		t.Fatal("user-connected without an offset")
	}

	b := dialRaw(t, srv.URL, map[string]any{"since": 1})
	var seen int64
	for want := int64(2); want < 7; want++ {
		if m := b.message(); m.ID != want || !m.History {
			t.Fatalf("message %+v, want %d as history", m, want)
		}
		seen = want
	}
	_ = b.ec.Close() // a transport close: the session is kept
	wait.For(t, "the socket gone", 5*time.Second, func() bool { return srv.nsp.Socket(b.sid) == nil })

	back := dialRaw(t, srv.URL, map[string]any{"pid": b.pid, "offset": a.offset, "since": seen})
	if back.sid != b.sid {
		t.Fatalf("came back as %s, not restored as %s", back.sid, b.sid)
	}
	for want := seen + 1; want <= stored; want++ {
		if m := back.message(); m.ID != want || !m.History {
			t.Fatalf("message %d, history %t; want %d as history", m.ID, m.History, want)
		}
	}
	live := other.say("live", nil)
	if m := back.message(); m.ID != live.ID || m.History {
		t.Fatalf("message %d, history %t; want %d, live", m.ID, m.History, live.ID)
	}
}
