package chat_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
)

// created returns the names of the rooms p was told were created, in
// order.
func (p *person) created() []string {
	p.t.Helper()
	var out []string
	for _, e := range p.got(chat.EventRoomCreated) {
		var rc chat.RoomCreated
		if len(e.args) != 1 || json.Unmarshal(e.args[0], &rc) != nil {
			p.t.Fatalf("%s %s: want one {name}", chat.EventRoomCreated, e.args)
		}
		out = append(out, rc.Name)
	}
	return out
}

// TestRoomCreatedIsAnnounced checks that everyone connected, joined or
// not, hears of a room as it is created, once, by its first spelling; and
// of no other: the default room, a room that exists (whatever its
// spelling), a creation the caps refuse.
func TestRoomCreatedIsAnnounced(t *testing.T) {
	t.Parallel()
	cfg := unlimited
	cfg.RoomsPerPerson, cfg.RoomsPerAddress, cfg.MaxRooms = 2, -1, -1
	srv := startChat(t, cfg, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	bob := join(t, srv.Server, sioclient.TransportPolling, "Bob")
	stranger := connect(t, srv.Server, sioclient.TransportWebSocket)

	alice.joinRoom("Book Club")
	bob.joinRoom("Book Club") // exists
	var r roomReply
	bob.ack(&r, chat.EventJoinRoom, "BOOK CLUB") // exists, spelt otherwise
	bob.ack(&r, chat.EventJoinRoom, chat.DefaultRoom)
	alice.joinRoom("Chess")
	alice.ack(&r, chat.EventJoinRoom, "Go") // Alice's third: refused by the cap
	if r.OK {
		t.Fatalf("a third room by Alice: %+v, want room_limit", r)
	}
	syncAll(alice, bob, stranger)

	for who, p := range map[string]*person{"Alice": alice, "Bob": bob, "a client not joined": stranger} {
		if got, want := p.created(), []string{"Book Club", "Chess"}; !slices.Equal(got, want) {
			t.Errorf("%s heard of rooms created %q, want %q", who, got, want)
		}
	}
}
