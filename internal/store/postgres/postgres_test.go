package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/test/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// factory makes a schema of its own in the test database.
func factory(tb testing.TB) func() store.Store { return pgtest.Factory(tb) }

func TestStore(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, factory)
}

func BenchmarkStore(b *testing.B) {
	pgtest.DSN(b)
	storetest.Bench(b, factory)
}

func TestMigrations(t *testing.T) {
	name := pgtest.Schema(t)
	for range 2 { // the second Open finds the schema up to date
		s, err := postgres.OpenConfig(storetest.Context(t), pgtest.Config(t, name))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	conn, err := pgx.ConnectConfig(storetest.Context(t), pgtest.Config(t, name).ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n, version int
	if err := conn.QueryRow(storetest.Context(t), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &version); err != nil {
		t.Fatal(err)
	}
	if n != 4 || version != 4 {
		t.Errorf("schema_migrations has %d rows up to version %d, want 4 rows, up to version 4", n, version)
	}
	if _, err := conn.Exec(storetest.Context(t), `INSERT INTO messages (room, id, author, text, time) VALUES ('nowhere', 1, '', '', now())`); err == nil {
		t.Error("a message of an unknown room was inserted")
	}
	if _, err := conn.Exec(storetest.Context(t), `INSERT INTO schema_migrations (version, name) VALUES (99, 'future')`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.OpenConfig(storetest.Context(t), pgtest.Config(t, name)); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// TestConcurrentOpen checks that nodes starting together migrate once.
func TestConcurrentOpen(t *testing.T) {
	name := pgtest.Schema(t)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			s, err := postgres.OpenConfig(storetest.Context(t), pgtest.Config(t, name))
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
	}
}

// TestContextWhileLocked checks that an Append waiting for a room's row
// lock, held here by another transaction, gives up when its context ends.
func TestContextWhileLocked(t *testing.T) {
	name := pgtest.Schema(t)
	s, err := postgres.OpenConfig(storetest.Context(t), pgtest.Config(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateRoom(storetest.Context(t), "r"); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(storetest.Context(t), pgtest.Config(t, name).ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(storetest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(storetest.Context(t), `SELECT 1 FROM rooms WHERE name = 'r' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(storetest.Context(t), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Append(ctx, []store.Message{{Room: "r", Text: "blocked"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Append while locked: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Append took %v to give up, want about 200ms", d)
	}
	if err := tx.Rollback(storetest.Context(t)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Append(storetest.Context(t), []store.Message{{Room: "r", Text: "free"}})
	if err != nil || got[0].ID != 1 {
		t.Errorf("Append after the lock: %v, %v", got, err)
	}
}

func TestOpenBadDSN(t *testing.T) {
	if _, err := postgres.Open(storetest.Context(t), "postgres://%zz"); err == nil {
		t.Error("Open of a malformed DSN succeeded")
	}
}

// TestMigrateFromVersion1 makes a schema of version 1, with the rooms and
// messages a parley of that version wrote, and checks that Open migrates it
// to the current schema with the messages as they were, AuthorID empty.
func TestMigrateFromVersion1(t *testing.T) {
	name := pgtest.Schema(t)
	pool, err := pgxpool.NewWithConfig(storetest.Context(t), pgtest.Config(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.MigrateTo(storetest.Context(t), pool, 1); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	for _, q := range []string{
		`INSERT INTO rooms (name, created, last_id) VALUES ('general', $1, 2), ('quiet', $1, 0)`,
		`INSERT INTO messages (room, id, author, text, time, client_id) VALUES
	('general', 1, 'ann', 'hello', $1, 'c-1'),
	('general', 2, 'bob', 'hi ann 👋', $1::timestamptz + interval '1 second', '')`,
	} {
		if _, err := pool.Exec(storetest.Context(t), q, at); err != nil {
			t.Fatal(err)
		}
	}
	s, err := postgres.OpenConfig(storetest.Context(t), pgtest.Config(t, name))
	if err != nil {
		t.Fatalf("Open of a version 1 schema: %v", err)
	}
	defer s.Close()
	want := []store.Message{
		{Room: "general", ID: 1, Author: "ann", Text: "hello", Time: at, ClientID: "c-1"},
		{Room: "general", ID: 2, Author: "bob", Text: "hi ann 👋", Time: at.Add(time.Second)},
	}
	got, err := s.History(storetest.Context(t), "general", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages after migrating, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("after migrating:\n got %+v\nwant %+v", got[i], want[i])
		}
	}
	// A room is active from its newest message, or its creation if later.
	for name, active := range map[string]time.Time{"general": at.Add(time.Second), "quiet": at} {
		r, err := s.Room(storetest.Context(t), name)
		if err != nil || !r.Active.Equal(active) {
			t.Errorf("room %s after migrating: %+v, %v; want Active %v", name, r, err, active)
		}
	}
	more, err := s.Append(storetest.Context(t), []store.Message{
		{Room: "general", Text: "retry", ClientID: "c-1", AuthorID: "id-eve"},
		{Room: "general", Text: "new", AuthorID: "id-ann"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if more[0] != want[0] || more[1].ID != 3 || more[1].AuthorID != "id-ann" {
		t.Errorf("Append after migrating: %+v", more)
	}
	var version int
	if err := pool.QueryRow(storetest.Context(t), `SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != 4 {
		t.Errorf("after Open, the schema is at version %d, want 4", version)
	}
}

// TestMigrateRoomKeys stores, in a schema of version 3, rooms whose names
// look alike, and checks that version 4 merges them
// (storetest.CheckKeyMigration).
func TestMigrateRoomKeys(t *testing.T) {
	name := pgtest.Schema(t)
	pool, err := pgxpool.NewWithConfig(storetest.Context(t), pgtest.Config(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.MigrateTo(storetest.Context(t), pool, 3); err != nil {
		t.Fatal(err)
	}
	for _, r := range storetest.KeyMigrationRooms() {
		if _, err := pool.Exec(storetest.Context(t), `INSERT INTO rooms (name, created, active, last_id) VALUES ($1, $2, $3, $4)`,
			r.Name, r.Created, r.Active, len(r.Messages)); err != nil {
			t.Fatal(err)
		}
		for i, m := range r.Messages {
			if _, err := pool.Exec(storetest.Context(t), `INSERT INTO messages (room, id, author, text, time, client_id, author_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				r.Name, i+1, m.Author, m.Text, m.Time, m.ClientID, m.AuthorID); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := postgres.OpenConfig(storetest.Context(t), pgtest.Config(t, name))
	if err != nil {
		t.Fatalf("Open of a version 3 schema: %v", err)
	}
	defer s.Close()
	storetest.CheckKeyMigration(t, s)
}
