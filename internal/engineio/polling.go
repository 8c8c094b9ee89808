package engineio

import (
	"errors"
	"io"
	"net/http"

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
	defer func() {
		s.mu.Lock()
		s.polling = false
		s.mu.Unlock()
	}()

	for {
		s.mu.Lock()
		switch {
		case s.state == stateClosed:
			final := s.pollFinal
			s.mu.Unlock()
			writePayload(w, []byte{byte(final)})
			srv.remove(s)
			return
		case s.pollNoop || s.transport != transportPolling:
			s.mu.Unlock()
			writePayload(w, []byte{byte(eioparser.PacketNoop)})
			return
		case len(s.queue) > 0:
			q := s.takeQueueLocked()
			closing := s.state == stateClosing
			s.mu.Unlock()
			srv.writeQueue(w, s, q)
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
			s.closeWith(eioparser.ReasonTransportError, eioparser.PacketNoop, false)
			return
		}
	}
}

// writeQueue writes queued packets as one payload.
func (srv *Server) writeQueue(w http.ResponseWriter, s *Session, q []queued) {
	bufp := frameBuffers.Get().(*[]byte)
	buf := (*bufp)[:0]
	for _, e := range q {
		if e.op == 0 {
			buf = eioparser.AppendPayloadPacket(buf, e.pkt)
		}
	}
	s.mu.Lock()
	s.recycleLocked(q)
	s.mu.Unlock()
	writePayload(w, buf)
	if cap(buf) <= maxPooledBuffer {
		*bufp = buf[:0]
		frameBuffers.Put(bufp)
	}
}

func writePayload(w http.ResponseWriter, payload []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(payload)
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

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(srv.cfg.MaxPayload)))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.logger().Debug("payload too large")
			s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
			writeError(w, errTooLarge)
			return
		}
		s.closeWith(eioparser.ReasonTransportError, eioparser.PacketClose, false)
		return
	}
	packets, err := eioparser.DecodePayload(body)
	if err != nil {
		s.logger().Debug("invalid payload", logKeyError, err)
		s.closeWith(eioparser.ReasonParseError, eioparser.PacketClose, false)
		writeError(w, errBadRequest)
		return
	}
	for _, p := range packets {
		if s.dispatch(p) != nil {
			break
		}
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "ok")
}
