package sqlite

import (
	"context"
	"database/sql"
)

// WriterPragma reads a PRAGMA on the writer connection of s into dst.
func WriterPragma(s *Store, name string, dst any) error {
	return s.w.QueryRow("PRAGMA " + name).Scan(dst)
}

// MigrateTo brings the schema of db up to version, and no further, as a
// parley that knew no later migration did.
func MigrateTo(ctx context.Context, db *sql.DB, version int) error {
	return migrateTo(ctx, db, migrations()[:version])
}
