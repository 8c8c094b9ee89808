package chat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// BenchmarkConnectHistory measures a connection's setup as the tutorial's
// client makes it, over WebSocket: the Engine.IO and Socket.IO handshakes,
// the welcome, and the default room's history (the last 50 of its 200
// messages; none when it has none), then the close. The client is a bare
// WebSocket that only reads, so that what is measured is mostly the
// server's work; each connection is closed before the next.
func BenchmarkConnectHistory(b *testing.B) {
	for _, stored := range []int{0, 200} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			benchConnectHistory(b, stored)
		})
	}
}

func benchConnectHistory(b *testing.B, stored int) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "chat.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	sio := socketio.NewServer(socketio.Config{Logger: log, Engine: engineio.Config{WriteCoalesce: -1}})
	c, err := New(Config{Store: st, Logger: log}, sio.Of("/"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	ts := httptest.NewServer(sio)
	b.Cleanup(ts.Close)
	if stored > 0 {
		msgs := make([]store.Message, stored)
		for i := range msgs {
			msgs[i] = store.Message{Room: DefaultRoom, Author: fmt.Sprintf("person%d", i%7), AuthorID: fmt.Sprintf("id%d", i%7),
				Text: fmt.Sprintf("message %d, of a length that chat messages often have", i+1)}
		}
		if _, err := st.Append(context.Background(), msgs); err != nil {
			b.Fatal(err)
		}
	}
	want := min(stored, DefaultHistoryLimit)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 32 << 10}

	connect := func() {
		ws, _, err := dialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		if err := ws.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ws.ReadMessage(); err != nil { // open
			b.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			b.Fatal(err)
		}
		// The CONNECT reply, the welcome, then the history.
		for got := -2; got < want; got++ {
			_, data, err := ws.ReadMessage()
			if err != nil {
				b.Fatalf("after %d history messages: %v", got, err)
			}
			if got >= 0 && !strings.HasPrefix(string(data), `42["chat-message"`) {
				b.Fatalf("history message %d: %.80s", got, data)
			}
		}
	}
	connect() // the room is loaded once, not per connection
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		connect()
	}
}
