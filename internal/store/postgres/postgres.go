package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store in a PostgreSQL database. It is safe for
// concurrent use, and several Stores, in several processes, may share one
// database.
type Store struct {
	pool *pgxpool.Pool

	// gate admits calls while the store is open; Close waits for them.
	gate store.Gate
}

// Open connects to the database that dsn names, a URL
// ("postgres://user@host:5432/db?sslmode=disable") or key=value string as
// pgx accepts, and migrates its schema.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open with a parsed configuration, for settings a DSN cannot
// carry; set ConnConfig.RuntimeParams["search_path"] to keep parley's
// tables in a schema of their own.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &Store{pool: pool}, nil
}

// begin admits a call while s is open; the call ends it with the
// returned func.
func (s *Store) begin(ctx context.Context, op string) (func(), error) {
	return s.gate.Enter(ctx, "postgres: "+op)
}

// Append implements store.Store with one transaction of four round trips
// whatever the number of messages: BEGIN; the room locks and ID
// reservations with the look-up of the ClientIDs, pipelined; the insert of
// all new messages; COMMIT.
func (s *Store) Append(ctx context.Context, msgs []store.Message) (_ []store.Message, err error) {
	end, err := s.begin(ctx, "append")
	if err != nil {
		return nil, err
	}
	defer end()
	now := time.Now()
	out, err := store.Prepare(msgs, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: append: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("postgres: append %d messages: %w", len(out), err)
		}
	}()

	// Rooms are found by key (store.RoomKey): a message whose room is
	// spelt otherwise takes the room's name.
	counts := make(map[string]int64)         // by key
	spelt := make(map[string]string)         // the first spelling of each key
	type key struct{ room, clientID string } // by room key
	var keyRooms, keyIDs []string
	keys := make(map[key]bool)
	roomKeys := make([]string, len(out))
	for i, m := range out {
		rk := store.RoomKey(m.Room)
		roomKeys[i] = rk
		if counts[rk] == 0 {
			spelt[rk] = m.Room
		}
		counts[rk]++
		if k := (key{rk, m.ClientID}); m.ClientID != "" && !keys[k] {
			keys[k] = true
			keyRooms = append(keyRooms, rk)
			keyIDs = append(keyIDs, m.ClientID)
		}
	}
	rooms := make([]string, 0, len(counts)) // keys
	for r := range counts {
		rooms = append(rooms, r)
	}
	slices.Sort(rooms) // the lock order

	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background())

	// Lock each room's row and reserve its IDs, then look up the
	// ClientIDs, which sees every commit made before the locks were taken.
	b := &pgx.Batch{}
	created := store.Timestamp(now)
	// A room new to the store is inserted first, with no conflict on any
	// of its unique keys (name or name_key), however many transactions
	// insert it at once: ON CONFLICT with a target leaves a race on the
	// other key. The UPDATE then locks the row.
	for _, r := range rooms {
		b.Queue(`
INSERT INTO rooms (name, created, last_id, active, name_key) VALUES ($1, $2, 0, $2, $3)
ON CONFLICT DO NOTHING`, spelt[r], created, r)
		b.Queue(`
UPDATE rooms SET last_id = last_id + $2, active = greatest(active, $3)
WHERE name_key = $1
RETURNING name, last_id`, r, counts[r], created)
	}
	if len(keyIDs) > 0 {
		b.Queue(`
SELECT k.room_key, m.room, m.client_id, m.id, m.author, m.text, m.time, m.author_id
FROM unnest($1::text[], $2::text[]) AS k (room_key, client_id)
	JOIN rooms r ON r.name_key = k.room_key
	JOIN messages m ON m.room = r.name AND m.client_id = k.client_id`, keyRooms, keyIDs)
	}
	next := make(map[string]int64, len(rooms))     // next ID to give, by key
	reserved := make(map[string]int64, len(rooms)) // last ID reserved, by key
	named := make(map[string]string, len(rooms))   // the name of each key
	seen := make(map[key]store.Message)
	if err := func() error {
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		for _, r := range rooms {
			var (
				name string
				last int64
			)
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("create room %q: %w", spelt[r], err)
			}
			if err := br.QueryRow().Scan(&name, &last); err != nil {
				return fmt.Errorf("reserve ids in room %q: %w", spelt[r], err)
			}
			named[r] = name
			reserved[r] = last
			next[r] = last - counts[r] + 1
		}
		if len(keyIDs) > 0 {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("look up client ids: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var (
					m  store.Message
					rk string
				)
				if err := rows.Scan(&rk, &m.Room, &m.ClientID, &m.ID, &m.Author, &m.Text, &m.Time, &m.AuthorID); err != nil {
					return fmt.Errorf("look up client ids: %w", err)
				}
				m.Time = m.Time.UTC()
				seen[key{rk, m.ClientID}] = m
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("look up client ids: %w", err)
			}
		}
		return br.Close()
	}(); err != nil {
		return nil, err
	}

	// Give IDs; a message whose ClientID is stored, or was earlier in the
	// batch, is the stored one.
	n := len(out)
	ins := struct {
		room, author, text, clientID, authorID []string
		id                                     []int64
		time                                   []time.Time
	}{
		make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n),
		make([]int64, 0, n), make([]time.Time, 0, n),
	}
	for i := range out {
		m := &out[i]
		rk := roomKeys[i]
		if m.ClientID != "" {
			if prev, ok := seen[key{rk, m.ClientID}]; ok {
				*m = prev
				continue
			}
		}
		m.Room = named[rk]
		m.ID = next[rk]
		next[rk]++
		if m.ClientID != "" {
			seen[key{rk, m.ClientID}] = *m
		}
		ins.room = append(ins.room, m.Room)
		ins.id = append(ins.id, m.ID)
		ins.author = append(ins.author, m.Author)
		ins.text = append(ins.text, m.Text)
		ins.time = append(ins.time, m.Time)
		ins.clientID = append(ins.clientID, m.ClientID)
		ins.authorID = append(ins.authorID, m.AuthorID)
	}

	b = &pgx.Batch{}
	if len(ins.id) > 0 {
		b.Queue(`
INSERT INTO messages (room, id, author, text, time, client_id, author_id)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])`,
			ins.room, ins.id, ins.author, ins.text, ins.time, ins.clientID, ins.authorID)
	}
	// Give back the IDs that duplicates did not use, so that IDs stay
	// dense.
	for _, r := range rooms {
		if last := next[r] - 1; last != reserved[r] {
			b.Queue(`UPDATE rooms SET last_id = $2 WHERE name = $1`, named[r], last)
		}
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("insert: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

// History implements store.Store.
func (s *Store) History(ctx context.Context, room string, before int64, limit int) ([]store.Message, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	msgs, err := s.query(ctx, "history", room, limit, `
SELECT r.name, m.id, m.author, m.text, m.time, m.client_id, m.author_id FROM rooms r JOIN messages m ON m.room = r.name
WHERE r.name_key = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3`, store.RoomKey(room), before, limit)
	slices.Reverse(msgs)
	return msgs, err
}

// Since implements store.Store.
func (s *Store) Since(ctx context.Context, room string, after int64, limit int) ([]store.Message, error) {
	return s.query(ctx, "since", room, limit, `
SELECT r.name, m.id, m.author, m.text, m.time, m.client_id, m.author_id FROM rooms r JOIN messages m ON m.room = r.name
WHERE r.name_key = $1 AND m.id > $2 ORDER BY m.id LIMIT $3`, store.RoomKey(room), after, limit)
}

// query reads up to limit messages of room with q, whose first column is
// the room's name.
func (s *Store) query(ctx context.Context, op, room string, limit int, q string, args ...any) ([]store.Message, error) {
	end, err := s.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	defer end()
	if limit <= 0 {
		return []store.Message{}, nil
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s of room %q: %w", op, room, err)
	}
	defer rows.Close()
	msgs := make([]store.Message, 0, min(limit, 256))
	named := "" // the room's name, the same in every row
	for rows.Next() {
		var m store.Message
		if err := rows.Scan(nil, &m.ID, &m.Author, &m.Text, &m.Time, &m.ClientID, &m.AuthorID); err != nil {
			return nil, fmt.Errorf("postgres: %s of room %q: %w", op, room, err)
		}
		if name := rows.RawValues()[0]; string(name) != named {
			named = string(name)
		}
		m.Room = named
		m.Time = m.Time.UTC()
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s of room %q: %w", op, room, err)
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
			err = fmt.Errorf("postgres: create room %q: %w", name, err)
		}
	}()
	if err := store.ValidateRoomName(name); err != nil {
		return store.Room{}, err
	}
	// Two statements, so that the second one's snapshot sees a room that
	// a concurrent CreateRoom committed while the first one waited.
	b := &pgx.Batch{}
	key := store.RoomKey(name)
	b.Queue(`INSERT INTO rooms (name, created, last_id, active, name_key) VALUES ($1, $2, 0, $2, $3) ON CONFLICT DO NOTHING`,
		name, store.Timestamp(time.Now()), key)
	var r store.Room
	b.Queue(`SELECT `+roomColumns+` FROM rooms WHERE name_key = $1`, key).QueryRow(func(row pgx.Row) error {
		var err error
		r, err = scanRoom(row)
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return store.Room{}, err
	}
	return r, nil
}

// roomColumns are the columns scanRoom reads.
const roomColumns = `name, created, active, last_id`

// scanRoom reads the roomColumns of a room.
func scanRoom(row pgx.Row) (store.Room, error) {
	var r store.Room
	if err := row.Scan(&r.Name, &r.Created, &r.Active, &r.LastID); err != nil {
		return store.Room{}, err
	}
	r.Created, r.Active = r.Created.UTC(), r.Active.UTC()
	return r, nil
}

// scanRooms reads the rooms that a query of roomColumns returned.
func scanRooms(rows pgx.Rows, err error) ([]store.Room, error) {
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

// Room implements store.Store.
func (s *Store) Room(ctx context.Context, name string) (store.Room, error) {
	end, err := s.begin(ctx, "room")
	if err != nil {
		return store.Room{}, err
	}
	defer end()
	if store.ValidateRoomName(name) != nil {
		return store.Room{}, fmt.Errorf("postgres: room %q: %w", name, store.ErrNotFound)
	}
	r, err := scanRoom(s.pool.QueryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE name_key = $1`, store.RoomKey(name)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Room{}, fmt.Errorf("postgres: room %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Room{}, fmt.Errorf("postgres: room %q: %w", name, err)
	}
	return r, nil
}

// Rooms implements store.Store.
func (s *Store) Rooms(ctx context.Context) ([]store.Room, error) {
	end, err := s.begin(ctx, "rooms")
	if err != nil {
		return nil, err
	}
	defer end()
	// Byte order, as SQLite and Go sort, whatever the database's locale.
	rooms, err := scanRooms(s.pool.Query(ctx, `SELECT `+roomColumns+` FROM rooms ORDER BY name COLLATE "C"`))
	if err != nil {
		return nil, fmt.Errorf("postgres: list rooms: %w", err)
	}
	return rooms, nil
}

// ListRooms implements store.Store.
func (s *Store) ListRooms(ctx context.Context, q store.RoomQuery) ([]store.Room, error) {
	end, err := s.begin(ctx, "list rooms")
	if err != nil {
		return nil, err
	}
	defer end()
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if q.Limit <= 0 {
		return []store.Room{}, nil
	}
	// In bytes, as SQLite and Go compare, whatever the database's locale
	// (rooms_name_bytes is the index of that order).
	rooms, err := scanRooms(s.pool.Query(ctx, `
SELECT `+roomColumns+` FROM rooms
WHERE name COLLATE "C" > $1 AND ($2::timestamptz IS NULL OR active >= $2)
ORDER BY name COLLATE "C" LIMIT $3`, q.After, since(q.ActiveSince), q.Limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: list rooms after %q: %w", q.After, err)
	}
	return rooms, nil
}

// since is the bound of a query of the rooms active at or after t: nil
// for a zero t, for all of them.
func since(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	c := store.CeilTimestamp(t)
	return &c
}

// CountRooms implements store.Store.
func (s *Store) CountRooms(ctx context.Context, at time.Time) (int, error) {
	end, err := s.begin(ctx, "count rooms")
	if err != nil {
		return 0, err
	}
	defer end()
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM rooms WHERE $1::timestamptz IS NULL OR active >= $1`,
		since(at)).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count rooms: %w", err)
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
	if _, err := s.pool.Exec(ctx, `UPDATE rooms SET active = $1 WHERE active < $1 AND name_key = ANY($2::text[])`,
		store.Timestamp(at), keys); err != nil {
		return fmt.Errorf("postgres: touch %d rooms: %w", len(names), err)
	}
	return nil
}

// Close implements store.Store: it waits for the calls in progress, then
// closes the connections.
func (s *Store) Close() error {
	return s.gate.Close(func() error {
		s.pool.Close()
		return nil
	})
}
