// Package memory is a store.Store that keeps history in process memory,
// for development, tests and benchmarks: nothing is written to disk, and
// everything is lost when the process exits or the Store is closed. It is
// what `--store memory` selects, and the baseline the benchmarks compare
// the durable backends against.
//
// It keeps the contract of the other backends (IDs dense per room from 1,
// ClientID de-duplication, paging, ErrInvalid, ErrClosed after Close) and
// runs storetest's conformance suite, with one difference: memory is
// bounded. Each room keeps its newest Config.MaxMessages messages
// (DefaultMaxMessages by default); storing one more drops the oldest. IDs
// go on counting and Room.LastID is unaffected, but History and Since
// return only the messages kept: paging back with History simply ends (a
// page comes back short, then empty) at the oldest kept message, and Since
// from an ID older than that starts at the oldest kept one, with a gap. A
// ClientID is remembered as long as its message is kept. Rooms, which hold
// no messages of their own, are never dropped. Identities are kept until
// PruneIdentities removes them, and the constants for as long as the
// Store: a new Store, and so every start of the process, makes new ones,
// which is how a page tells that the history it knew is gone (the store
// epoch).
//
// # Concurrency
//
// Each room is a ring buffer behind its own sync.RWMutex, so appends are
// O(1) per message, a read copies just the page asked for, and rooms do
// not contend with one another; the map of rooms has an RWMutex of its
// own, held only to find or add a room. Append locks the rooms of its
// batch in key order, so batches of several rooms cannot deadlock. The
// identities and constants are behind one more mutex, taken with no other
// held, so a claim of a name is one atomic step. No lock is held while
// waiting for anything but another lock.
package memory
