package chat

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store/memory"
)

// newTestChat returns a chat over a memory store, with no server.
func newTestChat(t *testing.T, cfg Config) *Chat {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := memory.New(memory.Config{})
	t.Cleanup(func() { _ = st.Close() })
	cfg.Store, cfg.Logger = st, log
	c, err := New(cfg, socketio.NewServer(socketio.Config{Logger: log}).Of("/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestReloadRooms checks that a person coming back to rooms unloaded
// while they were gone gets the rooms loaded now, and that a sweep
// unloads only what nobody is in.
func TestReloadRooms(t *testing.T) {
	c := newTestChat(t, Config{})
	rooms := map[string]*room{}
	for _, name := range []string{DefaultRoom, "dev", "quiet", "busy"} {
		r, err := c.loadRoom(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		rooms[name] = r
	}
	stayer := &person{name: "Stayer", key: "stayer", rooms: map[string]*room{rooms["busy"].id: rooms["busy"]}}
	c.mu.Lock()
	rooms["busy"].addMember(stayer)
	c.mu.Unlock()

	c.sweepRooms(time.Now().Add(time.Hour), false)
	for name, r := range rooms {
		if want := name == "dev" || name == "quiet"; r.unloaded != want {
			t.Errorf("room %s: unloaded %t, want %t", name, r.unloaded, want)
		}
	}
	if c.rooms[rooms["dev"].id] != nil || c.rooms[rooms["busy"].id] != rooms["busy"] {
		t.Fatalf("loaded rooms after the sweep: %v", c.rooms)
	}
	// Someone loads dev again; then the person gone comes back.
	dev, err := c.loadRoom("dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	gone := &person{name: "Gone", key: "gone", rooms: map[string]*room{}}
	for _, name := range []string{"dev", "quiet", "busy"} {
		gone.rooms[rooms[name].id] = rooms[name]
	}
	if err := c.reloadRooms(gone); err != nil {
		t.Fatal(err)
	}
	for id, r := range gone.rooms {
		if r.unloaded || c.rooms[id] != r {
			t.Errorf("room %s of the person back: unloaded %t, the loaded one %t", r.name, r.unloaded, c.rooms[id] == r)
		}
	}
	if gone.rooms[dev.id] != dev {
		t.Error("dev was loaded twice")
	}
}
