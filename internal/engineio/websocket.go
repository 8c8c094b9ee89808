package engineio

import (
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket opcodes and close codes (RFC 6455).
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPong   = 0xA

	closeNormal = 1000
)

// wsConn is one accepted WebSocket connection. gorilla/websocket does the
// handshake and reads frames; writes bypass it, so that all frames queued
// for a session go out in one write call.
type wsConn struct {
	conn      *websocket.Conn
	nc        net.Conn
	closeOnce sync.Once
}

func (c *wsConn) close() {
	c.closeOnce.Do(func() { _ = c.nc.Close() })
}

// writeFrames writes buf, a sequence of encoded frames, in one call.
func (c *wsConn) writeFrames(buf []byte, timeout time.Duration) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.nc.Write(buf)
	return err
}

// appendFrame appends one unmasked, final server frame. A non-zero prefix
// byte is sent before data, inside the same frame.
func appendFrame(dst []byte, op byte, prefix byte, data []byte) []byte {
	n := len(data)
	if prefix != 0 {
		n++
	}
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if prefix != 0 {
		dst = append(dst, prefix)
	}
	return append(dst, data...)
}

// appendQueued appends the WebSocket frame for one queue entry.
func appendQueued(dst []byte, e queued) []byte {
	switch {
	case e.op != 0:
		return appendFrame(dst, e.op, 0, e.pkt.Data)
	case e.pkt.Binary:
		return appendFrame(dst, opBinary, 0, e.pkt.Data)
	default:
		return appendFrame(dst, opText, byte(e.pkt.Type), e.pkt.Data)
	}
}

func closePayload(code uint16) []byte {
	return binary.BigEndian.AppendUint16(nil, code)
}

// frameBuffers holds write buffers shared by all sessions: an idle session
// holds none.
var frameBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledBuffer is the largest write buffer returned to the pool.
const maxPooledBuffer = 256 << 10

// flushWebSocket writes the queue to ws until it is empty. Only one runs per
// session at a time (Session.flushing).
func (s *Session) flushWebSocket(ws *wsConn) {
	bufp := frameBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bufp) <= maxPooledBuffer {
			*bufp = (*bufp)[:0]
			frameBuffers.Put(bufp)
		}
	}()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || s.ws != ws || s.state == stateClosed {
			s.flushing = false
			s.mu.Unlock()
			return
		}
		q := s.takeQueueLocked()
		s.mu.Unlock()

		buf := (*bufp)[:0]
		closing := false
		for _, e := range q {
			buf = appendQueued(buf, e)
			closing = closing || e.op == opClose
		}
		*bufp = buf
		err := ws.writeFrames(buf, s.srv.cfg.WriteTimeout)

		s.mu.Lock()
		s.recycleLocked(q)
		if err != nil || closing {
			s.flushing = false
		}
		s.mu.Unlock()
		if err != nil {
			s.logger().Debug("websocket write failed", logKeyError, err)
			s.closeWith(ReasonTransportError, PacketClose, false)
			ws.close()
			return
		}
		if closing {
			s.finish()
			return
		}
	}
}

// accept upgrades r to a WebSocket connection.
func (srv *Server) accept(w http.ResponseWriter, r *http.Request) (*wsConn, error) {
	conn, err := srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(int64(srv.cfg.MaxPayload))
	return &wsConn{conn: conn, nc: conn.NetConn()}, nil
}

// serveWebSocket opens a session directly over WebSocket.
func (srv *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := srv.accept(w, r)
	if err != nil {
		return // the upgrader has answered
	}
	s, err := srv.open(r, transportWebSocket, ws)
	if err != nil {
		ws.close()
		return
	}
	// Read on a fresh goroutine and let this one, whose stack grew while
	// serving the HTTP request, end: an idle connection then holds only a
	// small stack.
	go srv.readWebSocket(s, ws)
}

// readWebSocket reads frames until the connection or the session ends.
func (srv *Server) readWebSocket(s *Session, ws *wsConn) {
	srv.installControlHandlers(s, ws)
	for {
		mt, data, err := ws.conn.ReadMessage()
		if err != nil {
			// A client that says goodbye with a close frame closed the
			// transport; one that vanished (reset, EOF without a close
			// frame, oversized message) is a transport error.
			// (gorilla reports the lack of a close frame as code 1006.)
			reason := ReasonTransportClose
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure ||
				!errors.As(err, &ce) && !errors.Is(err, net.ErrClosed) {
				s.logger().Debug("websocket read failed", logKeyError, err)
				reason = ReasonTransportError
			}
			s.closeWith(reason, PacketClose, false)
			ws.close()
			return
		}
		if mt == websocket.BinaryMessage {
			s.dispatch(Packet{Type: PacketMessage, Data: data, Binary: true})
			continue
		}
		p, err := DecodeText(data)
		if err != nil {
			s.logger().Debug("invalid packet", logKeyError, err)
			s.closeWith(ReasonParseError, PacketClose, false)
			ws.close()
			return
		}
		s.dispatch(p)
	}
}

// installControlHandlers routes replies to WebSocket pings and closes through
// the session queue, so that only the flush goroutine writes.
func (srv *Server) installControlHandlers(s *Session, ws *wsConn) {
	ws.conn.SetPingHandler(func(data string) error {
		s.mu.Lock()
		if s.state == stateOpen && s.ws == ws {
			s.enqueueLocked(queued{op: opPong, pkt: Packet{Data: []byte(data)}})
		}
		s.mu.Unlock()
		return nil
	})
	ws.conn.SetCloseHandler(func(int, string) error {
		// Answer the close handshake directly: a lone close frame cannot
		// interleave with the flush goroutine's writes, each being one call.
		_ = ws.writeFrames(appendFrame(nil, opClose, 0, closePayload(closeNormal)), srv.cfg.WriteTimeout)
		return nil
	})
}

// serveUpgrade upgrades a polling session to WebSocket: it answers the
// client's "2probe" with "3probe", ends pending polls with noop, and switches
// the session over on "5".
func (srv *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	if s.state != stateOpen || s.transport != transportPolling || s.upgrading {
		s.mu.Unlock()
		// Like the reference server: accept, then close at once.
		if ws, err := srv.accept(w, r); err == nil {
			ws.close()
		}
		return
	}
	s.upgrading = true
	s.mu.Unlock()

	ws, err := srv.accept(w, r)
	if err != nil {
		s.endUpgrade(nil)
		return
	}
	if !srv.probe(s, ws) {
		s.endUpgrade(nil)
		ws.close()
		return
	}
	if !s.endUpgrade(ws) {
		ws.close()
		return
	}
	s.logger().Debug("upgraded to websocket")
	go srv.readWebSocket(s, ws)
}

// probe runs the upgrade's probe exchange on ws, within UpgradeTimeout.
func (srv *Server) probe(s *Session, ws *wsConn) bool {
	deadline := time.Now().Add(srv.cfg.UpgradeTimeout)
	if ws.nc.SetReadDeadline(deadline) != nil {
		return false
	}
	mt, data, err := ws.conn.ReadMessage()
	if err != nil || mt != websocket.TextMessage || string(data) != "2probe" {
		return false
	}
	if ws.writeFrames(appendFrame(nil, opText, byte(PacketPong), []byte("probe")), srv.cfg.WriteTimeout) != nil {
		return false
	}
	s.mu.Lock()
	s.pollNoop = true
	s.mu.Unlock()
	s.wakePoll()
	mt, data, err = ws.conn.ReadMessage()
	if err != nil || mt != websocket.TextMessage || string(data) != string(PacketUpgrade) {
		return false
	}
	return ws.nc.SetReadDeadline(time.Time{}) == nil
}

// endUpgrade ends the upgrade: with ws, the session moves to it; with nil,
// it stays on polling. It returns false when the session closed meanwhile.
func (s *Session) endUpgrade(ws *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upgrading = false
	s.pollNoop = false
	if ws == nil || s.state == stateClosed {
		return false
	}
	s.transport = transportWebSocket
	s.ws = ws
	if s.state == stateClosing {
		// Closed with a flush during the upgrade: the client polls no
		// more, so the queue and its close packet go over the WebSocket,
		// then a close frame, after which the flush finishes the session.
		s.enqueueLocked(queued{op: opClose, pkt: Packet{Data: closePayload(closeNormal)}})
		return true
	}
	s.kickLocked()
	s.wakePoll()
	return true
}
