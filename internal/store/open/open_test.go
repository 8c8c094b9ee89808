package open_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
	"github.com/parley-chat/parley/internal/store/open"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/test/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

func TestIsPostgres(t *testing.T) {
	tests := []struct {
		dsn  string
		want bool
	}{
		{"postgres://u@h/db", true},
		{"postgresql://u@h:5432/db?sslmode=disable", true},
		{"POSTGRES://h/db", true},
		{"", false},
		{"parley.db", false},
		{"/var/lib/parley/parley.db", false},
		{"postgres.db", false},
		{"./postgres://x", false},
		{"mysql://u@h/db", false},
	}
	for _, tc := range tests {
		if got := open.IsPostgres(tc.dsn); got != tc.want {
			t.Errorf("IsPostgres(%q) = %v, want %v", tc.dsn, got, tc.want)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct{ dsn, file string }{
		{"", filepath.Join(dir, open.DefaultPath)},
		{filepath.Join(dir, "chat.db"), filepath.Join(dir, "chat.db")},
		{"relative.db", filepath.Join(dir, "relative.db")},
	} {
		s, err := open.Open(storetest.Context(t), tc.dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.dsn, err)
		}
		if _, ok := s.(*sqlite.Store); !ok {
			t.Errorf("Open(%q) is a %T, want *sqlite.Store", tc.dsn, s)
		}
		if _, err := s.Append(storetest.Context(t), []store.Message{{Room: "r", Text: "x"}}); err != nil {
			t.Error(err)
		}
		s.Close()
		if _, err := os.Stat(tc.file); err != nil {
			t.Errorf("Open(%q): %v", tc.dsn, err)
		}
	}
}

func TestOpenMemory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stores []store.Store
	for range 2 {
		s, err := open.Open(storetest.Context(t), "memory")
		if err != nil {
			t.Fatalf("Open(memory): %v", err)
		}
		defer s.Close()
		if _, ok := s.(*memory.Store); !ok {
			t.Errorf("Open(memory) is a %T, want *memory.Store", s)
		}
		stores = append(stores, s)
	}
	// Each Open is a new, empty history.
	if _, err := stores[0].Append(storetest.Context(t), []store.Message{{Room: "r", Text: "x"}}); err != nil {
		t.Fatal(err)
	}
	if rooms, err := stores[1].Rooms(storetest.Context(t)); err != nil || len(rooms) != 0 {
		t.Errorf("Rooms of the second memory store: %+v, %v; want none", rooms, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "memory")); !os.IsNotExist(err) {
		t.Errorf("Open(memory) made a file: %v", err)
	}

	// A path says SQLite.
	s, err := open.Open(storetest.Context(t), "./memory")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*sqlite.Store); !ok {
		t.Errorf("Open(./memory) is a %T, want *sqlite.Store", s)
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn := os.Getenv("PARLEY_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("PostgreSQL test skipped: set PARLEY_TEST_POSTGRES to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	// A schema of its own, named in the DSN as a run-time parameter.
	ctx := storetest.Context(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	name := "parley_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skipf("PARLEY_TEST_POSTGRES is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()

	s, err := open.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Errorf("Open is a %T, want *postgres.Store", s)
	}
	if _, err := s.Append(ctx, []store.Message{{Room: "r", Text: "x"}}); err != nil {
		t.Error(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+name+".messages").Scan(&n); err != nil || n != 1 {
		t.Errorf("messages in schema %s: %d, %v; want 1", name, n, err)
	}
}
