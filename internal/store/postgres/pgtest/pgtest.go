// Package pgtest gives tests a PostgreSQL message store of their own: a
// schema in the test database named by PARLEY_TEST_POSTGRES, dropped when
// the test ends. Tests skip when the variable is unset. It is for tests
// only.
package pgtest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/postgres"
)

// EnvDSN names the variable that holds the DSN of the test database.
const EnvDSN = "PARLEY_TEST_POSTGRES"

// DSN returns the DSN of the test database, or skips the test.
func DSN(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv(EnvDSN)
	if d == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", EnvDSN)
	}
	return d
}

// Schema creates a schema of its own for the test, dropped at its end, and
// returns its name.
func Schema(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, DSN(tb))
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	name := "parley_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, DSN(tb))
		if err != nil {
			tb.Errorf("connect to drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Config returns the pool configuration of the test database, in schema.
func Config(tb testing.TB, schema string) *pgxpool.Config {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(DSN(tb))
	if err != nil {
		tb.Fatalf("%s: %v", EnvDSN, err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	return cfg
}

// Factory makes a schema of its own in the test database and returns a
// function that opens a store in it, as often as the test needs. Each store
// is closed when the test ends, if the test has not closed it, so that no
// connection pool outlives the test. Cleanups run last registered first: a
// store opened before the server that uses it is closed after the server.
func Factory(tb testing.TB) func() store.Store {
	name := Schema(tb)
	return func() store.Store {
		tb.Helper()
		s, err := postgres.OpenConfig(context.Background(), Config(tb, name))
		if err != nil {
			tb.Fatalf("open: %v", err)
		}
		tb.Cleanup(func() { _ = s.Close() })
		return s
	}
}
