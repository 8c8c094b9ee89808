package interop

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestOfficialClientRecovery drops the official client's transport, sends
// events while it is away, and checks that it reconnects with
// socket.recovered === true and gets every missed event once, in order
// (test/js/recovery.test.mjs), over each transport.
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
//	"burst" (room, from, n, ack)  broadcast "seq" from..from+n-1 to room, then ack
//
// and on connect it emits "welcome" with the socket id and whether it was
// recovered.
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
			var from, n int
			if e.Bind(0, &room) != nil || e.Bind(1, &from) != nil || e.Bind(2, &n) != nil {
				_ = e.Ack("bad arguments")
				return
			}
			for i := from; i < from+n; i++ {
				_ = so.Namespace().To(room).Emit("seq", i, strconv.Itoa(i))
			}
			_ = e.Ack()
		})
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}
