package engineio

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/parley-chat/parley/internal/eioparser"
)

// transportKind is the transport a session currently uses. Its String
// method returns the transport's name on the wire.
type transportKind uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=transportKind -linecomment

const (
	transportPolling   transportKind = iota // polling
	transportWebSocket                      // websocket
)

// sessionState is the life cycle of a session.
type sessionState uint8

const (
	stateOpen sessionState = iota
	// stateClosing: closed for the handler, flushing what is queued.
	stateClosing
	stateClosed
)

// queued is one entry of a send queue: an Engine.IO packet, or, when op is
// non-zero, a WebSocket control frame with opcode op. tr, when set, is the
// Tracker of the message whose last packet this is (SendTracked).
type queued struct {
	pkt eioparser.Packet
	op  byte
	tr  *Tracker
}

// Session is one Engine.IO connection. Its methods are safe for concurrent
// use.
type Session struct {
	id      string
	srv     *Server
	req     handshake
	handler Handler

	// dispatchMu serialises calls into handler; taken before mu.
	dispatchMu sync.Mutex

	mu        sync.Mutex
	state     sessionState
	transport transportKind
	upgrading bool // a WebSocket probe is under way
	pollNoop  bool // the probe succeeded: polls are answered with noop
	queue     []queued
	spare     []queued // reused backing array for queue
	queued    int      // bytes in queue
	// flow control: closed when the queue is taken or the session closes
	drained chan struct{}
	// polling
	polling    bool                 // a GET is pending
	posting    bool                 // a POST is being read
	pollNotify chan struct{}        // wakes the pending GET; capacity 1; nil for a session opened over WebSocket
	pollFinal  eioparser.PacketType // what a pending GET answers once closed
	// pollWaiter is the connection, taken over from net/http, on which
	// the pending GET waits; wakePollLocked has it answered.
	pollWaiter *pollConn
	// websocket
	ws        *wsConn
	flushing  bool      // a flush goroutine owns ws writes
	lastWrite time.Time // when the flush goroutine last wrote
	// heartbeat
	timer        *time.Timer
	timerAt      time.Time
	awaitingPong bool
	closeReason  eioparser.CloseReason
	closeOnce    sync.Once
	// countedPolling is set while the server counts s among its polling
	// sessions (see PollingCount).
	countedPolling bool
}

func newSession(srv *Server, id string, r *http.Request, kind transportKind) *Session {
	s := &Session{
		id:        id,
		srv:       srv,
		req:       trimRequest(r),
		transport: kind,
	}
	if kind == transportPolling {
		// Only a session opened by polling is polled: one opened over
		// WebSocket never is, and holds no channel for it.
		s.pollNotify = make(chan struct{}, 1)
	}
	return s
}

// handshake is what a session keeps of its handshake request: what
// handlers may need of it (Session.Request), without the body and with
// only the headers of sessionHeaders.
type handshake struct {
	method, proto, host, remoteAddr, requestURI string
	url                                         *url.URL
	header                                      http.Header
	tls                                         *tls.ConnectionState
}

// trimRequest keeps what handlers may need of the handshake request.
func trimRequest(r *http.Request) handshake {
	return handshake{
		method:     r.Method,
		proto:      r.Proto,
		host:       r.Host,
		remoteAddr: r.RemoteAddr,
		requestURI: r.RequestURI,
		url:        r.URL,
		header:     sessionHeader(r.Header),
		tls:        r.TLS,
	}
}

// logger returns a logger for this session. It is made on demand, as logs
// are rare: an idle session holds none.
func (s *Session) logger() *slog.Logger { return s.srv.log.With(logKeySID, s.id) }

// ID returns the session id (the "sid" of the handshake).
func (s *Session) ID() string { return s.id }

// Request returns the handshake request, without its body and with only
// these headers: Accept-Language, Authorization, Cookie, Forwarded, Origin,
// User-Agent, X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto and
// X-Real-Ip. Each call returns a request of its own (the session keeps only
// what it is made of), which shares its URL, headers and TLS state with the
// others: they must not be modified.
func (s *Session) Request() *http.Request {
	h := &s.req
	return &http.Request{
		Method:     h.method,
		URL:        h.url,
		Proto:      h.proto,
		Header:     h.header,
		Host:       h.host,
		RemoteAddr: h.remoteAddr,
		RequestURI: h.requestURI,
		TLS:        h.tls,
	}
}

// Transport returns the name of the current transport: "polling" or
// "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport.String()
}

// Send queues messages to be sent in order, with no other message between
// them. It never blocks. It returns ErrClosed once the session is closed,
// and ErrSlowConsumer, closing the session, when the queue would exceed its
// bound. The session keeps references to the data until it is written: the
// caller must not modify it.
func (s *Session) Send(msgs ...eioparser.Packet) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	n := 0
	for _, m := range msgs {
		n += queueCost(m)
	}
	if s.queued+n > s.srv.cfg.MaxQueueBytes {
		s.mu.Unlock()
		s.closeSlowConsumer(n)
		return ErrSlowConsumer
	}
	s.appendLocked(msgs, n)
	s.mu.Unlock()
	return nil
}

// appendLocked queues msgs, which cost n, and wakes the writer. s.mu must
// be held, and the bound checked.
func (s *Session) appendLocked(msgs []eioparser.Packet, n int) {
	s.queue = slices.Grow(s.queue, len(msgs)) // at once: a burst is one array
	for _, m := range msgs {
		if m.Type == 0 {
			m.Type = eioparser.PacketMessage
		}
		s.queue = append(s.queue, queued{pkt: m})
	}
	s.queued += n
	s.kickLocked()
}

// entryOverhead is what a queue entry costs beyond its packet's bytes: the
// entry itself. It counts against MaxQueueBytes, so that the bound holds
// for the memory a queue takes, also when it is full of small packets.
const entryOverhead = int(unsafe.Sizeof(queued{}))

// queueCost is what packet p counts against MaxQueueBytes.
func queueCost(p eioparser.Packet) int { return entryOverhead + eioparser.PayloadSize(p) }

// queueLocked queues a packet of the server's own, such as a ping or a
// pong, within the queue's bound. When it does not fit, it returns false:
// the caller, once it has released s.mu, closes the session with
// closeSlowConsumer. s.mu must be held.
func (s *Session) queueLocked(q queued) bool {
	if s.queued+queueCost(q.pkt) > s.srv.cfg.MaxQueueBytes {
		return false
	}
	s.enqueueLocked(q)
	return true
}

// closeSlowConsumer closes a session whose queue cannot take n more
// bytes.
func (s *Session) closeSlowConsumer(n int) {
	s.mu.Lock()
	queued := s.queued
	s.mu.Unlock()
	s.logger().Warn("closing slow consumer", logKeyQueued, queued, logKeyBytes, n)
	s.closeWith(eioparser.ReasonSlowConsumer, eioparser.PacketClose, false)
}

// enqueueLocked queues a packet without checking the bound: for the open
// packet and the close packet or frame, one each per session, which must
// not be refused. s.mu must be held.
func (s *Session) enqueueLocked(q queued) {
	s.queue = append(s.queue, q)
	s.queued += queueCost(q.pkt)
	s.kickLocked()
}

// kickLocked starts the writer for the current transport. s.mu must be held.
func (s *Session) kickLocked() {
	if len(s.queue) == 0 {
		return
	}
	if s.transport == transportWebSocket && s.ws != nil {
		if !s.flushing {
			s.flushing = true
			go s.flushWebSocket(s.ws)
		}
		return
	}
	s.wakePollLocked()
}

// takeQueueLocked returns the queued entries and empties the queue.
// s.mu must be held.
func (s *Session) takeQueueLocked() []queued {
	q := s.queue
	s.queue = s.spare[:0]
	s.spare = nil
	s.queued = 0
	s.wakeQueueWaitersLocked()
	return q
}

// maxSpareQueue is the largest queue backing array a session keeps for
// reuse: one that grew in a burst is dropped, or every session would keep
// its largest burst's array for good.
const maxSpareQueue = 32

// recycleLocked hands a drained queue's backing array back for reuse.
// s.mu must be held.
func (s *Session) recycleLocked(q []queued) {
	if cap(q) > maxSpareQueue {
		return
	}
	clear(q)
	if s.spare == nil {
		s.spare = q[:0]
	}
}

// Close closes the session from the server side: what is already queued is
// still sent, then the transport is closed.
func (s *Session) Close() {
	s.closeWith(eioparser.ReasonForcedClose, eioparser.PacketClose, true)
}

// closeWith closes the session once. With flush, the queue is still written
// before the transport closes, and a polling session stays reachable until
// its next GET collects the queue and a close packet. Without flush, the
// queue is dropped and a pending GET is answered with pollFinal.
func (s *Session) closeWith(reason eioparser.CloseReason, pollFinal eioparser.PacketType, flush bool) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.closeReason = reason
	s.pollFinal = pollFinal
	s.closedLocked(reason)
	s.wakeQueueWaitersLocked()
	if s.timer != nil {
		s.timer.Stop()
	}
	var (
		closeNow *wsConn
		dropped  []queued
	)
	keep := false
	switch {
	case flush && s.transport == transportPolling:
		s.state = stateClosing
		s.enqueueLocked(queued{pkt: eioparser.Packet{Type: eioparser.PacketClose}})
		s.timer = time.AfterFunc(s.srv.cfg.PingInterval+s.srv.cfg.PingTimeout, s.finish)
		keep = true
	case flush && s.ws != nil:
		// The flush goroutine writes the queue, then the close frame, then
		// closes the connection.
		s.state = stateClosing
		s.enqueueLocked(queued{op: opClose, pkt: eioparser.Packet{Data: closePayload(closeNormal)}})
	default:
		s.state = stateClosed
		dropped = s.takeQueueLocked()
		closeNow = s.ws
	}
	s.mu.Unlock()

	settle(dropped, time.Time{})
	s.wakePoll()
	if closeNow != nil {
		closeNow.close()
	}
	if !keep {
		s.srv.remove(s)
	}
	s.notifyClose(reason)
}

// closedLocked tells the observer that the open session closes, for
// reason. s.mu must be held, and the session be leaving stateOpen.
func (s *Session) closedLocked(reason eioparser.CloseReason) {
	obs := s.srv.cfg.Observer
	obs.SessionClosed(s.transport.String())
	if reason == eioparser.ReasonSlowConsumer {
		obs.SlowConsumer()
	}
}

// wakePoll wakes the pending GET, if any.
func (s *Session) wakePoll() {
	s.mu.Lock()
	s.wakePollLocked()
	s.mu.Unlock()
}

// wakePollLocked wakes the pending GET, if any: net/http's handler waiting
// for it, or, on a connection the server took over, a goroutine started
// to answer it. s.mu must be held.
func (s *Session) wakePollLocked() {
	if pc := s.pollWaiter; pc != nil {
		s.pollWaiter = nil
		pc.srv.queueAnswer(pc)
		return
	}
	select {
	case s.pollNotify <- struct{}{}:
	default:
	}
}

// finish ends a closing session: it is forgotten and its transport closed.
func (s *Session) finish() {
	s.mu.Lock()
	s.state = stateClosed
	dropped := s.takeQueueLocked()
	ws := s.ws
	s.mu.Unlock()
	settle(dropped, time.Time{})
	s.wakePoll()
	if ws != nil {
		ws.close()
	}
	s.srv.remove(s)
}

// finishAfterCloseFrame ends a WebSocket session whose close frame has just
// been written: as finish, but the connection is half-closed and left to
// its reader until the client closes its end (see wsConn.closeAfterFrame).
func (s *Session) finishAfterCloseFrame(ws *wsConn) {
	s.mu.Lock()
	s.state = stateClosed
	dropped := s.takeQueueLocked()
	s.mu.Unlock()
	settle(dropped, time.Time{})
	ws.closeAfterFrame()
	s.srv.remove(s)
}

// notifyClose calls the handler's HandleClose once, after any HandleMessage
// under way. It runs on its own goroutine: the close may come from inside
// HandleMessage, which holds dispatchMu.
func (s *Session) notifyClose(reason eioparser.CloseReason) {
	s.closeOnce.Do(func() {
		s.logger().Debug("session closed", logKeyReason, string(reason))
		s.mu.Lock()
		s.uncountPollingLocked()
		s.mu.Unlock()
		if s.handler == nil {
			return
		}
		go func() {
			s.dispatchMu.Lock()
			defer s.dispatchMu.Unlock()
			s.handler.HandleClose(reason)
		}()
	})
}

// dispatch hands one received packet to the session. It returns ErrClosed
// when the packet (a ping or a close packet) closed the session: what the
// client sent after it is not read. Once the session is closing or closed,
// packets are ignored, with no error: what a client sent as the server
// closed the session must not cut the connection under the close frame
// that is still queued for it.
func (s *Session) dispatch(p eioparser.Packet) error {
	s.mu.Lock()
	open := s.state == stateOpen
	s.mu.Unlock()
	if !open {
		return nil
	}
	switch p.Type {
	case eioparser.PacketMessage:
		s.srv.countReceived(len(p.Data))
		s.dispatchMu.Lock()
		defer s.dispatchMu.Unlock()
		s.mu.Lock()
		open := s.state == stateOpen
		s.mu.Unlock()
		if open && s.handler != nil {
			s.handler.HandleMessage(p.Data, p.Binary)
		}
	case eioparser.PacketPong:
		s.onPong()
	case eioparser.PacketPing:
		// Only the server pings in Engine.IO v4: like the reference
		// server, close the session of a client that does. Answering
		// would let a client that never reads fill the queue.
		s.logger().Debug("invalid heartbeat direction")
		s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
		return ErrClosed
	case eioparser.PacketClose:
		s.closeWith(eioparser.ReasonTransportClose, eioparser.PacketNoop, false)
		s.mu.Lock()
		linger := s.transport == transportPolling && !s.polling
		s.mu.Unlock()
		if linger {
			// A poll sent just before the close packet may arrive just
			// after it, on another connection: keep answering it.
			s.srv.linger(s)
		}
		return ErrClosed
	default:
		// Other packets (open, upgrade, noop) mean nothing here; the
		// reference server ignores them too.
	}
	return nil
}

// startHeartbeat arms the session's one timer: ping after PingInterval.
func (s *Session) startHeartbeat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return
	}
	s.timerAt = time.Now().Add(s.srv.cfg.PingInterval)
	s.timer = time.AfterFunc(s.srv.cfg.PingInterval, s.onTimer)
}

// onTimer sends a ping, or closes the session when the last ping got no pong.
func (s *Session) onTimer() {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	if d := time.Until(s.timerAt); d > 0 {
		// Re-armed while this call waited for the lock: wait on.
		s.timer.Reset(d)
		s.mu.Unlock()
		return
	}
	if s.awaitingPong {
		s.mu.Unlock()
		s.closeWith(eioparser.ReasonPingTimeout, eioparser.PacketClose, false)
		return
	}
	if !s.queueLocked(queued{pkt: eioparser.Packet{Type: eioparser.PacketPing}}) {
		s.mu.Unlock()
		s.closeSlowConsumer(queueCost(eioparser.Packet{Type: eioparser.PacketPing}))
		return
	}
	s.awaitingPong = true
	s.rearmLocked(s.srv.cfg.PingTimeout)
	s.mu.Unlock()
}

func (s *Session) rearmLocked(d time.Duration) {
	s.timerAt = time.Now().Add(d)
	s.timer.Reset(d)
}

func (s *Session) onPong() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateOpen && s.awaitingPong {
		s.awaitingPong = false
		s.rearmLocked(s.srv.cfg.PingInterval)
	}
}
