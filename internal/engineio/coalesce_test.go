package engineio

import (
	"fmt"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/test/wait"
)

// countingConn is a net.Conn that counts its writes.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
	bytes  int
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	c.bytes += len(b)
	return len(b), nil
}

func (c *countingConn) counts() (writes, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.bytes
}

func (*countingConn) SetWriteDeadline(time.Time) error { return nil }
func (*countingConn) Close() error                     { return nil }

func TestWriteCoalesce(t *testing.T) {
	tests := []struct {
		name       string
		coalesce   time.Duration
		wantWrites func(int) bool
	}{
		// One write for the first message, one for the nine sent
		// during the coalescing time after it.
		{"on", time.Second, func(n int) bool { return n == 2 }},
		// Each message is written at once (the flush may catch two
		// together now and then).
		{"off", -1, func(n int) bool { return n > 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewServer(Config{PingInterval: time.Hour, WriteCoalesce: tt.coalesce})
			s := newSession(srv, "c", httptest.NewRequest("GET", "/", nil), transportWebSocket)
			conn := &countingConn{}
			s.ws = &wsConn{nc: conn}
			s.state = stateOpen
			msg := eioparser.Packet{Type: eioparser.PacketMessage, Data: []byte("hello")}
			for i := range 10 {
				if err := s.Send(msg); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					waitWrites(t, conn, 1)
				}
				time.Sleep(2 * time.Millisecond)
			}
			wait.For(t, "all 10 frames written", 3*time.Second, func() error {
				if _, n := conn.counts(); n != 10*len(appendQueued(nil, queued{pkt: msg})) {
					return fmt.Errorf("%d bytes written", n)
				}
				return nil
			})
			if w, _ := conn.counts(); !tt.wantWrites(w) {
				t.Errorf("%d writes", w)
			}
		})
	}
}

func waitWrites(t *testing.T, c *countingConn, n int) {
	t.Helper()
	wait.For(t, fmt.Sprintf("%d writes", n), 3*time.Second, func() bool {
		w, _ := c.counts()
		return w >= n
	})
}
