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

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// BenchmarkHistory measures a history request, on SQLite, in a room of
// 400 messages: a page of 50 of a typical length, as the page asks when
// scrolling back, and a page of 200 of 2,000 CJK characters (1.2 MB), which
// the reply cuts to what fits in its share of the send queue.
func BenchmarkHistory(b *testing.B) {
	for _, bc := range []struct {
		name  string
		limit int
		text  string
	}{
		{"50", 50, ""},
		{"long/200", MaxHistoryLimit, strings.Repeat("漢字かな", 500)},
	} {
		b.Run(bc.name, func(b *testing.B) { benchHistory(b, bc.limit, bc.text) })
	}
}

func benchHistory(b *testing.B, limit int, text string) {
	const stored, roomName = 400, "bench"
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

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
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
	if _, err := so.EmitWithAck(ctx, EventNewUser, "reader"); err != nil {
		b.Fatal(err)
	}
	if _, err := so.EmitWithAck(ctx, EventJoinRoom, roomName); err != nil {
		b.Fatal(err)
	}
	req := map[string]any{"room": roomName, "limit": limit}

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m, err := so.EmitWithAck(ctx, EventHistory, req)
		if err != nil {
			b.Fatal(err)
		}
		var r struct {
			OK bool `json:"ok"`
		}
		if err := m.Bind(0, &r); err != nil || !r.OK {
			b.Fatalf("history: %v, %s", err, m.Args[0][:min(len(m.Args[0]), 200)])
		}
	}
}
