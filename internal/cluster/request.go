package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/cluster/wire"
)

// request is a question to the other nodes that waits for their answers.
// Its fields are guarded by Node.mu; done is closed once, when it is
// answered, or has failed.
type request struct {
	answer   wire.Type // the type of the answers
	expected int
	from     map[string]bool
	replies  []*wire.Message
	err      error
	done     chan struct{}
	once     sync.Once
}

// addLocked takes an answer and reports whether the request is complete.
func (r *request) addLocked(m *wire.Message) bool {
	if m.Type != r.answer || r.from[m.UID] {
		return false
	}
	r.from[m.UID] = true
	r.replies = append(r.replies, m)
	return len(r.replies) >= r.expected
}

// dropNodeLocked expects no answer from node uid, which closed, and reports
// whether the request is complete.
func (r *request) dropNodeLocked(uid string) bool {
	if r.from[uid] {
		return false
	}
	r.expected--
	if len(r.replies) >= r.expected {
		r.finish(nil)
		return true
	}
	return false
}

func (r *request) finish(err error) {
	r.once.Do(func() {
		r.err = err
		close(r.done)
	})
}

func (r *request) fail(err error) { r.finish(err) }

// ask publishes request m and waits for expected answers, until ctx ends
// or RequestTimeout; then it returns the answers it has with ErrTimeout.
func (nd *Node) ask(ctx context.Context, a *adapter, m *wire.Message, expected int) ([]*wire.Message, error) {
	answer := wire.TypeFetchSocketsResponse
	if m.Type == wire.TypeServerSideEmit {
		answer = wire.TypeServerSideEmitResponse
	}
	m.RequestID = nd.newRequestID()
	r := &request{answer: answer, expected: expected, from: make(map[string]bool), done: make(chan struct{})}
	nd.mu.Lock()
	if nd.closed {
		nd.mu.Unlock()
		return nil, ErrClosed
	}
	nd.requests[m.RequestID] = r
	nd.mu.Unlock()
	if err := a.publish(m); err != nil {
		nd.mu.Lock()
		delete(nd.requests, m.RequestID)
		nd.mu.Unlock()
		return nil, err
	}
	t := time.NewTimer(nd.cfg.RequestTimeout)
	defer t.Stop()
	var err error
	select {
	case <-r.done:
	case <-t.C:
		err = ErrTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	nd.mu.Lock()
	delete(nd.requests, m.RequestID)
	replies, want := r.replies, r.expected
	if err == nil {
		err = r.err
	}
	nd.mu.Unlock()
	if err != nil {
		return replies, fmt.Errorf("cluster: %v: %d of %d nodes answered: %w", m.Type, len(replies), want, err)
	}
	return replies, nil
}

// onResponse hands an answer to the request waiting for it.
func (nd *Node) onResponse(m *wire.Message) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	r := nd.requests[m.RequestID]
	if r != nil && r.addLocked(m) {
		delete(nd.requests, m.RequestID)
		r.finish(nil)
	}
}
