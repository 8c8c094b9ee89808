package socketio

// RecoveryStats is what a namespace's recovery log holds, for tests.
type RecoveryStats = recoveryStats

// RecoveryStats returns what the namespace's recovery log holds.
func (n *Namespace) RecoveryStats() RecoveryStats { return n.recovery.stats() }
