package store_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// commits records what a CommitObserver hears.
type commits struct {
	mu    sync.Mutex
	sizes []int
	errs  []error
	took  []time.Duration
}

func (c *commits) Committed(n int, took time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sizes = append(c.sizes, n)
	c.errs = append(c.errs, err)
	c.took = append(c.took, took)
}

// TestCommitterObserver checks that the observer hears of each batch
// once, with its size, the time its Append took, and its error.
func TestCommitterObserver(t *testing.T) {
	f := held()
	f.fail = func(call int) error {
		if call == 2 {
			return errors.New("disk full")
		}
		return nil
	}
	var obs commits
	c := store.NewCommitter(f, store.CommitterConfig{MaxBatch: 10, Logger: quiet, Observer: &obs})
	var rec recorder
	c.Submit(msg("r", "first"), rec.done())
	f.waitEntered(t)
	for i := range 15 {
		c.Submit(msg("r", fmt.Sprint(i)), rec.done())
	}
	time.Sleep(30 * time.Millisecond) // the first Append takes that long
	f.hold <- struct{}{}
	for range 2 {
		f.waitEntered(t)
		f.hold <- struct{}{}
	}
	rec.wait(t)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if want := []int{1, 10, 5}; !slices.Equal(obs.sizes, want) {
		t.Errorf("sizes %v, want %v", obs.sizes, want)
	}
	for i, err := range obs.errs {
		if (err != nil) != (i == 1) {
			t.Errorf("batch %d: error %v", i, err)
		}
	}
	if len(obs.took) == 3 && obs.took[0] < 30*time.Millisecond {
		t.Errorf("the first batch took %v, want at least the 30ms it was held", obs.took[0])
	}
}
