// Package open opens the store.Store that a DSN names, so that cmd/parley
// can take the choice of backend from a flag or the environment without
// knowing the backends:
//
//	postgres://user@host:5432/db?sslmode=disable   PostgreSQL (store/postgres)
//	postgresql://...                               PostgreSQL, too
//	/var/lib/parley/parley.db                      an SQLite file (store/sqlite)
//	(empty)                                        the SQLite file parley.db
//	memory                                         process memory (store/memory)
//
// The memory store is for development, tests and benchmarks: its history is
// lost when the process exits, and each room keeps only its newest
// memory.DefaultMaxMessages messages.
package open
