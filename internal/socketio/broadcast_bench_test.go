package socketio_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// benchEvent is a small chat event, and benchFrameSize the size of the
// WebSocket frame carrying it: a 2-byte header, then "42[...]".
var (
	benchEvent = map[string]any{"from": "alice", "room": "general", "text": "hello, world"}
	benchFrame = `42["chat-message",{"from":"alice","room":"general","text":"hello, world"}]`
)

const benchFrameSize = 2 + 74

// sink is a set of WebSocket clients that read and discard what they get,
// counting the bytes, so that the server's queues drain without the
// clients allocating.
type sink struct {
	srv     *socketio.Server
	sockets []*socketio.Socket
	total   atomic.Int64
	target  atomic.Int64
	reached chan struct{}
	wg      sync.WaitGroup
}

// newSink starts a server and n clients connected to "/", with connection
// state recovery on when recovery is set.
func newSink(b *testing.B, n int, recovery *socketio.RecoveryConfig) *sink {
	b.Helper()
	if len(benchFrame) != benchFrameSize-2 {
		b.Fatalf("benchFrame is %d bytes", len(benchFrame))
	}
	srv := socketio.NewServer(socketio.Config{
		// No write coalescing: each op waits for its delivery, which
		// would otherwise wait out the coalescing time of the last.
		Engine:   engineio.Config{PingInterval: time.Hour, PingTimeout: time.Hour, WriteCoalesce: -1},
		Recovery: recovery,
		Logger:   siotest.DiscardLogger(),
	})
	hs := httptest.NewServer(srv)
	s := &sink{srv: srv, reached: make(chan struct{}, 1)}
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	var conns []*websocket.Conn
	for range n {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, ws)
		if _, _, err := ws.ReadMessage(); err != nil { // open
			b.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			b.Fatal(err)
		}
		_, data, err := ws.ReadMessage()
		if err != nil || !strings.HasPrefix(string(data), "40") {
			b.Fatalf("connect: %q %v", data, err)
		}
		var reply struct{ SID string }
		if err := json.Unmarshal(data[2:], &reply); err != nil {
			b.Fatal(err)
		}
		so := srv.Of("/").Socket(reply.SID)
		if so == nil {
			b.Fatal("no server socket")
		}
		s.sockets = append(s.sockets, so)
		s.wg.Add(1)
		go s.drain(ws.NetConn())
	}
	b.Cleanup(func() {
		for _, ws := range conns {
			_ = ws.Close()
		}
		s.wg.Wait()
		hs.Close()
	})
	return s
}

// drain reads and discards, counting bytes, until the connection closes.
func (s *sink) drain(r io.Reader) {
	defer s.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 && s.total.Add(int64(n)) == s.target.Load() {
			select {
			case s.reached <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

// expect adds n bytes to what the clients are to receive.
func (s *sink) expect(n int64) { s.target.Add(n) }

// wait waits until the clients have received everything expected.
func (s *sink) wait(b *testing.B) {
	for s.total.Load() < s.target.Load() {
		select {
		case <-s.reached:
		case <-time.After(10 * time.Second):
			b.Fatalf("clients received %d bytes of %d", s.total.Load(), s.target.Load())
		}
	}
}

// BenchmarkBroadcast1000 broadcasts a small chat event to 1,000 WebSocket
// clients on loopback. ns/op is the time until every client has the event;
// emit-ns/op is the time spent in Namespace.Emit alone.
func BenchmarkBroadcast1000(b *testing.B) { benchBroadcast(b, nil) }

// BenchmarkBroadcast1000Recovery is BenchmarkBroadcast1000 with connection
// state recovery on, as in cmd/parley: each event is given an offset and
// kept in the namespace's log, and its frame is one byte per digit of the
// offset larger.
func BenchmarkBroadcast1000Recovery(b *testing.B) {
	benchBroadcast(b, &socketio.RecoveryConfig{})
}

func benchBroadcast(b *testing.B, recovery *socketio.RecoveryConfig) {
	const n = 1000
	s := newSink(b, n, recovery)
	nsp := s.srv.Of("/")
	var emitting time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; b.Loop(); i++ {
		s.expect(n * int64(benchFrameSize+offsetBytes(recovery, i)))
		start := time.Now()
		if err := nsp.Emit("chat-message", benchEvent); err != nil {
			b.Fatal(err)
		}
		emitting += time.Since(start)
		s.wait(b)
	}
	b.ReportMetric(float64(emitting.Nanoseconds())/float64(b.N), "emit-ns/op")
}

// offsetBytes is what the offset of the i-th recorded event adds to its
// frame: `,"` prefix counter `"`, the prefix being 8 random characters and
// a dash, the counter base 36; nothing without recovery.
func offsetBytes(recovery *socketio.RecoveryConfig, i int) int {
	if recovery == nil {
		return 0
	}
	return 2 + 9 + len(strconv.FormatUint(uint64(i), 36)) + 1
}

// BenchmarkBroadcastRoom1000 is BenchmarkBroadcast1000 through a room, with
// the sender excluded.
func BenchmarkBroadcastRoom1000(b *testing.B) {
	const n = 1000
	s := newSink(b, n, nil)
	for _, so := range s.sockets {
		so.Join("general")
	}
	sender := s.sockets[0]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.expect((n - 1) * benchFrameSize)
		if err := sender.To("general").Emit("chat-message", benchEvent); err != nil {
			b.Fatal(err)
		}
		s.wait(b)
	}
}

// BenchmarkSocketEmit emits a small chat event to one WebSocket client,
// waiting for delivery every 64 events.
func BenchmarkSocketEmit(b *testing.B) { benchSocketEmit(b, nil) }

// BenchmarkSocketEmitRecovery is BenchmarkSocketEmit with connection state
// recovery on, as in cmd/parley.
func BenchmarkSocketEmitRecovery(b *testing.B) {
	benchSocketEmit(b, &socketio.RecoveryConfig{})
}

func benchSocketEmit(b *testing.B, recovery *socketio.RecoveryConfig) {
	s := newSink(b, 1, recovery)
	so := s.sockets[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; b.Loop(); i++ {
		s.expect(int64(benchFrameSize + emitOffsetBytes(recovery, i)))
		if err := so.Emit("chat-message", benchEvent); err != nil {
			b.Fatal(err)
		}
		if i%64 == 0 {
			s.wait(b)
		}
	}
	s.wait(b)
}

// emitOffsetBytes is what recovery adds to the i-th frame of
// BenchmarkSocketEmit: nothing, as an event to one socket whose last
// argument is no string is not recorded and carries no offset.
func emitOffsetBytes(*socketio.RecoveryConfig, int) int { return 0 }
