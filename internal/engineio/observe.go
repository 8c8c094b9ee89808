package engineio

import (
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
)

// Observer hears of a Server's sessions, for metrics. A session is open
// from its handshake until it closes for its handler (its queue may still
// be flushed after); it is on polling or on WebSocket, and an upgrade
// moves it from one to the other, once. Every SessionOpened is followed by
// one SessionClosed, with the transport the session is on by then.
//
// The methods are called on the server's goroutines, some with a
// session's lock held: they must be quick, never block, never call back
// into the Server, and be safe for concurrent use.
type Observer interface {
	// SessionOpened: a session opened on transport, "polling" or
	// "websocket".
	SessionOpened(transport string)
	// SessionUpgraded: an open session moved from polling to WebSocket.
	SessionUpgraded()
	// SessionClosed: an open session on transport closed.
	SessionClosed(transport string)
	// SlowConsumer: an open session was closed because its send queue
	// could not take what was sent to it (ErrSlowConsumer).
	SlowConsumer()
}

// nopObserver is the Observer of a Config that sets none.
type nopObserver struct{}

func (nopObserver) SessionOpened(string) {}
func (nopObserver) SessionUpgraded()     {}
func (nopObserver) SessionClosed(string) {}
func (nopObserver) SlowConsumer()        {}

// DeliveryObserver hears how long tracked messages took to reach their
// sessions' connections (see Tracker).
type DeliveryObserver interface {
	// Delivered is called once per Tracker that had a copy written, with
	// the time from the Tracker's start to the last write.
	Delivered(d time.Duration)
}

// Tracker times one message on its way to many sessions: from a start
// that its maker gives (when the message arrived) to the moment the last
// of its copies is written to its session's connection (the socket's
// send buffer: the WebSocket frame, or the answer to a long poll). A copy
// is counted when SendTracked queues it; it is settled when it is
// written, or dropped with its session's queue (a session closed without
// a flush, a failed write). Once every copy is settled and the sender has
// called Release, the observer hears the time from the start to the last
// write. A message none of whose copies was written is not observed.
//
// A Tracker costs one allocation per message, nothing per copy on the
// sender's side, and two atomic operations per copy where it is written.
// Its copies must be queued by one goroutine, the sender, which then
// calls Release; the settling is safe for concurrent use. Its methods do
// nothing on a nil Tracker.
type Tracker struct {
	start time.Time
	obs   DeliveryObserver
	// queued counts the copies queued; the sender's own.
	queued int32
	// pending is senderShare until Release, less the copies settled: it
	// cannot reach zero before Release, which takes off senderShare less
	// the copies queued, so that it reaches zero with the last settled.
	pending atomic.Int32
	// last is the time of the latest write since start, in nanoseconds,
	// at least 1; 0 until a copy is written.
	last atomic.Int64
}

// senderShare is what a Tracker's pending holds until Release: more than
// the copies of any message.
const senderShare = 1 << 30

// NewTracker returns a Tracker of a message that arrived at start, whose
// latency obs hears.
func NewTracker(start time.Time, obs DeliveryObserver) *Tracker {
	t := &Tracker{start: start, obs: obs}
	t.pending.Store(senderShare)
	return t
}

// Release says that every copy is queued: the sender's part is over. Call
// it once, after the last SendTracked, on the goroutine that made them.
func (t *Tracker) Release() {
	if t != nil {
		t.done(senderShare - t.queued)
	}
}

// settle settles one copy: written at at, or dropped when at is zero.
func (t *Tracker) settle(at time.Time) {
	if !at.IsZero() {
		d := max(int64(at.Sub(t.start)), 1)
		for {
			cur := t.last.Load()
			if d <= cur || t.last.CompareAndSwap(cur, d) {
				break
			}
		}
	}
	t.done(1)
}

// done takes n off pending, and tells the observer when that settles the
// last copy.
func (t *Tracker) done(n int32) {
	if t.pending.Add(-n) != 0 {
		return
	}
	if d := t.last.Load(); d > 0 {
		t.obs.Delivered(time.Duration(d))
	}
}

// settle settles the copies that the entries of q carry: written at at,
// or dropped when at is zero.
func settle(q []queued, at time.Time) {
	for _, e := range q {
		if e.tr != nil {
			e.tr.settle(at)
		}
	}
}

// SendTracked is Send for a copy of a message that t tracks: t counts it
// once it is queued, and hears when its last packet is written, or
// dropped. It must be called by t's sender (see Tracker). With a nil t it
// is Send.
func (s *Session) SendTracked(t *Tracker, msgs ...eioparser.Packet) error {
	if t == nil || len(msgs) == 0 {
		return s.Send(msgs...)
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	n := 0
	for _, m := range msgs {
		n += queueCost(m)
	}
	if s.queued+n > s.srv.cfg.MaxQueueBytes {
		s.mu.Unlock()
		s.closeSlowConsumer(n)
		return ErrSlowConsumer
	}
	t.queued++
	s.appendLocked(msgs, n)
	s.queue[len(s.queue)-1].tr = t
	s.mu.Unlock()
	return nil
}
