package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// newServer serves a chat on a loopback test server, with its history in
// a new SQLite database.
func newServer(t *testing.T, cfg chat.Config) *httptest.Server {
	t.Helper()
	ts, _ := newChat(t, cfg)
	return ts
}

func newChat(t *testing.T, cfg chat.Config) (*httptest.Server, *chat.Chat) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Logger = log
	if cfg.Store == nil {
		cfg.Store = openStore(t, filepath.Join(t.TempDir(), "chat.db"))
	}
	sio := socketio.NewServer(socketio.Config{Logger: log})
	c, err := chat.New(cfg, sio.Of("/"))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sio)
	t.Cleanup(func() {
		ts.Close()
		_ = c.Close()
	})
	return ts, c
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// received is one event a client got.
type received struct {
	name string
	args []json.RawMessage
}

// person is a test client that records every event it receives.
type person struct {
	t  *testing.T
	c  *sioclient.Client
	so *sioclient.Socket
	// id and token are the identity new-user gave, once joined.
	id, token string

	mu     sync.Mutex
	events []received
}

func connect(t *testing.T, ts *httptest.Server, tr sioclient.Transport) *person {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, ts.URL, &sioclient.Options{Transport: tr})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	p := &person{t: t, c: c}
	so := c.Socket("/")
	so.OnAny(func(e *sioclient.Event) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.events = append(p.events, received{e.Name, e.Args})
	})
	if err := so.Connect(ctx, nil); err != nil {
		t.Fatalf("connect: %v", err)
	}
	p.so = so
	t.Cleanup(func() { _ = c.Close() })
	return p
}

// join connects and joins the chat as name, checking the acknowledgement.
func join(t *testing.T, ts *httptest.Server, tr sioclient.Transport, name string) *person {
	t.Helper()
	p := connect(t, ts, tr)
	var reply joinReply
	p.ack(&reply, chat.EventNewUser, name)
	if !reply.OK || reply.Name != name || !slices.Contains(reply.Users, name) || reply.ID == "" || reply.Token == "" {
		t.Fatalf("join %q: reply %+v", name, reply)
	}
	p.id, p.token = reply.ID, reply.Token
	return p
}

// leave says goodbye: p's socket leaves the namespace, as the page's
// Leave does. (Closing the connection is closing the page, which may be a
// reload: the person stays for the presence grace.)
func (p *person) leave() {
	p.t.Helper()
	if err := p.so.Disconnect(); err != nil {
		p.t.Fatal(err)
	}
}

// ack emits an event with an acknowledgement and decodes the reply.
func (p *person) ack(reply any, event string, args ...any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := p.so.EmitWithAck(ctx, event, args...)
	if err != nil {
		p.t.Fatalf("%s: %v", event, err)
	}
	if err := m.Bind(0, reply); err != nil {
		p.t.Fatalf("%s: reply: %v", event, err)
	}
}

func (p *person) emit(event string, args ...any) {
	p.t.Helper()
	if err := p.so.Emit(event, args...); err != nil {
		p.t.Fatalf("%s: %v", event, err)
	}
}

// got returns the events received so far with the given name.
func (p *person) got(name string) []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []received
	for _, e := range p.events {
		if e.name == name {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls until p has n events of the given name, and returns them.
func (p *person) waitFor(name string, n int) []received {
	p.t.Helper()
	var got []received
	wait.For(p.t, fmt.Sprintf("%d %q events", n, name), 5*time.Second, func() error {
		if got = p.got(name); len(got) < n {
			return fmt.Errorf("got %d", len(got))
		}
		return nil
	})
	return got
}

// sync makes sure everything sent to p before now has arrived: the server
// handles a client's events in order, and a refused event's ack comes back
// through the same queue as the broadcasts before it.
func (p *person) sync() {
	p.t.Helper()
	var reply map[string]any
	p.ack(&reply, chat.EventSendChatMessage, 42) // refused: not a string
}

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string: %v", raw, err)
	}
	return s
}

func TestJoinAnnouncesToOthers(t *testing.T) {
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		ts := newServer(t, chat.Config{})
		alice := join(t, ts, tr, "Alice")
		bob := join(t, ts, tr, "Bob")
		carol := join(t, ts, tr, "Carol")

		got := alice.waitFor(chat.EventUserConnected, 2)
		if a, b := str(t, got[0].args[0]), str(t, got[1].args[0]); a != "Bob" || b != "Carol" {
			t.Errorf("alice saw %q, %q connect; want Bob, Carol", a, b)
		}
		if got := bob.waitFor(chat.EventUserConnected, 1); str(t, got[0].args[0]) != "Carol" {
			t.Errorf("bob saw %s connect; want Carol", got[0].args[0])
		}
		for _, p := range []*person{alice, bob, carol} {
			p.sync()
		}
		if n := len(carol.got(chat.EventUserConnected)); n != 0 {
			t.Errorf("carol saw %d joins; she came last and sees none", n)
		}
		if n := len(alice.got(chat.EventUserConnected)); n != 2 {
			t.Errorf("alice saw %d joins, want exactly 2", n)
		}
	})
}

// TestJoinWithoutAckIsListed checks that someone who joins the tutorial's
// way, without a callback, is announced and listed all the same: the chat
// only skips making the member list nobody asked for.
func TestJoinWithoutAckIsListed(t *testing.T) {
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		ts := newServer(t, chat.Config{})
		carol := join(t, ts, tr, "Carol")
		bob := connect(t, ts, tr)
		bob.emit(chat.EventNewUser, "Bob")
		bob.emit(chat.EventJoinRoom, "dev")
		bob.sync() // bob is in before alice comes
		alice := connect(t, ts, tr)
		alice.emit(chat.EventNewUser, "Alice")
		alice.emit(chat.EventJoinRoom, "dev")
		alice.sync()
		if got := carol.waitFor(chat.EventUserConnected, 2); str(t, got[0].args[0]) != "Bob" || str(t, got[1].args[0]) != "Alice" {
			t.Errorf("carol saw %s, %s connect; want Bob, Alice", got[0].args[0], got[1].args[0])
		}
		for _, tc := range []struct {
			room string
			want []string
		}{
			{chat.DefaultRoom, []string{"Alice", "Bob", "Carol"}},
			{"dev", []string{"Alice", "Bob"}},
		} {
			var r struct {
				OK    bool     `json:"ok"`
				Users []string `json:"users"`
			}
			carol.ack(&r, chat.EventListUsers, tc.room)
			if !r.OK || !slices.Equal(r.Users, tc.want) {
				t.Errorf("list-users %s: %+v, want %q", tc.room, r, tc.want)
			}
		}
		// With a callback, the join lists the room; nothing was refused.
		var r struct {
			OK    bool     `json:"ok"`
			Users []string `json:"users"`
		}
		bob.ack(&r, chat.EventJoinRoom, "dev")
		if !r.OK || !slices.Equal(r.Users, []string{"Alice", "Bob"}) {
			t.Errorf("bob joins dev again: %+v", r)
		}
		if n := len(alice.got(chat.EventError)) + len(bob.got(chat.EventError)); n != 0 {
			t.Errorf("%d error events", n)
		}
	})
}

func TestChatMessageGoesToEveryoneButTheSender(t *testing.T) {
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		ts := newServer(t, chat.Config{})
		alice := join(t, ts, tr, "Alice")
		bob := join(t, ts, tr, "Bob")
		carol := join(t, ts, tr, "Carol")

		// The tutorial's way: no acknowledgement.
		alice.emit(chat.EventSendChatMessage, "hello <b>all</b> ✓")
		alice.sync() // her message is handled before bob sends his
		// With an acknowledgement: it carries the message's id and time.
		var sent struct {
			OK   bool  `json:"ok"`
			ID   int64 `json:"id"`
			Time int64 `json:"time"`
		}
		before := time.Now().UnixMilli()
		bob.ack(&sent, chat.EventSendChatMessage, "hi Alice")
		if !sent.OK || sent.ID == 0 || sent.Time < before-1000 {
			t.Fatalf("ack %+v", sent)
		}

		decode := func(r received) chat.ChatMessage {
			var m chat.ChatMessage
			if err := json.Unmarshal(r.args[0], &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		for _, tc := range []struct {
			p    *person
			want []string
		}{
			{alice, []string{"Bob: hi Alice"}},
			{bob, []string{"Alice: hello <b>all</b> ✓"}},
			{carol, []string{"Alice: hello <b>all</b> ✓", "Bob: hi Alice"}},
		} {
			tc.p.waitFor(chat.EventChatMessage, len(tc.want))
			tc.p.sync()
			got := tc.p.got(chat.EventChatMessage)
			var lines []string
			for _, r := range got {
				m := decode(r)
				lines = append(lines, m.Name+": "+m.Message)
				if m.ID == 0 || m.Time == 0 {
					t.Errorf("message %+v lacks id or time", m)
				}
				if m.Name == "Bob" && m.ID != sent.ID {
					t.Errorf("bob's message has id %d, his ack said %d", m.ID, sent.ID)
				}
			}
			if !slices.Equal(lines, tc.want) {
				t.Errorf("got %q, want %q", lines, tc.want)
			}
		}
	})
}

func TestLeavingIsAnnouncedAndKeepsTheName(t *testing.T) {
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		ts := newServer(t, chat.Config{})
		alice := join(t, ts, tr, "Alice")
		bob := join(t, ts, tr, "Bob")
		lurker := connect(t, ts, tr) // never names itself

		bob.leave()
		if err := lurker.c.Close(); err != nil {
			t.Fatal(err)
		}
		got := alice.waitFor(chat.EventUserDisconnected, 1)
		if name := str(t, got[0].args[0]); name != "Bob" {
			t.Errorf("user-disconnected %q, want Bob", name)
		}
		// The name is still Bob's: a stranger is refused, Bob's token
		// takes it back, as the same identity.
		var r joinReply
		connect(t, ts, tr).ack(&r, chat.EventNewUser, "Bob")
		if r.OK || r.Code != chat.CodeNameTaken || r.Error != chat.ErrNameTaken.Error() {
			t.Errorf("a stranger joins as Bob: %+v, want %q", r, chat.ErrNameTaken)
		}
		bob2, r := joinWithToken(t, ts, tr, "Bob", bob.token)
		if !r.OK || r.ID != bob.id || r.Token != bob.token {
			t.Errorf("bob back: %+v, want id %q", r, bob.id)
		}
		alice.waitFor(chat.EventUserConnected, 2)
		bob2.sync()
		alice.sync()
		if n := len(alice.got(chat.EventUserDisconnected)); n != 1 {
			t.Errorf("%d user-disconnected events; the unnamed socket must cause none", n)
		}
	})
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		name    string
		joined  bool
		event   string
		args    []any
		wantErr *chat.Refusal
	}{
		{"name not a string", false, chat.EventNewUser, []any{12}, chat.ErrNameType},
		{"name an object", false, chat.EventNewUser, []any{map[string]any{"name": "x"}}, chat.ErrNameType},
		{"name missing", false, chat.EventNewUser, nil, chat.ErrNameType},
		{"name empty", false, chat.EventNewUser, []any{""}, chat.ErrNameEmpty},
		{"name blank", false, chat.EventNewUser, []any{"  \t "}, chat.ErrNameEmpty},
		{"name too long", false, chat.EventNewUser, []any{long(33)}, chat.ErrNameTooLong},
		{"name taken", false, chat.EventNewUser, []any{"ALICE"}, chat.ErrNameTaken},
		{"second join", true, chat.EventNewUser, []any{"Zed"}, chat.ErrAlreadyJoined},
		{"message before join", false, chat.EventSendChatMessage, []any{"hi"}, chat.ErrNotJoined},
		{"message not a string", true, chat.EventSendChatMessage, []any{[]any{1, 2}}, chat.ErrMessageType},
		{"message empty", true, chat.EventSendChatMessage, []any{""}, chat.ErrMessageEmpty},
		{"message blank", true, chat.EventSendChatMessage, []any{"\n\n"}, chat.ErrMessageEmpty},
		{"message too long", true, chat.EventSendChatMessage, []any{long(2001)}, chat.ErrMessageTooLong},
	}
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		ts := newServer(t, chat.Config{})
		alice := join(t, ts, tr, "Alice")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var p *person
				if tc.joined {
					p = join(t, ts, tr, fmt.Sprintf("p%d", time.Now().UnixNano()%1e9))
				} else {
					p = connect(t, ts, tr)
				}
				p.t = t
				// With an acknowledgement: an ack error.
				var reply struct {
					OK    bool      `json:"ok"`
					Code  chat.Code `json:"code"`
					Error string    `json:"error"`
				}
				p.ack(&reply, tc.event, tc.args...)
				if reply.OK || reply.Code != tc.wantErr.Code || reply.Error != tc.wantErr.Error() {
					t.Errorf("ack %+v, want code %q, error %q", reply, tc.wantErr.Code, tc.wantErr)
				}
				// Without: an error event.
				p.emit(tc.event, tc.args...)
				got := p.waitFor(chat.EventError, 1)
				var ev struct {
					Code    chat.Code `json:"code"`
					Message string    `json:"message"`
				}
				if err := json.Unmarshal(got[0].args[0], &ev); err != nil || ev.Code != tc.wantErr.Code || ev.Message != tc.wantErr.Error() {
					t.Errorf("error event %s, want code %q, message %q", got[0].args[0], tc.wantErr.Code, tc.wantErr)
				}
				// The connection goes on.
				if !p.so.Connected() {
					t.Error("refused input disconnected the client")
				}
			})
		}
		// Nothing refused reached anyone else.
		alice.sync()
		if n := len(alice.got(chat.EventChatMessage)); n != 0 {
			t.Errorf("alice got %d chat messages from refused input", n)
		}
	})
}

func TestRateLimit(t *testing.T) {
	ts := newServer(t, chat.Config{Rate: 1, Burst: 5})
	alice := join(t, ts, sioclient.TransportWebSocket, "Alice") // spends 1 of the burst
	bob := join(t, ts, sioclient.TransportWebSocket, "Bob")
	var refused, sent int
	for i := 0; i < 10; i++ {
		var reply struct {
			OK    bool      `json:"ok"`
			Code  chat.Code `json:"code"`
			Error string    `json:"error"`
		}
		alice.ack(&reply, chat.EventSendChatMessage, fmt.Sprint("m", i))
		switch {
		case reply.OK:
			sent++
		case reply.Code == chat.CodeRateLimited && reply.Error == chat.ErrRateLimited.Error():
			refused++
		default:
			t.Fatalf("reply %+v", reply)
		}
	}
	if sent < 4 || sent > 6 || refused != 10-sent {
		t.Errorf("sent %d, refused %d; want about 4 sent (burst 5, one spent joining)", sent, refused)
	}
	bob.waitFor(chat.EventChatMessage, sent)
	// Bob's own budget is untouched.
	var reply struct {
		OK bool `json:"ok"`
	}
	bob.ack(&reply, chat.EventSendChatMessage, "still here")
	if !reply.OK {
		t.Error("bob was limited by alice's flood")
	}
}

func TestOnline(t *testing.T) {
	ts, c := newChat(t, chat.Config{})
	alice := join(t, ts, sioclient.TransportWebSocket, "Alice")
	join(t, ts, sioclient.TransportWebSocket, "Bob")
	if got := c.Online(); !slices.Equal(got, []string{"Alice", "Bob"}) {
		t.Errorf("Online() = %q", got)
	}
	alice.leave()
	wait.For(t, "Bob alone online after Alice left", 5*time.Second, func() error {
		if got := c.Online(); !slices.Equal(got, []string{"Bob"}) {
			return fmt.Errorf("Online() = %q", got)
		}
		return nil
	})
}

// TestClientIDsArePerAuthor checks that two people who happen to pick the
// same clientId send two messages, while one person's retry stays one.
func TestClientIDsArePerAuthor(t *testing.T) {
	ts := newServer(t, chat.Config{})
	alice := join(t, ts, sioclient.TransportWebSocket, "Alice")
	bob := join(t, ts, sioclient.TransportWebSocket, "Bob")
	carol := join(t, ts, sioclient.TransportWebSocket, "Carol")
	type sent struct {
		OK bool  `json:"ok"`
		ID int64 `json:"id"`
	}
	var a, a2, b sent
	opts := map[string]string{"clientId": "1"}
	alice.ack(&a, chat.EventSendChatMessage, "from alice", opts)
	alice.ack(&a2, chat.EventSendChatMessage, "from alice", opts) // a retry
	bob.ack(&b, chat.EventSendChatMessage, "from bob", opts)
	if !a.OK || !b.OK || a2.ID != a.ID || b.ID == a.ID {
		t.Fatalf("acks alice %+v, retry %+v, bob %+v: want the retry to keep alice's id and bob a new one", a, a2, b)
	}
	carol.waitFor(chat.EventChatMessage, 2)
	carol.sync()
	got := carol.got(chat.EventChatMessage)
	if len(got) != 2 {
		t.Fatalf("carol got %d messages, want 2", len(got))
	}
	var m chat.ChatMessage
	if err := json.Unmarshal(got[1].args[0], &m); err != nil || m.ClientID != "1" || m.Name != "Bob" || m.UserID != bob.id {
		t.Errorf("bob's message %s: want clientId \"1\" as he sent it, and his id %q", got[1].args[0], bob.id)
	}
}
