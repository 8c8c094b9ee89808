package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// testRoomKeys checks that names of one key (store.RoomKey) name one room,
// in every method, which answers with the name the room was created with.
func testRoomKeys(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	created, err := s.CreateRoom(Context(t), "general")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"General", "GENERAL", " general ", "generaӏ" /* Cyrillic palochka */, "ｇｅｎｅｒａｌ"} {
		again, err := s.CreateRoom(Context(t), name)
		if err != nil {
			t.Fatal(err)
		}
		sameRoom(t, "CreateRoom("+name+")", again, created)
		found, err := s.Room(Context(t), name)
		if err != nil {
			t.Fatalf("Room(%q): %v", name, err)
		}
		sameRoom(t, "Room("+name+")", found, created)
	}

	// Append finds the room by key, and the messages take its name; one
	// call may spell a room several ways, and create it.
	got := mustAppend(t, s,
		msg("GENERAL", "g1"), msg("Random", "r1"), msg("random", "r2"), msg("General", "g2"), msg("RANDOM", "r3"))
	want := []struct {
		room string
		id   int64
	}{{"general", 1}, {"Random", 1}, {"Random", 2}, {"general", 2}, {"Random", 3}}
	for i, m := range got {
		if m.Room != want[i].room || m.ID != want[i].id {
			t.Errorf("Append message %d: room %q id %d, want %q %d", i, m.Room, m.ID, want[i].room, want[i].id)
		}
	}
	// A retry is found under any spelling.
	first := msg("random", "once")
	first.ClientID = "c-1"
	stored := mustAppend(t, s, first)[0]
	retry := msg("RaNdOm", "once")
	retry.ClientID = "c-1"
	sameMessage(t, "retry spelt otherwise", mustAppend(t, s, retry)[0], stored)

	for _, name := range []string{"random", "RANDOM", "Random"} {
		h, err := s.History(Context(t), name, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, "History("+name+")", h, span(1, 4))
		for _, m := range h {
			if m.Room != "Random" {
				t.Errorf("History(%q): message of room %q, want Random", name, m.Room)
			}
		}
		since, err := s.Since(Context(t), name, 2, 10)
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, "Since("+name+", 2)", since, span(3, 4))
		if len(since) > 0 && since[0].Room != "Random" {
			t.Errorf("Since(%q): message of room %q, want Random", name, since[0].Room)
		}
	}

	rooms, err := s.Rooms(Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(rooms), []string{"Random", "general"}; !slices.Equal(got, want) {
		t.Errorf("Rooms %q, want %q", got, want)
	}
	page, err := s.ListRooms(Context(t), store.RoomQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(page), []string{"Random", "general"}; !slices.Equal(got, want) {
		t.Errorf("ListRooms %q, want %q", got, want)
	}
	if n, err := s.CountRooms(Context(t), time.Time{}); err != nil || n != 2 {
		t.Errorf("CountRooms: %d, %v; want 2", n, err)
	}

	// TouchRooms too.
	at := time.Now().Add(time.Hour)
	if err := s.TouchRooms(Context(t), at, []string{"GENERAL"}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Room(Context(t), "general")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Active.Equal(store.Timestamp(at)) || r.LastID != 2 {
		t.Errorf("general after TouchRooms(GENERAL): %+v, want Active %v, LastID 2", r, store.Timestamp(at))
	}
}

// KeyMigrationRoom is a room of KeyMigrationRooms.
type KeyMigrationRoom struct {
	Name            string
	Created, Active time.Time
	// Messages are the room's, with IDs 1, 2, ...
	Messages []store.Message
}

// keyMigrationStart is the time the rooms of KeyMigrationRooms count from.
var keyMigrationStart = time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)

// KeyMigrationRooms returns the rooms that a backend's test of the
// migration that brings room keys (version 4 of sqlite and postgres)
// stores, as the schema before it held them, before it opens a Store on
// them and checks them with CheckKeyMigration: general, General, GENERAL
// and "generaӏ" (a Cyrillic palochka), one room; random and Random, made
// the other way round; and solo.
func KeyMigrationRooms() []KeyMigrationRoom {
	at := func(s int) time.Time { return keyMigrationStart.Add(time.Duration(s) * time.Second) }
	m := func(room string, s int, author, text, clientID string) store.Message {
		return store.Message{Room: room, Author: author, Text: text, Time: at(s), ClientID: clientID, AuthorID: "id-" + author}
	}
	return []KeyMigrationRoom{
		{"general", at(0), at(10), []store.Message{
			m("general", 0, "ann", "first in general", "ann|c-1"),
			m("general", 10, "bob", "second in general", ""),
		}},
		{"General", at(1), at(20), []store.Message{
			// Its ClientID is general's already: the moved copy loses it.
			m("General", 20, "ann", "in General", "ann|c-1"),
		}},
		{"GENERAL", at(2), at(5), []store.Message{
			m("GENERAL", 3, "cy", "in GENERAL", "cy|c-2"),
			m("GENERAL", 5, "cy", "more in GENERAL", ""),
		}},
		{"generaӏ", at(4), at(4), nil},
		{"Random", at(3), at(30), []store.Message{m("Random", 30, "dee", "in Random", "")}},
		{"random", at(0), at(6), []store.Message{m("random", 6, "eve", "in random", "")}},
		{"solo", at(0), at(0), nil},
	}
}

// CheckKeyMigration checks a store opened on KeyMigrationRooms: the rooms
// of one key are merged into the oldest, its messages first, then the
// others' in the order of their rooms' creation, and it works on.
func CheckKeyMigration(t *testing.T, s store.Store) {
	t.Helper()
	at := func(s int) time.Time { return keyMigrationStart.Add(time.Duration(s) * time.Second) }
	m := func(room string, id int64, s int, author, text, clientID string) store.Message {
		return store.Message{Room: room, ID: id, Author: author, Text: text, Time: at(s), ClientID: clientID, AuthorID: "id-" + author}
	}
	want := []struct {
		room store.Room
		msgs []store.Message
	}{
		{store.Room{Name: "general", Created: at(0), Active: at(20), LastID: 5}, []store.Message{
			m("general", 1, 0, "ann", "first in general", "ann|c-1"),
			m("general", 2, 10, "bob", "second in general", ""),
			m("general", 3, 20, "ann", "in General", ""),
			m("general", 4, 3, "cy", "in GENERAL", "cy|c-2"),
			m("general", 5, 5, "cy", "more in GENERAL", ""),
		}},
		{store.Room{Name: "random", Created: at(0), Active: at(30), LastID: 2}, []store.Message{
			m("random", 1, 6, "eve", "in random", ""),
			m("random", 2, 30, "dee", "in Random", ""),
		}},
		{store.Room{Name: "solo", Created: at(0), Active: at(0)}, nil},
	}
	rooms, err := s.Rooms(Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(rooms); !slices.Equal(got, []string{"general", "random", "solo"}) {
		t.Errorf("Rooms after migrating: %q, want general, random and solo", got)
	}
	for _, w := range want {
		for _, name := range []string{w.room.Name, "GENERAL"} {
			if name == "GENERAL" && w.room.Name != "general" {
				continue
			}
			r, err := s.Room(Context(t), name)
			if err != nil {
				t.Fatalf("Room(%q) after migrating: %v", name, err)
			}
			sameRoom(t, "room "+name+" after migrating", r, w.room)
		}
		got, err := s.Since(Context(t), w.room.Name, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(w.msgs) {
			t.Errorf("room %s after migrating: %d messages, want %d: %+v", w.room.Name, len(got), len(w.msgs), got)
			continue
		}
		for i := range got {
			sameMessage(t, "room "+w.room.Name+" after migrating", got[i], w.msgs[i])
		}
	}
	// It works on: a retry of a message kept with its ClientID is that
	// message; new messages follow, under any spelling.
	retry := store.Message{Room: "General", Author: "cy", Text: "again", ClientID: "cy|c-2"}
	next := store.Message{Room: "GENERAL", Author: "ann", Text: "after"}
	got := mustAppend(t, s, retry, next)
	sameMessage(t, "a retry after migrating", got[0], want[0].msgs[3])
	if got[1].Room != "general" || got[1].ID != 6 {
		t.Errorf("Append after migrating: room %q id %d, want general 6", got[1].Room, got[1].ID)
	}
}
