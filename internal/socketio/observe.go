package socketio

import (
	"time"

	"github.com/parley-chat/parley/internal/engineio"
)

// Metrics hears of what a Server's sockets receive and are sent, for
// metrics (Config.Metrics). Its methods are called on the goroutines of the connections and
// of the broadcasts: they must be quick, never block, never call back into
// the Server, and be safe for concurrent use.
type Metrics interface {
	// EventReceived: a socket of namespace nsp received an event called
	// event (whether it has a handler or not). event is the client's: a
	// metric must not take it for a label as it is.
	EventReceived(nsp, event string)
	// EventsSent: n events were queued for sockets, one per socket a
	// broadcast reached, or one sent to a socket alone.
	EventsSent(n int)
	// Recovery: a client asked to recover its socket's state (connection
	// state recovery), which was recovered (its missed events replayed)
	// or missed (it was not kept, or its missed events were not).
	Recovery(recovered bool)
}

// nopMetrics is the Metrics of a Config that sets none.
type nopMetrics struct{}

func (nopMetrics) EventReceived(string, string) {}
func (nopMetrics) EventsSent(int)               {}
func (nopMetrics) Recovery(bool)                {}

// Tracker times a broadcast on its way to the sockets' connections: from
// when the message it carries arrived to when its last copy was written
// (see engineio.Tracker). A broadcast carries one with
// BroadcastOperator.Track; a socket still connecting when it is reached
// (whose events wait for its CONNECT reply) is not waited for.
type Tracker = engineio.Tracker

// NewTracker returns a Tracker of a message that arrived at start; obs
// hears its latency. Call its Release once the broadcast is emitted.
func NewTracker(start time.Time, obs engineio.DeliveryObserver) *Tracker {
	return engineio.NewTracker(start, obs)
}
