package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the database used when neither --postgres nor
// PARLEY_TEST_POSTGRES names one.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// pgTimeout bounds each statement the benchmark runs itself.
const pgTimeout = 30 * time.Second

// postgres is the database the runs' schemas are made in.
type postgres struct {
	dsn string
}

// version returns the server's version, and checks that it answers.
func (p postgres) version(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return "", fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", fmt.Errorf("PostgreSQL version: %w", err)
	}
	return v, nil
}

// newSchema creates a schema of its own for a run, and returns its name.
func (p postgres) newSchema(ctx context.Context) (string, error) {
	name := "parley_bench_" + strings.ToLower(rand.Text()[:12])
	return name, p.exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize())
}

// dropSchema drops a run's schema and what is in it.
func (p postgres) dropSchema(ctx context.Context, name string) error {
	return p.exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
}

func (p postgres) exec(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// storeURL is the --store of the nodes of a run: the database, in the
// run's schema.
func (p postgres) storeURL(schema string) (string, error) {
	u, err := url.Parse(p.dsn)
	if err != nil {
		return "", fmt.Errorf("the PostgreSQL URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
