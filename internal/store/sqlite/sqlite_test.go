package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
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
	if n != 4 || version != 4 {
		t.Errorf("schema_migrations has %d rows up to version %d, want 4 rows, up to version 4", n, version)
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

// TestMigrateFromVersion1 opens a database file that the parley of schema
// version 1 made (testdata/schema-v1.sqlite: rooms quiet, general and
// random, three messages, two with a ClientID) and checks that it migrates
// to the current schema with its rooms and messages as they were, AuthorID
// empty, and works on.
func TestMigrateFromVersion1(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "schema-v1.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	if err := os.WriteFile(path, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	version := func() int {
		t.Helper()
		db := rawDB(t, path)
		var v int
		if err := db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(); v != 1 {
		t.Fatalf("the fixture is at version %d, want 1", v)
	}

	s, err := sqlite.Open(storetest.Context(t), path)
	if err != nil {
		t.Fatalf("Open of a version 1 database: %v", err)
	}
	defer s.Close()
	at := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	want := map[string][]store.Message{
		"general": {
			{Room: "general", ID: 1, Author: "ann", Text: "hello", Time: at, ClientID: "c-1"},
			{Room: "general", ID: 2, Author: "bob", Text: "hi ann 👋", Time: at.Add(time.Second)},
		},
		"random": {{Room: "random", ID: 1, Author: "ann", Text: "elsewhere", Time: at.Add(2 * time.Second), ClientID: "c-2"}},
		"quiet":  {},
	}
	rooms, err := s.Rooms(storetest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != len(want) {
		t.Errorf("Rooms after migrating: %+v, want %d rooms", rooms, len(want))
	}
	for _, r := range rooms {
		if r.LastID != int64(len(want[r.Name])) {
			t.Errorf("room %s: LastID %d, want %d", r.Name, r.LastID, len(want[r.Name]))
		}
		// Active from its newest message, or its creation if later.
		active := r.Created
		if msgs := want[r.Name]; len(msgs) > 0 && msgs[len(msgs)-1].Time.After(active) {
			active = msgs[len(msgs)-1].Time
		}
		if !r.Active.Equal(active) {
			t.Errorf("room %s: Active %v after migrating, want %v (created %v)", r.Name, r.Active, active, r.Created)
		}
		got, err := s.Since(storetest.Context(t), r.Name, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want[r.Name]) {
			t.Fatalf("room %s: %d messages after migrating, want %d", r.Name, len(got), len(want[r.Name]))
		}
		for i, m := range got {
			if m != want[r.Name][i] {
				t.Errorf("room %s, after migrating:\n got %+v\nwant %+v", r.Name, m, want[r.Name][i])
			}
		}
	}
	// It works on: a retry of an old message is the old message, new ones
	// carry their AuthorID, identities can be claimed.
	got, err := s.Append(storetest.Context(t), []store.Message{
		{Room: "general", Author: "ann", Text: "hello again", ClientID: "c-1", AuthorID: "id-ann"},
		{Room: "general", Author: "ann", Text: "new", AuthorID: "id-ann"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != want["general"][0] || got[1].ID != 3 || got[1].AuthorID != "id-ann" {
		t.Errorf("Append after migrating: %+v", got)
	}
	id, err := s.ClaimName(storetest.Context(t), store.Claim{ID: "id-ann", Name: "ann", Key: "ann", Now: at, Reserve: time.Hour})
	if err != nil || id.ID != "id-ann" {
		t.Errorf("ClaimName after migrating: %+v, %v", id, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 4 {
		t.Errorf("after Open, the schema is at version %d, want 4", v)
	}
}

// TestMigrateRoomKeys stores, in a schema of version 3, rooms whose names
// look alike, and checks that version 4 merges them
// (storetest.CheckKeyMigration).
func TestMigrateRoomKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db := rawDB(t, path)
	if err := sqlite.MigrateTo(storetest.Context(t), db, 3); err != nil {
		t.Fatal(err)
	}
	for _, r := range storetest.KeyMigrationRooms() {
		if _, err := db.Exec(`INSERT INTO rooms (name, created, active, last_id) VALUES (?, ?, ?, ?)`,
			r.Name, r.Created.UnixMilli(), r.Active.UnixMilli(), len(r.Messages)); err != nil {
			t.Fatal(err)
		}
		for i, m := range r.Messages {
			if _, err := db.Exec(`INSERT INTO messages (room, id, author, text, time, client_id, author_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				r.Name, i+1, m.Author, m.Text, m.Time.UnixMilli(), m.ClientID, m.AuthorID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(storetest.Context(t), path)
	if err != nil {
		t.Fatalf("Open of a version 3 database: %v", err)
	}
	defer s.Close()
	storetest.CheckKeyMigration(t, s)
}
