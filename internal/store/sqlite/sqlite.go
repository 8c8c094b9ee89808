package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeout is how long a connection waits for a lock held by another
// process (or by the writer, for a reader during a checkpoint) before
// failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

var _ store.Store = (*Store)(nil)

// Store is a store.Store in an SQLite database file. It is safe for
// concurrent use.
type Store struct {
	w *sql.DB // the writer: one connection
	r *sql.DB // read-only connections

	// Statements prepared once: with one writer connection, a transaction
	// reuses the writer's compiled statements (Tx.StmtContext).
	reserve, find, insert, setLast, touch       *sql.Stmt // on w
	history, since, rooms, room, page, countAct *sql.Stmt // on r

	// gate admits calls while the store is open; Close waits for them.
	gate store.Gate
	// claims queues ClaimName's claims for group commit (claims.go).
	claims claims
}

// Open opens the SQLite database at path, creating the file if it does not
// exist, and migrates its schema. path is a file name, not a URI: it must
// not be ":memory:", start with "file:" or contain '?'.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open %q: not a database file path", path)
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	// journal_mode is a property of the file: the writer sets it, first.
	w, err := sql.Open("sqlite", path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	if err := s.init(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if err := s.prepare(ctx); err != nil {
		s.closeAll()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// prepare compiles the statements the Store runs.
func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		dst **sql.Stmt
		db  *sql.DB
		q   string
	}{
		// Creates the room of the fourth argument's key, or moves its
		// last_id on by the third argument; either way the room is active
		// from the second.
		{&s.reserve, s.w, `
INSERT INTO rooms (name, created, last_id, active, name_key) VALUES (?1, ?2, ?3, ?2, ?4)
ON CONFLICT (name_key) DO UPDATE SET last_id = rooms.last_id + excluded.last_id,
	active = max(rooms.active, excluded.active)
RETURNING name, last_id`},
		{&s.find, s.w, `SELECT id, author, text, time, author_id FROM messages WHERE room = ? AND client_id = ?`},
		{&s.insert, s.w, `
INSERT INTO messages (room, id, author, text, time, client_id, author_id) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&s.setLast, s.w, `UPDATE rooms SET last_id = ? WHERE name = ?`},
		// The room is found by its key: its name comes with each message.
		{&s.history, s.r, `
SELECT r.name, m.id, m.author, m.text, m.time, m.client_id, m.author_id FROM rooms r JOIN messages m ON m.room = r.name
WHERE r.name_key = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`},
		{&s.since, s.r, `
SELECT r.name, m.id, m.author, m.text, m.time, m.client_id, m.author_id FROM rooms r JOIN messages m ON m.room = r.name
WHERE r.name_key = ? AND m.id > ? ORDER BY m.id LIMIT ?`},
		// The keys are a JSON array: one statement for any number.
		{&s.touch, s.w, `
UPDATE rooms SET active = ?1 WHERE active < ?1 AND name_key IN (SELECT value FROM json_each(?2))`},
		{&s.rooms, s.r, `SELECT ` + roomColumns + ` FROM rooms ORDER BY name`},
		{&s.room, s.r, `SELECT ` + roomColumns + ` FROM rooms WHERE name_key = ?`},
		{&s.page, s.r, `
SELECT ` + roomColumns + ` FROM rooms WHERE name > ? AND active >= ? ORDER BY name LIMIT ?`},
		{&s.countAct, s.r, `SELECT count(*) FROM rooms WHERE active >= ?`},
	} {
		st, err := p.db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", strings.Join(strings.Fields(p.q), " "), err)
		}
		*p.dst = st
	}
	return nil
}

// closeAll closes the statements and the databases.
func (s *Store) closeAll() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.reserve, s.find, s.insert, s.setLast, s.touch, s.history, s.since, s.rooms, s.room, s.page, s.countAct} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.r.Close(), s.w.Close())
	return errors.Join(errs...)
}

// init checks the writer's settings and migrates the schema.
func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not wal (is the file system local?)", mode)
	}
	return migrate(ctx, s.w)
}

// begin admits a call while s is open; the call ends it with the
// returned func.
func (s *Store) begin(ctx context.Context, op string) (func(), error) {
	return s.gate.Enter(ctx, "sqlite: "+op)
}

// Append implements store.Store. It runs one write transaction: it reserves
// IDs in each room, skips the messages whose ClientID is already stored,
// inserts the others and commits, which syncs the log to disk.
func (s *Store) Append(ctx context.Context, msgs []store.Message) (_ []store.Message, err error) {
	end, err := s.begin(ctx, "append")
	if err != nil {
		return nil, err
	}
	defer end()
	now := time.Now()
	out, err := store.Prepare(msgs, now)
	if err != nil {
		return nil, fmt.Errorf("sqlite: append: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("sqlite: append %d messages: %w", len(out), err)
		}
	}()

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	reserve := tx.StmtContext(ctx, s.reserve)
	find := tx.StmtContext(ctx, s.find)
	insert := tx.StmtContext(ctx, s.insert)
	created := store.Timestamp(now).UnixMilli()

	// Reserve as many IDs in each room as it has messages: one upsert per
	// room (per key) creates it or moves its last_id on, and gives the
	// room's name, which the messages take.
	counts := make(map[string]int64) // by key
	keys := make([]string, len(out))
	var rooms []string // the first spelling of each key
	for i, m := range out {
		keys[i] = store.RoomKey(m.Room)
		if counts[keys[i]] == 0 {
			rooms = append(rooms, m.Room)
		}
		counts[keys[i]]++
	}
	next := make(map[string]int64, len(rooms))     // next ID to give, by name
	reserved := make(map[string]int64, len(rooms)) // last ID reserved, by name
	named := make(map[string]string, len(rooms))   // the name of each key
	for _, room := range rooms {
		var (
			name string
			last int64
			key  = store.RoomKey(room)
		)
		if err := reserve.QueryRowContext(ctx, room, created, counts[key], key).Scan(&name, &last); err != nil {
			return nil, fmt.Errorf("reserve ids in room %q: %w", room, err)
		}
		named[key] = name
		reserved[name] = last
		next[name] = last - counts[key] + 1
	}
	for i := range out {
		out[i].Room = named[keys[i]]
	}
	rooms = slices.Collect(maps.Values(named))

	type key struct{ room, clientID string }
	seen := make(map[key]store.Message)
	for i := range out {
		m := &out[i]
		if m.ClientID != "" {
			k := key{m.Room, m.ClientID}
			if prev, ok := seen[k]; ok {
				*m = prev
				continue
			}
			prev, err := scanMessage(find.QueryRowContext(ctx, m.Room, m.ClientID), m.Room, m.ClientID)
			switch {
			case err == nil:
				*m = prev
				seen[k] = prev
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return nil, fmt.Errorf("look up client id %q in room %q: %w", m.ClientID, m.Room, err)
			}
		}
		m.ID = next[m.Room]
		next[m.Room]++
		if _, err := insert.ExecContext(ctx, m.Room, m.ID, m.Author, m.Text, m.Time.UnixMilli(), m.ClientID, m.AuthorID); err != nil {
			return nil, fmt.Errorf("insert message %d of room %q: %w", m.ID, m.Room, err)
		}
		if m.ClientID != "" {
			seen[key{m.Room, m.ClientID}] = *m
		}
	}

	// Give back the IDs that duplicates did not use, so that IDs stay
	// dense.
	for _, room := range rooms {
		if last := next[room] - 1; last != reserved[room] {
			if _, err := tx.StmtContext(ctx, s.setLast).ExecContext(ctx, last, room); err != nil {
				return nil, fmt.Errorf("update room %q: %w", room, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

// scanMessage reads the id, author, text, time and author_id columns of a
// message of room with clientID.
func scanMessage(row interface{ Scan(...any) error }, room, clientID string) (store.Message, error) {
	m := store.Message{Room: room, ClientID: clientID}
	var ms int64
	if err := row.Scan(&m.ID, &m.Author, &m.Text, &ms, &m.AuthorID); err != nil {
		return store.Message{}, err
	}
	m.Time = time.UnixMilli(ms).UTC()
	return m, nil
}

// History implements store.Store.
func (s *Store) History(ctx context.Context, room string, before int64, limit int) ([]store.Message, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	msgs, err := s.query(ctx, "history", room, limit, s.history, store.RoomKey(room), before, limit)
	slices.Reverse(msgs)
	return msgs, err
}

// Since implements store.Store.
func (s *Store) Since(ctx context.Context, room string, after int64, limit int) ([]store.Message, error) {
	return s.query(ctx, "since", room, limit, s.since, store.RoomKey(room), after, limit)
}

// query reads up to limit messages of room with q, a statement on the
// readers.
func (s *Store) query(ctx context.Context, op, room string, limit int, q *sql.Stmt, args ...any) (_ []store.Message, err error) {
	end, err := s.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	defer end()
	if limit <= 0 {
		return []store.Message{}, nil
	}
	rows, err := q.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s of room %q: %w", op, room, err)
	}
	defer rows.Close()
	msgs := make([]store.Message, 0, min(limit, 256))
	var (
		name  sql.RawBytes // the room's, the same in every row
		named string
	)
	for rows.Next() {
		var (
			m  store.Message
			ms int64
		)
		if err := rows.Scan(&name, &m.ID, &m.Author, &m.Text, &ms, &m.ClientID, &m.AuthorID); err != nil {
			return nil, fmt.Errorf("sqlite: %s of room %q: %w", op, room, err)
		}
		if string(name) != named {
			named = string(name)
		}
		m.Room = named
		m.Time = time.UnixMilli(ms).UTC()
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s of room %q: %w", op, room, err)
	}
	return msgs, nil
}

// CreateRoom implements store.Store.
func (s *Store) CreateRoom(ctx context.Context, name string) (_ store.Room, err error) {
	end, err := s.begin(ctx, "create room")
	if err != nil {
		return store.Room{}, err
	}
	defer end()
	defer func() {
		if err != nil {
			err = fmt.Errorf("sqlite: create room %q: %w", name, err)
		}
	}()
	if err := store.ValidateRoomName(name); err != nil {
		return store.Room{}, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Room{}, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `
INSERT INTO rooms (name, created, last_id, active, name_key) VALUES (?1, ?2, 0, ?2, ?3) ON CONFLICT (name_key) DO NOTHING`,
		name, store.Timestamp(time.Now()).UnixMilli(), store.RoomKey(name)); err != nil {
		return store.Room{}, err
	}
	r, err := scanRoom(tx.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM rooms WHERE name_key = ?`, store.RoomKey(name)))
	if err != nil {
		return store.Room{}, err
	}
	if err := tx.Commit(); err != nil {
		return store.Room{}, fmt.Errorf("commit: %w", err)
	}
	return r, nil
}

// roomColumns are the columns scanRoom reads.
const roomColumns = `name, created, active, last_id`

// scanRoom reads the roomColumns of a room.
func scanRoom(row interface{ Scan(...any) error }) (store.Room, error) {
	var (
		r               store.Room
		created, active int64
	)
	if err := row.Scan(&r.Name, &created, &active, &r.LastID); err != nil {
		return store.Room{}, err
	}
	r.Created, r.Active = time.UnixMilli(created).UTC(), time.UnixMilli(active).UTC()
	return r, nil
}

// Room implements store.Store.
func (s *Store) Room(ctx context.Context, name string) (_ store.Room, err error) {
	end, err := s.begin(ctx, "room")
	if err != nil {
		return store.Room{}, err
	}
	defer end()
	if store.ValidateRoomName(name) != nil {
		return store.Room{}, fmt.Errorf("sqlite: room %q: %w", name, store.ErrNotFound)
	}
	r, err := scanRoom(s.room.QueryRowContext(ctx, store.RoomKey(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Room{}, fmt.Errorf("sqlite: room %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Room{}, fmt.Errorf("sqlite: room %q: %w", name, err)
	}
	return r, nil
}

// Rooms implements store.Store.
func (s *Store) Rooms(ctx context.Context) (_ []store.Room, err error) {
	end, err := s.begin(ctx, "rooms")
	if err != nil {
		return nil, err
	}
	defer end()
	rooms, err := scanRooms(s.rooms.QueryContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list rooms: %w", err)
	}
	return rooms, nil
}

// ListRooms implements store.Store.
func (s *Store) ListRooms(ctx context.Context, q store.RoomQuery) (_ []store.Room, err error) {
	end, err := s.begin(ctx, "list rooms")
	if err != nil {
		return nil, err
	}
	defer end()
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if q.Limit <= 0 {
		return []store.Room{}, nil
	}
	rooms, err := scanRooms(s.page.QueryContext(ctx, q.After, sinceMilli(q.ActiveSince), q.Limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list rooms after %q: %w", q.After, err)
	}
	return rooms, nil
}

// scanRooms reads the rooms that a query of roomColumns returned.
func scanRooms(rows *sql.Rows, err error) ([]store.Room, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rooms := []store.Room{}
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, err
		}
		rooms = append(rooms, r)
	}
	return rooms, rows.Err()
}

// sinceMilli is the least kept time, in Unix milliseconds, that is at or
// after since; the least of all for a zero since.
func sinceMilli(since time.Time) int64 {
	if since.IsZero() {
		return math.MinInt64
	}
	return store.CeilTimestamp(since).UnixMilli()
}

// CountRooms implements store.Store.
func (s *Store) CountRooms(ctx context.Context, since time.Time) (int, error) {
	end, err := s.begin(ctx, "count rooms")
	if err != nil {
		return 0, err
	}
	defer end()
	var n int
	if err := s.countAct.QueryRowContext(ctx, sinceMilli(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count rooms: %w", err)
	}
	return n, nil
}

// TouchRooms implements store.Store, in one statement that writes only
// the rooms whose Active moves on.
func (s *Store) TouchRooms(ctx context.Context, at time.Time, names []string) error {
	end, err := s.begin(ctx, "touch rooms")
	if err != nil {
		return err
	}
	defer end()
	if names = store.ValidRoomNames(names); len(names) == 0 {
		return nil
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = store.RoomKey(n)
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("sqlite: touch %d rooms: %w", len(names), err)
	}
	if _, err := s.touch.ExecContext(ctx, store.Timestamp(at).UnixMilli(), string(list)); err != nil {
		return fmt.Errorf("sqlite: touch %d rooms: %w", len(names), err)
	}
	return nil
}

// Close implements store.Store: it waits for the calls in progress, then
// closes the readers and the writer; the last connection to close
// checkpoints the log into the database file.
func (s *Store) Close() error {
	return s.gate.Close(func() error {
		if err := s.closeAll(); err != nil {
			return fmt.Errorf("sqlite: close: %w", err)
		}
		return nil
	})
}
