package chat_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
)

// roomsPage is list-rooms' answer, or its refusal.
type roomsPage struct {
	OK    bool `json:"ok"`
	Rooms []struct {
		Name   string `json:"name"`
		Users  int    `json:"users"`
		LastID int64  `json:"lastId"`
	} `json:"rooms"`
	Next  *string `json:"next"`
	Code  string  `json:"code"`
	Error string  `json:"error"`
}

// names returns the names of the page's rooms.
func (r roomsPage) names() []string {
	out := []string{}
	for _, room := range r.Rooms {
		out = append(out, room.Name)
	}
	return out
}

// usersList is list-users' answer, or its refusal.
type usersList struct {
	OK    bool     `json:"ok"`
	Room  string   `json:"room"`
	Users []string `json:"users"`
	Next  *string  `json:"next"`
	Code  string   `json:"code"`
}

// listRooms asks p for list-rooms with args, and returns the answer and
// its size in bytes.
func (p *person) listRooms(args ...any) (roomsPage, int) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := p.so.EmitWithAck(ctx, chat.EventListRooms, args...)
	if err != nil {
		p.t.Fatalf("list-rooms %v: %v", args, err)
	}
	var r roomsPage
	if err := m.Bind(0, &r); err != nil {
		p.t.Fatalf("list-rooms %v: %v", args, err)
	}
	return r, len(m.Args[0])
}

// allRooms pages through list-rooms by limit (0: the default), checking
// each page, and returns the rooms' names.
func (p *person) allRooms(limit int) []string {
	p.t.Helper()
	var all []string
	req := map[string]any{}
	if limit > 0 {
		req["limit"] = limit
	}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			p.t.Fatal("list-rooms does not end")
		}
		r, size := p.listRooms(req)
		if !r.OK {
			p.t.Fatalf("list-rooms %v: %+v", req, r)
		}
		if size > chat.MaxListBytes+200 {
			p.t.Errorf("a list-rooms answer of %d bytes", size)
		}
		if want := max(limit, 0); want > 0 && len(r.Rooms) > want {
			p.t.Errorf("%d rooms in a page of %d", len(r.Rooms), want)
		}
		all = append(all, r.names()...)
		if r.Next == nil {
			return all
		}
		if len(r.Rooms) == 0 || *r.Next != r.Rooms[len(r.Rooms)-1].Name {
			p.t.Fatalf("next %q after rooms %q", *r.Next, r.names())
		}
		req["after"] = *r.Next
	}
}

func TestListRoomsPages(t *testing.T) {
	t.Parallel()
	srv := startChat(t, unlimited, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	want := []string{chat.DefaultRoom}
	for i := range 250 {
		name := fmt.Sprintf("room %03d", i)
		if _, err := srv.store.CreateRoom(t.Context(), name); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	alice.joinRoom("room 007")
	slices.Sort(want)

	// Without an argument, as before: the first page, and where to go on.
	r, _ := alice.listRooms()
	if !r.OK || len(r.Rooms) != chat.DefaultRoomsPage || r.Next == nil || *r.Next != want[chat.DefaultRoomsPage-1] {
		t.Fatalf("list-rooms: %d rooms, next %v; want %d and next %q", len(r.Rooms), r.Next, chat.DefaultRoomsPage, want[chat.DefaultRoomsPage-1])
	}
	if !slices.Equal(r.names(), want[:chat.DefaultRoomsPage]) {
		t.Errorf("first page %q", r.names())
	}
	for _, room := range r.Rooms {
		if users := map[string]int{"general": 1, "room 007": 1}[room.Name]; room.Users != users {
			t.Errorf("room %q: %d users, want %d", room.Name, room.Users, users)
		}
	}
	for _, limit := range []int{0, 1, 7, 100, 200, 251, 1000} {
		t.Run(fmt.Sprint("by ", limit), func(t *testing.T) {
			alice.t = t
			if got := alice.allRooms(limit); !slices.Equal(got, want) {
				t.Errorf("paging by %d: %d rooms, want %d", limit, len(got), len(want))
			}
		})
	}
	alice.t = t
	// A limit past the most is the most.
	if r, _ := alice.listRooms(map[string]any{"limit": 1000}); len(r.Rooms) != chat.MaxRoomsPage || r.Next == nil {
		t.Errorf("limit 1000: %d rooms, next %v; want %d and a next", len(r.Rooms), r.Next, chat.MaxRoomsPage)
	}
	// The last page says nothing of a next.
	if r, _ := alice.listRooms(map[string]any{"after": want[len(want)-2]}); !slices.Equal(r.names(), want[len(want)-1:]) || r.Next != nil {
		t.Errorf("last page: %q, next %v", r.names(), r.Next)
	}
	if r, _ := alice.listRooms(map[string]any{"after": "zzz"}); !r.OK || len(r.Rooms) != 0 || r.Rooms == nil || r.Next != nil {
		t.Errorf("after the last room: %+v", r)
	}
	for _, args := range [][]any{
		{"general"},
		{7},
		{map[string]any{"limit": "ten"}},
		{map[string]any{"after": 5}},
		{map[string]any{"after": "a\x00b"}},
	} {
		if r, _ := alice.listRooms(args...); r.OK || r.Code != "bad_request" {
			t.Errorf("list-rooms %q: %+v, want bad_request", args, r)
		}
	}
}

func TestListUsersPages(t *testing.T) {
	t.Parallel()
	srv := startChat(t, unlimited, socketio.Config{})
	names := []string{"Alice", "Bob", "Carol", "Dan", "Eve"}
	var people []*person
	for _, n := range names {
		p := join(t, srv.Server, sioclient.TransportWebSocket, n)
		p.joinRoom("dev")
		people = append(people, p)
	}
	alice := people[0]
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name  string
		arg   any
		users []string
		next  *string
		code  string
	}{
		{"a room's name", "dev", names, nil, ""},
		{"an object", map[string]any{"room": "dev"}, names, nil, ""},
		{"a page", map[string]any{"room": "dev", "limit": 2}, names[:2], str("Bob"), ""},
		{"the next", map[string]any{"room": "dev", "limit": 2, "after": "Bob"}, names[2:4], str("Dan"), ""},
		{"the last", map[string]any{"room": "dev", "limit": 2, "after": "Dan"}, names[4:], nil, ""},
		{"after a name that is none", map[string]any{"room": "dev", "limit": 1, "after": "Bz"}, names[2:3], str("Carol"), ""},
		{"past all", map[string]any{"room": "dev", "after": "Zed"}, []string{}, nil, ""},
		{"limit zero: the default", map[string]any{"room": "dev", "limit": 0}, names, nil, ""},
		{"a room nobody is in", map[string]any{"room": "nowhere", "limit": 2}, []string{}, nil, ""},
		{"no room", map[string]any{"limit": 2}, nil, nil, "room_invalid"},
		{"a bad cursor", map[string]any{"room": "dev", "after": 3}, nil, nil, "bad_request"},
		{"a bad limit", map[string]any{"room": "dev", "limit": "all"}, nil, nil, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice.t = t
			var r usersList
			alice.ack(&r, chat.EventListUsers, tc.arg)
			if tc.code != "" {
				if r.OK || r.Code != tc.code {
					t.Errorf("list-users %v: %+v, want %s", tc.arg, r, tc.code)
				}
				return
			}
			if !r.OK || !slices.Equal(r.Users, tc.users) || r.Users == nil || (r.Next == nil) != (tc.next == nil) ||
				(r.Next != nil && *r.Next != *tc.next) {
				t.Errorf("list-users %v: %+v (next %v), want %q, next %v", tc.arg, r, r.Next, tc.users, tc.next)
			}
		})
	}
}
