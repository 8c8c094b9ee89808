package engineio

import (
	"context"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
)

// Flow control for senders that have more to send than the queue may hold,
// such as a replay of missed events: they send a piece, wait for the queue
// to drain, and send the next. Send itself never blocks; a sender that
// waits does so here, on its own goroutine.
//
// A waiter sleeps on Session.drained, a channel made by the first waiter
// and closed when the queue is taken by a writer (takeQueueLocked) or the
// session closes (closeWith): an idle session, and one that nobody waits
// on, holds none, and no goroutine is started for anyone.

// MaxQueueBytes returns the bound of the session's send queue, in bytes
// (Config.MaxQueueBytes): a Send that would queue more closes the session
// as a slow consumer.
func (s *Session) MaxQueueBytes() int { return s.srv.cfg.MaxQueueBytes }

// SendWithin queues msgs as Send does, if the queue then holds at most
// limit bytes (as MaxQueueBytes counts them), and reports whether it did;
// if not, it queues nothing and the session stays open. Like Send, it never
// blocks: a sender holding locks can try to queue a piece, and wait for
// the queue to drain (WaitQueue) after releasing them if it does not fit.
// It returns ErrClosed once the session is closed.
func (s *Session) SendWithin(limit int, msgs ...eioparser.Packet) (bool, error) {
	n := 0
	for _, m := range msgs {
		n += queueCost(m)
	}
	limit = min(limit, s.srv.cfg.MaxQueueBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return false, ErrClosed
	}
	if s.queued+n > limit {
		return false, nil
	}
	s.appendLocked(msgs, n)
	return true, nil
}

// WaitQueue blocks until at most n bytes are queued for the session, so
// that a sender can queue the next part of something larger than the
// queue's bound. It returns nil then; ErrClosed once the session is closed
// or closing; the context's error, wrapped, when ctx is done first. A
// session whose writer takes nothing from the queue for Config.WriteTimeout
// is a client that does not read: WaitQueue closes it as a slow consumer
// and returns ErrSlowConsumer, as Send would have had the data been sent at
// once. It does not spin: it sleeps until the queue is taken.
func (s *Session) WaitQueue(ctx context.Context, n int) error {
	var timeout *time.Timer
	for {
		s.mu.Lock()
		if s.state != stateOpen {
			s.mu.Unlock()
			return ErrClosed
		}
		if s.queued <= n {
			s.mu.Unlock()
			return nil
		}
		if s.drained == nil {
			s.drained = make(chan struct{})
		}
		drained := s.drained
		queued := s.queued
		s.mu.Unlock()
		if timeout == nil {
			timeout = time.NewTimer(s.srv.cfg.WriteTimeout)
			defer timeout.Stop()
		}
		select {
		case <-drained:
		case <-ctx.Done():
			return fmt.Errorf("engineio: waiting for the send queue: %w", ctx.Err())
		case <-timeout.C:
			s.logger().Warn("closing slow consumer: send queue not drained in time", logKeyQueued, queued)
			s.closeWith(eioparser.ReasonSlowConsumer, eioparser.PacketClose, false)
			return ErrSlowConsumer
		}
	}
}

// wakeQueueWaitersLocked wakes the senders waiting in WaitQueue: the queue
// was taken, or the session is closing. s.mu must be held.
func (s *Session) wakeQueueWaitersLocked() {
	if s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}
