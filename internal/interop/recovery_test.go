package interop

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestOfficialClientRecovery drops the official client's transport, sends
// events while it is away, and checks that it reconnects with
// socket.recovered === true and gets every missed event once, in order
// (test/js/recovery.test.mjs), over each transport: also when what it
// missed is more than its send queue may hold, with live events coming
// during the replay.
func TestOfficialClientRecovery(t *testing.T) {
	testjs.RequireNode(t)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			url := startRecoveryServer(t)
			testjs.Run(t, time.Minute, "recovery.test.mjs", "PARLEY_URL="+url, "PARLEY_TRANSPORT="+mode)
		})
	}
}

// startRecoveryServer serves a Socket.IO server with recovery on:
//
//	"join" (room, ack)        join a room, then ack
//	"drop-me"                 close the caller's transport
//	"burst" (room, from, n[, pad], ack)  broadcast "seq" from..from+n-1 to room, then ack
//
// Each "seq" event carries its number i and the text String(i), followed
// by pad CJK characters (3 bytes each) when pad is given. On connect the
// server emits "welcome" with the socket id and whether it was recovered.
// The server is shut down at the end of the test.
func startRecoveryServer(t *testing.T) string {
	t.Helper()
	srv := socketio.NewServer(socketio.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Recovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: 30 * time.Second},
	})
	srv.Of("/").OnConnection(func(so *socketio.Socket) {
		_ = so.Emit("welcome", so.ID(), so.Recovered())
		so.On("join", func(so *socketio.Socket, e *socketio.Event) {
			room, _ := e.String(0)
			so.Join(room)
			_ = e.Ack()
		})
		so.On("drop-me", func(so *socketio.Socket, e *socketio.Event) { so.CloseTransport() })
		so.On("burst", func(so *socketio.Socket, e *socketio.Event) {
			var room string
			var from, n, pad int
			if e.Bind(0, &room) != nil || e.Bind(1, &from) != nil || e.Bind(2, &n) != nil ||
				(e.Len() > 3 && e.Bind(3, &pad) != nil) {
				_ = e.Ack("bad arguments")
				return
			}
			padding := strings.Repeat("字", pad)
			for i := from; i < from+n; i++ {
				_ = so.Namespace().To(room).Emit("seq", i, strconv.Itoa(i)+padding)
			}
			_ = e.Ack()
		})
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL
}
