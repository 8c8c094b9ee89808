package chat

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
)

// hookedStore is a store.Store that calls onRead at the start of each
// read by Since, the read a join makes for what is older than a room's
// recent messages.
type hookedStore struct {
	store.Store
	reads  atomic.Int32
	onRead atomic.Pointer[func(n int32)] // n: this read's number, from 1
}

func (s *hookedStore) Since(ctx context.Context, room string, after int64, limit int) ([]store.Message, error) {
	n := s.reads.Add(1)
	if f := s.onRead.Load(); f != nil {
		(*f)(n)
	}
	return s.Store.Since(ctx, room, after, limit)
}

// listenClient is a named client that records the chat messages it gets.
type listenClient struct {
	t    *testing.T
	so   *sioclient.Socket
	mu   sync.Mutex
	msgs []ChatMessage
}

func (lc *listenClient) got() []ChatMessage {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return slices.Clone(lc.msgs)
}

// startListenChat serves a chat over st on a test server.
func startListenChat(t *testing.T, st store.Store, cfg Config) (*Chat, string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Store, cfg.Logger, cfg.Rate, cfg.Burst = st, log, 1e9, 1e9
	sio := socketio.NewServer(socketio.Config{Logger: log})
	c, err := New(cfg, sio.Of("/"))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sio)
	t.Cleanup(func() {
		ts.Close()
		_ = c.Close()
	})
	return c, ts.URL
}

// dialListener connects and joins the chat as name.
func dialListener(t *testing.T, url, name string) *listenClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := sioclient.Dial(ctx, url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	lc := &listenClient{t: t, so: cl.Socket("/")}
	lc.so.On(EventChatMessage, func(e *sioclient.Event) {
		var m ChatMessage
		if err := json.Unmarshal(e.Args[0], &m); err != nil {
			t.Errorf("chat-message %s: %v", e.Args[0], err)
		}
		lc.mu.Lock()
		lc.msgs = append(lc.msgs, m)
		lc.mu.Unlock()
	})
	if err := lc.so.Connect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	lc.ack(EventNewUser, name)
	return lc
}

// ack emits event; its acknowledgement must be ok.
func (lc *listenClient) ack(event string, args ...any) {
	lc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := lc.so.EmitWithAck(ctx, event, args...)
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err == nil {
		err = m.Bind(0, &r)
	}
	if err != nil || !r.OK {
		lc.t.Fatalf("%s: %v %+v", event, err, r)
	}
}

// appendMessages stores n messages in room and delivers them as the chat
// does after a commit, to everyone in the room.
func appendMessages(t *testing.T, c *Chat, room string, n int) {
	msgs := make([]store.Message, n)
	for i := range msgs {
		msgs[i] = store.Message{Room: room, Author: "Sender", Text: "m"}
	}
	stored, err := c.store.Append(context.Background(), msgs)
	if err != nil {
		t.Error(err)
		return
	}
	c.mu.Lock()
	r := c.rooms[store.RoomKey(room)]
	c.mu.Unlock()
	for _, m := range stored {
		c.stored(r, m, "")
	}
}

// TestListenReadOvertaken has messages arrive while a join reads the
// store for what is older than the room's recent messages: as many as
// these hold, so that when the join takes the room's lock again they no
// longer reach back to the end of its read. The join then reads what came
// meanwhile, and so on: the client gets every message from the one after
// since, once, in order, and the live ones after. A room that outruns the
// join every time, up to maxCatchUpRounds, closes the client, as too slow
// for the room, after what it got in order. The reads add messages to the
// room, which they could not do if the room's lock were held over them.
func TestListenReadOvertaken(t *testing.T) {
	const (
		recentN = 60
		before  = 200 // the room's messages before the join
		since   = 50  // what the joiner saw: older than the recent messages
		burst   = 70  // messages that arrive during a read: more than recentN
	)
	cases := []struct {
		name      string
		overtaken int32 // the reads during which a burst arrives
		wantReads int32
	}{
		{"not overtaken", 0, 1},
		{"overtaken once", 1, 2},
		{"overtaken twice", 2, 3},
		{"overtaken every time", 1000, maxCatchUpRounds},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &hookedStore{Store: memory.New(memory.Config{})}
			c, url := startListenChat(t, st, Config{RecentMessages: recentN})
			if _, err := c.loadRoom("dev", nil); err != nil {
				t.Fatal(err)
			}
			appendMessages(t, c, "dev", before)
			onRead := func(n int32) {
				if n <= tc.overtaken {
					appendMessages(t, c, "dev", burst)
				}
			}
			st.onRead.Store(&onRead)
			lc := dialListener(t, url, "Joiner")
			last := before + int64(min(tc.overtaken, tc.wantReads))*burst
			if tc.overtaken >= tc.wantReads {
				// Closed, after the history of every read but the last.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if _, err := lc.so.EmitWithAck(ctx, EventJoinRoom, map[string]any{"room": "dev", "since": since}); err == nil {
					t.Fatal("join-room acknowledged; want the connection closed")
				}
				if got, want := historyIDs(lc.got(), "dev"), idSpan(since+1, last-burst); !slices.Equal(got, want) {
					t.Errorf("history %v, want %d..%d", got, since+1, last-burst)
				}
				if got := st.reads.Load(); got != tc.wantReads {
					t.Errorf("%d reads, want %d", got, tc.wantReads)
				}
				return
			}
			lc.ack(EventJoinRoom, map[string]any{"room": "dev", "since": since})
			if got := st.reads.Load(); got != tc.wantReads {
				t.Errorf("%d reads, want %d", got, tc.wantReads)
			}
			// Then the live messages.
			appendMessages(t, c, "dev", 3)
			lc.ack(EventSendChatMessage, "sync", map[string]string{"room": DefaultRoom})

			var history []int64
			var live []int64
			for _, m := range lc.got() {
				switch {
				case m.Room != "dev":
				case m.History && len(live) > 0:
					t.Fatalf("history message %d after live ones", m.ID)
				case m.History:
					history = append(history, m.ID)
				default:
					live = append(live, m.ID)
				}
			}
			if !slices.Equal(history, idSpan(since+1, last)) {
				t.Errorf("history %v, want %d..%d", history, since+1, last)
			}
			if !slices.Equal(live, idSpan(last+1, last+3)) {
				t.Errorf("live %v, want %d..%d", live, last+1, last+3)
			}
		})
	}
}

// historyIDs returns the ids of the messages of room marked as history.
func historyIDs(msgs []ChatMessage, room string) []int64 {
	var out []int64
	for _, m := range msgs {
		if m.Room == room && m.History {
			out = append(out, m.ID)
		}
	}
	return out
}
