package socketio_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// member is one connected client of a rooms test.
type member struct {
	so *sioclient.Socket
	ss *socketio.Socket
	in inbox
}

func TestRooms(t *testing.T) {
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		srv := newTestServer(t, socketio.Config{})
		nsp := srv.Of("/")
		// a in r1; b in r1 and r2; c in r2; d in none.
		rooms := map[string][]string{"a": {"r1"}, "b": {"r1", "r2"}, "c": {"r2"}, "d": nil}
		members := map[string]*member{}
		for _, name := range []string{"a", "b", "c", "d"} {
			c := srv.dial(t, mode, nil)
			so := c.Socket("/")
			in := record(so)
			so, ss := srv.connect(t, c, "/", nil)
			ss.Join(rooms[name]...)
			members[name] = &member{so, ss, in}
		}
		want := slices.Sorted(slices.Values(append([]string{members["b"].ss.ID()}, "r1", "r2")))
		if got := slices.Sorted(slices.Values(members["b"].ss.Rooms())); !slices.Equal(got, want) {
			t.Errorf("rooms of b %v, want %v", got, want)
		}

		// Each step broadcasts one event; a final "end" to everyone marks
		// the end of each inbox.
		a, b := members["a"].ss, members["b"].ss
		steps := []struct {
			event string
			emit  func() error
		}{
			{"all", func() error { return nsp.Emit("all") }},
			{"to-r1", func() error { return nsp.To("r1").Emit("to-r1") }},
			{"to-r1-r2", func() error { return nsp.To("r1", "r2").Emit("to-r1-r2") }},
			{"to-r1-r2-chained", func() error { return nsp.To("r1").To("r2").Emit("to-r1-r2-chained") }},
			{"except-r2", func() error { return nsp.Except("r2").Emit("except-r2") }},
			{"r1-except-r2", func() error { return nsp.To("r1").Except("r2").Emit("r1-except-r2") }},
			{"a-to-r1", func() error { return a.To("r1").Emit("a-to-r1") }},
			{"b-broadcast", func() error { return b.Broadcast().Emit("b-broadcast") }},
			{"to-socket-c", func() error { return nsp.To(members["c"].ss.ID()).Emit("to-socket-c") }},
			{"to-nobody", func() error { return nsp.To("empty").Emit("to-nobody") }},
			{"b-left-r1", func() error { b.Leave("r1"); return nsp.To("r1").Emit("b-left-r1") }},
			{"end", func() error { return nsp.Emit("end") }},
		}
		for _, s := range steps {
			if err := s.emit(); err != nil {
				t.Fatalf("%s: %v", s.event, err)
			}
		}
		want2 := map[string][]string{
			"a": {"all", "to-r1", "to-r1-r2", "to-r1-r2-chained", "except-r2", "r1-except-r2", "b-broadcast", "b-left-r1"},
			"b": {"all", "to-r1", "to-r1-r2", "to-r1-r2-chained", "a-to-r1"},
			"c": {"all", "to-r1-r2", "to-r1-r2-chained", "b-broadcast", "to-socket-c"},
			"d": {"all", "except-r2", "b-broadcast"},
		}
		for name, m := range members {
			if got := m.in.until(t, "end"); !slices.Equal(got, want2[name]) {
				t.Errorf("%s received %v, want %v", name, got, want2[name])
			}
		}

		if got := len(nsp.To("r2").Sockets()); got != 2 {
			t.Errorf("%d sockets in r2, want 2", got)
		}
		if got := len(nsp.To("r1", "r2").Sockets()); got != 3 {
			t.Errorf("%d sockets in r1 or r2, want 3", got)
		}
		// A disconnected socket leaves its rooms.
		_ = members["c"].so.Disconnect()
		wait.For(t, "c gone", 5*time.Second, func() bool { return !members["c"].ss.Connected() })
		if got := len(nsp.To("r2").Sockets()); got != 1 {
			t.Errorf("%d sockets in r2 after c left, want 1", got)
		}
		if got := members["c"].ss.Rooms(); len(got) != 0 {
			t.Errorf("rooms of a disconnected socket: %v", got)
		}
		if err := nsp.To("r2").DisconnectSockets(false); err != nil {
			t.Fatal(err)
		}
		<-members["b"].so.Done()
		if r := members["b"].so.Reason(); r != sioclient.ReasonServerDisconnect {
			t.Errorf("b: reason %q", r)
		}
		if n := nsp.SocketCount(); n != 2 {
			t.Errorf("%d sockets left, want 2", n)
		}
	})
}
