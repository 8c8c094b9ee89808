package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// clientTestTimeout bounds one run of test/js/client.test.mjs.
const clientTestTimeout = 5 * time.Minute

// TestClientAgainstReference runs our browser client (static/socket.io.js)
// in headless Chromium against the reference Socket.IO server, the npm
// socket.io package (test/js/client.test.mjs).
func TestClientAgainstReference(t *testing.T) {
	testjs.RequireBrowser(t)
	testjs.Run(t, clientTestTimeout, "client.test.mjs")
}

// TestClientAgainstParley runs the same scenarios against our own server,
// with the test app client.test.mjs describes.
func TestClientAgainstParley(t *testing.T) {
	testjs.RequireBrowser(t)
	srv := socketio.NewServer(socketio.Config{
		// Short heartbeats, so that the client's heartbeat test runs too.
		Engine:   engineio.Config{PingInterval: time.Second, PingTimeout: 5 * time.Second},
		Logger:   siotest.DiscardLogger(),
		Recovery: &socketio.RecoveryConfig{},
	})
	for _, name := range []string{"/", "/second"} {
		srv.Of(name).OnConnection(mountClientTestApp)
	}
	srv.Of("/private").Use(func(*socketio.Socket) error {
		return &socketio.ConnectError{Message: "not authorized", Data: map[string]int{"code": 42}}
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("/", http.NotFound) // the page our client is injected into
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	testjs.Run(t, clientTestTimeout, "client.test.mjs", "PARLEY_URL="+ts.URL, "PARLEY_RECOVERY_URL="+ts.URL)
}

// TestPagePhase runs test/js/phase.test.mjs in Node: the page's connection
// phase machine (static/js/phase.js) and its list of refusal codes.
func TestPagePhase(t *testing.T) {
	testjs.RequireNode(t)
	testjs.Run(t, time.Minute, "phase.test.mjs")
}

// mountClientTestApp sets the handlers client.test.mjs expects.
func mountClientTestApp(so *socketio.Socket) {
	nsp := so.Namespace()
	so.On("whoami", func(so *socketio.Socket, e *socketio.Event) {
		h := so.Handshake()
		query := map[string]string{}
		for k, v := range h.Query() {
			query[k] = v[0]
		}
		_ = e.Ack(map[string]any{"id": so.ID(), "nsp": nsp.Name(), "auth": h.Auth, "query": query})
	})
	so.On("echo", func(so *socketio.Socket, e *socketio.Event) {
		if e.HasAck() {
			_ = e.AckRaw(e.Args, e.Attachments)
			return
		}
		_ = so.EmitRaw("echo", e.Args, e.Attachments)
	})
	so.On("ask", func(so *socketio.Socket, e *socketio.Event) {
		var ev string
		if e.Bind(0, &ev) != nil {
			return
		}
		args := plainArgs(&e.Message)[1:]
		_ = so.EmitWithAck(ev, 5*time.Second, func(reply *sioparser.Message, err error) {
			if err != nil {
				_ = so.Emit("answer", map[string]string{"error": err.Error()})
				return
			}
			_ = so.Emit("answer", plainArgs(reply))
		}, args...)
	})
	so.On("no-ack", func(*socketio.Socket, *socketio.Event) {})
	so.On("server-disconnect", func(so *socketio.Socket, _ *socketio.Event) { so.Disconnect(false) })
	so.On("server-drop", func(so *socketio.Socket, _ *socketio.Event) { so.CloseTransport() })
	so.On("recovery-baseline", func(so *socketio.Socket, e *socketio.Event) {
		_ = nsp.To(so.ID()).Emit("seq", 0)
		_ = e.Ack()
	})
	so.On("recovery-drop", func(so *socketio.Socket, e *socketio.Event) {
		var n int
		if e.Bind(0, &n) != nil || n < 0 || n > 1000 {
			return
		}
		id := so.ID()
		so.OnDisconnect(func(*socketio.Socket, socketio.DisconnectReason) {
			for i := 1; i <= n; i++ {
				_ = nsp.To(id).Emit("seq", i)
			}
		})
		so.CloseTransport()
	})
}

// plainArgs returns a message's arguments for sending on, binary ones at
// any depth as []byte.
func plainArgs(m *sioparser.Message) []any {
	out := make([]any, len(m.Args))
	for i := range m.Args {
		v, err := m.Decode(i)
		if err != nil {
			v = json.RawMessage(m.Args[i])
		}
		out[i] = v
	}
	return out
}

// TestPageFormat runs test/js/format.test.mjs in Node: how the page
// formats a message (static/js/format.js).
func TestPageFormat(t *testing.T) {
	testjs.RequireNode(t)
	testjs.Run(t, time.Minute, "format.test.mjs")
}
