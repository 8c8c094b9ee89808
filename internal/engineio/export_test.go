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
