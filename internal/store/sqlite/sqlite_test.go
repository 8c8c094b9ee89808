package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/test/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// factory makes a database file in a temporary directory.
func factory(tb testing.TB) func() store.Store {
	path := filepath.Join(tb.TempDir(), "parley.db")
	return func() store.Store {
		tb.Helper()
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		return s
	}
}

func TestStore(t *testing.T) { storetest.Run(t, factory) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, factory) }

// rawDB opens path directly, closed at the end of the test.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(storetest.Context(t), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"}, // persistent: readable from any connection
	}
	db := rawDB(t, path)
	for _, tc := range tests {
		var got string
		if err := db.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	// The per-connection settings, as the store's writer sees them.
	for pragma, want := range map[string]int{"synchronous": 2, "foreign_keys": 1, "busy_timeout": 5000} {
		var got int
		if err := sqlite.WriterPragma(s, pragma, &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("writer %s = %d, want %d", pragma, got, want)
		}
	}
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	for range 2 { // the second Open finds the schema up to date
		s, err := sqlite.Open(storetest.Context(t), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db := rawDB(t, path)
	var n, version int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &version); err != nil {
		t.Fatal(err)
	}
	if n != 1 || version != 1 {
		t.Errorf("schema_migrations has %d rows up to version %d, want 1 row, version 1", n, version)
	}
	// Messages cannot refer to a room that does not exist.
	if _, err := db.Exec(`PRAGMA foreign_keys = ON`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO messages (room, id, author, text, time) VALUES ('nowhere', 1, '', '', 0)`); err == nil {
		t.Error("a message of an unknown room was inserted")
	}

	// A schema from the future is left alone.
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied) VALUES (99, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(storetest.Context(t), path); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro", filepath.Join(t.TempDir(), "missing", "dir", "x.db")} {
		if s, err := sqlite.Open(storetest.Context(t), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestContextWhileLocked checks that an Append waiting for the database's
// write lock, held here by another connection, gives up when its context
// ends rather than after the busy timeout.
func TestContextWhileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(storetest.Context(t), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := rawDB(t, path)
	conn, err := db.Conn(storetest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(storetest.Context(t), `BEGIN IMMEDIATE`); err != nil {
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
	if _, err := conn.ExecContext(storetest.Context(t), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	// The store works on.
	got, err := s.Append(storetest.Context(t), []store.Message{{Room: "r", Text: "free"}})
	if err != nil || got[0].ID != 1 {
		t.Errorf("Append after the lock: %v, %v", got, err)
	}
}
