package chat_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store/memory"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// welcomeOf returns the welcome p got, failing unless it is p's first
// event and p got one only.
func welcomeOf(t *testing.T, p *person) chat.Welcome {
	t.Helper()
	p.waitFor(chat.EventWelcome, 1)
	p.mu.Lock()
	first := p.events[0]
	p.mu.Unlock()
	if first.name != chat.EventWelcome {
		t.Fatalf("first event %q, want %q", first.name, chat.EventWelcome)
	}
	if n := len(p.got(chat.EventWelcome)); n != 1 {
		t.Errorf("%d welcome events, want 1", n)
	}
	var w chat.Welcome
	if len(first.args) != 1 || json.Unmarshal(first.args[0], &w) != nil {
		t.Fatalf("welcome %s: want one {epoch, limits}", first.args)
	}
	return w
}

// TestWelcome checks that every connection first hears the store's epoch
// and the server's limits, before the default room's history; that the
// epoch is the store's, across restarts of the chat, and another with
// another store; and that the limits are new-user's.
func TestWelcome(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "chat.db")
	st := openStore(t, db)
	cfg := chat.Config{Store: st, MaxNameLength: 12, MaxMessageLength: 300}
	first := startChat(t, cfg, socketio.Config{})
	alice := join(t, first.Server, sioclient.TransportWebSocket, "Alice")
	alice.say("before you came", nil)

	epoch := first.chat.Epoch()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		p := connect(t, first.Server, tr)
		p.t = t
		w := welcomeOf(t, p)
		if w.Epoch == "" || len(w.Epoch) < 16 {
			t.Errorf("epoch %q, want one of at least 16 characters", w.Epoch)
		}
		if w.Epoch != epoch {
			t.Errorf("epoch %q, want the store's %q", w.Epoch, epoch)
		}
		want := chat.Limits{Name: 12, Message: 300, Room: 32, Rate: chat.DefaultRate, Burst: chat.DefaultBurst}
		if w.Limits != want {
			t.Errorf("limits %+v, want %+v", w.Limits, want)
		}
		p.waitFor(chat.EventChatMessage, 1) // the history, after the welcome
		var r joinReply
		p.ack(&r, chat.EventNewUser, "Bob"+string(tr))
		if !r.OK || r.Limits != w.Limits {
			t.Errorf("new-user: %+v, want the welcome's limits %+v", r, w.Limits)
		}
	})

	// The chat starts again on the store: the same epoch. Another store:
	// another epoch, and memory stores have one each.
	again := startChat(t, chat.Config{Store: st}, socketio.Config{})
	if w := welcomeOf(t, connect(t, again.Server, sioclient.TransportWebSocket)); w.Epoch != epoch || again.chat.Epoch() != epoch {
		t.Errorf("after a restart on the same store: epoch %q, want %q", w.Epoch, epoch)
	}
	other := map[string]bool{epoch: true}
	for _, srv := range []*testServer{
		startChat(t, chat.Config{}, socketio.Config{}),
		startChat(t, chat.Config{Store: memory.New(memory.Config{})}, socketio.Config{}),
		startChat(t, chat.Config{Store: memory.New(memory.Config{})}, socketio.Config{}),
	} {
		w := welcomeOf(t, connect(t, srv.Server, sioclient.TransportWebSocket))
		if other[w.Epoch] {
			t.Errorf("epoch %q of another store, seen before", w.Epoch)
		}
		other[w.Epoch] = true
	}
}

// TestConnectSinceOfAnotherEpoch checks that a handshake's since counts in
// the epoch it names: of another store, it is forgotten, and the client
// gets the recent history as a new one does.
func TestConnectSinceOfAnotherEpoch(t *testing.T) {
	t.Parallel()
	srv := startChat(t, unlimited, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	fill(t, alice, chat.DefaultRoom, 1, 10)
	epoch := srv.chat.Epoch()
	cases := []struct {
		name string
		auth any
		want []int64
	}{
		{"since in this epoch", map[string]any{"since": 7, "epoch": epoch}, span(8, 10)},
		{"since without an epoch", map[string]any{"since": 7}, span(8, 10)},
		{"since of another epoch", map[string]any{"since": 7, "epoch": "gone"}, span(1, 10)},
		{"ahead, of another epoch", map[string]any{"since": 500, "epoch": "gone"}, span(1, 10)},
		{"an epoch not a string", map[string]any{"since": 7, "epoch": 3}, span(8, 10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := connectAuth(t, srv.Server, sioclient.TransportWebSocket, tc.auth)
			p.t = t
			p.sync()
			checkHistory(t, p.messages(), chat.DefaultRoom, tc.want)
		})
	}
}
