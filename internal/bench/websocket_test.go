package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// streamConn is a net.Conn whose server answers the WebSocket handshake,
// sends the Engine.IO open packet, then repeats the same frames forever.
type streamConn struct {
	req    bytes.Buffer // what the client wrote, until the handshake
	head   []byte       // the handshake's answer and the open packet
	frames []byte
	off    int
}

func (c *streamConn) Write(p []byte) (int, error) {
	if c.head == nil {
		c.req.Write(p)
		if bytes.Contains(c.req.Bytes(), []byte("\r\n\r\n")) {
			req, err := http.ReadRequest(bufio.NewReader(&c.req))
			if err != nil {
				return 0, err
			}
			h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
			c.head = append([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
				base64.StdEncoding.EncodeToString(h[:])+"\r\n\r\n"), serverFrame(openPacket)...)
		}
	}
	return len(p), nil
}

func (c *streamConn) Read(p []byte) (int, error) {
	if c.head == nil {
		return 0, errors.New("read before the handshake")
	}
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	n := copy(p, c.frames[c.off:])
	c.off = (c.off + n) % len(c.frames)
	return n, nil
}

func (c *streamConn) Close() error                     { return nil }
func (c *streamConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

// serverFrame is a text frame as a server sends it: unmasked.
func serverFrame(payload string) []byte {
	b := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		panic("frame too large")
	}
	return append(b, payload...)
}

// BenchmarkWebSocketReceive is a client's whole receive path for a
// chat-message: gorilla/websocket's framing from a buffered connection,
// then handle. It leaves out the system calls.
func BenchmarkWebSocketReceive(b *testing.B) {
	c := testClient(b)
	frame := serverFrame(strings.ReplaceAll(strings.Replace(parleyFrame, "|2|41|", "|0|41|", 1), "abc123", c.r.runID))
	conn := &streamConn{frames: bytes.Repeat(frame, 64)}
	c.r.dialer = newDialer(func(context.Context, string, string) (net.Conn, error) { return conn, nil })
	l, open, err := dialWebSocket(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	if string(open) != openPacket {
		b.Fatalf("open packet %q", open)
	}
	c.link = l
	n := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	err = l.readLoop(func(p []byte) bool {
		c.tracks[0] = window{} // so that each delivery counts
		c.handle(p)
		n++
		return n < b.N
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if got := c.r.totals().received; got != uint64(b.N) {
		b.Fatalf("received %d of %d", got, b.N)
	}
}

// TestFrameSizes reads frames larger than the initial buffer.
func TestFrameSizes(t *testing.T) {
	c := testClient(t)
	var frames []byte
	var want []string
	for _, n := range []int{1, 125, 126, readBufferSize - 1, readBufferSize, readBufferSize + 1, 5 * readBufferSize, 60000} {
		p := "4" + strings.Repeat("x", n-1)
		want = append(want, p)
		frames = append(frames, serverFrame(p)...)
	}
	conn := &streamConn{frames: frames}
	c.r.dialer = newDialer(func(context.Context, string, string) (net.Conn, error) { return conn, nil })
	l, _, err := dialWebSocket(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	err = l.readLoop(func(p []byte) bool {
		if string(p) != want[i] {
			t.Errorf("frame %d: %d bytes, want %d", i, len(p), len(want[i]))
		}
		i++
		return i < len(want)
	})
	if err != nil {
		t.Fatal(err)
	}
}
