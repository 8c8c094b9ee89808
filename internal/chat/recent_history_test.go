package chat_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
)

// This file tests the rooms' recent messages: that the history of someone
// joining comes from them, that the store is read only for older
// messages, and never while a room's delivery waits on it.

// watchedStore is a store.Store that counts its history reads (History
// and Since), can fail them, and can hold those of one room.
type watchedStore struct {
	store.Store
	reads atomic.Int64
	fail  atomic.Bool

	mu      sync.Mutex
	slow    string        // the room whose reads are held, "" for none
	hold    time.Duration // how long they are held at most
	started chan struct{} // gets a value as a held read begins
	release chan struct{} // closed to end held reads
	holding atomic.Int32  // held reads under way
}

var _ store.Store = (*watchedStore)(nil)

var errWatched = errors.New("watched store: failing on purpose")

// holdReads makes the reads of room wait for d, or until release is
// called. started gets a value as each held read begins.
func (s *watchedStore) holdReads(t *testing.T, room string, d time.Duration) (started <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow, s.hold = room, d
	s.started, s.release = make(chan struct{}, 1), make(chan struct{})
	var once sync.Once
	ch := s.release
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return s.started, release
}

// read is what both kinds of history read do before reading.
func (s *watchedStore) read(ctx context.Context, room string) error {
	s.reads.Add(1)
	if s.fail.Load() {
		return errWatched
	}
	s.mu.Lock()
	held := s.slow != "" && room == s.slow
	d, started, release := s.hold, s.started, s.release
	s.mu.Unlock()
	if !held {
		return nil
	}
	s.holding.Add(1)
	defer s.holding.Add(-1)
	select {
	case started <- struct{}{}:
	default:
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (s *watchedStore) History(ctx context.Context, room string, before int64, limit int) ([]store.Message, error) {
	if err := s.read(ctx, room); err != nil {
		return nil, err
	}
	return s.Store.History(ctx, room, before, limit)
}

func (s *watchedStore) Since(ctx context.Context, room string, after int64, limit int) ([]store.Message, error) {
	if err := s.read(ctx, room); err != nil {
		return nil, err
	}
	return s.Store.Since(ctx, room, after, limit)
}

// startWatched serves a chat, without rate limit, over a watched memory
// store.
func startWatched(t *testing.T, cfg chat.Config) (*testServer, *watchedStore) {
	t.Helper()
	ws := &watchedStore{Store: memory.New(memory.Config{})}
	cfg.Store, cfg.Rate = ws, unlimited.Rate
	return startChat(t, cfg, socketio.Config{}), ws
}

// roomMessages returns the messages of room that p got, in order.
func roomMessages(p *person, room string) []chat.ChatMessage {
	var out []chat.ChatMessage
	for _, m := range p.messages() {
		if m.Room == room {
			out = append(out, m)
		}
	}
	return out
}

// TestSlowHistoryReadDelaysNoOtherRoom has one room's history read take
// 2 s, while a message is sent to that room and others to another: those
// are delivered with their usual latency. (When a read was made under the
// room's delivery lock, the message to the slow room held up the
// Committer's reporter, which delivers every room's messages, until the
// read was done.)
func TestSlowHistoryReadDelaysNoOtherRoom(t *testing.T) {
	t.Parallel()
	const (
		slowRead   = 2 * time.Second
		maxLatency = 500 * time.Millisecond
		deliveries = 10
	)
	tr := sioclient.TransportWebSocket
	srv, ws := startWatched(t, chat.Config{})
	alice := join(t, srv.Server, tr, "Alice") // sends to both rooms
	bob := join(t, srv.Server, tr, "Bob")     // hears general
	carol := join(t, srv.Server, tr, "Carol") // joins the slow room
	alice.joinRoom("slow")
	// More than the room keeps in memory, so that Carol's since asks for
	// older messages, which are read from the store.
	n := chat.DefaultRecentMessages + 50
	fill(t, alice, "slow", 1, n)

	started, release := ws.holdReads(t, "slow", slowRead)
	joined := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := carol.so.EmitWithAck(ctx, chat.EventJoinRoom, map[string]any{"room": "slow", "since": 1})
		joined <- err
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow room's history read did not begin")
	}
	// A message to the slow room while its read is under way, then
	// messages to general, each to be delivered in good time.
	alice.emit(chat.EventSendChatMessage, fmt.Sprintf("slow %d", n+1), map[string]string{"room": "slow"})
	var worst time.Duration
	for i := range deliveries {
		start := time.Now()
		alice.say(fmt.Sprint("general ", i), nil)
		bob.waitFor(chat.EventChatMessage, i+1)
		d := time.Since(start)
		worst = max(worst, d)
		if d > maxLatency {
			t.Errorf("message %d to general took %v to be delivered, want under %v", i, d, maxLatency)
		}
	}
	if ws.holding.Load() == 0 {
		t.Fatalf("the slow read ended before the %d deliveries did (worst %v): nothing was measured", deliveries, worst)
	}
	t.Logf("worst latency in general during the slow read: %v", worst)
	release()

	if err := <-joined; err != nil {
		t.Fatalf("join-room: %v", err)
	}
	carol.sync()
	// Carol got every message after the one she saw once, in order; the
	// one sent during the read among them.
	checkHistory(t, roomMessages(carol, "slow"), "slow", span(2, int64(n)+1))
}

// TestJoinHistoryFromMemory checks where a joiner's history comes from:
// the room's recent messages when they hold it, the store only for what is
// older, and the same history either way.
func TestJoinHistoryFromMemory(t *testing.T) {
	t.Parallel()
	const (
		sent   = 300
		recent = chat.DefaultRecentMessages
		oldest = sent - recent + 1 // the oldest message kept in memory
	)
	tr := sioclient.TransportWebSocket
	srv, ws := startWatched(t, chat.Config{})
	alice := join(t, srv.Server, tr, "Alice")
	alice.joinRoom("dev")
	fill(t, alice, chat.DefaultRoom, 1, sent)
	fill(t, alice, "dev", 1, 5)
	cases := []struct {
		name      string
		auth      any // of the connection, which hears general
		join      any // a join-room request after new-user, or nil
		room      string
		want      []int64
		wantReads bool
		fail      bool // the store's reads fail
	}{
		{"the last 50", nil, nil, chat.DefaultRoom, span(sent-49, sent), false, false},
		{"since within memory", map[string]any{"since": 200}, nil, chat.DefaultRoom, span(201, sent), false, false},
		{"since the oldest kept", map[string]any{"since": oldest - 1}, nil, chat.DefaultRoom, span(oldest, sent), false, false},
		{"since just older", map[string]any{"since": oldest - 2}, nil, chat.DefaultRoom, span(oldest-1, sent), true, false},
		{"since much older", map[string]any{"since": 10}, nil, chat.DefaultRoom, span(11, sent), true, false},
		{"up to date", map[string]any{"since": sent}, nil, chat.DefaultRoom, nil, false, false},
		{"join-room", nil, "dev", "dev", span(1, 5), false, false},
		{"join-room since", nil, map[string]any{"room": "dev", "since": 2}, "dev", span(3, 5), false, false},
		{"the last 50, reads failing", nil, nil, chat.DefaultRoom, span(sent-49, sent), false, true},
		{"join-room, reads failing", nil, "dev", "dev", span(1, 5), false, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws.fail.Store(tc.fail)
			defer ws.fail.Store(false)
			reads := ws.reads.Load()
			p := connectAuth(t, srv.Server, tr, tc.auth)
			p.t = t
			if tc.join != nil {
				var r joinReply
				p.ack(&r, chat.EventNewUser, fmt.Sprint("P", i))
				var rr roomReply
				p.ack(&rr, chat.EventJoinRoom, tc.join)
				if !r.OK || !rr.OK {
					t.Fatalf("new-user %+v, join-room %+v", r, rr)
				}
			}
			p.sync()
			checkHistory(t, roomMessages(p, tc.room), tc.room, tc.want)
			if n := len(p.got(chat.EventError)); n != 0 {
				t.Errorf("%d error events", n)
			}
			if read := ws.reads.Load() > reads; read != tc.wantReads {
				t.Errorf("the store was read: %t, want %t", read, tc.wantReads)
			}
		})
	}
}

// TestJoinRoomWhileSending has people join a room while others send to it,
// asking for the last messages, for recent ones, or for ones older than
// the room keeps in memory (a small number here), which are read from a
// store that takes its time: each joiner gets every message from its
// first on, once, in order, history then live.
func TestJoinRoomWhileSending(t *testing.T) {
	t.Parallel()
	const (
		recent  = 100
		senders = 3
		joiners = 24
		maxEach = 400 // bounds the test if joining stalls
	)
	tr := sioclient.TransportWebSocket
	srv, ws := startWatched(t, chat.Config{RecentMessages: recent})
	// Reads of the store take a while, so that messages arrive during
	// them.
	ws.holdReads(t, "dev", 2*time.Millisecond)
	var ss []*person
	for i := range senders {
		s := join(t, srv.Server, tr, fmt.Sprint("S", i))
		s.joinRoom("dev")
		ss = append(ss, s)
	}
	fill(t, ss[0], "dev", 1, 2*recent)
	var js []*person
	for i := range joiners {
		js = append(js, join(t, srv.Server, tr, fmt.Sprint("J", i)))
	}

	var (
		acked  atomic.Int64 // the highest id acknowledged so far
		joined atomic.Int32
		wg     sync.WaitGroup
	)
	acked.Store(2 * recent)
	errc := make(chan error, senders+joiners)
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := 0
			for j := 0; j < maxEach && after < 5; j++ {
				r, err := s.send(fmt.Sprintf("s%d-%d", i, j), map[string]string{"room": "dev"})
				if err != nil || !r.OK {
					errc <- fmt.Errorf("sender %d: %v %+v", i, err, r)
					return
				}
				for old := acked.Load(); r.ID > old && !acked.CompareAndSwap(old, r.ID); old = acked.Load() {
				}
				if joined.Load() == joiners {
					after++
				}
			}
		}()
	}
	// Three at a time; joiner i asks for the last messages (i%3 == 0),
	// for the last few (1) or for more than the room keeps (2).
	since := make([]int64, joiners)
	var jwg sync.WaitGroup
	for g := range 3 {
		jwg.Add(1)
		go func() {
			defer jwg.Done()
			for i := g; i < joiners; i += 3 {
				// Joins are quick: let messages come between them.
				if err := untilSent(&acked, acked.Load()+3); err != nil {
					errc <- fmt.Errorf("joiner %d: %w", i, err)
					return
				}
				switch i % 3 {
				case 1:
					since[i] = acked.Load() - 5
				case 2:
					since[i] = acked.Load() - 2*recent
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				m, err := js[i].so.EmitWithAck(ctx, chat.EventJoinRoom, map[string]any{"room": "dev", "since": since[i]})
				cancel()
				var r roomReply
				if err == nil {
					err = m.Bind(0, &r)
				}
				joined.Add(1)
				if err != nil || !r.OK {
					errc <- fmt.Errorf("joiner %d: %v %+v", i, err, r)
				}
			}
		}()
	}
	jwg.Wait()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	last := acked.Load()
	t.Logf("%d messages sent while %d people joined; %d history reads", last-2*recent, joiners, ws.reads.Load())
	for i, p := range js {
		p.sync()
		msgs := roomMessages(p, "dev")
		got := ids(msgs)
		if len(got) == 0 {
			t.Fatalf("joiner %d got no message", i)
		}
		if want := span(got[0], last); !slices.Equal(got, want) {
			t.Fatalf("joiner %d got ids %v, want each of %d..%d once, in order", i, got, got[0], last)
		}
		history := 0
		for history < len(msgs) && msgs[history].History {
			history++
		}
		for _, m := range msgs[history:] {
			if m.History {
				t.Fatalf("joiner %d: history message %d after live ones", i, m.ID)
			}
		}
		switch {
		case since[i] == 0 && history != chat.DefaultHistoryLimit:
			t.Errorf("joiner %d: %d messages of history, want %d", i, history, chat.DefaultHistoryLimit)
		case since[i] > 0 && got[0] != since[i]+1:
			t.Errorf("joiner %d saw %d and got %d first, want %d", i, since[i], got[0], since[i]+1)
		}
	}
}

// untilSent polls acked until it reaches id, failing after 5 s.
func untilSent(acked *atomic.Int64, id int64) error {
	deadline := time.Now().Add(5 * time.Second)
	for acked.Load() < id {
		if time.Now().After(deadline) {
			return fmt.Errorf("message %d was not sent in time (%d was)", id, acked.Load())
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}
