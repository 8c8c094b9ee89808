// Package open opens the store.Store that a DSN names, so that cmd/parley
// can take the choice of backend from a flag or the environment without
// knowing the backends:
//
//	postgres://user@host:5432/db?sslmode=disable   PostgreSQL (store/postgres)
//	postgresql://...                               PostgreSQL, too
//	/var/lib/parley/parley.db                      an SQLite file (store/sqlite)
//	(empty)                                        the SQLite file parley.db
package open
