// Package sqlite is the store.Store of a single parley node: an SQLite
// database file, through modernc.org/sqlite (pure Go, no cgo).
//
// # Durability
//
// The database runs in WAL mode with synchronous=FULL: every commit
// appends to the write-ahead log and syncs it to disk before Append
// returns, so an acknowledged message survives the process being killed
// and the machine losing power. (With synchronous=NORMAL a WAL commit is
// synced only at the next checkpoint: it survives the process dying, since
// the written pages sit in the operating system's cache, but the last
// transactions can roll back on power loss or a kernel crash. A chat that
// has acknowledged a message must not lose it, so FULL; group commit in
// store.Committer pays for its one sync per transaction.)
//
// # Connections
//
// A Store has one writer connection and a small pool of read-only
// connections. SQLite lets one writer at a time into a database; with a
// single writer connection, Append calls queue in database/sql for it
// instead of retrying on SQLITE_BUSY, and writes begin with BEGIN IMMEDIATE
// so that another process sharing the file cannot deadlock an upgrading
// transaction. In WAL mode readers do not block the writer nor wait for it,
// so History and Since, which a chat runs for each joining client, are
// served by the pool while a commit is syncing. ClaimName and Constant read
// and write in one such write transaction, so the database's write lock
// makes each atomic, between processes sharing the file too; claims made
// together share one, each in a savepoint, and one sync (group commit).
//
// # Schema
//
// The schema is versioned: each migration in migrate.go is applied once, in
// order, in one transaction on Open, and recorded in schema_migrations.
// Times are stored as integer milliseconds since the Unix epoch, UTC.
package sqlite
