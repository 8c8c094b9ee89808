package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrateTo brings the schema of pool up to version, and no further, as a
// parley that knew no later migration did.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, version int) error {
	return migrateTo(ctx, pool, migrations()[:version])
}
