package engineio

import (
	"time"
	"unsafe"
)

// PollPending reports whether a polling GET of the session is pending.
func (s *Session) PollPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polling
}

// PostPending reports whether a polling POST of the session is being read.
func (s *Session) PostPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posting
}

// WithoutPoller returns c set to read each WebSocket connection with a
// goroutine, as on systems without a poller.
func WithoutPoller(c Config) Config {
	c.disablePoller = true
	return c
}

// WithAfterRegister returns c with f called as a connection has been
// registered with the poller, before its registration is kept.
func WithAfterRegister(c Config, f func(*Session)) Config {
	c.afterRegister = f
	return c
}

// WithSweepEvery returns c with the timeouts of connections taken over
// checked every d.
func WithSweepEvery(c Config, d time.Duration) Config {
	c.sweepEvery = d
	return c
}

// UsesPoller reports whether the server reads WebSocket connections with
// the poller.
func (srv *Server) UsesPoller() bool { return srv.poller != nil }

// ClientFrame returns one masked client frame, as a client would send it.
func ClientFrame(fin bool, op byte, payload []byte) []byte { return clientFrame(fin, op, payload) }

// QueueMemory returns the bytes the session's send queue holds: its
// entries, with room to grow, and the data they carry.
func (s *Session) QueueMemory() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := cap(s.queue) * int(unsafe.Sizeof(queued{}))
	for _, q := range s.queue {
		n += len(q.pkt.Data)
	}
	return n
}

// TakenCount returns the number of connections taken over from net/http.
func (srv *Server) TakenCount() int {
	srv.taken.mu.Lock()
	defer srv.taken.mu.Unlock()
	return len(srv.taken.conns)
}
