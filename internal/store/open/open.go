package open

import (
	"context"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// DefaultPath is the SQLite database file Open uses for an empty DSN, in
// the working directory.
const DefaultPath = "parley.db"

// Memory is the DSN of the in-memory store (store/memory), with its
// default configuration. (An SQLite file called memory is "./memory".)
const Memory = "memory"

// Open opens the store that dsn names: a new, empty in-memory store for
// Memory; a PostgreSQL database for a URL whose scheme is postgres or
// postgresql (as pgx parses it); otherwise the SQLite database file at path
// dsn, created if missing (DefaultPath when dsn is empty). A database's
// schema is migrated on opening. The caller closes the store. PostgreSQL's
// key=value connection strings ("host=... dbname=...") are not recognised:
// use the URL form.
func Open(ctx context.Context, dsn string) (store.Store, error) {
	if dsn == Memory {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return memory.New(memory.Config{}), nil
	}
	if IsPostgres(dsn) {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return s, nil
	}
	if dsn == "" {
		dsn = DefaultPath
	}
	s, err := sqlite.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// IsPostgres reports whether Open takes dsn for a PostgreSQL URL.
func IsPostgres(dsn string) bool {
	scheme, _, ok := strings.Cut(dsn, "://")
	return ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql"))
}
