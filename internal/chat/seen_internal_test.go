package chat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
)

// batchStore records the lists given to SeenIdentities.
type batchStore struct {
	store.Store
	mu      sync.Mutex
	batches []int
}

func (s *batchStore) SeenIdentities(ctx context.Context, ids []string, at time.Time) error {
	s.mu.Lock()
	s.batches = append(s.batches, len(ids))
	s.mu.Unlock()
	return s.Store.SeenIdentities(ctx, ids, at)
}

// TestSeenAllInBatches checks that closing records thousands of people
// online in a few writes, and only those whose tokens are kept.
func TestSeenAllInBatches(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := &batchStore{Store: memory.New(memory.Config{})}
	t.Cleanup(func() { _ = st.Close() })
	c, err := New(Config{Store: st, Logger: log}, socketio.NewServer(socketio.Config{Logger: log}).Of("/"))
	if err != nil {
		t.Fatal(err)
	}
	const kept, fleeting = 2500, 10
	c.mu.Lock()
	for i := range kept + fleeting {
		p := &person{id: fmt.Sprintf("guest:%d", i), kept: i < kept}
		c.people[p.id] = p
	}
	c.mu.Unlock()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []int{seenBatch, seenBatch, kept - 2*seenBatch}; fmt.Sprint(st.batches) != fmt.Sprint(want) {
		t.Errorf("SeenIdentities batches %v, want %v", st.batches, want)
	}
	for id, p := range c.people {
		if p.kept == p.seenAt.IsZero() {
			t.Errorf("%s (kept %v) seen at %v", id, p.kept, p.seenAt)
		}
	}
}
