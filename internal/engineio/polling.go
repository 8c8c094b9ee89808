package engineio

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
)

// servePoll answers a long-polling GET: it waits until something is queued,
// then sends the whole queue as one payload. On a server whose listener is
// PollListener's, the connection is taken over first, and this GET and
// those after it on the connection are answered by the server itself (see
// takeover.go).
func (srv *Server) servePoll(w http.ResponseWriter, r *http.Request, s *Session) {
	if !srv.checkPoll(s) {
		writeError(w, errBadRequest)
		return
	}
	if srv.takeOver(w, r, s) {
		return
	}

	srv.awaitPoll(s, httpAnswer{srv, w}, r.Context().Done())
}

// awaitPoll waits until s's poll, begun, has something to answer with,
// and writes it to out; when cut is closed first, the session ends.
//
// The poll is over, for the session, before its answer is written: the
// answer is flushed by the write, and a client may send its next poll the
// moment it has read it, before this returns.
func (srv *Server) awaitPoll(s *Session, out payloadWriter, cut <-chan struct{}) {
	for {
		s.mu.Lock()
		a, ok := s.pollAnswerLocked()
		s.mu.Unlock()
		if ok {
			srv.sendAnswer(s, a, out)
			return
		}
		select {
		case <-s.pollNotify:
		case <-cut:
			// The poll was cut before it was answered: like the reference
			// server ("poll connection closed prematurely"), the session
			// ends with a transport error.
			s.pollCut()
			return
		}
	}
}

// checkPoll starts a poll of s: it returns false, for a 400 answer, when
// s is not on polling or is polled already (a duplicate poll, which closes
// it).
func (srv *Server) checkPoll(s *Session) bool {
	s.mu.Lock()
	switch {
	case s.transport != transportPolling:
		s.mu.Unlock()
		return false
	case s.polling:
		s.mu.Unlock()
		s.logger().Debug("duplicate poll")
		s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
		return false
	}
	s.polling = true
	s.mu.Unlock()
	return true
}

// pollCut ends a session whose pending poll's connection went away.
func (s *Session) pollCut() {
	s.mu.Lock()
	s.polling = false
	s.mu.Unlock()
	s.closeWith(eioparser.ReasonTransportError, eioparser.PacketNoop, false)
}

// pollAnswer is what a pending poll is answered with: a final packet
// (closed), a noop, or the queue.
type pollAnswer struct {
	single  eioparser.PacketType // with q nil: the one packet to answer
	q       []queued
	final   bool // the session is closed: it is forgotten once answered
	closing bool // the session closes once the queue is written
}

// pollAnswerLocked returns the answer of the pending poll, and false when
// it must wait on: nothing is queued. With an answer, the poll is over.
// s.mu must be held.
func (s *Session) pollAnswerLocked() (pollAnswer, bool) {
	var a pollAnswer
	switch {
	case s.state == stateClosed:
		a.single, a.final = s.pollFinal, true
	case s.pollNoop || s.transport != transportPolling:
		a.single = eioparser.PacketNoop
	case len(s.queue) > 0:
		a.q = s.takeQueueLocked()
		a.closing = s.state == stateClosing
	default:
		return a, false
	}
	s.polling = false
	return a, true
}

// payloadWriter writes a poll's answer: net/http's response, or the
// server's own on a connection it took over.
type payloadWriter interface {
	// writePayload writes the answer of s's poll.
	writePayload(s *Session, payload []byte) error
}

// sendAnswer writes a, the answer of s's poll, to out.
func (srv *Server) sendAnswer(s *Session, a pollAnswer, out payloadWriter) {
	if a.q == nil {
		_ = out.writePayload(s, []byte{byte(a.single)})
		if a.final {
			srv.remove(s)
		}
		return
	}
	if err := srv.writeQueue(out, s, a.q); err != nil {
		// What the poll held is lost: the session cannot go on.
		s.logger().Debug("poll write failed", logKeyError, err)
		s.closeWith(eioparser.ReasonTransportError, eioparser.PacketNoop, false)
	}
	if a.closing {
		s.finish()
	}
}

// writeQueue writes queued packets as one payload, and settles the
// copies of tracked messages among them (see Tracker).
func (srv *Server) writeQueue(out payloadWriter, s *Session, q []queued) error {
	bufp := frameBuffers.Get().(*[]byte)
	buf := (*bufp)[:0]
	tracked := false
	for _, e := range q {
		if e.op == 0 {
			buf = eioparser.AppendPayloadPacket(buf, e.pkt)
		}
		tracked = tracked || e.tr != nil
	}
	packets, bytes := countMessages(q)
	if !tracked {
		// The queue's packets are in buf: let them go before the write,
		// which may take long.
		s.mu.Lock()
		s.recycleLocked(q)
		s.mu.Unlock()
	}
	err := out.writePayload(s, buf)
	if err == nil {
		srv.countWritten(packets, bytes)
	}
	if cap(buf) <= maxPooledBuffer {
		*bufp = buf[:0]
		frameBuffers.Put(bufp)
	}
	if tracked {
		at := time.Now()
		if err != nil {
			at = time.Time{} // dropped
		}
		settle(q, at)
		s.mu.Lock()
		s.recycleLocked(q)
		s.mu.Unlock()
	}
	return err
}

// httpAnswer writes a poll's answer as net/http's response.
type httpAnswer struct {
	srv *Server
	w   http.ResponseWriter
}

// writePayload answers a poll with payload, within WriteTimeout: a client
// that stops reading must not hold the handler, and the payload, forever.
// The whole answer is flushed under the deadline, which is lifted after,
// so that it does not linger on the connection.
func (a httpAnswer) writePayload(_ *Session, payload []byte) error {
	w := a.w
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(payload)))
	rc := http.NewResponseController(w)
	if rc.SetWriteDeadline(time.Now().Add(a.srv.cfg.WriteTimeout)) != nil {
		// A ResponseWriter without deadlines (a test's recorder).
		_, err := w.Write(payload)
		return err
	}
	_, err := w.Write(payload)
	if err == nil {
		err = rc.Flush()
	}
	if err != nil {
		return fmt.Errorf("engineio: writing a poll's answer: %w", err)
	}
	return rc.SetWriteDeadline(time.Time{})
}

// servePost reads a long-polling POST and dispatches its packets.
func (srv *Server) servePost(w http.ResponseWriter, r *http.Request, s *Session) {
	if e := srv.beginPost(s); e != nil {
		writeError(w, *e)
		return
	}
	defer s.endPost()

	// The body must arrive within BodyTimeout; the deadline is lifted once
	// it has, so that it does not linger on the connection (net/http reads
	// on in the background while the handler runs, then for the next
	// request, under deadlines of its own).
	rc := http.NewResponseController(w)
	deadline := rc.SetReadDeadline(time.Now().Add(srv.cfg.BodyTimeout)) == nil
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(srv.cfg.MaxPayload)))
	if err != nil {
		// The rest of the body is not read: net/http would otherwise
		// read on, to reuse the connection, before answering.
		w.Header().Set("Connection", "close")
	} else if deadline {
		_ = rc.SetReadDeadline(time.Time{})
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &tooLarge):
			s.logger().Debug("payload too large")
			writeError(w, errTooLarge)
		case errors.As(err, &ne) && ne.Timeout():
			s.logger().Debug("payload too slow", logKeyError, err)
			writeError(w, errBodyTimeout)
		default:
			s.logger().Debug("reading a payload", logKeyError, err)
		}
		s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
		return
	}
	if e := srv.postBody(s, body); e != nil {
		writeError(w, *e)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, "ok")
}

// beginPost starts a POST to s: it returns the error to answer with when
// s is not open on polling, or is being posted to already (an overlapping
// POST, which closes it). Without one, endPost must follow.
func (srv *Server) beginPost(s *Session) *requestError {
	s.mu.Lock()
	switch {
	case s.state != stateOpen || (s.transport != transportPolling):
		s.mu.Unlock()
		return &errBadRequest
	case s.posting:
		s.mu.Unlock()
		s.logger().Debug("overlapping post")
		s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
		return &errBadRequest
	}
	s.posting = true
	s.mu.Unlock()
	return nil
}

// endPost ends the POST beginPost started.
func (s *Session) endPost() {
	s.mu.Lock()
	s.posting = false
	s.mu.Unlock()
}

// postBody hands the packets of a POST's body to s, which owns body from
// then on. The payload is checked whole, so that none of an invalid one's
// packets is handled (the session is closed, and the error returned), then
// its packets are handled one by one as they are decoded: a body of many
// small packets (a megabyte of pings, say) is never held as one Packet
// each.
func (srv *Server) postBody(s *Session, body []byte) *requestError {
	if err := eioparser.CheckPayload(body); err != nil {
		s.logger().Debug("invalid payload", logKeyError, err)
		s.closeWith(eioparser.ReasonParseError, eioparser.PacketClose, false)
		return &errBadRequest
	}
	for p, err := range eioparser.Payload(body) {
		if err != nil || s.dispatch(p) != nil {
			break
		}
	}
	return nil
}
