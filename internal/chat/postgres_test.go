package chat_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
)

// TestChatOnPostgres runs the chat on the PostgreSQL store (the other
// tests use SQLite): the tutorial contract, history for a late joiner, a
// room with catch-up, a retried message, and history intact after the
// server is replaced on the same database. It needs PARLEY_TEST_POSTGRES.
func TestChatOnPostgres(t *testing.T) {
	open := pgtest.Factory(t)
	first := open()
	srv := startChat(t, chat.Config{Store: first, Rate: unlimited.Rate}, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	bob := join(t, srv.Server, sioclient.TransportPolling, "Bob")

	fill(t, alice, chat.DefaultRoom, 1, 60)
	bob.waitFor(chat.EventChatMessage, 60)
	alice.joinRoom("dev")
	fill(t, alice, "dev", 1, 5)
	retry := map[string]string{"room": "dev", "clientId": "x1"}
	if a, b := alice.say("dev 6", retry), alice.say("dev 6", retry); a.ID != 6 || b.ID != 6 {
		t.Fatalf("a retried message got ids %d and %d, want 6 for both", a.ID, b.ID)
	}

	// A late joiner gets general's last 50, then catches up in dev.
	carol := join(t, srv.Server, sioclient.TransportUpgrade, "Carol")
	checkHistory(t, carol.messages(), chat.DefaultRoom, span(11, 60))
	var r roomReply
	carol.ack(&r, chat.EventJoinRoom, map[string]any{"room": "dev", "since": 3})
	got := carol.messages()[50:]
	checkHistory(t, got, "dev", span(4, 6))

	// A new server on the same database has it all.
	srv2 := startChat(t, chat.Config{Store: open()}, socketio.Config{})
	dave := join(t, srv2.Server, sioclient.TransportWebSocket, "Dave")
	checkHistory(t, dave.messages(), chat.DefaultRoom, span(11, 60))
	if r := dave.say("general 61", nil); r.ID != 61 {
		t.Errorf("the next message after the restart got id %d, want 61", r.ID)
	}
	_ = first.Close()
}
