// Package postgres is the store.Store of a cluster of parley nodes: a
// PostgreSQL database shared by all of them, through pgx (pgxpool).
//
// # Concurrency between nodes
//
// Appends from several nodes, or from several connections of one node, to
// one room are serialised by a row lock on the room's row in rooms: the
// first statements of Append insert the room's row if it is new (INSERT
// ... ON CONFLICT DO NOTHING, on any of its unique keys: a racing insert is
// waited for) and reserve as many IDs as the batch has messages in the
// room with UPDATE ... RETURNING last_id, which locks the row until
// commit. Only then does Append look up
// the ClientIDs already stored, in a new snapshot (READ COMMITTED), so a
// retry that raced with its original sees it. A batch locks its rooms in
// name order, so that two batches with rooms in common cannot deadlock.
// IDs left unused by duplicates are given back before commit, so IDs stay
// dense. Reads take no locks.
//
// ClaimName serialises the claims of one name key between nodes with a
// transaction-scoped advisory lock on the key (and the schema), taken
// before its holder is read: a row lock could not cover a key no row holds
// yet. The holder's row is read FOR UPDATE, so that the removal of an
// expired holder and a SeenIdentity of it are ordered. Constant inserts
// with ON CONFLICT DO NOTHING, which waits for a racing insert to commit,
// then reads what won.
//
// # Durability
//
// A commit returns after PostgreSQL has flushed its write-ahead log, as
// long as the server runs with its defaults (fsync on,
// synchronous_commit on). Group commit (store.Committer) makes one commit,
// and one flush, per batch.
//
// # Schema
//
// The schema is versioned: each migration in migrate.go is applied once, in
// order, in one transaction on Open, recorded in schema_migrations and
// serialised between nodes by an advisory lock. The tables live in the
// first schema of the connection's search_path, so that several databases
// of parley (or the tests) can share one PostgreSQL database.
package postgres
