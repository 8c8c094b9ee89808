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
// then sends the whole queue as one payload.
func (srv *Server) servePoll(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	switch {
	case s.transport != transportPolling:
		s.mu.Unlock()
		writeError(w, errBadRequest)
		return
	case s.polling:
		s.mu.Unlock()
		s.logger().Debug("duplicate poll")
		s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
		writeError(w, errBadRequest)
		return
	}
	s.polling = true
	s.mu.Unlock()

	// The poll is over, for the session, before its answer is written:
	// the answer is flushed by the write, and a client may send its next
	// poll the moment it has read it, before this handler returns.
	for {
		s.mu.Lock()
		switch {
		case s.state == stateClosed:
			final := s.pollFinal
			s.polling = false
			s.mu.Unlock()
			_ = srv.writePayload(w, []byte{byte(final)})
			srv.remove(s)
			return
		case s.pollNoop || s.transport != transportPolling:
			s.polling = false
			s.mu.Unlock()
			_ = srv.writePayload(w, []byte{byte(eioparser.PacketNoop)})
			return
		case len(s.queue) > 0:
			q := s.takeQueueLocked()
			closing := s.state == stateClosing
			s.polling = false
			s.mu.Unlock()
			if err := srv.writeQueue(w, s, q); err != nil {
				// What the poll held is lost: the session cannot go on.
				s.logger().Debug("poll write failed", logKeyError, err)
				s.closeWith(eioparser.ReasonTransportError, eioparser.PacketNoop, false)
			}
			if closing {
				s.finish()
			}
			return
		}
		s.mu.Unlock()
		select {
		case <-s.pollNotify:
		case <-r.Context().Done():
			// The poll was cut before it was answered: like the reference
			// server ("poll connection closed prematurely"), the session
			// ends with a transport error.
			s.mu.Lock()
			s.polling = false
			s.mu.Unlock()
			s.closeWith(eioparser.ReasonTransportError, eioparser.PacketNoop, false)
			return
		}
	}
}

// writeQueue writes queued packets as one payload, and settles the
// copies of tracked messages among them (see Tracker).
func (srv *Server) writeQueue(w http.ResponseWriter, s *Session, q []queued) error {
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
	err := srv.writePayload(w, buf)
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

// writePayload answers a poll with payload, within WriteTimeout: a client
// that stops reading must not hold the handler, and the payload, forever.
// The whole answer is flushed under the deadline, which is lifted after,
// so that it does not linger on the connection.
func (srv *Server) writePayload(w http.ResponseWriter, payload []byte) error {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(payload)))
	rc := http.NewResponseController(w)
	if rc.SetWriteDeadline(time.Now().Add(srv.cfg.WriteTimeout)) != nil {
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
	s.mu.Lock()
	switch {
	case s.state != stateOpen || (s.transport != transportPolling):
		s.mu.Unlock()
		writeError(w, errBadRequest)
		return
	case s.posting:
		s.mu.Unlock()
		s.logger().Debug("overlapping post")
		s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
		writeError(w, errBadRequest)
		return
	}
	s.posting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.mu.Unlock()
	}()

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
	// The payload is checked whole, so that none of an invalid one's packets
	// is handled, then its packets are handled one by one as they are
	// decoded: a body of many small packets (a megabyte of pings, say) is
	// never held as one Packet each.
	if err := eioparser.CheckPayload(body); err != nil {
		s.logger().Debug("invalid payload", logKeyError, err)
		s.closeWith(eioparser.ReasonParseError, eioparser.PacketClose, false)
		writeError(w, errBadRequest)
		return
	}
	for p, err := range eioparser.Payload(body) {
		if err != nil || s.dispatch(p) != nil {
			break
		}
	}
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, "ok")
}
