package engineio

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/netpoll"
)

// WebSocket opcodes and close codes (RFC 6455).
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPong   = 0xA

	closeNormal = 1000
)

// wsConn is one accepted WebSocket connection. Reads are driven by the
// server's poller where there is one (an idle connection then holds no
// goroutine), by a goroutine otherwise. All queued frames for a session go
// out in one write call.
type wsConn struct {
	nc     net.Conn
	rc     syscall.RawConn // nil without a file descriptor or a poller
	reader frameReader
	early  []byte // bytes the client sent along with its handshake
	// draining: a close frame is queued; what the client still sends is
	// dropped. Only the reader uses it.
	draining bool

	mu  sync.Mutex
	reg *netpoll.Registration
	// rearm: the poller called onReadable before watch kept reg, so
	// that it could not ask for the next call; watch does.
	rearm     bool
	closed    bool
	frameSent bool // the close frame is written (closeAfterFrame)
	eof       bool // the client ended the stream before that
}

func (c *wsConn) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	reg := c.reg
	c.mu.Unlock()
	if reg != nil {
		reg.Remove()
	}
	_ = c.nc.Close()
}

// closeLinger bounds how long a connection whose close frame was written
// waits for the client to close its end.
const closeLinger = 2 * time.Second

// closeAfterFrame ends a connection whose close frame has just been
// written. Closing the socket at once would answer whatever the client sent
// meanwhile (a pong, a message, its own close frame) with a reset, which
// can reach the client before the close frame does, so that it sees an
// abnormal closure ("transport error") instead of a clean one. Instead the
// write side is shut (FIN), the reader reads on until the client closes its
// end, and the socket is closed then, or after closeLinger at most.
func (c *wsConn) closeAfterFrame() {
	c.mu.Lock()
	c.frameSent = true
	eof := c.eof
	c.mu.Unlock()
	if hc, ok := c.nc.(interface{ CloseWrite() error }); ok && !eof && hc.CloseWrite() == nil {
		time.AfterFunc(closeLinger, c.close)
		return
	}
	c.close()
}

// peerDone ends a draining connection whose client ended the stream: at
// once when the close frame is written, by closeAfterFrame otherwise.
func (c *wsConn) peerDone() {
	c.mu.Lock()
	c.eof = true
	sent := c.frameSent
	c.mu.Unlock()
	if sent {
		c.close()
	}
}

// writeFrames writes buf, a sequence of encoded frames, in one call when
// the socket's send buffer has room, as it mostly has; what it cannot take
// now is written with a deadline of timeout.
func (c *wsConn) writeFrames(buf []byte, timeout time.Duration) error {
	if c.rc != nil {
		n, err := netpoll.WriteNonblocking(c.rc, buf)
		switch {
		case err == nil && n == len(buf):
			return nil
		case err == nil:
			buf = buf[n:]
		case !errors.Is(err, netpoll.ErrWouldBlock):
			return err
		}
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.nc.Write(buf)
	if err == nil {
		// The deadline stays on the connection, and the raw write above
		// fails at once once it has passed: the next write, however late,
		// must not find it.
		err = c.nc.SetWriteDeadline(time.Time{})
	}
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

// maxPooledBuffer is the largest write buffer returned to the pool: a
// batch larger than that, rare, gets a buffer of its own.
const maxPooledBuffer = 32 << 10

// coalesceWaitLocked returns how long the flush must still wait for the
// session's last write to be Config.WriteCoalesce old: what is queued
// meanwhile goes out in the same write. s.mu must be held.
func (s *Session) coalesceWaitLocked() time.Duration {
	gap := s.srv.cfg.WriteCoalesce
	if gap <= 0 || s.lastWrite.IsZero() {
		return 0
	}
	return gap - time.Since(s.lastWrite)
}

// flushWebSocket writes the queue to ws until it is empty. Only one runs per
// session at a time (Session.flushing).
func (s *Session) flushWebSocket(ws *wsConn) {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || s.ws != ws || s.state == stateClosed {
			s.flushing = false
			s.mu.Unlock()
			return
		}
		if wait := s.coalesceWaitLocked(); wait > 0 {
			s.mu.Unlock()
			time.Sleep(wait)
			continue
		}
		q := s.takeQueueLocked()
		s.mu.Unlock()

		// The buffer is held only for the write: a flush waiting in
		// coalesce holds none.
		bufp := frameBuffers.Get().(*[]byte)
		buf := (*bufp)[:0]
		closing, tracked := false, false
		for _, e := range q {
			buf = appendQueued(buf, e)
			closing = closing || e.op == opClose
			tracked = tracked || e.tr != nil
		}
		err := ws.writeFrames(buf, s.srv.cfg.WriteTimeout)
		if err == nil {
			s.srv.countWritten(countMessages(q))
		}
		if cap(buf) <= maxPooledBuffer {
			*bufp = buf[:0]
			frameBuffers.Put(bufp)
		}
		now := time.Now()
		if tracked {
			at := now
			if err != nil {
				at = time.Time{} // dropped
			}
			settle(q, at)
		}

		s.mu.Lock()
		s.lastWrite = now
		s.recycleLocked(q)
		if err != nil || closing {
			s.flushing = false
		}
		s.mu.Unlock()
		if err != nil {
			s.logger().Debug("websocket write failed", logKeyError, err)
			s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
			ws.close()
			return
		}
		if closing {
			s.finishAfterCloseFrame(ws)
			return
		}
	}
}

// closeWebSocket closes the session, open on ws, with a close frame of
// code: the flush goroutine writes what is queued, then the frame, then
// half-closes ws (closeAfterFrame). It returns whether a close frame is
// queued for ws: this one, or the one queued when the server closed the
// session itself (Close), which stands. It returns false when the session
// is over or no longer on ws: ws is then the caller's to close.
func (s *Session) closeWebSocket(ws *wsConn, reason eioparser.CloseReason, code uint16) bool {
	s.mu.Lock()
	if s.ws != ws || s.state != stateOpen {
		// Closing on ws: its close frame is queued (closeWith, endUpgrade)
		// and not yet written, or the state would be closed.
		closing := s.ws == ws && s.state == stateClosing
		s.mu.Unlock()
		return closing
	}
	s.closeReason = reason
	s.closedLocked(reason)
	if s.timer != nil {
		s.timer.Stop()
	}
	s.state = stateClosing
	s.enqueueLocked(queued{op: opClose, pkt: eioparser.Packet{Data: closePayload(code)}})
	s.mu.Unlock()
	s.srv.remove(s)
	s.notifyClose(reason)
	return true
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
	if s.state == stateOpen {
		s.srv.cfg.Observer.SessionUpgraded()
	}
	s.transport = transportWebSocket
	s.ws = ws
	s.uncountPollingLocked()
	if s.state == stateClosing {
		// Closed with a flush during the upgrade: the client polls no
		// more, so the queue and its close packet go over the WebSocket,
		// then a close frame, after which the flush finishes the session.
		s.enqueueLocked(queued{op: opClose, pkt: eioparser.Packet{Data: closePayload(closeNormal)}})
		return true
	}
	s.kickLocked()
	s.wakePollLocked()
	return true
}
