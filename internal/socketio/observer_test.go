package socketio_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// observed records what an Observer is told, one line per call.
type observed struct {
	mu    sync.Mutex
	lines []string
}

func (o *observed) add(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, fmt.Sprintf(format, args...))
}

func (o *observed) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.lines)
}

func (o *observed) ConnOpened(tr string)                   { o.add("open %s", tr) }
func (o *observed) ConnClosed(r socketio.DisconnectReason) { o.add("close %s", r) }
func (o *observed) SocketConnected(so *socketio.Socket)    { o.add("connected %s", so.Namespace().Name()) }
func (o *observed) SocketUpdated(so *socketio.Socket)      { o.add("updated %s", so.Transport()) }
func (o *observed) SocketDisconnected(so *socketio.Socket, r socketio.DisconnectReason) {
	o.add("disconnected %s", r)
}
func (o *observed) RoomJoined(so *socketio.Socket, room string) { o.add("joined %s", own(so, room)) }
func (o *observed) RoomLeft(so *socketio.Socket, room string)   { o.add("left %s", own(so, room)) }
func (o *observed) EventReceived(so *socketio.Socket, e *socketio.Event) {
	o.add("event %s %d", e.Name, len(e.Args))
}

// own names a socket's own room "own".
func own(so *socketio.Socket, room string) string {
	if room == so.ID() {
		return "own"
	}
	return room
}

// TestObserver follows one socket's life through what the Observer is told,
// in order: rooms joined (once each, however often) and left, events
// received (with or without a handler), data set, and the disconnect. (An
// upgrade's update is checked with the official client, which upgrades
// after connecting: cmd/parley TestOfficialClientAdmin.)
func TestObserver(t *testing.T) {
	obs := &observed{}
	ts := newTestServer(t, socketio.Config{Observer: obs})
	ts.Of("/").OnConnection(func(so *socketio.Socket) {
		so.Join("a", "b")
		so.Join("a")
		so.On("hello", func(so *socketio.Socket, e *socketio.Event) {
			so.Leave("b")
			so.Leave("b")
			so.SetData(map[string]int{"n": 1})
		})
	})
	c := ts.dial(t, sioclient.TransportPolling, nil)
	so, _ := ts.connect(t, c, "/", nil)
	if err := so.Emit("unhandled", 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := so.Emit("hello"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "data set", 5*time.Second, func() error {
		if got := obs.get(); len(got) < 9 {
			return fmt.Errorf("told %q", got)
		}
		return nil
	})
	_ = so.Disconnect()
	want := []string{
		"open polling",
		"joined own",
		"connected /",
		"joined a",
		"joined b",
		"event unhandled 2",
		"event hello 0",
		"left b",
		"updated polling", // SetData
		"disconnected client namespace disconnect",
		"left a",
		"left own",
	}
	wait.For(t, "the disconnect", 5*time.Second, func() error {
		if got := obs.get(); !slices.Equal(got, want) {
			return fmt.Errorf("told:\n%q\nwant:\n%q", got, want)
		}
		return nil
	})
	_ = c.Close()
	wait.For(t, "the close", 5*time.Second, func() bool { return slices.Contains(obs.get(), "close transport close") })
}
