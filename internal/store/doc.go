// Package store is parley's message history and the identities of the
// people who write it: the Store interface that the chat writes messages
// to, reads scrollback from and keeps identities in, the Message, Room and
// Identity types, and Committer, which batches messages from many
// connections into few durable transactions.
//
// The backends are leaf packages that depend on this one and on nothing
// else of parley: store/sqlite (an embedded database file) and
// store/postgres (a shared server, for several parley nodes), and
// store/memory (process memory, for development and benchmarks). Package
// store/open picks one from a DSN; storetest is the conformance suite every
// backend runs.
//
// # Identifiers and order
//
// Each room has its own sequence of message IDs: 1, 2, 3, ... with no gap,
// assigned by the backend when the message is committed. A client that has
// seen message n of a room asks Since(room, n) after a reconnect and misses
// nothing; History(room, before, limit) pages backwards for scrollback.
// Message.ClientID makes retries idempotent: a client that resends a
// message whose acknowledgement it never got, with the same ClientID, gets
// back the message stored the first time instead of a duplicate.
//
// # Rooms
//
// A room exists from its creation (CreateRoom, or the first Append of a
// message to it) for good, with its history. Names that look alike name one
// room: a room is found by the key of its name (RoomKey, the confusable
// skeleton people's names are compared by), which the store keeps, unique,
// and keeps the name it was created with. Every method that takes a room's
// name takes any spelling of it; what it returns carries the room's own.
// The schema that brought keys merged the rooms whose names share one: the
// oldest kept its name and messages, and the others' messages came after
// its own. Its Active time says when it
// was last in use: created, written to, or touched by the application
// (TouchRooms) while people are in it. ListRooms pages through the rooms
// by name, optionally only those active lately, so that a listing stays
// short however many rooms were ever made; CountRooms counts those.
//
// # Identities
//
// A person is an Identity: an ID for good, the name they hold, and the
// hash of the secret that proves them (empty when the host application
// vouches for them). One identity at a time holds a name's key (its
// confusable skeleton, which the caller computes: the store compares keys
// as bytes and knows nothing of names). ClaimName takes a key for an
// identity, atomically, unless another identity holds it and was seen
// within the reserve the claim gives; SeenIdentity moves LastSeen on (never
// back); PruneIdentities lets go of identities unseen for long. Messages
// carry their author's identity ID, AuthorID, as given. Times are kept as
// message times are, in UTC to the millisecond.
//
// Constant keeps a value made once per database (the key of guest tokens,
// the store's epoch): the first value stored under a name is the value for
// good, whoever races to store it.
//
// # Durability
//
// When Append returns without error, its messages are committed: they
// survive a crash of the process (and, as far as the backend's storage
// honours fsync, of the machine); store/memory keeps them only as long as
// the process lives. Acknowledge a message to its sender only
// after that. Committer keeps that rule while amortising the cost of a
// commit over everything that arrived during the previous one (group
// commit).
//
// # Concurrency
//
// Committer reports outcomes on one goroutine, for every room, so a done
// callback that waits on a lock delays every message after it. The order
// of the package's locks among the server's is written down in
// docs/locking.md.
package store
