package cluster

// SessionsPending returns the number of sessions the keeper is to write,
// and of commands queued for Redis, for tests.
func (nd *Node) SessionsPending() (sessions, commands int) {
	nd.keeper.mu.Lock()
	sessions = len(nd.keeper.dirty)
	nd.keeper.mu.Unlock()
	return sessions, nd.pub.pending()
}

// Slot is slot, for tests.
var Slot = slot
