package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/socketio"
)

// maxBatch bounds the commands of one pipeline.
const maxBatch = 256

// jobOverhead estimates what a queued job costs beside its data.
const jobOverhead = 128

// job is one command for Redis: an XADD to stream, a PUBLISH of payload
// to channel, a SET of key to value for ttl or, with delIf, the deletion
// of key if it holds value.
type job struct {
	stream  string
	fields  []string
	channel string
	payload []byte
	key     string
	value   string
	ttl     time.Duration
	delIf   bool
	size    int
	// seq, when set, makes the XADD one of a sequence (sequence.go).
	seq *seqJob
}

// delIfScript deletes KEYS[1] if it holds ARGV[1].
const delIfScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// publisher sends jobs to Redis in the order they were pushed, pipelined,
// from a queue bounded by bytes. push never blocks; the queue keeps what
// Redis could not take until it can. It is safe for concurrent use.
type publisher struct {
	client  redis.UniversalClient
	sharded bool
	maxLen  int64
	max     int
	log     *slog.Logger

	ctx     context.Context // ends when close gives up
	cancel  context.CancelFunc
	lastErr error // of the last failed send; run's own

	mu      sync.Mutex
	queue   []job // queue[head:] waits to be sent
	head    int
	bytes   int
	closing bool
	wake    chan struct{}
	done    chan struct{} // closed when run returns
}

func newPublisher(c redis.UniversalClient, sharded bool, maxLen int64, maxBytes int, log *slog.Logger) *publisher {
	p := &publisher{client: c, sharded: sharded, maxLen: maxLen, max: maxBytes, log: log,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// push queues j, or refuses it when the queue is full or closing.
func (p *publisher) push(j job) error {
	j.size += jobOverhead
	p.mu.Lock()
	switch {
	case p.closing:
		p.mu.Unlock()
		return ErrClosed
	case len(p.queue) > p.head && p.bytes+j.size > p.max:
		n, bytes := len(p.queue)-p.head, p.bytes
		p.mu.Unlock()
		return fmt.Errorf("%w (%d messages, %d bytes)", ErrBacklog, n, bytes)
	}
	p.queue = append(p.queue, j)
	p.bytes += j.size
	p.mu.Unlock()
	wake(p.wake)
	return nil
}

// pending returns the number of jobs queued.
func (p *publisher) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue) - p.head
}

// run sends what is queued until the publisher is closed and empty, or
// close gives up.
func (p *publisher) run(wg *sync.WaitGroup) {
	defer wg.Done()
	defer close(p.done)
	failures := 0
	var batch []job
	for {
		p.mu.Lock()
		batch := append(batch[:0], p.queue[p.head:min(len(p.queue), p.head+maxBatch)]...)
		closing := p.closing
		p.mu.Unlock()
		if len(batch) == 0 {
			if closing {
				return
			}
			select {
			case <-p.wake:
				continue
			case <-p.ctx.Done():
				return
			}
		}
		failed, down := p.send(batch)
		p.mu.Lock()
		p.doneLocked(len(batch), failed)
		p.mu.Unlock()
		if !down {
			// Sent, but for sequences Redis lacked the script of,
			// which go again at once, whole.
			failures = 0
			continue
		}
		if failures == 0 {
			p.log.Warn("cluster: Redis unreachable, keeping messages until it is back", logKeyError, p.lastErr)
		}
		failures++
		if !sleepCtx(p.ctx, backoff(failures)) {
			return
		}
	}
}

// doneLocked takes the n jobs at the head of the queue off it, but for
// those that failed, which stay at its head, in order.
func (p *publisher) doneLocked(n int, failed []job) {
	for _, j := range p.queue[p.head : p.head+n] {
		p.bytes -= j.size
	}
	done := n - len(failed)
	clear(p.queue[p.head : p.head+done])
	copy(p.queue[p.head+done:], failed)
	for _, j := range failed {
		p.bytes += j.size
	}
	p.head += done
	switch {
	case p.head == len(p.queue):
		p.queue, p.head = p.queue[:0], 0
	case p.head > 1024 && p.head > len(p.queue)/2:
		k := copy(p.queue, p.queue[p.head:])
		clear(p.queue[k:])
		p.queue, p.head = p.queue[:k], 0
	}
}

// send writes batch in one pipeline and returns the jobs to send again,
// in order: those that failed for want of Redis (then down is true), and
// the sequences whose script Redis lacked (a new or restarted Redis, a
// replica just promoted: SCRIPT LOAD is not replicated), marked to go
// whole. Those Redis refused are dropped, with a log line: sending them
// again would fail again.
func (p *publisher) send(batch []job) (failed []job, down bool) {
	pipe := p.client.Pipeline()
	cmds := make([]redis.Cmder, len(batch))
	for i, j := range batch {
		switch {
		case j.seq != nil && j.seq.eval:
			cmds[i] = seqLua.Eval(p.ctx, pipe, []string{j.stream, j.seq.key}, p.seqArgs(&batch[i])...)
		case j.seq != nil:
			cmds[i] = seqLua.EvalSha(p.ctx, pipe, []string{j.stream, j.seq.key}, p.seqArgs(&batch[i])...)
		case j.stream != "":
			cmds[i] = pipe.XAdd(p.ctx, &redis.XAddArgs{Stream: j.stream, MaxLen: p.maxLen, Approx: true, Values: j.fields})
		case j.delIf:
			cmds[i] = pipe.Eval(p.ctx, delIfScript, []string{j.key}, j.value)
		case j.key != "":
			cmds[i] = pipe.Set(p.ctx, j.key, j.value, j.ttl)
		case p.sharded:
			cmds[i] = pipe.SPublish(p.ctx, j.channel, j.payload)
		default:
			cmds[i] = pipe.Publish(p.ctx, j.channel, j.payload)
		}
	}
	_, _ = pipe.Exec(p.ctx)
	for i, c := range cmds {
		err := c.Err()
		var rerr redis.Error
		switch {
		case err == nil:
			if j := batch[i]; j.seq != nil && j.seq.done != nil {
				j.seq.done(seqResult(c))
			}
		case batch[i].seq != nil && !batch[i].seq.eval && redis.HasErrorPrefix(err, "NOSCRIPT"):
			// Redis does not have the script (it restarted): sent again
			// with it.
			batch[i].seq.eval = true
			failed = append(failed, batch[i])
		case errors.As(err, &rerr) && !errors.Is(err, redis.ErrClosed):
			p.log.Error("cluster: Redis refused a message", logKeyError, err)
			if j := batch[i]; j.seq != nil && j.seq.done != nil {
				j.seq.done(socketio.SequenceResult{Status: socketio.SequenceFailed, Err: err})
			}
		default:
			p.lastErr = err
			failed = append(failed, batch[i])
			down = true
		}
	}
	return failed, down
}

// close stops taking jobs and waits until those queued are sent, or ctx
// ends: then it gives up on them, and says how many were lost.
func (p *publisher) close(ctx context.Context) error {
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	wake(p.wake)
	var err error
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cancel()
		<-p.done
		if n := p.pending(); n > 0 {
			err = fmt.Errorf("cluster: %d messages not sent to Redis: %w", n, ctx.Err())
		}
	}
	p.cancel()
	return err
}

// sleepCtx waits d or until ctx ends, and reports whether ctx is alive.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
