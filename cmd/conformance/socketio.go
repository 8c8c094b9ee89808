package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/socketio"
)

// newSocketIO returns the Socket.IO server the v5 suite expects: on connect
// to "/" or "/custom" it emits "auth" with the handshake's auth payload,
// "message" is echoed as "message-back", and "message-with-ack" is acked
// with its own arguments.
func newSocketIO(log *slog.Logger) *socketio.Server {
	srv := socketio.NewServer(socketio.Config{
		Engine: engineio.Config{
			PingInterval: 300 * time.Millisecond,
			PingTimeout:  200 * time.Millisecond,
			MaxPayload:   1_000_000,
		},
		ConnectTimeout: time.Second,
		Logger:         log,
	})
	for _, name := range []string{"/", "/custom"} {
		srv.Of(name).OnConnection(func(so *socketio.Socket) {
			_ = so.EmitRaw("auth", []json.RawMessage{so.Handshake().Auth}, nil)
			so.On("message", func(so *socketio.Socket, e *socketio.Event) {
				_ = so.EmitRaw("message-back", e.Args, e.Attachments)
			})
			so.On("message-with-ack", func(so *socketio.Socket, e *socketio.Event) {
				_ = e.AckRaw(e.Args, e.Attachments)
			})
		})
	}
	return srv
}

var _ http.Handler = (*socketio.Server)(nil)
