package engineio

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

// UsesPoller reports whether the server reads WebSocket connections with
// the poller.
func (srv *Server) UsesPoller() bool { return srv.poller != nil }

// ClientFrame returns one masked client frame, as a client would send it.
func ClientFrame(fin bool, op byte, payload []byte) []byte { return clientFrame(fin, op, payload) }
