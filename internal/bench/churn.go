package bench

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// The churn (Config.Churn): clients leave and new ones join in their
// place all the time, while the others stay.
const (
	// MaxChurn bounds Config.Churn, in clients per second.
	MaxChurn = 1_000
	// churnTick is how often the churn looks at what is due.
	churnTick = 10 * time.Millisecond
	// churnTries is how many clients of the pool the churn picks, at
	// most, to find one still connected.
	churnTries = 8
)

// churns reports whether receiver i (counted among all clients) may leave
// and be replaced: every other receiver does, so that the others, spread
// over the connection order and the counter shards as well, stay through
// the run.
func churns(cfg Config, i int) bool {
	return cfg.Churn > 0 && i >= cfg.Senders && (i-cfg.Senders)%2 == 1
}

// churner makes Config.Churn clients per second leave, and a new client
// join in the place of each, from start until end or stop. The new
// clients churn too. It returns once the clients it made leave have sent
// their goodbyes.
func (r *runner) churner(ctx context.Context, start, end time.Time, stop <-chan struct{}) {
	var pool []*client
	for _, c := range r.clients {
		if c.churns && c.state.Load() == stateConnected {
			pool = append(pool, c)
		}
	}
	var leaving sync.WaitGroup
	defer leaving.Wait()
	select {
	case <-stop:
		return
	case <-time.After(time.Until(start)):
	}
	t := time.NewTicker(churnTick)
	defer t.Stop()
	var done int64
	for {
		now := time.Now()
		if !now.Before(end) {
			return
		}
		due := int64(now.Sub(start).Seconds() * r.cfg.Churn)
		for ; done < due; done++ {
			var c *client
			for range churnTries {
				if len(pool) == 0 {
					break
				}
				i := rand.IntN(len(pool))
				cand := pool[i]
				st := cand.state.Load()
				if st == stateConnected || st == stateConnecting {
					if st == stateConnected {
						pool[i] = pool[len(pool)-1]
						pool = pool[:len(pool)-1]
						c = cand
						break
					}
					continue // a replacement still joining: another
				}
				pool[i] = pool[len(pool)-1] // failed or dropped: gone
				pool = pool[:len(pool)-1]
			}
			if c == nil {
				r.noteKind("churn", "no connected client to replace")
				continue
			}
			leaving.Go(c.leave)
			if nc := r.replace(ctx); nc != nil {
				pool = append(pool, nc)
			}
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// replace starts a new client, which churns, unless the run is closing.
func (r *runner) replace(ctx context.Context) *client {
	r.churnMu.Lock()
	defer r.churnMu.Unlock()
	if r.closed || ctx.Err() != nil {
		return nil
	}
	c := r.newClient(r.nextID)
	r.nextID++
	c.churns, c.replacement = true, true
	r.extra = append(r.extra, c)
	r.readers.Add(1)
	go c.run(ctx)
	return c
}

// leave makes the client leave the chat, as a person closing the page
// does: it leaves the namespace and closes its connection.
func (c *client) leave() {
	c.mu.Lock()
	c.closing = true
	l := c.link
	c.mu.Unlock()
	c.state.Store(stateLeft)
	c.r.nLeft.Add(1)
	if l != nil {
		l.close(true, closeTimeout)
	}
}
