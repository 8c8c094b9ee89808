package socketio

// RecoveryStats is what a namespace's recovery log holds, for tests.
type RecoveryStats = recoveryStats

// RecoveryStats returns what the namespace's recovery log holds.
func (n *Namespace) RecoveryStats() RecoveryStats { return n.recovery.stats() }

// WithReleasing returns cfg with a hook called as each socket's CONNECT
// reply, and what was sent to the socket while it connected, are about to
// be queued, with the socket's lock held.
func WithReleasing(cfg Config, f func(*Socket)) Config {
	cfg.releasing = f
	return cfg
}
