package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// openPacket is a fake server's Engine.IO handshake.
const openPacket = `0{"sid":"fake","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`

// fakeServer serves WebSocket connections that do the Engine.IO
// handshake, then hand each frame the client sends to onFrame, which
// answers with the frames it returns, or ends the connection by returning
// false. It returns the server's URL.
func fakeServer(t *testing.T, onFrame func(ws *websocket.Conn, frame string) ([]string, bool)) string {
	t.Helper()
	var wg sync.WaitGroup
	up := websocket.Upgrader{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer ws.Close()
		if ws.WriteMessage(websocket.TextMessage, []byte(openPacket)) != nil {
			return
		}
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			out, ok := onFrame(ws, string(data))
			for _, f := range out {
				if ws.WriteMessage(websocket.TextMessage, []byte(f)) != nil {
					return
				}
			}
			if !ok {
				return
			}
		}
	}))
	t.Cleanup(func() {
		ts.Close()
		wg.Wait()
	})
	return ts.URL
}

// TestServerFailures checks that a server which refuses, drops, or
// ignores clients makes failures in the result, not a hang.
func TestServerFailures(t *testing.T) {
	connected := func(ws *websocket.Conn, f string) ([]string, bool) {
		if f == "40" {
			return []string{`40{"sid":"s"}`}, true
		}
		return nil, true
	}
	// dropAfter answers CONNECT, then closes the connection after d.
	dropAfter := func(d time.Duration) func(*websocket.Conn, string) ([]string, bool) {
		return func(ws *websocket.Conn, f string) ([]string, bool) {
			if f == "40" {
				time.AfterFunc(d, func() { _ = ws.NetConn().Close() })
			}
			return connected(ws, f)
		}
	}
	tests := []struct {
		name       string
		onFrame    func(*websocket.Conn, string) ([]string, bool)
		url        string
		transport  Transport
		wantFailed int
		wantDrop   int
		wantErr    string // a key of Result.Errors
	}{
		{
			name:       "closes instead of connecting",
			onFrame:    func(*websocket.Conn, string) ([]string, bool) { return nil, false },
			wantFailed: 4, wantErr: "connect: connection closed by server",
		},
		{
			name:       "never answers CONNECT",
			onFrame:    func(*websocket.Conn, string) ([]string, bool) { return nil, true },
			wantFailed: 4, wantErr: "connect: timeout",
		},
		{
			name: "refuses the namespace",
			onFrame: func(_ *websocket.Conn, f string) ([]string, bool) {
				return []string{`44{"message":"not authorized"}`}, true
			},
			wantFailed: 4, wantErr: `connect: bench: socket.io connect refused: {"message":"not authorized"}`,
		},
		{
			name:     "drops clients after connecting",
			onFrame:  dropAfter(200 * time.Millisecond),
			wantDrop: 4, wantErr: "dropped: connection closed by server",
		},
		{
			name: "disconnects clients",
			onFrame: func(ws *websocket.Conn, f string) ([]string, bool) {
				if strings.HasPrefix(f, `42["send-chat-message"`) {
					return []string{"41"}, true
				}
				return connected(ws, f)
			},
			wantDrop: 1, wantErr: "dropped: " + ErrKicked.Error(),
		},
		{
			name: "closes the session",
			onFrame: func(ws *websocket.Conn, f string) ([]string, bool) {
				if strings.HasPrefix(f, `42["new-user"`) {
					return []string{"1"}, true
				}
				return connected(ws, f)
			},
			wantDrop: 4, wantErr: "dropped: " + ErrServerClose.Error(),
		},
		{
			name:       "refuses connections",
			url:        closedURL(t),
			wantFailed: 4, wantErr: "connect: connect: connection refused",
		},
		{
			name:       "refuses polling",
			url:        fakeServer(t, nil), // answers no GET but a WebSocket upgrade
			transport:  TransportPolling,
			wantFailed: 4, wantErr: "connect: " + ErrHandshake.Error() + ": " + ErrStatus.Error() + ": GET: HTTP 400",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := tt.url
			if url == "" {
				url = fakeServer(t, tt.onFrame)
			}
			start := time.Now()
			res, err := Run(context.Background(), Config{
				URL:            url,
				Transport:      tt.transport,
				Clients:        4,
				Senders:        1,
				Rate:           20,
				Warmup:         -1,
				Duration:       time.Second,
				Drain:          200 * time.Millisecond,
				ConnectTimeout: 500 * time.Millisecond,
			})
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("run took %v", d)
			}
			if tt.wantFailed == 4 {
				if !errors.Is(err, ErrNoClients) {
					t.Errorf("Run error %v, want %v", err, ErrNoClients)
				}
			} else if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ConnectFailures != tt.wantFailed || res.Dropped != tt.wantDrop {
				t.Errorf("failed %d, dropped %d; want %d, %d", res.ConnectFailures, res.Dropped, tt.wantFailed, tt.wantDrop)
			}
			if res.Errors[tt.wantErr] == 0 {
				t.Errorf("errors %v, want %q", res.Errors, tt.wantErr)
			}
			if tt.wantDrop > 0 && res.Sent > 0 && res.Loss == 0 {
				t.Errorf("sent %d, no loss", res.Sent)
			}
		})
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
