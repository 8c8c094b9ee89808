package engineio_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// signalHandler tells got of each message it is handed.
type signalHandler struct{ got chan<- struct{} }

func (h signalHandler) HandleMessage([]byte, bool)      { h.got <- struct{}{} }
func (signalHandler) HandleClose(eioparser.CloseReason) {}

// BenchmarkWebSocketReceive measures what the server does for one small
// message a WebSocket client sends: the poller's wake-up, the read, the
// frame's parsing and the handler's call.
func BenchmarkWebSocketReceive(b *testing.B) {
	got := make(chan struct{}, 1)
	srv := engineio.NewServer(engineio.Config{
		PingInterval: time.Hour, PingTimeout: time.Hour, WriteCoalesce: -1,
		Logger:     siotest.DiscardLogger(),
		NewSession: func(*engineio.Session) engineio.Handler { return signalHandler{got} },
	})
	hs := httptest.NewServer(srv)
	b.Cleanup(hs.Close)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ws.Close() })
	if _, _, err := ws.ReadMessage(); err != nil { // open
		b.Fatal(err)
	}
	msg, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte(`42["send-chat-message","hello there, how are you doing today?"]`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := ws.WritePreparedMessage(msg); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}
