package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/metrics"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
)

// The benchmarks of what the metrics cost the hot path: the same work with
// every observer wired as the command wires them (metrics=on) and with
// none (metrics=off). Compare the two with benchstat -col /metrics.

// benchClient is a raw WebSocket client that reads what it is sent
// without allocating, and counts the frames that hold marker.
type benchClient struct {
	conn  net.Conn
	count *atomic.Int64 // shared by the clients: the markers seen
	wake  chan struct{}
}

// dialBench opens a WebSocket session to url and joins "/", returning the
// raw connection once the CONNECT reply is in.
func dialBench(b *testing.B, url string) *websocket.Conn {
	b.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); err != nil { // open
		b.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		b.Fatal(err)
	}
	if _, data, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(data), "40") {
		b.Fatalf("connect: %q %v", data, err)
	}
	return ws
}

// drain reads c's connection until it closes, counting marker.
func (c *benchClient) drain(marker []byte, wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, 64<<10)
	carry := 0 // bytes kept from the last read: a marker may straddle two
	for {
		n, err := c.conn.Read(buf[carry:])
		if n > 0 {
			data := buf[:carry+n]
			if k := bytes.Count(data, marker); k > 0 {
				c.count.Add(int64(k))
				select {
				case c.wake <- struct{}{}:
				default:
				}
			}
			carry = min(len(marker)-1, len(data))
			// Keep the tail, unless it ends a marker already counted.
			if bytes.HasSuffix(data, marker) {
				carry = 0
			}
			copy(buf, data[len(data)-carry:])
		}
		if err != nil {
			return
		}
	}
}

// sinks are benchClients that count what reaches them.
type sinks struct {
	count atomic.Int64
	wake  chan struct{}
	wg    sync.WaitGroup
}

// start starts a drain of ws for marker.
func (s *sinks) start(ws *websocket.Conn, marker string) {
	c := &benchClient{conn: ws.NetConn(), count: &s.count, wake: s.wake}
	s.wg.Add(1)
	go c.drain([]byte(marker), &s.wg)
}

// waitCount waits until the clients have seen n markers in all.
func (s *sinks) waitCount(b *testing.B, n int64) {
	for s.count.Load() < n {
		select {
		case <-s.wake:
		case <-time.After(10 * time.Second):
			b.Fatalf("the clients saw %d of %d", s.count.Load(), n)
		}
	}
}

// withMetrics runs f as the sub-benchmarks metrics=off and metrics=on,
// the latter with a Metrics made as the command makes it (nil for off).
func withMetrics(b *testing.B, f func(b *testing.B, m *metrics.Metrics)) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%s", map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
			var m *metrics.Metrics
			if on {
				m = metrics.New(metrics.Config{Events: chat.Events(), Codes: chat.Codes()})
			}
			f(b, m)
		})
	}
}

// BenchmarkChatMessage is a chat message's way through parley, as the
// command wires it (connection state recovery on, in-memory store with
// group commit): one client sends send-chat-message, which the chat
// validates, stores, and broadcasts to the default room, whose 100 other
// members are WebSocket clients on loopback; an op ends when every one of
// them has the message. With metrics on, the event is counted received,
// the batch timed, the message counted stored, its 100 copies counted
// sent and its delivery timed (every message: DeliverySample 1).
func BenchmarkChatMessage(b *testing.B) {
	withMetrics(b, func(b *testing.B, m *metrics.Metrics) { benchChatMessage(b, m, 100) })
}

func benchChatMessage(b *testing.B, m *metrics.Metrics, members int) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := memory.New(memory.Config{})
	b.Cleanup(func() { _ = st.Close() })
	sioCfg := socketio.Config{
		// Writes go out at once: an op waits for its delivery, which would
		// otherwise wait out the coalescing of the last.
		Engine:   engineio.Config{WriteCoalesce: -1},
		Recovery: &socketio.RecoveryConfig{},
		Logger:   log,
	}
	commitCfg := store.CommitterConfig{Logger: log}
	chatCfg := chat.Config{Store: st, Rate: rate.Inf, Burst: 1, PresenceGrace: -1, Logger: log}
	if m != nil {
		sioCfg.Engine.Observer = m
		sioCfg.Metrics = m
		commitCfg.Observer = m
		chatCfg.Observer = m
	}
	sio := socketio.NewServer(sioCfg)
	committer := store.NewCommitter(st, commitCfg)
	chatCfg.Committer = committer
	c, err := chat.New(chatCfg, sio.Of("/"))
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(sio)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	s := &sinks{wake: make(chan struct{}, 1)}
	var conns []*websocket.Conn
	join := func(name string) *websocket.Conn {
		ws := dialBench(b, url)
		conns = append(conns, ws)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["new-user","`+name+`"]`)); err != nil {
			b.Fatal(err)
		}
		return ws
	}
	for i := range members {
		s.start(join(fmt.Sprintf("member%03d", i)), `["chat-message",`)
	}
	sender := join("sender")
	acks := &sinks{wake: make(chan struct{}, 1)}
	acks.start(sender, `"ok":true`) // its acks, one per message
	deadline := time.Now().Add(10 * time.Second)
	for c.PeopleOnline() < members+1 {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d joined", c.PeopleOnline(), members+1)
		}
		time.Sleep(time.Millisecond)
	}
	b.Cleanup(func() {
		for _, ws := range conns {
			_ = ws.Close()
		}
		s.wg.Wait()
		acks.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sio.Shutdown(ctx)
		ts.Close()
		_ = c.Close()
		_ = committer.Close()
	})
	frame := []byte(`421["send-chat-message","hello, world"]`)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	ops := 0
	for i := int64(1); b.Loop(); i++ {
		if err := sender.WriteMessage(websocket.TextMessage, frame); err != nil {
			b.Fatal(err)
		}
		s.waitCount(b, i*int64(members))
		acks.waitCount(b, i)
		ops++
	}
	reportCPU(b, cpu, ops)
}

// reportCPU reports the process's CPU time per op since cpu, as
// cpu-ns/op: the work of the server and of the clients, which the
// machine's other load does not add to as it adds to ns/op.
func reportCPU(b *testing.B, cpu time.Duration, ops int) {
	if ops > 0 {
		b.ReportMetric(float64(cpuTime()-cpu)/float64(ops), "cpu-ns/op")
	}
}

// BenchmarkBroadcast is the delivery path alone: a broadcast to 1,000
// WebSocket clients on loopback through the namespace, with recovery on,
// each op waiting for every client to have it. With metrics on, the
// sessions are observed, the 1,000 copies counted sent, and the broadcast
// tracked to its last write and its latency observed, as the chat tracks
// each message.
func BenchmarkBroadcast(b *testing.B) {
	withMetrics(b, func(b *testing.B, m *metrics.Metrics) { benchBroadcast(b, m, 1000) })
}

func benchBroadcast(b *testing.B, m *metrics.Metrics, n int) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := socketio.Config{
		Engine:   engineio.Config{PingInterval: time.Hour, PingTimeout: time.Hour, WriteCoalesce: -1},
		Recovery: &socketio.RecoveryConfig{},
		Logger:   log,
	}
	var obs engineio.DeliveryObserver
	if m != nil {
		cfg.Engine.Observer = m
		cfg.Metrics = m
		obs = m
	}
	srv := socketio.NewServer(cfg)
	ts := httptest.NewServer(srv)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	s := &sinks{wake: make(chan struct{}, 1)}
	var conns []*websocket.Conn
	for range n {
		ws := dialBench(b, url)
		conns = append(conns, ws)
		s.start(ws, `["chat-message",`)
	}
	b.Cleanup(func() {
		for _, ws := range conns {
			_ = ws.Close()
		}
		s.wg.Wait()
		ts.Close()
	})
	nsp := srv.Of("/")
	event := map[string]any{"name": "alice", "room": "general", "message": "hello, world"}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	ops := 0
	for i := int64(1); b.Loop(); i++ {
		ops++
		to := nsp.Local()
		var t *socketio.Tracker
		if obs != nil {
			t = socketio.NewTracker(time.Now(), obs)
			to = to.Track(t)
		}
		if err := to.Emit("chat-message", event); err != nil {
			b.Fatal(err)
		}
		t.Release()
		s.waitCount(b, i*int64(n))
	}
	reportCPU(b, cpu, ops)
}

// BenchmarkObservers is what the metrics' observers do for one chat
// message, alone, with no server: the event counted received, its batch
// timed and counted, its 100 copies counted sent, its delivery observed.
// Against BenchmarkChatMessage's cpu-ns/op, it is the metrics' share of a
// message's cost, less the tracker's per copy (engineio's
// BenchmarkTrackedDelivery).
func BenchmarkObservers(b *testing.B) {
	m := metrics.New(metrics.Config{Events: chat.Events(), Codes: chat.Codes()})
	b.ReportAllocs()
	for b.Loop() {
		m.EventReceived("/", chat.EventSendChatMessage)
		m.Committed(1, 50*time.Microsecond, nil)
		m.EventsSent(100)
		m.Delivered(300 * time.Microsecond)
	}
}
