package chat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// BenchmarkJoinRoomHistory measures joining a room with history, on
// SQLite: one client joins a room of 400 messages and leaves it again,
// getting the last 50 (last50), what came after a recent id (since=near:
// 20 messages) or after an old one (since=far: 390 messages, older than
// the room keeps in memory, so that they are read from the store). The
// messages are of a typical length, or (long/) of 2,000 CJK characters:
// then the last 50 are 300 KB, more than a piece of the send queue, and
// the 390 are 2.3 MB, more than the whole queue, sent in pieces.
func BenchmarkJoinRoomHistory(b *testing.B) {
	const stored = 400
	long := strings.Repeat("漢字かな", 500)
	for _, bc := range []struct {
		name  string
		since int64
		want  int
		text  string
	}{
		{"last50", 0, DefaultHistoryLimit, ""},
		{"since=near", stored - 20, 20, ""},
		{"since=far", 10, stored - 10, ""},
		{"long/last50", 0, DefaultHistoryLimit, long},
		{"long/since=far", 10, stored - 10, long},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchJoinRoomHistory(b, stored, bc.since, bc.want, bc.text)
		})
	}
}

func benchJoinRoomHistory(b *testing.B, stored int, since int64, want int, text string) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "chat.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	sio := socketio.NewServer(socketio.Config{Logger: log, Engine: engineio.Config{WriteCoalesce: -1}})
	c, err := New(Config{Store: st, Logger: log, Rate: 1e9, Burst: 1e9}, sio.Of("/"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	ts := httptest.NewServer(sio)
	b.Cleanup(ts.Close)

	const roomName = "bench"
	msgs := make([]store.Message, stored)
	for i := range msgs {
		msgs[i] = store.Message{Room: roomName, Author: "someone", Text: text}
		if text == "" {
			msgs[i].Text = fmt.Sprintf("message %d, of a length that chat messages often have", i+1)
		}
	}
	if _, err := st.Append(context.Background(), msgs); err != nil {
		b.Fatal(err)
	}
	if _, err := c.loadRoom(roomName, nil); err != nil {
		b.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := sioclient.Dial(ctx, ts.URL, &sioclient.Options{Transport: sioclient.TransportWebSocket})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cl.Close() })
	so := cl.Socket("/")
	var got atomic.Int64
	so.On(EventChatMessage, func(*sioclient.Event) { got.Add(1) })
	if err := so.Connect(ctx, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := so.EmitWithAck(ctx, EventNewUser, "joiner"); err != nil {
		b.Fatal(err)
	}
	join := map[string]any{"room": roomName, "since": since}

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := so.Emit(EventJoinRoom, join); err != nil {
			b.Fatal(err)
		}
		// The server handles a socket's events in order: the leave's ack
		// comes after the history.
		if _, err := so.EmitWithAck(ctx, EventLeaveRoom, roomName); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := got.Load(); n != int64(b.N*want) {
		b.Fatalf("got %d messages in %d joins, want %d each", n, b.N, want)
	}
}
