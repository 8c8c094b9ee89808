package chat_test

import (
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
)

// TestRoomNamesFold checks that room names that look alike name one room,
// shown as it was first spelt: general, GENERAL and Random, random were
// four rooms.
func TestRoomNamesFold(t *testing.T) {
	t.Parallel()
	srv := startChat(t, unlimited, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	bob := join(t, srv.Server, sioclient.TransportWebSocket, "Bob")
	alice.joinRoom("Random")

	cases := []struct {
		name, spelt, want string
	}{
		{"lower case", "random", "Random"},
		{"capitals", "RANDOM", "Random"},
		{"spaces around", "  random ", "Random"},
		{"full width", "ｒａｎｄｏｍ", "Random"},
		{"a Cyrillic о", "rаndоm", "Random"},
		{"the default room", "GENERAL", chat.DefaultRoom},
		{"the default room with a palochka", "generaӏ", chat.DefaultRoom},
		{"a new room", "Über Alles", "Über Alles"},
		{"the new room again", "über alles", "Über Alles"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bob.t = t
			var r roomReply
			bob.ack(&r, chat.EventJoinRoom, tc.spelt)
			if !r.OK || r.Room != tc.want {
				t.Fatalf("join-room %q: %+v, want room %q", tc.spelt, r, tc.want)
			}
		})
	}
	bob.t = t

	// One room: a message sent to any spelling reaches the room's members
	// under its name; its members are listed under any spelling.
	bob.say("hi, all of you", map[string]string{"room": "rAnDoM"})
	alice.waitFor(chat.EventChatMessage, 1)
	if got := alice.texts(); !slices.Contains(got, "Random: Bob: hi, all of you") {
		t.Errorf("Alice got %q, want Bob's message in Random", got)
	}
	var users roomReply
	bob.ack(&users, chat.EventListUsers, "RANDOM")
	if !users.OK || users.Room != "Random" || !slices.Equal(users.Users, []string{"Alice", "Bob"}) {
		t.Errorf("list-users RANDOM: %+v, want Alice and Bob in Random", users)
	}
	inRandom := func() []string {
		return slices.DeleteFunc(alice.presence(), func(e string) bool { return e == "+Bob@general" })
	}
	if got := inRandom(); !slices.Equal(got, []string{"+Bob@Random"}) {
		t.Errorf("Alice heard %q, want Bob joining Random once", got)
	}

	var rooms struct {
		OK    bool `json:"ok"`
		Rooms []struct {
			Name  string `json:"name"`
			Users int    `json:"users"`
		} `json:"rooms"`
	}
	bob.ack(&rooms, chat.EventListRooms)
	var listed []string
	for _, r := range rooms.Rooms {
		listed = append(listed, r.Name)
		if r.Name == "Random" && r.Users != 2 {
			t.Errorf("list-rooms: Random with %d users, want 2", r.Users)
		}
	}
	if want := []string{"Random", "general", "Über Alles"}; !slices.Equal(listed, want) {
		t.Errorf("list-rooms: %q, want %q", listed, want)
	}

	// Typing and leaving, under yet another spelling.
	var ok roomReply
	bob.ack(&ok, chat.EventTyping, map[string]any{"room": "RANDOM", "typing": true})
	if !ok.OK {
		t.Errorf("typing in RANDOM: %+v", ok)
	}
	var left roomReply
	bob.ack(&left, chat.EventLeaveRoom, "random")
	if !left.OK || left.Room != "Random" {
		t.Errorf("leave-room random: %+v, want Random left", left)
	}
	alice.waitFor(chat.EventUserDisconnected, 1)
	if got := inRandom(); !slices.Equal(got, []string{"+Bob@Random", "-Bob@Random"}) {
		t.Errorf("Alice heard %q", got)
	}
}

// TestRoomNameFirstSpellingKept checks that a room keeps the spelling it
// was created with across a restart of the chat on the same store.
func TestRoomNameFirstSpellingKept(t *testing.T) {
	t.Parallel()
	first := startChat(t, unlimited, socketio.Config{})
	ann := join(t, first.Server, sioclient.TransportWebSocket, "Ann")
	ann.joinRoom("Book Club")
	ann.say("first", map[string]string{"room": "Book Club"})

	again := startChat(t, chat.Config{Store: first.store, Rate: unlimited.Rate}, socketio.Config{})
	cy := join(t, again.Server, sioclient.TransportWebSocket, "Cy")
	var r roomReply
	cy.ack(&r, chat.EventJoinRoom, map[string]any{"room": "BOOK CLUB"})
	if !r.OK || r.Room != "Book Club" {
		t.Fatalf("join-room BOOK CLUB after a restart: %+v, want Book Club", r)
	}
	msgs := cy.messages()
	if len(msgs) == 0 || msgs[len(msgs)-1].Room != "Book Club" || msgs[len(msgs)-1].Message != "first" {
		t.Errorf("history of BOOK CLUB: %+v, want Ann's message in Book Club", msgs)
	}
}
