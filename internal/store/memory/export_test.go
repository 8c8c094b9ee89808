package memory

import "github.com/parley-chat/parley/internal/store"

// Opener returns a function that opens Stores on one new, empty history,
// configured by cfg: a storetest.Factory's open, which the suite calls
// again to check that a closed Store's data is still there for the next.
func Opener(cfg Config) func() store.Store {
	d := newData(cfg)
	return func() store.Store { return &Store{d: d} }
}
