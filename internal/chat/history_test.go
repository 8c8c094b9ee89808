package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// This file tests history: what a connection gets first, auth {since},
// join-room's history, scrollback, durability, clientId idempotency and
// store failures. Its helpers serve rooms_test.go and presence_test.go too.

// testServer is a chat on a loopback test server, with handles on its
// namespace and store for the tests that look inside.
type testServer struct {
	*httptest.Server
	chat  *chat.Chat
	nsp   *socketio.Namespace
	store store.Store
}

// startChat serves a chat configured by cfg over a Socket.IO server
// configured by scfg. Without cfg.Store, the history is kept in a new
// SQLite database.
func startChat(t *testing.T, cfg chat.Config, scfg socketio.Config) *testServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Logger, scfg.Logger = log, log
	if cfg.Store == nil {
		cfg.Store = openStore(t, filepath.Join(t.TempDir(), "chat.db"))
	}
	sio := socketio.NewServer(scfg)
	c, err := chat.New(cfg, sio.Of("/"))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sio)
	t.Cleanup(func() {
		ts.Close()
		_ = c.Close()
	})
	return &testServer{Server: ts, chat: c, nsp: sio.Of("/"), store: cfg.Store}
}

// unlimited lifts the rate limit, for tests that send many messages.
var unlimited = chat.Config{Rate: rate.Inf}

// dial connects a recording client to url with auth (nil for none).
// Unlike connect, it reports failure as an error, so that goroutines may
// call it.
func dial(t *testing.T, url string, opts *sioclient.Options, auth any) (*person, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, url, opts)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	p := &person{t: t, c: c}
	so := c.Socket("/")
	so.OnAny(func(e *sioclient.Event) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.events = append(p.events, received{e.Name, e.Args})
	})
	if err := so.Connect(ctx, auth); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	p.so = so
	return p, nil
}

// connectAuth connects over tr with auth as the handshake's payload.
func connectAuth(t *testing.T, ts *httptest.Server, tr sioclient.Transport, auth any) *person {
	t.Helper()
	p, err := dial(t, ts.URL, &sioclient.Options{Transport: tr}, auth)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// joinReply is the acknowledgement of new-user, or its refusal.
type joinReply struct {
	OK    bool      `json:"ok"`
	Name  string    `json:"name"`
	Room  string    `json:"room"`
	Users []string  `json:"users"`
	ID    string    `json:"id"`
	Token string    `json:"token"`
	Code  chat.Code `json:"code"`
	Error string    `json:"error"`
	// Limits are the server's, for the page to count against.
	Limits chat.Limits `json:"limits"`
}

// joinWithToken connects over tr and joins as name with a token, and
// records the identity it is given.
func joinWithToken(t *testing.T, ts *httptest.Server, tr sioclient.Transport, name, token string) (*person, joinReply) {
	t.Helper()
	p := connect(t, ts, tr)
	var r joinReply
	p.ack(&r, chat.EventNewUser, name, map[string]string{"token": token})
	p.id, p.token = r.ID, r.Token
	return p, r
}

// sendReply is the acknowledgement of send-chat-message, or its refusal.
type sendReply struct {
	OK    bool   `json:"ok"`
	ID    int64  `json:"id"`
	Time  int64  `json:"time"`
	Room  string `json:"room"`
	Error string `json:"error"`
}

// send sends a message with an acknowledgement; opts, when not nil, is its
// second argument ({room, clientId}). It reports failure as an error, so
// that goroutines may call it.
func (p *person) send(text string, opts any) (sendReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	args := []any{text}
	if opts != nil {
		args = append(args, opts)
	}
	var r sendReply
	m, err := p.so.EmitWithAck(ctx, chat.EventSendChatMessage, args...)
	if err != nil {
		return r, err
	}
	return r, m.Bind(0, &r)
}

// say sends a message that must be accepted.
func (p *person) say(text string, opts any) sendReply {
	p.t.Helper()
	r, err := p.send(text, opts)
	if err != nil {
		p.t.Fatalf("send %q: %v", text, err)
	}
	if !r.OK {
		p.t.Fatalf("send %q: refused: %s", text, r.Error)
	}
	return r
}

// messages decodes the chat-message events p received, in order.
func (p *person) messages() []chat.ChatMessage {
	p.t.Helper()
	var out []chat.ChatMessage
	for _, r := range p.got(chat.EventChatMessage) {
		var m chat.ChatMessage
		if err := json.Unmarshal(r.args[0], &m); err != nil {
			p.t.Fatalf("chat-message %s: %v", r.args[0], err)
		}
		out = append(out, m)
	}
	return out
}

// ids returns the ids of msgs.
func ids(msgs []chat.ChatMessage) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// span returns the ids from..to, or nil when from > to.
func span(from, to int64) []int64 {
	var out []int64
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

// checkHistory checks that msgs are the messages of room with the given
// ids, in that order, all marked as history.
func checkHistory(t *testing.T, msgs []chat.ChatMessage, room string, want []int64) {
	t.Helper()
	if got := ids(msgs); !slices.Equal(got, want) {
		t.Fatalf("got message ids %v, want %v", got, want)
	}
	for _, m := range msgs {
		if !m.History || m.Room != room || m.Time == 0 || m.Message != fmt.Sprintf("%s %d", room, m.ID) {
			t.Errorf("message %+v: want history of %s, with its time and text", m, room)
		}
	}
}

// fill has p send n messages to room, with texts "room id", and checks
// their ids follow from. The server handles a connection's events in
// order and stores them in that order: all but the last go without an
// acknowledgement, to share commits, and the last one's says they are all
// stored.
func fill(t *testing.T, p *person, room string, from int64, n int) {
	t.Helper()
	if n == 0 {
		return
	}
	last := from + int64(n) - 1
	for id := from; id < last; id++ {
		p.emit(chat.EventSendChatMessage, fmt.Sprintf("%s %d", room, id), map[string]string{"room": room})
	}
	if r := p.say(fmt.Sprintf("%s %d", room, last), map[string]string{"room": room}); r.ID != last {
		t.Fatalf("message %d to %s got id %d", last, room, r.ID)
	}
}

func TestHistoryOnConnect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		sent int
		want []int64
	}{
		{"empty room", 0, nil},
		{"a few messages", 3, span(1, 3)},
		{"exactly the limit", 50, span(1, 50)},
		{"more than the limit", 75, span(26, 75)},
	}
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				srv := startChat(t, unlimited, socketio.Config{})
				alice := join(t, srv.Server, tr, "Alice")
				fill(t, alice, chat.DefaultRoom, 1, tc.sent)

				// A connection gets the history first, named or not.
				late := connect(t, srv.Server, tr)
				late.sync()
				checkHistory(t, late.messages(), chat.DefaultRoom, tc.want)

				// Then the live messages, not marked, once.
				live := alice.say("live", nil)
				late.waitFor(chat.EventChatMessage, len(tc.want)+1)
				var r joinReply
				late.ack(&r, chat.EventNewUser, "Late") // joining general sends no history again
				late.sync()
				got := late.messages()
				if len(got) != len(tc.want)+1 {
					t.Fatalf("got %d messages, want %d of history and 1 live", len(got), len(tc.want))
				}
				if m := got[len(got)-1]; m.History || m.ID != live.ID || m.ID != int64(tc.sent)+1 || m.Message != "live" {
					t.Errorf("live message %+v, want id %d, not history", m, live.ID)
				}
				// The sender got none of her own.
				alice.sync()
				if n := len(alice.got(chat.EventChatMessage)); n != 0 {
					t.Errorf("alice got %d messages, want none", n)
				}
			})
		}
	})
}

// TestHistoryOnConnectWhileSending connects people while others send:
// each connection sees every message sent since its history began exactly
// once, history or live, in order.
func TestHistoryOnConnectWhileSending(t *testing.T) {
	t.Parallel()
	const (
		senders   = 4
		listeners = 12
		maxEach   = 300 // bounds the test if connecting stalls
	)
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, unlimited, socketio.Config{})
		var ss []*person
		for i := range senders {
			ss = append(ss, join(t, srv.Server, tr, fmt.Sprintf("S%d", i)))
		}
		// Nearly a page of history to begin with, so that the first
		// listeners get less than a page and the last ones a whole one.
		own := make(map[*person][]int64)
		for i := range chat.DefaultHistoryLimit - 5 {
			own[ss[0]] = append(own[ss[0]], ss[0].say(fmt.Sprint("before ", i), nil).ID)
		}
		// The senders send until every listener has connected, and a few
		// more messages after that.
		var (
			connected atomic.Int32
			wg        sync.WaitGroup
			mu        sync.Mutex
		)
		errc := make(chan error, senders+listeners)
		for i, s := range ss {
			wg.Add(1)
			go func() {
				defer wg.Done()
				after := 0
				for j := 0; j < maxEach && after < 5; j++ {
					r, err := s.send(fmt.Sprintf("s%d-%d", i, j), nil)
					if err != nil || !r.OK {
						errc <- fmt.Errorf("sender %d: %v %+v", i, err, r)
						return
					}
					mu.Lock()
					own[s] = append(own[s], r.ID)
					mu.Unlock()
					if connected.Load() == listeners {
						after++
					}
				}
			}()
		}
		// Three at a time, one after the other.
		ls := make([]*person, listeners)
		var lwg sync.WaitGroup
		for g := range 3 {
			lwg.Add(1)
			go func() {
				defer lwg.Done()
				for i := g; i < listeners; i += 3 {
					p, err := dial(t, srv.URL, &sioclient.Options{Transport: tr}, nil)
					connected.Add(1)
					if err != nil {
						errc <- fmt.Errorf("listener %d: %w", i, err)
						return
					}
					ls[i] = p
				}
			}()
		}
		lwg.Wait()
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}

		var last int64
		for _, s := range ss {
			last = max(last, slices.Max(own[s]))
		}
		t.Logf("%d messages sent while %d people connected", last-chat.DefaultHistoryLimit+5, listeners)
		for i, l := range ls {
			l.sync()
			msgs := l.messages()
			got := ids(msgs)
			if len(got) == 0 {
				t.Fatalf("listener %d got no message", i)
			}
			if want := span(got[0], last); !slices.Equal(got, want) {
				t.Fatalf("listener %d got ids %v, want each of %d..%d once, in order", i, got, got[0], last)
			}
			history := 0
			for history < len(msgs) && msgs[history].History {
				history++
			}
			for _, m := range msgs[history:] {
				if m.History {
					t.Fatalf("listener %d: history message %d after live ones", i, m.ID)
				}
			}
			// Its history is the last page of what had been broadcast.
			if history > chat.DefaultHistoryLimit || (got[0] != 1 && history != chat.DefaultHistoryLimit) {
				t.Errorf("listener %d: %d messages of history from id %d", i, history, got[0])
			}
		}
		// Each sender got every message but its own, once, in order.
		for i, s := range ss {
			s.sync()
			got := ids(s.messages())
			all := slices.Sorted(slices.Values(append(slices.Clone(got), own[s]...)))
			if !slices.IsSorted(got) || !slices.Equal(all, span(1, last)) {
				t.Errorf("sender %d got %v and sent %v; want together 1..%d, once each, in order", i, got, own[s], last)
			}
		}
	})
}

func TestConnectSince(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		auth any
		want []int64
	}{
		{"no auth", nil, span(21, 70)},
		{"since 0", map[string]any{"since": 0}, span(21, 70)},
		{"missed more than a page", map[string]any{"since": 7}, span(8, 70)},
		{"missed one", map[string]any{"since": 69}, []int64{70}},
		{"up to date", map[string]any{"since": 70}, nil},
		{"ahead of the server", map[string]any{"since": 1000}, nil},
		{"negative", map[string]any{"since": -3}, span(21, 70)},
		{"not a number", map[string]any{"since": "7"}, span(21, 70)},
		{"other auth", map[string]any{"token": "x"}, span(21, 70)},
	}
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, unlimited, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		var r struct{ OK bool }
		alice.ack(&r, chat.EventJoinRoom, "dev")
		fill(t, alice, chat.DefaultRoom, 1, 70)
		fill(t, alice, "dev", 1, 5) // since is about general only
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := connectAuth(t, srv.Server, tr, tc.auth)
				p.t = t
				p.sync()
				checkHistory(t, p.messages(), chat.DefaultRoom, tc.want)
			})
		}
	})
}

// TestCatchUpHasNoHole has a client come back after missing more than
// the server sends to catch up: what it gets, history then live, has no
// hole, so that it can page back for the rest with history requests.
func TestCatchUpHasNoHole(t *testing.T) {
	t.Parallel()
	const missed = 600 // more than the chat's catch-up bound of 500
	srv := startChat(t, unlimited, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	alice.joinRoom("dev")
	fill(t, alice, chat.DefaultRoom, 1, missed+1)
	fill(t, alice, "dev", 1, missed+1)
	for _, tc := range []struct {
		name string
		room string
		back func(t *testing.T) *person
	}{
		{"auth since", chat.DefaultRoom, func(t *testing.T) *person {
			return connectAuth(t, srv.Server, sioclient.TransportWebSocket, map[string]any{"since": 1})
		}},
		{"join-room since", "dev", func(t *testing.T) *person {
			p := join(t, srv.Server, sioclient.TransportWebSocket, "Bob")
			p.t = t
			var r roomReply
			p.ack(&r, chat.EventJoinRoom, map[string]any{"room": "dev", "since": 1})
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice.t = t
			p := tc.back(t)
			live := alice.say("live", map[string]string{"room": tc.room})
			p.waitFor(chat.EventChatMessage, 2)
			p.sync()
			var got []int64
			for _, m := range p.messages() {
				if m.Room == tc.room {
					got = append(got, m.ID)
				}
			}
			if len(got) < 2 || got[0] <= 1 || !slices.Equal(got, span(got[0], live.ID)) {
				t.Fatalf("got ids %v, want a run of ids after 1 up to the live %d, without a hole", got, live.ID)
			}
		})
	}
}

func TestJoinRoomHistory(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  any
		room string
		want []int64
	}{
		{"by name", "dev", "dev", span(1, 5)},
		{"as an object", map[string]any{"room": "dev"}, "dev", span(1, 5)},
		{"since", map[string]any{"room": "dev", "since": 3}, "dev", span(4, 5)},
		{"since the last", map[string]any{"room": "dev", "since": 5}, "dev", nil},
		{"a long room", "big", "big", span(11, 60)},
		{"a long room, since", map[string]any{"room": "big", "since": 5}, "big", span(6, 60)},
		{"a new room", "empty", "empty", nil},
	}
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, unlimited, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		for _, room := range []string{"dev", "big"} {
			var r struct{ OK bool }
			alice.ack(&r, chat.EventJoinRoom, room)
		}
		fill(t, alice, "dev", 1, 5)
		fill(t, alice, "big", 1, 60)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := join(t, srv.Server, tr, fmt.Sprintf("P%d", i))
				p.t = t
				var r roomReply
				p.ack(&r, chat.EventJoinRoom, tc.req)
				if !r.OK || r.Room != tc.room || !slices.Contains(r.Users, fmt.Sprintf("P%d", i)) {
					t.Fatalf("join-room %v: %+v", tc.req, r)
				}
				// The history came before the acknowledgement.
				checkHistory(t, p.messages(), tc.room, tc.want)
				// Joining again sends nothing again, unless it says what
				// it saw last: then what came after, again.
				p.ack(&r, chat.EventJoinRoom, tc.req)
				p.sync()
				want := tc.want
				if req, ok := tc.req.(map[string]any); ok && req["since"] != nil {
					want = append(slices.Clone(want), want...)
				}
				if !r.OK {
					t.Fatalf("joining again: %+v", r)
				}
				checkHistory(t, p.messages(), tc.room, want)
			})
		}
	})
}

func TestHistoryScrollback(t *testing.T) {
	t.Parallel()
	srv := startChat(t, unlimited, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	fill(t, alice, chat.DefaultRoom, 1, 120)
	cases := []struct {
		name    string
		args    []any
		want    []int64
		wantErr error
	}{
		{"latest", []any{map[string]any{"room": "general", "limit": 30}}, span(91, 120), nil},
		{"page before", []any{map[string]any{"room": "general", "before": 91, "limit": 30}}, span(61, 90), nil},
		{"first page", []any{map[string]any{"room": "general", "before": 10, "limit": 30}}, span(1, 9), nil},
		{"before the first", []any{map[string]any{"room": "general", "before": 1, "limit": 30}}, nil, nil},
		{"default limit", []any{map[string]any{"room": "general"}}, span(71, 120), nil},
		{"default room", []any{map[string]any{"limit": 2}}, span(119, 120), nil},
		{"no argument", nil, span(71, 120), nil},
		{"the largest limit", []any{map[string]any{"limit": chat.MaxHistoryLimit}}, span(1, 120), nil},
		{"a room not joined", []any{map[string]any{"room": "dev"}}, nil, chat.ErrNotInRoom},
		{"not an object", []any{"general"}, nil, chat.ErrBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			alice.t = t
			var r struct {
				OK       bool               `json:"ok"`
				Room     string             `json:"room"`
				Messages []chat.ChatMessage `json:"messages"`
				Error    string             `json:"error"`
			}
			alice.ack(&r, chat.EventHistory, tc.args...)
			if tc.wantErr != nil {
				if r.OK || r.Error != tc.wantErr.Error() {
					t.Fatalf("reply %+v, want error %q", r, tc.wantErr)
				}
				return
			}
			if !r.OK || r.Room != chat.DefaultRoom || r.Messages == nil {
				t.Fatalf("reply %+v", r)
			}
			checkHistory(t, r.Messages, chat.DefaultRoom, tc.want)
		})
	}
	alice.t = t

	t.Run("paging back through everything", func(t *testing.T) {
		var all []chat.ChatMessage
		before := int64(0)
		for page := 0; page < 10; page++ {
			var r struct {
				OK       bool               `json:"ok"`
				Messages []chat.ChatMessage `json:"messages"`
			}
			alice.ack(&r, chat.EventHistory, map[string]any{"before": before, "limit": 25})
			if !r.OK {
				t.Fatalf("page %d: %+v", page, r)
			}
			if len(r.Messages) == 0 {
				break
			}
			all = append(r.Messages, all...)
			before = r.Messages[0].ID
		}
		checkHistory(t, all, chat.DefaultRoom, span(1, 120))
	})

	t.Run("not joined", func(t *testing.T) {
		p := connect(t, srv.Server, sioclient.TransportWebSocket)
		var r struct{ Error string }
		p.ack(&r, chat.EventHistory, map[string]any{"limit": 5})
		if r.Error != chat.ErrNotJoined.Error() {
			t.Errorf("history before new-user: %+v, want %q", r, chat.ErrNotJoined)
		}
	})
}

// TestAckImpliesStored reads the store directly as soon as each
// acknowledgement arrives: the message is there.
func TestAckImpliesStored(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, unlimited, socketio.Config{})
		const senders, each = 4, 15
		var wg sync.WaitGroup
		errc := make(chan error, senders)
		for i := range senders {
			p := join(t, srv.Server, tr, fmt.Sprintf("S%d", i))
			room := []string{chat.DefaultRoom, "dev"}[i%2]
			if room != chat.DefaultRoom {
				var r struct{ OK bool }
				p.ack(&r, chat.EventJoinRoom, room)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- func() error {
					for j := range each {
						text, cid := fmt.Sprintf("S%d says %d", i, j), fmt.Sprintf("S%d-%d", i, j)
						r, err := p.send(text, map[string]string{"room": room, "clientId": cid})
						if err != nil || !r.OK {
							return fmt.Errorf("send %q: %v %+v", text, err, r)
						}
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						got, err := srv.store.Since(ctx, room, r.ID-1, 1)
						cancel()
						if err != nil {
							return err
						}
						// The store keeps the client's id under its author's
						// identity.
						author := fmt.Sprintf("S%d", i)
						want := store.Message{Room: room, ID: r.ID, Author: author, AuthorID: p.id, Text: text, ClientID: p.id + "|" + cid}
						if len(got) != 1 || got[0].Time.UnixMilli() != r.Time {
							return fmt.Errorf("acked %+v, stored %+v", r, got)
						}
						if got[0].Time = (time.Time{}); got[0] != want {
							return fmt.Errorf("acked %+v, stored %+v, want %+v", r, got[0], want)
						}
					}
					return nil
				}()
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

func TestClientIDIdempotency(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, unlimited, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		bob := join(t, srv.Server, tr, "Bob")

		first := alice.say("hello", map[string]string{"clientId": "c-1"})
		// A retry, as after a lost acknowledgement: same id, same time, no
		// second broadcast, even with other text.
		for _, text := range []string{"hello", "hello, edited"} {
			if again := alice.say(text, map[string]string{"clientId": "c-1"}); again != first {
				t.Errorf("resend acked %+v, want %+v", again, first)
			}
		}
		// Concurrent retries, which may share a commit.
		var wg sync.WaitGroup
		replies := make([]sendReply, 8)
		errs := make([]error, len(replies))
		for i := range replies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replies[i], errs[i] = alice.send("race", map[string]string{"clientId": "c-2"})
			}()
		}
		wg.Wait()
		for i, r := range replies {
			if errs[i] != nil || !r.OK || r.ID != first.ID+1 || r.Time != replies[0].Time {
				t.Errorf("concurrent resend %d: %v %+v, want id %d like the others", i, errs[i], r, first.ID+1)
			}
		}
		other := alice.say("other", map[string]string{"clientId": "c-3"})

		bob.sync()
		got := bob.messages()
		if want := []int64{first.ID, first.ID + 1, other.ID}; !slices.Equal(ids(got), want) || other.ID != first.ID+2 {
			t.Fatalf("bob got ids %v, want %v", ids(got), want)
		}
		for i, cid := range []string{"c-1", "c-2", "c-3"} {
			if got[i].ClientID != cid || got[i].History {
				t.Errorf("broadcast %+v, want clientId %q", got[i], cid)
			}
		}
		stored, err := srv.store.History(context.Background(), chat.DefaultRoom, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 3 || stored[0].Text != "hello" {
			t.Errorf("stored %+v, want 3 messages, the first as sent first", stored)
		}
	})
}

// flakyStore is a store.Store whose writes or reads fail on demand.
type flakyStore struct {
	store.Store
	failAppend atomic.Bool
	failReads  atomic.Bool
}

var _ store.Store = (*flakyStore)(nil)

var errFlaky = errors.New("flaky store: failing on purpose")

func (s *flakyStore) Append(ctx context.Context, msgs []store.Message) ([]store.Message, error) {
	if s.failAppend.Load() {
		return nil, errFlaky
	}
	return s.Store.Append(ctx, msgs)
}

func (s *flakyStore) History(ctx context.Context, room string, before int64, limit int) ([]store.Message, error) {
	if s.failReads.Load() {
		return nil, errFlaky
	}
	return s.Store.History(ctx, room, before, limit)
}

func (s *flakyStore) Since(ctx context.Context, room string, after int64, limit int) ([]store.Message, error) {
	if s.failReads.Load() {
		return nil, errFlaky
	}
	return s.Store.Since(ctx, room, after, limit)
}

func TestStoreFailure(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		fs := &flakyStore{Store: openStore(t, filepath.Join(t.TempDir(), "chat.db"))}
		cfg := unlimited
		cfg.Store = fs
		srv := startChat(t, cfg, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		bob := join(t, srv.Server, tr, "Bob")

		fs.failAppend.Store(true)
		// Acknowledged: the ack says so; several at once, one commit.
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := alice.send(fmt.Sprint("lost ", i), nil)
				if err != nil || r.OK || r.Error != chat.ErrNotStored.Error() {
					t.Errorf("send while the store fails: %v %+v, want error %q", err, r, chat.ErrNotStored)
				}
			}()
		}
		wg.Wait()
		// Not acknowledged: an error event.
		alice.emit(chat.EventSendChatMessage, "lost too")
		got := alice.waitFor(chat.EventError, 1)
		var ev struct{ Message string }
		if err := json.Unmarshal(got[0].args[0], &ev); err != nil || ev.Message != chat.ErrNotStored.Error() {
			t.Errorf("error event %s, want %q", got[0].args[0], chat.ErrNotStored)
		}
		bob.sync()
		if n := len(bob.got(chat.EventChatMessage)); n != 0 {
			t.Errorf("bob got %d messages that were not stored", n)
		}

		// Once the store is back, ids go on without a gap.
		fs.failAppend.Store(false)
		if r := alice.say("kept", nil); r.ID != 1 {
			t.Errorf("first stored message has id %d, want 1", r.ID)
		}
		bob.waitFor(chat.EventChatMessage, 1)

		// Reads failing: a new connection is told; it gets the history
		// once it joins after the store is back. (A room in memory sends
		// its recent history without a read: this is a second chat over
		// the store, which has not loaded the room yet.)
		fs.failReads.Store(true)
		carol := connect(t, startChat(t, cfg, socketio.Config{}).Server, tr)
		got = carol.waitFor(chat.EventError, 1)
		if err := json.Unmarshal(got[0].args[0], &ev); err != nil || ev.Message != chat.ErrUnavailable.Error() {
			t.Errorf("error event %s, want %q", got[0].args[0], chat.ErrUnavailable)
		}
		var r joinReply
		carol.ack(&r, chat.EventNewUser, "Carol")
		if r.OK || r.Error != chat.ErrUnavailable.Error() {
			t.Errorf("new-user while the store fails: %+v, want %q", r, chat.ErrUnavailable)
		}
		fs.failReads.Store(false)
		carol.ack(&r, chat.EventNewUser, "Carol")
		if !r.OK {
			t.Fatalf("new-user: %+v", r)
		}
		if msgs := carol.messages(); len(msgs) != 1 || msgs[0].Message != "kept" || !msgs[0].History {
			t.Errorf("carol got %+v, want the one stored message as history", msgs)
		}
	})
}
