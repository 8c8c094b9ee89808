package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/netpoll"
)

// readBuffers are shared by all connections: a connection holds one only
// for a read and the parsing of what it read, never while what it read is
// handled. A handler may wait (for a lock, the store, a slow client): were
// the buffer held meanwhile, a burst of connections whose handlers wait
// together, each new client's CONNECT waiting for its history, say, would
// hold a buffer each, and the pool would keep them all once they were
// back.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}

// readBufferSize is the size of one read from a WebSocket connection.
const readBufferSize = 16 << 10

// maxReadsPerEvent bounds the reads for one readiness event, so that a
// client sending without pause cannot keep its goroutine forever.
const maxReadsPerEvent = 8

// errPeerClosed ends reading when the client sent a close frame.
var errPeerClosed = errors.New("websocket: close frame received")

// serveWebSocket opens a session directly over WebSocket.
func (srv *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := srv.accept(w, r)
	if err != nil {
		srv.log.Debug("websocket handshake failed", logKeyError, err)
		return
	}
	s, err := srv.open(r, transportWebSocket, ws)
	if err != nil {
		ws.close()
		return
	}
	if early := ws.early; early != nil {
		ws.early = nil
		if !srv.consume(s, ws, early) {
			return
		}
	}
	srv.watch(s, ws)
}

// watch reads ws from now on: on the poller's events, or on a goroutine of
// its own where there is no poller. Either way this goroutine, whose stack
// grew while serving the HTTP request, ends: an idle connection then holds
// no goroutine, or only a small one.
func (srv *Server) watch(s *Session, ws *wsConn) {
	if srv.poller != nil && ws.rc != nil {
		reg, err := srv.poller.Add(ws.rc, func() { srv.onReadable(s, ws) })
		if err == nil {
			if srv.cfg.afterRegister != nil {
				srv.cfg.afterRegister(s)
			}
			ws.mu.Lock()
			closed, rearm := ws.closed, ws.rearm
			ws.reg, ws.rearm = reg, false
			ws.mu.Unlock()
			switch {
			case closed:
				reg.Remove()
			case rearm:
				// The first data came, and was read, before reg was kept:
				// ask for what follows.
				if err := reg.Rearm(); err != nil {
					srv.endRead(s, ws, net.ErrClosed)
				}
			}
			return
		}
		s.logger().Warn("reading without the poller", logKeyError, err)
	}
	go srv.readLoop(s, ws)
}

// onReadable reads what the poller said had arrived on ws.
func (srv *Server) onReadable(s *Session, ws *wsConn) {
	var (
		batch [framesPerRead]frameCopy
		bufp  *[]byte // held over reads that complete nothing, such as a large message's
	)
	for range maxReadsPerEvent {
		if bufp == nil {
			bufp = readBuffers.Get().(*[]byte)
		}
		n, err := netpoll.ReadNonblocking(ws.rc, *bufp)
		var (
			frames   []frameCopy
			parseErr error
		)
		if n > 0 && !ws.draining {
			frames, parseErr = ws.reader.collect((*bufp)[:n], batch[:0])
		}
		if len(frames) > 0 || parseErr != nil || err != nil {
			// The buffer goes back to the pool before what was read is
			// handled: the frame reader copies what it hands out.
			readBuffers.Put(bufp)
			bufp = nil
		}
		if errors.Is(err, netpoll.ErrWouldBlock) {
			break
		}
		if err != nil {
			srv.endRead(s, ws, err)
			return
		}
		if !srv.handleFrames(s, ws, frames, parseErr) {
			return
		}
		if n < readBufferSize {
			break // drained, most likely; the poller tells if not
		}
	}
	if bufp != nil {
		readBuffers.Put(bufp)
	}
	ws.mu.Lock()
	reg := ws.reg
	if reg == nil && !ws.closed {
		// Called before watch kept the registration, which Add returned
		// only after it could fire: watch rearms it. (Returning without
		// either left the connection unread for good: its client's next
		// message and pongs sat in the kernel until the ping timeout, as
		// for some of 5,000 clients reconnecting at once.)
		ws.rearm = true
	}
	ws.mu.Unlock()
	if reg == nil {
		return // closed meanwhile, or watch rearms
	}
	if err := reg.Rearm(); err != nil {
		srv.endRead(s, ws, net.ErrClosed)
	}
}

// readLoop reads ws until the connection or the session ends.
func (srv *Server) readLoop(s *Session, ws *wsConn) {
	buf := make([]byte, 4096)
	for {
		n, err := ws.nc.Read(buf)
		if n > 0 && !srv.consume(s, ws, buf[:n]) {
			return
		}
		if err != nil {
			srv.endRead(s, ws, err)
			return
		}
	}
}

// endRead closes the session when reading ws failed. A client that said
// goodbye with a close frame ended reading in consume; one that vanished
// (reset, or end of stream without a close frame) is a transport error.
// After a close frame was queued, the end of the stream is the client's
// answer to it, or its end: the flush goroutine closes ws once it has
// written the frame.
func (srv *Server) endRead(s *Session, ws *wsConn, err error) {
	reason := eioparser.ReasonTransportClose
	if !errors.Is(err, net.ErrClosed) {
		if !errors.Is(err, io.EOF) {
			s.logger().Debug("websocket read failed", logKeyError, err)
		}
		reason = eioparser.ReasonTransportError
	}
	s.closeWith(reason, eioparser.PacketClose, false)
	if ws.draining {
		ws.peerDone()
		return
	}
	ws.close()
}

// consume parses data, received on ws, and hands what it holds to s. It
// returns false when reading must stop: the session or the connection is
// over. Once the session is closing with a close frame of its own, what
// the client still sends is read and dropped (ws.draining), so that the
// connection is not reset under the close frame.
func (srv *Server) consume(s *Session, ws *wsConn, data []byte) bool {
	if ws.draining {
		return true
	}
	var batch [framesPerRead]frameCopy
	frames, err := ws.reader.collect(data, batch[:0])
	return srv.handleFrames(s, ws, frames, err)
}

// framesPerRead is how many frames of one read are kept without an
// allocation: a client mostly sends one or two at a time.
const framesPerRead = 8

// handleFrames hands s the frames parsed from one read of ws, in order,
// then deals with parseErr, what the reader found wrong after them. It
// returns false when reading must stop, as consume does.
func (srv *Server) handleFrames(s *Session, ws *wsConn, frames []frameCopy, parseErr error) bool {
	for _, f := range frames {
		if err := srv.handleFrame(s, ws, f.op, f.payload); err != nil {
			ws.reader.reset()
			ws.draining = srv.readFailed(s, ws, err)
			return ws.draining
		}
	}
	if parseErr != nil {
		ws.draining = srv.readFailed(s, ws, parseErr)
		return ws.draining
	}
	return true
}

// readFailed ends the session and ws after what the client sent ended
// reading: a close frame (answered with one), a breach of RFC 6455
// (answered with its close code), an invalid Engine.IO packet, or one that
// closed the session. A close frame goes after what is queued, from the
// flush goroutine, the only one to write to ws; readFailed returns true
// when one is queued (its own, or the server's when the session was
// closing already): reading goes on until the client closes its end, and
// the flush goroutine closes ws. Otherwise ws is closed.
func (srv *Server) readFailed(s *Session, ws *wsConn, err error) bool {
	var pe *wsProtocolError
	switch {
	case errors.Is(err, errPeerClosed):
		if s.closeWebSocket(ws, eioparser.ReasonTransportClose, closeNormal) {
			return true
		}
	case errors.As(err, &pe):
		s.logger().Debug("websocket protocol error", logKeyError, err)
		if s.closeWebSocket(ws, eioparser.ReasonTransportError, pe.code) {
			return true
		}
	case errors.Is(err, ErrClosed), errors.Is(err, ErrSlowConsumer):
		// The session is closed already.
	default:
		s.logger().Debug("invalid packet", logKeyError, err)
		s.closeWith(eioparser.ReasonParseError, eioparser.PacketClose, false)
	}
	ws.close()
	return false
}

// handleFrame hands one message or control frame from ws to s.
func (srv *Server) handleFrame(s *Session, ws *wsConn, op byte, payload []byte) error {
	switch op {
	case opBinary:
		return s.dispatch(eioparser.Packet{Type: eioparser.PacketMessage, Data: payload, Binary: true})
	case opText:
		p, err := eioparser.DecodeText(payload)
		if err != nil {
			return err
		}
		return s.dispatch(p)
	case opPing:
		// Replies go through the queue, so that only the flush
		// goroutine writes, and count against its bound: a client that
		// pings and never reads is a slow consumer.
		pong := queued{op: opPong, pkt: eioparser.Packet{Data: payload}}
		s.mu.Lock()
		if s.state != stateOpen || s.ws != ws {
			s.mu.Unlock()
			return nil
		}
		ok := s.queueLocked(pong)
		s.mu.Unlock()
		if !ok {
			s.closeSlowConsumer(queueCost(pong.pkt))
			return ErrSlowConsumer
		}
	case opClose:
		// The reader has checked the payload.
		return errPeerClosed
	}
	return nil
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
	after, ok := srv.probe(s, ws)
	if !ok {
		s.endUpgrade(nil)
		ws.close()
		return
	}
	if !s.endUpgrade(ws) {
		ws.close()
		return
	}
	s.logger().Debug("upgraded to websocket")
	if h, ok := s.handler.(UpgradeHandler); ok {
		h.HandleUpgrade()
	}
	for _, f := range after {
		if err := srv.handleFrame(s, ws, f.op, f.payload); err != nil {
			if ws.draining = srv.readFailed(s, ws, err); !ws.draining {
				return
			}
			break
		}
	}
	srv.watch(s, ws)
}

// frameCopy is a message or control frame kept for later.
type frameCopy struct {
	op      byte
	payload []byte
}

// errProbe ends an upgrade whose probe exchange went wrong.
var errProbe = errors.New("websocket upgrade: unexpected probe message")

// probe runs the upgrade's probe exchange on ws, within UpgradeTimeout,
// reading on this goroutine. It returns what the client sent after "5", in
// the same reads, to be handled once the session has moved to ws.
func (srv *Server) probe(s *Session, ws *wsConn) (after []frameCopy, ok bool) {
	if ws.nc.SetReadDeadline(time.Now().Add(srv.cfg.UpgradeTimeout)) != nil {
		return nil, false
	}
	stage := 0 // 0: waiting for "2probe", 1: for "5", 2: done
	step := func(op byte, payload []byte) error {
		switch {
		case stage == 2:
			after = append(after, frameCopy{op, payload})
			return nil
		case op == opPing || op == opPong:
			return nil
		case op != opText:
			return errProbe
		case stage == 0 && string(payload) == "2probe":
			if err := ws.writeFrames(appendFrame(nil, opText, byte(eioparser.PacketPong), []byte("probe")), srv.cfg.WriteTimeout); err != nil {
				return err
			}
			s.mu.Lock()
			s.pollNoop = true
			s.mu.Unlock()
			s.wakePoll()
			stage = 1
			return nil
		case stage == 1 && string(payload) == string(eioparser.PacketUpgrade):
			stage = 2
			return nil
		}
		return errProbe
	}
	if early := ws.early; early != nil {
		ws.early = nil
		if ws.reader.feed(early, step) != nil {
			return nil, false
		}
	}
	buf := make([]byte, 512)
	for stage < 2 {
		n, err := ws.nc.Read(buf)
		if n > 0 && ws.reader.feed(buf[:n], step) != nil {
			return nil, false
		}
		if err != nil {
			return nil, false
		}
	}
	return after, ws.nc.SetReadDeadline(time.Time{}) == nil
}
