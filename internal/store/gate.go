package store

import (
	"context"
	"fmt"
	"sync"
)

// Gate lets a backend's calls run while it is open, and its Close wait for
// them. The zero value is an open gate; it is safe for concurrent use.
type Gate struct {
	mu     sync.RWMutex
	closed bool
}

// Enter admits a call, reporting ErrClosed (or ctx's error) prefixed with
// what otherwise. The call must call the returned func when it is done.
func (g *Gate) Enter(ctx context.Context, what string) (func(), error) {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return nil, fmt.Errorf("%s: %w", what, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		g.mu.RUnlock()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return g.mu.RUnlock, nil
}

// Close waits for the calls admitted, then runs release, once: a second
// Close runs nothing and returns nil.
func (g *Gate) Close(release func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return release()
}
