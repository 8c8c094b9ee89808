package store

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Defaults used for zero CommitterConfig fields.
const (
	DefaultMaxBatch      = 256
	DefaultQueueSize     = 4096
	DefaultCommitTimeout = 10 * time.Second
)

// CommitterConfig configures a Committer. Zero fields take the documented
// defaults.
type CommitterConfig struct {
	// MaxBatch is the most messages stored in one transaction (default
	// 256).
	MaxBatch int
	// QueueSize bounds the messages waiting for the writer; a Submit that
	// finds the queue full fails with ErrOverloaded (default 4096).
	QueueSize int
	// CommitTimeout bounds one Store.Append (default 10 s). When it
	// expires, the batch fails; whether it was committed is then unknown,
	// which a client's retry with the same ClientID resolves.
	CommitTimeout time.Duration
	// Logger receives the panics of done callbacks (default
	// slog.Default()).
	Logger *slog.Logger
	// Observer, when set, hears of each batch committed, for metrics.
	Observer CommitObserver
}

// CommitObserver hears of a Committer's transactions. Committed is called
// on the writer goroutine after each Store.Append, with the messages of
// its batch (also those that were stored already, under their ClientID),
// the time it took, and its error, nil when the batch is stored. It must
// be quick and never block.
type CommitObserver interface {
	Committed(messages int, took time.Duration, err error)
}

// nopCommitObserver is the CommitObserver of a config that sets none.
type nopCommitObserver struct{}

func (nopCommitObserver) Committed(int, time.Duration, error) {}

func (c CommitterConfig) withDefaults() CommitterConfig {
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = nopCommitObserver{}
	}
	return c
}

// Committer stores messages submitted from many goroutines with group
// commit: one writer goroutine takes every message waiting (up to
// MaxBatch), stores them with one Store.Append, that is one transaction and
// one sync to disk, and hands the outcomes to a reporter goroutine, which
// reports each message's outcome in commit order. While a transaction
// commits, the next batch gathers in the queue and the previous one is
// reported, so the rate of messages stored grows with the load rather than
// being bounded by the rate of transactions, and a commit's wait for the
// disk overlaps with the work its callbacks do (such as broadcasting).
//
// A Committer is safe for concurrent use. It does not own its Store: close
// the Committer first, then the Store.
type Committer struct {
	s   Store
	cfg CommitterConfig

	// mu guards closed against the sends to queue; Close takes it to close
	// queue, so no Submit can send on a closed channel.
	mu      sync.RWMutex
	closed  bool
	queue   chan request
	results chan result   // committed batches, to the reporter
	exited  chan struct{} // closed when the reporter returns
}

// result is a committed batch: its requests and their outcomes.
type result struct {
	batch  []request
	stored []Message // nil when err is set
	err    error
}

// request is a submitted message and its callback.
type request struct {
	m    Message
	done func(Message, error)
}

// NewCommitter starts a Committer that appends to s. Stop it with Close.
func NewCommitter(s Store, cfg CommitterConfig) *Committer {
	cfg = cfg.withDefaults()
	c := &Committer{
		s:       s,
		cfg:     cfg,
		queue:   make(chan request, cfg.QueueSize),
		results: make(chan result, 1),
		exited:  make(chan struct{}),
	}
	go c.run()
	go c.reportAll()
	return c
}

// Submit queues m to be stored and calls done exactly once with the
// outcome: the message as stored (with its ID and Time, or the message
// stored earlier with the same ClientID) and a nil error, or m and an
// error.
//
// Submit does not wait for the commit. When the message is refused at
// once, done is called before Submit returns, on the caller's goroutine:
// with ErrInvalid for an invalid message, ErrOverloaded when the queue is
// full and ErrClosed after Close. Otherwise done is called on the writer
// reporter goroutine, after the message's transaction committed (or failed,
// with an error wrapping the Store's), one at a time, in commit order: for two messages of one
// room, the one with the smaller ID is reported first. A caller that
// broadcasts and acknowledges from done thus sends messages in ID order.
//
// done must not block and should be quick: the writer gets at most one
// batch ahead of the callbacks. A panic in done is recovered and logged.
// done may be nil.
func (c *Committer) Submit(m Message, done func(Message, error)) {
	if done == nil {
		done = func(Message, error) {}
	}
	if err := m.Validate(); err != nil {
		done(m, fmt.Errorf("store: submit: %w", err))
		return
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		done(m, fmt.Errorf("store: submit: %w", ErrClosed))
		return
	}
	select {
	case c.queue <- request{m, done}:
		c.mu.RUnlock()
	default:
		c.mu.RUnlock()
		done(m, fmt.Errorf("store: submit: %d messages waiting: %w", c.cfg.QueueSize, ErrOverloaded))
	}
}

// Close stops accepting messages, waits for the queued ones to be committed
// and reported, and stops the writer. It does not close the Store. It
// returns nil, also when called again.
func (c *Committer) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	<-c.exited
	return nil
}

// run is the writer goroutine: it commits batches until the queue is
// closed and drained, then closes results.
func (c *Committer) run() {
	defer close(c.results)
	for {
		r, ok := <-c.queue
		if !ok {
			return
		}
		// A batch of its own: the reporter may still be reading the
		// previous one.
		batch := append(make([]request, 0, min(c.cfg.MaxBatch, len(c.queue)+1)), r)
		open := true
	gather:
		for len(batch) < c.cfg.MaxBatch {
			select {
			case r, ok := <-c.queue:
				if !ok {
					open = false
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		c.results <- c.commit(batch)
		if !open {
			return
		}
	}
}

// commit appends one batch.
func (c *Committer) commit(batch []request) result {
	msgs := make([]Message, len(batch))
	for i, r := range batch {
		msgs[i] = r.m
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CommitTimeout)
	start := time.Now()
	stored, err := c.s.Append(ctx, msgs)
	took := time.Since(start)
	cancel()
	if err == nil && len(stored) != len(batch) {
		err = fmt.Errorf("store returned %d messages for %d", len(stored), len(batch))
	}
	c.cfg.Observer.Committed(len(batch), took, err)
	if err != nil {
		return result{batch: batch, err: fmt.Errorf("store: commit batch of %d messages: %w", len(batch), err)}
	}
	return result{batch: batch, stored: stored}
}

// reportAll is the reporter goroutine: it reports each committed batch's
// outcomes, in order, until the writer is done.
func (c *Committer) reportAll() {
	defer close(c.exited)
	for res := range c.results {
		for i, r := range res.batch {
			if res.err != nil {
				c.report(r, r.m, res.err)
			} else {
				c.report(r, res.stored[i], nil)
			}
		}
	}
}

// report calls r.done, recovering and logging a panic so that one bad
// callback does not stop the writer.
func (c *Committer) report(r request, m Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.cfg.Logger.Error("store: panic in commit callback",
				"panic", p, "room", m.Room, "id", m.ID, "stack", string(debug.Stack()))
		}
	}()
	r.done(m, err)
}
