package chat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// BenchmarkJoinRoom measures what joining a room of n members costs the
// chat: one client joins a room of n others and leaves it again. The
// others are members without sockets, so that no event goes out and what
// grows with n is the chat's own work. With ack the client asks for the
// member list (which it then gets, its first page of DefaultUsersPage);
// without, as the tutorial's client does, it does not.
func BenchmarkJoinRoom(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		for _, ack := range []bool{false, true} {
			b.Run(fmt.Sprintf("members=%d/ack=%t", n, ack), func(b *testing.B) {
				benchJoinRoom(b, n, ack)
			})
		}
	}
}

func benchJoinRoom(b *testing.B, n int, ack bool) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "chat.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	// Writes go out at once: the benchmark waits on each reply, and
	// measures work, not the delay with which a busy connection is
	// written to.
	sio := socketio.NewServer(socketio.Config{Logger: log, Engine: engineio.Config{WriteCoalesce: -1}})
	c, err := New(Config{Store: st, Logger: log, Rate: 1e9, Burst: 1e9}, sio.Of("/"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	ts := httptest.NewServer(sio)
	b.Cleanup(ts.Close)

	const roomName = "bench"
	r, err := c.loadRoom(roomName, nil)
	if err != nil {
		b.Fatal(err)
	}
	c.mu.Lock()
	for i := range n {
		p := &person{id: fmt.Sprintf("id%06d", i), name: fmt.Sprintf("member%06d", i), rooms: map[string]*room{roomName: r}}
		c.people[p.id] = p
		r.addMember(p)
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := sioclient.Dial(ctx, ts.URL, &sioclient.Options{Transport: sioclient.TransportWebSocket})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cl.Close() })
	so := cl.Socket("/")
	if err := so.Connect(ctx, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := so.EmitWithAck(ctx, EventNewUser, "joiner"); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if ack {
			m, err := so.EmitWithAck(ctx, EventJoinRoom, roomName)
			if err != nil {
				b.Fatal(err)
			}
			var reply usersReply
			if err := m.Bind(0, &reply); err != nil || len(reply.Users) != min(n+1, DefaultUsersPage) || reply.Next == "" {
				b.Fatalf("join-room: %d users, next %q, %v", len(reply.Users), reply.Next, err)
			}
		} else if err := so.Emit(EventJoinRoom, roomName); err != nil {
			b.Fatal(err)
		}
		// The server handles a socket's events in order: the leave's ack
		// says the join is done.
		if _, err := so.EmitWithAck(ctx, EventLeaveRoom, roomName); err != nil {
			b.Fatal(err)
		}
	}
}
