package chat_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// roomReply is the acknowledgement of join-room, leave-room and
// list-users, or their refusal.
type roomReply struct {
	OK    bool     `json:"ok"`
	Room  string   `json:"room"`
	Users []string `json:"users"`
	Error string   `json:"error"`
}

// presence returns the user-connected and user-disconnected events p got,
// in order, as "+name@room" and "-name@room".
func (p *person) presence() []string {
	p.t.Helper()
	var out []string
	p.mu.Lock()
	events := slices.Clone(p.events)
	p.mu.Unlock()
	for _, e := range events {
		sign := map[string]string{chat.EventUserConnected: "+", chat.EventUserDisconnected: "-"}[e.name]
		if sign == "" {
			continue
		}
		if len(e.args) != 2 {
			p.t.Fatalf("%s with %d arguments, want name and room", e.name, len(e.args))
		}
		out = append(out, sign+str(p.t, e.args[0])+"@"+str(p.t, e.args[1]))
	}
	return out
}

// joinRoom has p join room, which must succeed.
func (p *person) joinRoom(room string) roomReply {
	p.t.Helper()
	var r roomReply
	p.ack(&r, chat.EventJoinRoom, room)
	if !r.OK || r.Room != room {
		p.t.Fatalf("join-room %q: %+v", room, r)
	}
	return r
}

// texts returns "room: name: message" for each message p got.
func (p *person) texts() []string {
	var out []string
	for _, m := range p.messages() {
		out = append(out, m.Room+": "+m.Name+": "+m.Message)
	}
	return out
}

// syncAll makes sure everything sent to each of people has arrived.
func syncAll(people ...*person) {
	// The first round makes sure the server has handled what each sent
	// (its events are handled in order, before its sync); the second
	// that what that sent to the others has reached them.
	for range 2 {
		for _, p := range people {
			p.sync()
		}
	}
}

func TestRoomsKeepMessagesAndPresenceApart(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, chat.Config{}, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		bob := join(t, srv.Server, tr, "Bob")
		carol := join(t, srv.Server, tr, "Carol")

		if r := alice.joinRoom("dev"); !slices.Equal(r.Users, []string{"Alice"}) {
			t.Errorf("alice joins dev: users %q", r.Users)
		}
		if r := bob.joinRoom("dev"); !slices.Equal(r.Users, []string{"Alice", "Bob"}) {
			t.Errorf("bob joins dev: users %q", r.Users)
		}

		// Ids count per room.
		for _, tc := range []struct {
			p    *person
			opts any
			text string
			room string
			id   int64
		}{
			{alice, map[string]string{"room": "dev"}, "to dev", "dev", 1},
			{bob, map[string]string{"room": "dev"}, "to dev too", "dev", 2},
			{alice, map[string]string{"room": "general"}, "to all", "general", 1},
			{carol, nil, "default room", "general", 2},
		} {
			if r := tc.p.say(tc.text, tc.opts); r.ID != tc.id || r.Room != tc.room {
				t.Errorf("%q: ack %+v, want id %d in %s", tc.text, r, tc.id, tc.room)
			}
		}
		var r sendReply
		carol.ack(&r, chat.EventSendChatMessage, "sneaking in", map[string]string{"room": "dev"})
		if r.OK || r.Error != chat.ErrNotInRoom.Error() {
			t.Errorf("carol sends to dev: %+v, want %q", r, chat.ErrNotInRoom)
		}

		syncAll(alice, bob, carol)
		for _, tc := range []struct {
			p        *person
			messages []string
			presence []string
		}{
			{alice, []string{"dev: Bob: to dev too", "general: Carol: default room"},
				[]string{"+Bob@general", "+Carol@general", "+Bob@dev"}},
			{bob, []string{"dev: Alice: to dev", "general: Alice: to all", "general: Carol: default room"},
				[]string{"+Carol@general"}},
			{carol, []string{"general: Alice: to all"}, nil},
		} {
			if got := tc.p.texts(); !slices.Equal(got, tc.messages) {
				t.Errorf("messages %q, want %q", got, tc.messages)
			}
			if got := tc.p.presence(); !slices.Equal(got, tc.presence) {
				t.Errorf("presence %q, want %q", got, tc.presence)
			}
		}

		// list-rooms and list-users.
		var rooms struct {
			OK    bool `json:"ok"`
			Rooms []struct {
				Name   string `json:"name"`
				Users  int    `json:"users"`
				LastID int64  `json:"lastId"`
			} `json:"rooms"`
		}
		carol.ack(&rooms, chat.EventListRooms)
		got := fmt.Sprintf("%+v", rooms)
		if want := "{OK:true Rooms:[{Name:dev Users:2 LastID:2} {Name:general Users:3 LastID:2}]}"; got != want {
			t.Errorf("list-rooms: %s, want %s", got, want)
		}
		for _, tc := range []struct {
			room  string
			users []string
			err   error
		}{
			{"general", []string{"Alice", "Bob", "Carol"}, nil},
			{"dev", []string{"Alice", "Bob"}, nil},
			{"nowhere", []string{}, nil},
			{"no/where", nil, chat.ErrRoomInvalid},
		} {
			var r roomReply
			carol.ack(&r, chat.EventListUsers, tc.room)
			if tc.err != nil {
				if r.OK || r.Error != tc.err.Error() {
					t.Errorf("list-users %q: %+v, want %q", tc.room, r, tc.err)
				}
			} else if !r.OK || r.Room != tc.room || !slices.Equal(r.Users, tc.users) || r.Users == nil {
				t.Errorf("list-users %q: %+v, want users %q", tc.room, r, tc.users)
			}
		}

		// Alice leaves dev: bob hears it, carol does not; she gets dev's
		// messages no more, and cannot send there.
		var lr roomReply
		alice.ack(&lr, chat.EventLeaveRoom, "dev")
		if !lr.OK || lr.Room != "dev" {
			t.Fatalf("leave-room: %+v", lr)
		}
		bob.say("after alice left", map[string]string{"room": "dev"})
		alice.ack(&r, chat.EventSendChatMessage, "back?", map[string]string{"room": "dev"})
		if r.OK || r.Error != chat.ErrNotInRoom.Error() {
			t.Errorf("alice sends to dev after leaving: %+v, want %q", r, chat.ErrNotInRoom)
		}
		alice.ack(&lr, chat.EventLeaveRoom, "dev")
		if lr.OK || lr.Error != chat.ErrNotInRoom.Error() {
			t.Errorf("leaving dev twice: %+v, want %q", lr, chat.ErrNotInRoom)
		}
		carol.ack(&lr, chat.EventListUsers, "dev")
		if !slices.Equal(lr.Users, []string{"Bob"}) {
			t.Errorf("dev's users after alice left: %q", lr.Users)
		}

		// Bob leaves the chat: each room he was in hears it, once.
		bob.leave()
		alice.waitFor(chat.EventUserDisconnected, 1)
		carol.waitFor(chat.EventUserDisconnected, 1)
		syncAll(alice, carol)
		if got, want := alice.presence(), []string{"+Bob@general", "+Carol@general", "+Bob@dev", "-Bob@general"}; !slices.Equal(got, want) {
			t.Errorf("alice: presence %q, want %q", got, want)
		}
		if got, want := carol.presence(), []string{"-Bob@general"}; !slices.Equal(got, want) {
			t.Errorf("carol: presence %q, want %q", got, want)
		}
		if got, want := alice.texts(), []string{"dev: Bob: to dev too", "general: Carol: default room"}; !slices.Equal(got, want) {
			t.Errorf("alice: messages %q, want %q", got, want)
		}
	})
}

func TestLeaveAndRejoinRoom(t *testing.T) {
	t.Parallel()
	srv := startChat(t, chat.Config{}, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	bob := join(t, srv.Server, sioclient.TransportWebSocket, "Bob")
	alice.joinRoom("dev")
	bob.joinRoom("dev")
	alice.say("one", map[string]string{"room": "dev"})
	var lr roomReply
	bob.ack(&lr, chat.EventLeaveRoom, map[string]string{"room": "dev"})
	if !lr.OK {
		t.Fatalf("leave-room: %+v", lr)
	}
	alice.say("two", map[string]string{"room": "dev"})
	// Back, with since: what was missed, then live again.
	var jr roomReply
	bob.ack(&jr, chat.EventJoinRoom, map[string]any{"room": "dev", "since": 1})
	alice.say("three", map[string]string{"room": "dev"})
	bob.waitFor(chat.EventChatMessage, 3)
	syncAll(alice, bob)
	var got []string
	for _, m := range bob.messages() {
		got = append(got, fmt.Sprintf("%d %s %v", m.ID, m.Message, m.History))
	}
	if want := []string{"1 one false", "2 two true", "3 three false"}; !slices.Equal(got, want) {
		t.Errorf("bob got %q, want %q", got, want)
	}
	if got, want := alice.presence(), []string{"+Bob@general", "+Bob@dev", "-Bob@dev", "+Bob@dev"}; !slices.Equal(got, want) {
		t.Errorf("alice: presence %q, want %q", got, want)
	}
	// Leaving general too: the chat's default room is a room like others.
	bob.ack(&lr, chat.EventLeaveRoom, chat.DefaultRoom)
	alice.say("only alice hears this", nil)
	bob.sync()
	if n := len(bob.messages()); n != 3 {
		t.Errorf("bob got %d messages after leaving general, want still 3", n)
	}
	if got := alice.presence(); got[len(got)-1] != "-Bob@general" {
		t.Errorf("alice: presence %q, want bob leaving general last", got)
	}
}

func TestRoomRequestsAreChecked(t *testing.T) {
	t.Parallel()
	srv := startChat(t, unlimited, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	stranger := connect(t, srv.Server, sioclient.TransportWebSocket)
	cases := []struct {
		name    string
		p       *person
		event   string
		args    []any
		wantErr error
	}{
		{"join before new-user", stranger, chat.EventJoinRoom, []any{"dev"}, chat.ErrNotJoined},
		{"leave before new-user", stranger, chat.EventLeaveRoom, []any{"dev"}, chat.ErrNotJoined},
		{"typing before new-user", stranger, chat.EventTyping, []any{map[string]any{"typing": true}}, chat.ErrNotJoined},
		{"no room", alice, chat.EventJoinRoom, nil, chat.ErrBadRequest},
		{"a number", alice, chat.EventJoinRoom, []any{7}, chat.ErrBadRequest},
		{"empty", alice, chat.EventJoinRoom, []any{""}, chat.ErrRoomInvalid},
		{"empty in an object", alice, chat.EventJoinRoom, []any{map[string]any{"room": ""}}, chat.ErrRoomInvalid},
		{"only spaces", alice, chat.EventJoinRoom, []any{"   "}, chat.ErrRoomInvalid},
		{"invisible", alice, chat.EventJoinRoom, []any{"de\u200bv"}, chat.ErrRoomInvalid},
		{"bidi override", alice, chat.EventJoinRoom, []any{"dev\u202e"}, chat.ErrRoomInvalid},
		{"slash", alice, chat.EventJoinRoom, []any{"a/b"}, chat.ErrRoomInvalid},
		{"NUL", alice, chat.EventJoinRoom, []any{"a\x00b"}, chat.ErrRoomInvalid},
		{"33 characters", alice, chat.EventJoinRoom, []any{strings.Repeat("é", 33)}, chat.ErrRoomInvalid},
		{"leave a room not joined", alice, chat.EventLeaveRoom, []any{"elsewhere"}, chat.ErrNotInRoom},
		{"leave an invalid room", alice, chat.EventLeaveRoom, []any{"a/b"}, chat.ErrRoomInvalid},
		{"typing in a room not joined", alice, chat.EventTyping, []any{map[string]any{"room": "elsewhere"}}, chat.ErrNotInRoom},
		{"typing not an object", alice, chat.EventTyping, []any{"general"}, chat.ErrBadRequest},
		{"list-users without a room", alice, chat.EventListUsers, nil, chat.ErrBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.t = t
			var r roomReply
			tc.p.ack(&r, tc.event, tc.args...)
			if r.OK || r.Error != tc.wantErr.Error() {
				t.Errorf("%s %v: %+v, want %q", tc.event, tc.args, r, tc.wantErr)
			}
		})
	}
	for _, name := range []string{"Dev-1_x.y", "日本語", "with space", strings.Repeat("é", 32)} {
		t.Run("valid "+name, func(t *testing.T) {
			alice.t = t
			alice.joinRoom(name)
			alice.say("hi", map[string]string{"room": name})
		})
	}
}

func TestTypingStaysInTheRoom(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, chat.Config{}, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		bob := join(t, srv.Server, tr, "Bob")
		carol := join(t, srv.Server, tr, "Carol")
		alice.joinRoom("dev")
		bob.joinRoom("dev")

		for _, args := range [][]any{
			{map[string]any{"room": "dev", "typing": true}},
			{map[string]any{"room": "dev", "typing": false}},
			nil, // typing in general, by default
			{map[string]any{"room": "general", "typing": false}},
		} {
			var r struct {
				OK bool `json:"ok"`
			}
			alice.ack(&r, chat.EventTyping, args...)
			if !r.OK {
				t.Fatalf("typing %v refused", args)
			}
		}
		bob.emit(chat.EventTyping, map[string]any{"room": "dev", "typing": true}) // without an ack
		syncAll(alice, bob, carol)

		typing := func(p *person) []chat.Typing {
			var out []chat.Typing
			for _, e := range p.got(chat.EventTyping) {
				var ty chat.Typing
				if err := json.Unmarshal(e.args[0], &ty); err != nil {
					t.Fatal(err)
				}
				if ty.UserID == "" {
					t.Errorf("typing %+v without the typist's id", ty)
				}
				ty.UserID = ""
				out = append(out, ty)
			}
			return out
		}
		for _, tc := range []struct {
			p    *person
			want []chat.Typing
		}{
			{alice, []chat.Typing{{Room: "dev", Name: "Bob", Typing: true}}},
			{bob, []chat.Typing{
				{Room: "dev", Name: "Alice", Typing: true},
				{Room: "dev", Name: "Alice", Typing: false},
				{Room: "general", Name: "Alice", Typing: true},
				{Room: "general", Name: "Alice", Typing: false},
			}},
			{carol, []chat.Typing{
				{Room: "general", Name: "Alice", Typing: true},
				{Room: "general", Name: "Alice", Typing: false},
			}},
		} {
			if got := typing(tc.p); !slices.Equal(got, tc.want) {
				t.Errorf("got typing %+v, want %+v", got, tc.want)
			}
		}
	})
}

func TestNamesAreUnique(t *testing.T) {
	t.Parallel()
	srv := startChat(t, unlimited, socketio.Config{})
	if _, r := joinWithToken(t, srv.Server, sioclient.TransportWebSocket, "Alice", "alice-secret"); !r.OK {
		t.Fatalf("alice: %+v", r)
	}
	join(t, srv.Server, sioclient.TransportWebSocket, "Bob") // no token
	cases := []struct {
		name  string
		args  []any
		taken bool
		err   error
	}{
		{"same name", []any{"Alice"}, true, nil},
		{"other case", []any{"aLiCe"}, true, nil},
		{"spaces around", []any{"  ALICE\t"}, true, nil},
		{"wrong token", []any{"Alice", map[string]string{"token": "guess"}}, true, nil},
		{"empty token", []any{"Alice", map[string]string{"token": ""}}, true, nil},
		{"token for one who has none", []any{"Bob", map[string]string{"token": ""}}, true, nil},
		{"any token for one who has none", []any{"Bob", map[string]string{"token": "x"}}, true, nil},
		{"token too long", []any{"Zed", map[string]string{"token": strings.Repeat("t", 129)}}, false, chat.ErrBadRequest},
		{"options not an object", []any{"Zed", "token"}, false, chat.ErrBadRequest},
		{"another name", []any{"Alicia"}, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := connect(t, srv.Server, sioclient.TransportWebSocket)
			var r joinReply
			p.ack(&r, chat.EventNewUser, tc.args...)
			switch {
			case tc.taken:
				if r.OK || r.Error != chat.ErrNameTaken.Error() {
					t.Errorf("new-user %v: %+v, want %q", tc.args, r, chat.ErrNameTaken)
				}
			case tc.err != nil:
				if r.OK || r.Error != tc.err.Error() {
					t.Errorf("new-user %v: %+v, want %q", tc.args, r, tc.err)
				}
			case !r.OK:
				t.Errorf("new-user %v: %+v", tc.args, r)
			}
		})
	}

	t.Run("race for a name", func(t *testing.T) {
		const n = 8
		people := make([]*person, n)
		for i := range people {
			people[i] = connect(t, srv.Server, sioclient.TransportWebSocket)
		}
		replies := make([]joinReply, n)
		var wg sync.WaitGroup
		for i, p := range people {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := p.so.EmitWithAck(t.Context(), chat.EventNewUser, []string{"Racer", "RACER", "racer "}[i%3])
				if err == nil {
					err = m.Bind(0, &replies[i])
				}
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		won := 0
		for _, r := range replies {
			switch {
			case r.OK:
				won++
			case r.Error != chat.ErrNameTaken.Error():
				t.Errorf("reply %+v", r)
			}
		}
		if won != 1 {
			t.Errorf("%d won the name, want 1: %+v", won, replies)
		}
	})
}
