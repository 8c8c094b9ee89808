package chat_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/test/wait"
)

// idle is how long an empty room stays listed in these tests.
const idle = 300 * time.Millisecond

// listed returns the names of the rooms p is told are listed.
func (p *person) listed() []string {
	p.t.Helper()
	return p.allRooms(0)
}

// TestIdleRoomsDropOutOfTheList checks that a room nobody is in leaves the
// list after RoomIdle and lets go of its memory, keeps its history, and
// comes back when someone joins it; and that rooms people are in stay
// listed however long they are in them.
func TestIdleRoomsDropOutOfTheList(t *testing.T) {
	t.Parallel()
	cfg := unlimited
	cfg.RoomIdle = idle
	srv := startChat(t, cfg, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	bob := join(t, srv.Server, sioclient.TransportWebSocket, "Bob")
	alice.joinRoom("dev")
	bob.joinRoom("quiet")
	bob.say("anyone?", map[string]string{"room": "quiet"})
	if got, want := alice.listed(), []string{"dev", "general", "quiet"}; !slices.Equal(got, want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
	left := time.Now()
	var lr roomReply
	bob.ack(&lr, chat.EventLeaveRoom, "quiet")

	wait.For(t, "quiet to drop out of the list", 10*time.Second, func() error {
		if got := alice.listed(); !slices.Equal(got, []string{"dev", "general"}) {
			return fmt.Errorf("listed %q", got)
		}
		return nil
	})
	if d := time.Since(left); d < idle {
		t.Errorf("quiet dropped out %v after bob left, before the %v of RoomIdle", d, idle)
	}
	wait.For(t, "quiet to be unloaded", 10*time.Second, func() error {
		if got := srv.chat.LoadedRooms(); !slices.Equal(got, []string{"dev", "general"}) {
			return fmt.Errorf("loaded %q", got)
		}
		return nil
	})
	// Long after: alice is still in dev, which stays listed.
	time.Sleep(2 * idle) // to outlast RoomIdle: nothing to poll for
	if got := alice.listed(); !slices.Equal(got, []string{"dev", "general"}) {
		t.Errorf("after %v in dev, listed %q, want dev and general", 3*idle, got)
	}
	r, err := srv.store.Room(t.Context(), "quiet")
	if err != nil || r.LastID != 1 {
		t.Errorf("quiet in the store: %+v, %v; want it with its message", r, err)
	}

	// Back in quiet: its history, and it is listed again at once.
	carol := join(t, srv.Server, sioclient.TransportWebSocket, "Carol")
	carol.joinRoom("quiet")
	carol.sync()
	if got := carol.texts(); !slices.Contains(got, "quiet: Bob: anyone?") {
		t.Errorf("carol joining quiet again got %q, want its history", got)
	}
	if got, want := alice.listed(), []string{"dev", "general", "quiet"}; !slices.Equal(got, want) {
		t.Errorf("after carol joined quiet, listed %q, want %q", got, want)
	}
	// The default room stays, as everyone hears it.
	if got := srv.chat.LoadedRooms(); !slices.Contains(got, chat.DefaultRoom) {
		t.Errorf("loaded %q, want general among them", got)
	}
}

// TestRoomCapsOpenAgain checks that the caps count the rooms created
// within RoomIdle, and the rooms listed: once rooms fall idle, more can be
// created.
func TestRoomCapsOpenAgain(t *testing.T) {
	t.Parallel()
	cfg := unlimited
	cfg.RoomIdle = idle
	cfg.RoomsPerPerson, cfg.RoomsPerAddress, cfg.MaxRooms = 1, -1, 2 // general and one
	srv := startChat(t, cfg, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	bob := join(t, srv.Server, sioclient.TransportWebSocket, "Bob")
	for _, tc := range []struct {
		p    *person
		room string
		err  *chat.Refusal
	}{
		{alice, "one", nil},
		{alice, "two", chat.ErrRoomLimitPerson},
		{bob, "two", chat.ErrRoomsFull},
	} {
		if r := tc.p.tryJoin(tc.room); (tc.err == nil) != r.OK || (tc.err != nil && r.Error != tc.err.Text) {
			t.Fatalf("joining %q: %+v, want %v", tc.room, r, tc.err)
		}
	}
	var lr roomReply
	alice.ack(&lr, chat.EventLeaveRoom, "one")
	wait.For(t, "room two to be created", 10*time.Second, func() error {
		if r := bob.tryJoin("two"); !r.OK {
			return errors.New(r.Error)
		}
		return nil
	})
	wait.For(t, "room three to be created", 10*time.Second, func() error {
		var lr roomReply
		bob.ack(&lr, chat.EventLeaveRoom, "two") // the second time: not in it
		if r := alice.tryJoin("three"); !r.OK {
			return errors.New(r.Error)
		}
		return nil
	})
	rooms, err := srv.store.Rooms(t.Context())
	if err != nil || len(rooms) != 4 {
		t.Errorf("stored rooms %+v, %v; want general, one, two and three", rooms, err)
	}
}

// TestRoomsTouchedWhileInUse checks what the store is told: the Active of a
// room moves on while people are in it, and once more when they leave.
func TestRoomsTouchedWhileInUse(t *testing.T) {
	t.Parallel()
	cfg := unlimited
	cfg.RoomIdle = idle
	srv := startChat(t, cfg, socketio.Config{})
	alice := join(t, srv.Server, sioclient.TransportWebSocket, "Alice")
	alice.joinRoom("dev")
	active := func() time.Time {
		t.Helper()
		r, err := srv.store.Room(t.Context(), "dev")
		if err != nil {
			t.Fatal(err)
		}
		return r.Active
	}
	start := active()
	wait.For(t, "dev's Active to move on", 10*time.Second, func() bool { return active().Sub(start) >= idle/2 })
	var lr roomReply
	alice.ack(&lr, chat.EventLeaveRoom, "dev")
	left := store.Timestamp(time.Now())
	wait.For(t, "dev's Active to pass the leaving", 10*time.Second, func() bool { return !active().Before(left) })
}
