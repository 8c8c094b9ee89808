package engineio_test

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// waitingHandler waits for release in HandleMessage, counting the calls
// that wait.
type waitingHandler struct {
	release <-chan struct{}
	waiting *atomic.Int32
}

func (h waitingHandler) HandleMessage([]byte, bool) {
	h.waiting.Add(1)
	<-h.release
}

func (waitingHandler) HandleClose(eioparser.CloseReason) {}

// liveHeap returns the bytes of the heap's live objects, after collecting
// twice so that what pools held is gone.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestWaitingHandlersHoldNoReadBuffer checks that what a WebSocket client
// sent is handled without the buffer it was read into: connections whose
// handlers all wait at once (for a lock, the store) hold no read buffer
// each (16 KiB), only what they received.
func TestWaitingHandlersHoldNoReadBuffer(t *testing.T) {
	const sessions = 200
	release := make(chan struct{})
	var waiting atomic.Int32
	srv := engineio.NewServer(engineio.Config{
		PingInterval: time.Hour, PingTimeout: time.Hour,
		Logger: siotest.DiscardLogger(),
		NewSession: func(*engineio.Session) engineio.Handler {
			return waitingHandler{release: release, waiting: &waiting}
		},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
	})
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
	conns := make([]*websocket.Conn, sessions)
	for i := range conns {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.Close() })
		if _, _, err := ws.ReadMessage(); err != nil { // open
			t.Fatal(err)
		}
		conns[i] = ws
	}

	before := liveHeap()
	for _, ws := range conns {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["send-chat-message","hello"]`)); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, "every handler waiting", 10*time.Second, func() bool { return waiting.Load() == sessions })
	after := liveHeap()
	close(release)
	released = true

	perSession := (int64(after) - int64(before)) / sessions
	t.Logf("live heap %d bytes before, %d with every handler waiting: %d per session", before, after, perSession)
	if perSession > 4<<10 {
		t.Errorf("a session whose handler waits holds %d bytes more; want no read buffer (16 KiB) among them", perSession)
	}
}
