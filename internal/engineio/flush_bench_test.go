package engineio

import (
	"io"
	"net"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
)

// discardConn is a net.Conn whose writes succeed at once.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) Close() error                     { return nil }

// loopbackConn returns the server end of a loopback TCP connection whose
// client end reads and discards everything.
func loopbackConn(b *testing.B) net.Conn {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, client)
	}()
	server := <-accepted
	if server == nil {
		b.Fatal("accept failed")
	}
	b.Cleanup(func() {
		server.Close()
		<-done
		client.Close()
	})
	return server
}

// benchSession returns a WebSocket session writing to nc.
func benchSession(b *testing.B, nc net.Conn) (*Session, *wsConn) {
	srv := NewServer(Config{PingInterval: time.Hour, WriteCoalesce: -1})
	s := newSession(srv, "bench", httptest.NewRequest("GET", "/", nil), transportWebSocket)
	ws := newWSConn(nc, 1<<20)
	s.ws = ws
	return s, ws
}

// BenchmarkWebSocketFlush measures Session.Send of 16 small messages and
// the flush that frames them and writes them in one call.
func BenchmarkWebSocketFlush(b *testing.B) {
	msgs := make([]eioparser.Packet, 16)
	for i := range msgs {
		msgs[i] = eioparser.Packet{Type: eioparser.PacketMessage, Data: []byte(`2["chat-message",{"room":"general","text":"hello, world"}]`)}
	}
	// sync: the benchmark owns the writer and flushes on its goroutine.
	sync := func(b *testing.B, nc net.Conn) {
		s, ws := benchSession(b, nc)
		b.ReportAllocs()
		for b.Loop() {
			s.mu.Lock()
			s.flushing = true
			s.mu.Unlock()
			if err := s.Send(msgs...); err != nil {
				b.Fatal(err)
			}
			s.flushWebSocket(ws)
		}
	}
	b.Run("discard", func(b *testing.B) { sync(b, discardConn{}) })
	b.Run("loopback", func(b *testing.B) { sync(b, loopbackConn(b)) })
	// async: the session's own flush goroutine, as in production.
	b.Run("loopback-async", func(b *testing.B) {
		s, _ := benchSession(b, loopbackConn(b))
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Send(msgs...); err != nil {
				b.Fatal(err)
			}
			for {
				s.mu.Lock()
				idle := !s.flushing && len(s.queue) == 0
				s.mu.Unlock()
				if idle {
					break
				}
				runtime.Gosched()
			}
		}
	})
}

// latencyObserver is a DeliveryObserver that keeps what it hears in an
// atomic, as a histogram's Observe does.
type latencyObserver struct{ sum atomic.Int64 }

func (o *latencyObserver) Delivered(d time.Duration) { o.sum.Add(int64(d)) }

// BenchmarkTrackedDelivery measures a message's delivery to 100 WebSocket
// sessions, each one framed and written on the benchmark's goroutine,
// with a Tracker timing it to its last write (tracked=on) and without
// (tracked=off): what tracking costs a delivery. On loopback each write is
// a system call, as in production; to a connection that discards what it
// is given (conn=discard), what is left is the CPU of the delivery itself,
// where the tracking's share shows best.
func BenchmarkTrackedDelivery(b *testing.B) {
	msg := eioparser.Packet{Type: eioparser.PacketMessage, Data: []byte(`2["chat-message",{"name":"alice","room":"general","message":"hello, world","id":12345,"time":1700000000000}]`)}
	for _, conn := range []string{"loopback", "discard"} {
		for _, tracked := range []bool{false, true} {
			b.Run("conn="+conn+"/"+map[bool]string{false: "tracked=off", true: "tracked=on"}[tracked], func(b *testing.B) {
				const n = 100
				sessions := make([]*Session, n)
				conns := make([]*wsConn, n)
				for i := range n {
					var nc net.Conn = discardConn{}
					if conn == "loopback" {
						nc = loopbackConn(b)
					}
					sessions[i], conns[i] = benchSession(b, nc)
				}
				var obs latencyObserver
				b.ReportAllocs()
				for b.Loop() {
					var t *Tracker
					if tracked {
						t = NewTracker(time.Now(), &obs)
					}
					for i, s := range sessions {
						s.mu.Lock()
						s.flushing = true
						s.mu.Unlock()
						if err := s.SendTracked(t, msg); err != nil {
							b.Fatal(err)
						}
						s.flushWebSocket(conns[i])
					}
					t.Release()
				}
				if tracked && obs.sum.Load() == 0 {
					b.Fatal("no delivery heard")
				}
			})
		}
	}
}
