package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/parley-chat/parley/internal/store"
)

// ClaimName's group commit. A claim that writes is a transaction that
// syncs the log to disk, and the writer runs one transaction at a time:
// people who come together (many new ones, or a server's people coming
// back after a restart) would each wait for the syncs of all before them.
// So a claim made while another batch is under way waits for it to end,
// then goes with every claim that came meanwhile, one after the other,
// each in a savepoint of its own, in one transaction and one sync. A claim
// still sees the claims before it, in its batch or before, and the
// database's write lock keeps each atomic between processes as before.

// claimBatchTimeout bounds a batch's transaction: more than the writer's
// wait for another process's lock.
const claimBatchTimeout = 2 * busyTimeout

// maxClaimBatch bounds the claims of one transaction.
const maxClaimBatch = 256

// claims is a Store's queue of claims. It is safe for concurrent use.
type claims struct {
	mu      sync.Mutex
	pending []*claimReq
	running bool // a goroutine commits batches until pending is empty
}

// claimReq is one claim waiting for its batch.
type claimReq struct {
	ctx  context.Context
	c    store.Claim
	done chan struct{} // closed once id and err are set
	id   store.Identity
	err  error
}

// claim queues c and waits for its batch to be committed.
func (s *Store) claim(ctx context.Context, c store.Claim) (store.Identity, error) {
	if err := c.Validate(); err != nil {
		return store.Identity{}, err
	}
	r := &claimReq{ctx: ctx, c: c, done: make(chan struct{})}
	q := &s.claims
	q.mu.Lock()
	q.pending = append(q.pending, r)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go s.commitClaims()
	}
	// Not ctx.Done: once queued, the claim may be committed, and its
	// caller must know whether it was. A batch is bounded in time.
	<-r.done
	return r.id, r.err
}

// commitClaims commits batches of the pending claims until there are
// none. The callers of the claims it commits are in their ClaimName, so
// that Close waits for it to be done with the database.
func (s *Store) commitClaims() {
	q := &s.claims
	for {
		q.mu.Lock()
		n := min(len(q.pending), maxClaimBatch)
		batch := q.pending[:n:n]
		q.pending = q.pending[n:]
		if n == 0 {
			q.pending = nil
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		s.commitBatch(batch)
	}
}

// commitBatch runs batch in one transaction and sets each claim's
// result: a claim that fails is rolled back to its savepoint, the others
// stay; a failed commit fails them all.
func (s *Store) commitBatch(batch []*claimReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err // given up on before its turn: not claimed
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), claimBatchTimeout)
	defer cancel()
	fail := func(err error) {
		for _, r := range live {
			if r.err == nil {
				r.id, r.err = store.Identity{}, err
			}
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		fail(err)
		return
	}
	defer tx.Rollback()
	wrote := false
	for _, r := range live {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT claim`); err != nil {
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		id, w, err := claimIn(ctx, tx, r.c)
		if err != nil {
			r.err = err
			if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO claim`); rerr != nil {
				fail(fmt.Errorf("roll back a claim: %w", errors.Join(err, rerr)))
				return
			}
		} else {
			r.id = id
			wrote = wrote || w
		}
		if _, err := tx.ExecContext(ctx, `RELEASE claim`); err != nil {
			fail(fmt.Errorf("release a claim: %w", err))
			return
		}
	}
	if !wrote {
		return // read only: the deferred rollback ends it, with no sync
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("commit %d claims: %w", len(live), err))
	}
}
