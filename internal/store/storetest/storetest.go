package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/test/wait"
)

// Factory makes an empty database for one test and returns a function that
// opens a Store on it. Each call of open returns a new Store on the same
// database, so that the suite can close a store and reopen its data; the
// suite closes the stores it opens. The factory removes the database at the
// end of the test (with tb.Cleanup).
type Factory func(tb testing.TB) (open func() store.Store)

// Run runs the conformance suite against the backend that f makes. The
// subtests run in parallel, each on its own database.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func() store.Store)
	}{
		{"IDsPerRoom", testIDsPerRoom},
		{"Time", testTime},
		{"History", testHistory},
		{"Since", testSince},
		{"ClientIDSameBatch", testClientIDSameBatch},
		{"ClientIDAcrossBatches", testClientIDAcrossBatches},
		{"Rooms", testRooms},
		{"RoomLookup", testRoomLookup},
		{"RoomActivity", testRoomActivity},
		{"ListRooms", testListRooms},
		{"RoomKeys", testRoomKeys},
		{"ConcurrentAppends", testConcurrentAppends},
		{"ConcurrentRetries", testConcurrentRetries},
		{"Reopen", testReopen},
		{"RoundTrip", testRoundTrip},
		{"Invalid", testInvalid},
		{"EmptyAppend", testEmptyAppend},
		{"Closed", testClosed},
		{"ContextCanceled", testContextCanceled},
		{"Committer", testCommitter},
		{"AuthorID", testAuthorID},
		{"ClaimName", testClaimName},
		{"ClaimExpiry", testClaimExpiry},
		{"ClaimOtherName", testClaimOtherName},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConcurrentClaimsOfExpired", testConcurrentClaimsOfExpired},
		{"SeenIdentity", testSeenIdentity},
		{"SeenIdentities", testSeenIdentities},
		{"KeptClaim", testKeptClaim},
		{"PruneIdentities", testPruneIdentities},
		{"InvalidClaims", testInvalidClaims},
		{"IdentitiesReopen", testIdentitiesReopen},
		{"Constant", testConstant},
		{"ConcurrentConstant", testConcurrentConstant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, f(t))
		})
	}
}

// Context returns a context that ends with the test, or after 20 s: the
// bound of a store call in the tests of the store and of its backends.
func Context(t testing.TB) context.Context { return wait.Context(t, 20*time.Second) }

// openStore opens a store that is closed at the end of the test.
func openStore(t testing.TB, open func() store.Store) store.Store {
	t.Helper()
	s := open()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// msg makes a message of room.
func msg(room, text string) store.Message {
	return store.Message{Room: room, Author: "ann", Text: text}
}

// mustAppend appends msgs and fails the test on error.
func mustAppend(t testing.TB, s store.Store, msgs ...store.Message) []store.Message {
	t.Helper()
	got, err := s.Append(Context(t), msgs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("Append returned %d messages for %d", len(got), len(msgs))
	}
	return got
}

// fill appends n messages to room, texts "<room> 1" to "<room> n".
func fill(t testing.TB, s store.Store, room string, n int) {
	t.Helper()
	var msgs []store.Message
	for i := 1; i <= n; i++ {
		msgs = append(msgs, msg(room, fmt.Sprintf("%s %d", room, i)))
	}
	mustAppend(t, s, msgs...)
}

// ids returns the IDs of msgs.
func ids(msgs []store.Message) []int64 {
	out := []int64{}
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

// span returns the IDs from lo to hi.
func span(lo, hi int64) []int64 {
	out := []int64{}
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// checkIDs fails the test unless msgs have the IDs want.
func checkIDs(t testing.TB, what string, msgs []store.Message, want []int64) {
	t.Helper()
	if got := ids(msgs); !slices.Equal(got, want) {
		t.Errorf("%s: IDs %v, want %v", what, got, want)
	}
}

// sameMessage fails the test unless got equals want field by field.
func sameMessage(t testing.TB, what string, got, want store.Message) {
	t.Helper()
	if got.Room != want.Room || got.ID != want.ID || got.Author != want.Author ||
		got.Text != want.Text || !got.Time.Equal(want.Time) || got.ClientID != want.ClientID ||
		got.AuthorID != want.AuthorID {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// room returns the room name of s's Rooms, failing the test if absent.
func room(t testing.TB, s store.Store, name string) store.Room {
	t.Helper()
	rooms, err := s.Rooms(Context(t))
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	for _, r := range rooms {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("room %q not in Rooms %+v", name, rooms)
	return store.Room{}
}

func testIDsPerRoom(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	got := mustAppend(t, s, msg("a", "a1"), msg("b", "b1"), msg("a", "a2"))
	if got[0].ID != 1 || got[1].ID != 1 || got[2].ID != 2 {
		t.Errorf("first batch IDs %v, want [1 1 2]", ids(got))
	}
	got = mustAppend(t, s, msg("b", "b2"), msg("a", "a3"))
	if got[0].ID != 2 || got[1].ID != 3 {
		t.Errorf("second batch IDs %v, want [2 3]", ids(got))
	}
	got = mustAppend(t, s, msg("c", "c1"))
	checkIDs(t, "room c", got, []int64{1})
	h, err := s.Since(Context(t), "a", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "room a", h, span(1, 3))
	for i, m := range h {
		if want := fmt.Sprintf("a%d", i+1); m.Text != want || m.Room != "a" {
			t.Errorf("room a message %d: %+v, want text %q", i, m, want)
		}
	}
	if r := room(t, s, "a"); r.LastID != 3 {
		t.Errorf("room a LastID %d, want 3", r.LastID)
	}
	if r := room(t, s, "b"); r.LastID != 2 {
		t.Errorf("room b LastID %d, want 2", r.LastID)
	}
}

func testTime(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	before := time.Now().Add(-time.Millisecond)
	set := time.Date(2024, 2, 29, 23, 59, 59, 123_456_789, time.FixedZone("X", 3*3600))
	in := []store.Message{msg("r", "zero"), msg("r", "set")}
	in[1].Time = set
	got := mustAppend(t, s, in...)
	after := time.Now()
	for i, m := range got {
		if m.Time.Location() != time.UTC {
			t.Errorf("message %d: Time %v not in UTC", i, m.Time)
		}
		if m.Time.Nanosecond()%int(time.Millisecond) != 0 {
			t.Errorf("message %d: Time %v has sub-millisecond digits", i, m.Time)
		}
	}
	if got[0].Time.Before(before) || got[0].Time.After(after) {
		t.Errorf("assigned Time %v not between %v and %v", got[0].Time, before, after)
	}
	if want := set.UTC().Truncate(time.Millisecond); !got[1].Time.Equal(want) {
		t.Errorf("given Time stored as %v, want %v", got[1].Time, want)
	}
	h, err := s.History(Context(t), "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		sameMessage(t, "read back", h[i], got[i])
		if h[i].Time.Location() != time.UTC {
			t.Errorf("read back Time %v not in UTC", h[i].Time)
		}
	}
	r := room(t, s, "r")
	if r.Created.Before(before) || r.Created.After(after) || r.Created.Location() != time.UTC {
		t.Errorf("room Created %v, want UTC between %v and %v", r.Created, before, after)
	}
}

func testRooms(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	rooms, err := s.Rooms(Context(t))
	if err != nil || len(rooms) != 0 {
		t.Fatalf("Rooms of an empty store: %v, %v", rooms, err)
	}
	before := time.Now().Add(-time.Millisecond)
	r, err := s.CreateRoom(Context(t), "lobby")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "lobby" || r.LastID != 0 || r.Created.Before(before) || r.Created.After(time.Now()) {
		t.Errorf("CreateRoom: %+v", r)
	}
	fill(t, s, "lobby", 2)
	again, err := s.CreateRoom(Context(t), "lobby")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Created.Equal(r.Created) || again.LastID != 2 {
		t.Errorf("CreateRoom of an existing room: %+v, want Created %v and LastID 2", again, r.Created)
	}
	fill(t, s, "Zebra", 1) // created by Append
	fill(t, s, "äpfel", 3)
	if _, err := s.CreateRoom(Context(t), "b"); err != nil {
		t.Fatal(err)
	}
	rooms, err = s.Rooms(Context(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	last := map[string]int64{}
	for _, r := range rooms {
		names = append(names, r.Name)
		last[r.Name] = r.LastID
		if r.Created.IsZero() || r.Created.Location() != time.UTC {
			t.Errorf("room %q Created %v", r.Name, r.Created)
		}
	}
	if want := []string{"Zebra", "b", "lobby", "äpfel"}; !slices.Equal(names, want) {
		t.Errorf("Rooms %q, want %q (byte order)", names, want)
	}
	if last["lobby"] != 2 || last["Zebra"] != 1 || last["äpfel"] != 3 || last["b"] != 0 {
		t.Errorf("LastIDs %v", last)
	}
	if _, err := s.CreateRoom(Context(t), ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("CreateRoom(\"\"): %v, want ErrInvalid", err)
	}
}
