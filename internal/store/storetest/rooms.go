package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// names returns the names of rooms.
func names(rooms []store.Room) []string {
	out := []string{}
	for _, r := range rooms {
		out = append(out, r.Name)
	}
	return out
}

// sameRoom fails the test unless got equals want field by field.
func sameRoom(t testing.TB, what string, got, want store.Room) {
	t.Helper()
	if got.Name != want.Name || got.LastID != want.LastID || !got.Created.Equal(want.Created) || !got.Active.Equal(want.Active) ||
		got.Created.Location() != time.UTC || got.Active.Location() != time.UTC {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testRoomLookup(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	if _, err := s.Room(Context(t), "lobby"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Room of a room never made: %v, want ErrNotFound", err)
	}
	if rooms, err := s.Rooms(Context(t)); err != nil || len(rooms) != 0 {
		t.Errorf("Room created a room: Rooms %+v, %v", rooms, err)
	}
	created, err := s.CreateRoom(Context(t), "lobby")
	if err != nil {
		t.Fatal(err)
	}
	if !created.Active.Equal(created.Created) {
		t.Errorf("a new room: Active %v, want its Created %v", created.Active, created.Created)
	}
	got, err := s.Room(Context(t), "lobby")
	if err != nil {
		t.Fatal(err)
	}
	sameRoom(t, "Room after CreateRoom", got, created)
	fill(t, s, "by append", 2)
	got, err = s.Room(Context(t), "by append")
	if err != nil || got.LastID != 2 || got.Created.IsZero() || got.Active.Before(got.Created) {
		t.Errorf("Room of a room Append made: %+v, %v", got, err)
	}
	for _, name := range []string{"", "lobby2", "\xff", "a\x00"} {
		if _, err := s.Room(Context(t), name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Room(%q): %v, want ErrNotFound", name, err)
		}
	}
}

// testRoomActivity checks Active: set at creation, moved on by Append and
// by TouchRooms, never back, and counted by CountRooms.
func testRoomActivity(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	at := func(name string) time.Time {
		t.Helper()
		r, err := s.Room(Context(t), name)
		if err != nil {
			t.Fatal(err)
		}
		return r.Active
	}
	count := func(since time.Time) int {
		t.Helper()
		n, err := s.CountRooms(Context(t), since)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, name := range []string{"a", "b", "c"} {
		if _, err := s.CreateRoom(Context(t), name); err != nil {
			t.Fatal(err)
		}
	}
	made := at("a")

	// The future, to the millisecond: TouchRooms moves Active on, to the
	// stored precision, and skips unknown rooms.
	later := made.Add(time.Hour + 1500*time.Microsecond)
	if err := s.TouchRooms(Context(t), later, []string{"a", "b", "nowhere", "a"}); err != nil {
		t.Fatal(err)
	}
	want := store.Timestamp(later)
	if got := at("a"); !got.Equal(want) {
		t.Errorf("a after TouchRooms: Active %v, want %v", got, want)
	}
	if got := at("b"); !got.Equal(want) {
		t.Errorf("b after TouchRooms: Active %v, want %v", got, want)
	}
	if _, err := s.Room(Context(t), "nowhere"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchRooms made room nowhere: %v", err)
	}
	// Never back.
	if err := s.TouchRooms(Context(t), made.Add(-time.Hour), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if got := at("a"); !got.Equal(want) {
		t.Errorf("a after TouchRooms of an earlier time: Active %v, want still %v", got, want)
	}
	if err := s.TouchRooms(Context(t), later, nil); err != nil {
		t.Errorf("TouchRooms of no room: %v", err)
	}
	// Append moves c on to now; a message of the past moves nothing back.
	before := time.Now().Add(-time.Millisecond)
	m := msg("c", "old news")
	m.Time = made.Add(-24 * time.Hour)
	mustAppend(t, s, m)
	if got := at("c"); got.Before(before) || got.After(time.Now()) {
		t.Errorf("c after Append: Active %v, want the time of the Append", got)
	}
	mustAppend(t, s, msg("a", "now"))
	if got := at("a"); !got.Equal(want) {
		t.Errorf("a after Append: Active %v, want still %v, later", got, want)
	}

	// CountRooms: at or after.
	for _, tc := range []struct {
		since time.Time
		want  int
	}{
		{time.Time{}, 3},
		{made.Add(-time.Hour), 3},
		{want.Add(-time.Minute), 2},
		{want, 2},
		{want.Add(500 * time.Microsecond), 0}, // after a and b, to the microsecond
		{want.Add(time.Millisecond), 0},
	} {
		if got := count(tc.since); got != tc.want {
			t.Errorf("CountRooms(%v): %d, want %d", tc.since, got, tc.want)
		}
	}
}

// testListRooms pages through rooms, with and without a bound on their
// activity.
func testListRooms(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	all := []string{"Zebra", "a", "a b", "a-b", "b", "lobby", "ä", "äpfel", "日本"} // byte order
	for _, name := range slices.Backward(all) {
		if _, err := s.CreateRoom(Context(t), name); err != nil {
			t.Fatal(err)
		}
	}
	fill(t, s, "lobby", 2)
	r, err := s.Room(Context(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	now := r.Active
	busy := []string{"a-b", "lobby", "äpfel"}
	if err := s.TouchRooms(Context(t), now.Add(time.Hour), busy); err != nil {
		t.Fatal(err)
	}

	page := func(q store.RoomQuery) []store.Room {
		t.Helper()
		rooms, err := s.ListRooms(Context(t), q)
		if err != nil {
			t.Fatalf("ListRooms(%+v): %v", q, err)
		}
		return rooms
	}
	for _, tc := range []struct {
		name string
		q    store.RoomQuery
		want []string
	}{
		{"all", store.RoomQuery{Limit: 100}, all},
		{"first three", store.RoomQuery{Limit: 3}, all[:3]},
		{"after a", store.RoomQuery{After: "a", Limit: 3}, []string{"a b", "a-b", "b"}},
		{"after a name that is none", store.RoomQuery{After: "aa", Limit: 2}, []string{"b", "lobby"}},
		{"after the last", store.RoomQuery{After: "日本", Limit: 10}, []string{}},
		{"after all ASCII", store.RoomQuery{After: "\x7f", Limit: 10}, []string{"ä", "äpfel", "日本"}},
		{"no limit", store.RoomQuery{}, []string{}},
		{"negative limit", store.RoomQuery{Limit: -1}, []string{}},
		{"active", store.RoomQuery{ActiveSince: now.Add(time.Minute), Limit: 100}, busy},
		{"active, after lobby", store.RoomQuery{ActiveSince: now.Add(time.Minute), After: "lobby", Limit: 100}, []string{"äpfel"}},
		{"active, one", store.RoomQuery{ActiveSince: now.Add(time.Minute), Limit: 1}, []string{"a-b"}},
		{"active at the touch", store.RoomQuery{ActiveSince: now.Add(time.Hour), Limit: 100}, busy},
		{"active after the touch", store.RoomQuery{ActiveSince: now.Add(time.Hour + time.Millisecond), Limit: 100}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(page(tc.q)); !slices.Equal(got, tc.want) {
				t.Errorf("ListRooms(%+v): %q, want %q", tc.q, got, tc.want)
			}
		})
	}

	// Paging through gets every room once, in order, each as Room has it.
	var got []string
	after := ""
	for range len(all) + 1 {
		p := page(store.RoomQuery{After: after, Limit: 2})
		if len(p) == 0 {
			break
		}
		for _, r := range p {
			one, err := s.Room(Context(t), r.Name)
			if err != nil {
				t.Fatal(err)
			}
			sameRoom(t, fmt.Sprintf("room %q of a page", r.Name), r, one)
			got = append(got, r.Name)
		}
		after = p[len(p)-1].Name
	}
	if !slices.Equal(got, all) {
		t.Errorf("paging by 2: %q, want %q", got, all)
	}
	for _, after := range []string{"\xff", "a\x00"} {
		if _, err := s.ListRooms(Context(t), store.RoomQuery{After: after, Limit: 10}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ListRooms after %q: %v, want ErrInvalid", after, err)
		}
	}
	if err := s.TouchRooms(Context(t), now.Add(2*time.Hour), []string{"\xff", "", "a\x00", "b"}); err != nil {
		t.Errorf("TouchRooms with names no room can have: %v", err)
	} else if got := names(page(store.RoomQuery{ActiveSince: now.Add(2 * time.Hour), Limit: 10})); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after TouchRooms with names no room can have, active rooms %q, want [b]", got)
	}
	if r := room(t, s, "lobby"); r.LastID != 2 {
		t.Errorf("lobby in Rooms: %+v", r)
	}
}
