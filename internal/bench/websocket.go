package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Buffer sizes of a WebSocket connection. Frames of the chat are small; a
// larger one grows the connection's own read buffer.
const (
	wsReadBufferSize  = 4096
	wsWriteBufferSize = 512
	readBufferSize    = 1024
	// maxFrame bounds a frame, or a polling payload, the client accepts.
	maxFrame = 4 << 20
)

// wsLink is a client's WebSocket connection. One goroutine reads; writes
// are serialised by mu.
type wsLink struct {
	ws           *websocket.Conn
	writeTimeout time.Duration
	buf          []byte // the last frame read; the reader's

	mu sync.Mutex
}

var _ link = (*wsLink)(nil)

// newDialer returns the WebSocket dialer of a run: its write buffers come
// from a pool shared by all connections, since most write only a pong now
// and then.
func newDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *websocket.Dialer {
	return &websocket.Dialer{
		NetDialContext:  dial,
		ReadBufferSize:  wsReadBufferSize,
		WriteBufferSize: wsWriteBufferSize,
		WriteBufferPool: &sync.Pool{},
	}
}

// dialWebSocket opens client c's WebSocket connection and reads the
// Engine.IO open packet, within ctx.
func dialWebSocket(ctx context.Context, c *client) (link, []byte, error) {
	r := c.r
	d := r.dialer
	if c.slow {
		d = r.slowDialer
	}
	ws, resp, err := d.DialContext(ctx, r.nodes.nodes[c.node].wsURL, nil)
	if err != nil {
		if resp != nil {
			return nil, nil, fmt.Errorf("websocket dial: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, nil, fmt.Errorf("websocket dial: %w", err)
	}
	l := &wsLink{ws: ws, writeTimeout: r.cfg.WriteTimeout, buf: make([]byte, readBufferSize)}
	if d, ok := ctx.Deadline(); ok {
		_ = ws.SetReadDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = ws.SetReadDeadline(time.Now()) })
	open, err := l.readFrame()
	stop()
	if err != nil {
		_ = ws.Close()
		return nil, nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return l, open, nil
}

// readFrame returns the next text frame, in a buffer the next call reuses.
// Binary frames are skipped.
func (l *wsLink) readFrame() ([]byte, error) {
	for {
		mt, r, err := l.ws.NextReader()
		if err != nil {
			return nil, err
		}
		n := 0
		for {
			if n == len(l.buf) {
				if n >= maxFrame {
					return nil, ErrFrameTooLarge
				}
				l.buf = append(l.buf, make([]byte, n)...)
			}
			m, err := r.Read(l.buf[n:])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		if mt == websocket.TextMessage {
			return l.buf[:n], nil
		}
	}
}

func (l *wsLink) readLoop(handle func(pkt []byte) bool) error {
	for {
		p, err := l.readFrame()
		if err != nil {
			return err
		}
		if !handle(p) {
			return nil
		}
	}
}

func (l *wsLink) write(pkt []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.ws.SetWriteDeadline(time.Now().Add(l.writeTimeout)); err != nil {
		return err
	}
	return l.ws.WriteMessage(websocket.TextMessage, pkt)
}

func (l *wsLink) extend(d time.Duration) { _ = l.ws.SetReadDeadline(time.Now().Add(d)) }

func (l *wsLink) close(goodbye bool, timeout time.Duration) {
	if goodbye {
		l.mu.Lock()
		if l.ws.SetWriteDeadline(time.Now().Add(timeout)) == nil {
			_ = l.ws.WriteMessage(websocket.TextMessage, disconnectFrame)
		}
		l.mu.Unlock()
	}
	_ = l.ws.Close()
}

func (l *wsLink) probe(quiet, limit time.Duration) error {
	// A ping makes the server's kernel answer with a reset if the server
	// has closed the connection. If not, it carries our receive window,
	// which the server may not have heard open: it then sends the rest.
	if err := l.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(quiet)); err != nil {
		return err
	}
	end := time.Now().Add(limit)
	for {
		d := time.Now().Add(quiet)
		if d.After(end) {
			d = end
		}
		if err := l.ws.SetReadDeadline(d); err != nil {
			return err
		}
		p, err := l.readFrame()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return nil // still open: nothing more to read
		case err != nil:
			return err
		case len(p) > 0 && p[0] == eioClose:
			return ErrServerClose
		}
	}
}
