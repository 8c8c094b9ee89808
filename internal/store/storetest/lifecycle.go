package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

func testReopen(t *testing.T, open func() store.Store) {
	s := open()
	if _, err := s.CreateRoom(Context(t), "quiet"); err != nil {
		t.Fatal(err)
	}
	fill(t, s, "r", 5)
	first := mustAppend(t, s, store.Message{Room: "r", Author: "ann", Text: "once", ClientID: "k"})[0]
	before, err := s.Since(Context(t), "r", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	roomsBefore, err := s.Rooms(Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openStore(t, open)
	after, err := s.Since(Context(t), "r", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("after reopening: %d messages, want %d", len(after), len(before))
	}
	for i := range before {
		sameMessage(t, "after reopening", after[i], before[i])
	}
	roomsAfter, err := s.Rooms(Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(roomsAfter) != len(roomsBefore) {
		t.Fatalf("rooms after reopening %+v, want %+v", roomsAfter, roomsBefore)
	}
	for i := range roomsBefore {
		if a, b := roomsAfter[i], roomsBefore[i]; a.Name != b.Name || a.LastID != b.LastID || !a.Created.Equal(b.Created) || !a.Active.Equal(b.Active) {
			t.Errorf("room after reopening %+v, want %+v", a, b)
		}
	}
	got := mustAppend(t, s, msg("r", "next"), store.Message{Room: "r", Text: "retry", ClientID: "k"})
	checkIDs(t, "after reopening", got, []int64{7, 6})
	sameMessage(t, "retry after reopening", got[1], first)
}

func testRoundTrip(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	long := strings.Repeat("long line of text, with ünïcödé ✓\n", 1<<15) // ~1 MiB
	texts := []string{
		"",
		"plain",
		"emoji 👋🏽 👨‍👩‍👧 and flags 🇫🇷",
		"中文 日本語 한국어",
		"עברית العربية",
		"combining: e\u0301 a\u0308, zero width: a\u200bb, BOM: \ufeff",
		"quotes ' \" ` and backslashes \\ \\\\",
		"'); DROP TABLE messages; --",
		"tabs\tnew\nlines\r\n  trailing spaces  ",
		"\u007f\u0001\u001f control characters",
		long,
	}
	var in []store.Message
	for i, text := range texts {
		in = append(in, store.Message{Room: "r 🌍 ' \"", Author: "ünï 👤", Text: text, ClientID: fmt.Sprintf("id-%d-✓", i),
			AuthorID: fmt.Sprintf("author-%d-👤 '\"", i%3)})
	}
	got := mustAppend(t, s, in...)
	stored, err := s.Since(Context(t), "r 🌍 ' \"", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(texts) {
		t.Fatalf("read back %d messages, want %d", len(stored), len(texts))
	}
	for i := range texts {
		sameMessage(t, fmt.Sprintf("text %d", i), stored[i], got[i])
		if stored[i].Text != texts[i] || stored[i].Author != in[i].Author || stored[i].ClientID != in[i].ClientID ||
			stored[i].AuthorID != in[i].AuthorID {
			t.Errorf("text %d did not round-trip exactly (len %d, want %d)", i, len(stored[i].Text), len(texts[i]))
		}
	}
}

func testInvalid(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	tests := []struct {
		name string
		m    store.Message
	}{
		{"empty room", store.Message{Text: "x"}},
		{"room not UTF-8", store.Message{Room: "\xff", Text: "x"}},
		{"text not UTF-8", store.Message{Room: "r", Text: "bad \xc3\x28"}},
		{"NUL in text", store.Message{Room: "r", Text: "a\x00b"}},
		{"NUL in author", store.Message{Room: "r", Author: "\x00", Text: "x"}},
		{"NUL in client id", store.Message{Room: "r", Text: "x", ClientID: "\x00"}},
		{"NUL in author id", store.Message{Room: "r", Text: "x", AuthorID: "a\x00"}},
		{"author id not UTF-8", store.Message{Room: "r", Text: "x", AuthorID: "\xff"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(Context(t), []store.Message{msg("r", "valid"), tc.m})
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Append: %v, want ErrInvalid", err)
			}
		})
	}
	// Nothing of a rejected batch is stored.
	h, err := s.History(Context(t), "r", 0, 10)
	if err != nil || len(h) != 0 {
		t.Errorf("after rejected batches, History: %v, %v; want nothing", h, err)
	}
}

func testEmptyAppend(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	for _, in := range [][]store.Message{nil, {}} {
		got, err := s.Append(Context(t), in)
		if err != nil || len(got) != 0 {
			t.Errorf("Append(%v) = %v, %v; want nothing, nil", in, got, err)
		}
	}
}

func testClosed(t *testing.T, open func() store.Store) {
	s := open()
	fill(t, s, "r", 1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	c := Context(t)
	checkErr := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
	_, err := s.Append(c, []store.Message{msg("r", "late")})
	checkErr("Append", err)
	_, err = s.History(c, "r", 0, 10)
	checkErr("History", err)
	_, err = s.Since(c, "r", 0, 10)
	checkErr("Since", err)
	_, err = s.CreateRoom(c, "new")
	checkErr("CreateRoom", err)
	_, err = s.Rooms(c)
	checkErr("Rooms", err)
	_, err = s.Room(c, "r")
	checkErr("Room", err)
	_, err = s.ListRooms(c, store.RoomQuery{Limit: 10})
	checkErr("ListRooms", err)
	_, err = s.CountRooms(c, time.Time{})
	checkErr("CountRooms", err)
	checkErr("TouchRooms", s.TouchRooms(c, time.Now(), []string{"r"}))
	_, err = s.ClaimName(c, store.Claim{ID: "i", Name: "ann", Key: "ann", Now: time.Now(), Reserve: time.Hour})
	checkErr("ClaimName", err)
	checkErr("SeenIdentity", s.SeenIdentity(c, "i", time.Now()))
	checkErr("SeenIdentities", s.SeenIdentities(c, []string{"i"}, time.Now()))
	_, err = s.IdentityByID(c, "i")
	checkErr("IdentityByID", err)
	_, err = s.PruneIdentities(c, time.Now())
	checkErr("PruneIdentities", err)
	_, err = s.Constant(c, "k", []byte("v"))
	checkErr("Constant", err)
}

func testContextCanceled(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	fill(t, s, "r", 1)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	checkErr := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v, want context.Canceled", op, err)
		}
	}
	_, err := s.Append(c, []store.Message{msg("r", "canceled"), msg("new room", "canceled")})
	checkErr("Append", err)
	_, err = s.History(c, "r", 0, 10)
	checkErr("History", err)
	_, err = s.Since(c, "r", 0, 10)
	checkErr("Since", err)
	_, err = s.CreateRoom(c, "other")
	checkErr("CreateRoom", err)
	_, err = s.Rooms(c)
	checkErr("Rooms", err)
	_, err = s.Room(c, "r")
	checkErr("Room", err)
	_, err = s.ListRooms(c, store.RoomQuery{Limit: 10})
	checkErr("ListRooms", err)
	_, err = s.CountRooms(c, time.Time{})
	checkErr("CountRooms", err)
	checkErr("TouchRooms", s.TouchRooms(c, time.Now().Add(time.Hour), []string{"r"}))
	_, err = s.ClaimName(c, store.Claim{ID: "i", Name: "ann", Key: "ann", Now: time.Now(), Reserve: time.Hour})
	checkErr("ClaimName", err)
	checkErr("SeenIdentity", s.SeenIdentity(c, "i", time.Now()))
	checkErr("SeenIdentities", s.SeenIdentities(c, []string{"i"}, time.Now()))
	_, err = s.IdentityByID(c, "i")
	checkErr("IdentityByID", err)
	_, err = s.PruneIdentities(c, time.Now())
	checkErr("PruneIdentities", err)
	_, err = s.Constant(c, "k", []byte("v"))
	checkErr("Constant", err)

	// An expired deadline fails too, and nothing was stored.
	d, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err = s.Append(d, []store.Message{msg("r", "late")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Append past the deadline: %v, want context.DeadlineExceeded", err)
	}
	h, err := s.Since(Context(t), "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "after canceled appends", h, []int64{1})
	rooms, err := s.Rooms(Context(t))
	if err != nil || len(rooms) != 1 {
		t.Errorf("Rooms after canceled calls: %+v, %v; want only r", rooms, err)
	} else if rooms[0].Active.After(time.Now()) {
		t.Errorf("room r active at %v after a canceled TouchRooms an hour ahead", rooms[0].Active)
	}
	if _, err := s.IdentityByID(Context(t), "i"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("IdentityByID after a canceled claim: %v, want ErrNotFound", err)
	}
	if v, err := s.Constant(Context(t), "k", []byte("after")); err != nil || string(v) != "after" {
		t.Errorf("Constant after a canceled one: %q, %v; want the value given after", v, err)
	}
}
