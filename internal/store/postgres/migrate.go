package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store"
)

// migration is one step of the schema, applied once: its sql, then its
// fn, if any, in the transaction of the migration.
type migration struct {
	version int
	name    string
	sql     string
	fn      func(ctx context.Context, tx pgx.Tx) error
}

// migrations returns the schema's steps in order. Append new ones; never
// edit one that has shipped.
func migrations() []migration {
	return []migration{
		{1, "rooms and messages", `
CREATE TABLE rooms (
	name    text        NOT NULL PRIMARY KEY,
	created timestamptz NOT NULL,
	last_id bigint      NOT NULL DEFAULT 0  -- ID of the newest message
);
CREATE TABLE messages (
	room      text        NOT NULL REFERENCES rooms (name),
	id        bigint      NOT NULL,
	author    text        NOT NULL,
	text      text        NOT NULL,
	time      timestamptz NOT NULL,
	client_id text        NOT NULL DEFAULT '',
	PRIMARY KEY (room, id)
);
CREATE UNIQUE INDEX messages_room_client_id ON messages (room, client_id)
	WHERE client_id <> '';
`, nil},
		{2, "identities, message authors and constants", `
ALTER TABLE messages ADD COLUMN author_id text NOT NULL DEFAULT '';
-- One identity holds a name key at a time; ClaimName replaces an expired
-- holder under an advisory lock on the key.
CREATE TABLE identities (
	id        text        NOT NULL PRIMARY KEY,
	name      text        NOT NULL,
	name_key  text        NOT NULL UNIQUE,  -- names.Key of name
	secret    bytea       NOT NULL,         -- SHA-256 of the guest token, or empty
	created   timestamptz NOT NULL,
	last_seen timestamptz NOT NULL
);
CREATE INDEX identities_last_seen ON identities (last_seen);
CREATE TABLE constants (
	name  text  NOT NULL PRIMARY KEY,
	value bytea NOT NULL
);
`, nil},
		{3, "room activity", `
-- When the room was last in use: its creation, its newest message, or the
-- chat's last sight of people in it.
ALTER TABLE rooms ADD COLUMN active timestamptz;
UPDATE rooms SET active = greatest(created,
	(SELECT time FROM messages WHERE messages.room = rooms.name ORDER BY id DESC LIMIT 1));
ALTER TABLE rooms ALTER COLUMN active SET NOT NULL;
CREATE INDEX rooms_active ON rooms (active);
-- Pages of rooms go by name in byte order, whatever the locale.
CREATE INDEX rooms_name_bytes ON rooms (name COLLATE "C");
`, nil},
		{4, "room keys", `
-- store.RoomKey of name: names that look alike are one room. keyRooms
-- fills it in, merges the rooms whose names share a key, and makes it
-- unique.
ALTER TABLE rooms ADD COLUMN name_key text NOT NULL DEFAULT '';
`, keyRooms},
	}
}

// migrate brings the schema up to date in one transaction.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return migrateTo(ctx, pool, migrations())
}

// migrateTo applies the steps of ms that the schema lacks, in one
// transaction.
func migrateTo(ctx context.Context, pool *pgxpool.Pool, ms []migration) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("migrate schema: %w", err)
		}
	}()
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	// Nodes starting together take turns; the lock is released at commit.
	if _, err := tx.Exec(ctx,
		`SELECT pg_advisory_xact_lock(hashtext('parley/store/migrate/' || coalesce(current_schema(), '')))`); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `
CREATE TABLE IF NOT EXISTS schema_migrations (
	version integer     NOT NULL PRIMARY KEY,
	name    text        NOT NULL,
	applied timestamptz NOT NULL DEFAULT now()
)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if latest := ms[len(ms)-1].version; current > latest {
		return fmt.Errorf("version %d, this program knows up to %d: %w", current, latest, store.ErrSchemaTooNew)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("version %d (%s): %w", m.version, m.name, err)
		}
		if m.fn != nil {
			if err := m.fn(ctx, tx); err != nil {
				return fmt.Errorf("version %d (%s): %w", m.version, m.name, err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return fmt.Errorf("record version %d: %w", m.version, err)
		}
	}
	return tx.Commit(ctx)
}

// keyRooms gives every room its key (store.RoomKey), for version 4. Rooms
// whose names share a key become one: the oldest (by Created, then name
// in byte order) keeps its name, its ID and its messages' IDs, and each
// other one's messages follow its own, in their order, with the IDs that
// come next; a moved message whose ClientID the room already holds loses
// it (it is kept, but a retry of it would be stored again). The merged
// room is as active as the most active of them.
func keyRooms(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT `+roomColumns+` FROM rooms ORDER BY created, name COLLATE "C"`)
	rooms, err := scanRooms(rows, err)
	if err != nil {
		return fmt.Errorf("read rooms: %w", err)
	}
	for _, group := range store.GroupRooms(rooms) {
		keep := group[0]
		if _, err := tx.Exec(ctx, `UPDATE rooms SET name_key = $2 WHERE name = $1`,
			keep.Name, store.RoomKey(keep.Name)); err != nil {
			return fmt.Errorf("key room %q: %w", keep.Name, err)
		}
		for _, r := range group[1:] {
			if err := mergeRoom(ctx, tx, keep.Name, r.Name); err != nil {
				return fmt.Errorf("merge room %q into %q: %w", r.Name, keep.Name, err)
			}
		}
	}
	_, err = tx.Exec(ctx, `CREATE UNIQUE INDEX rooms_name_key ON rooms (name_key)`)
	return err
}

// mergeRoom moves the messages of the room from to the end of the room
// into, and removes from.
func mergeRoom(ctx context.Context, tx pgx.Tx, into, from string) error {
	tag, err := tx.Exec(ctx, `
INSERT INTO messages (room, id, author, text, time, client_id, author_id)
SELECT $1, (SELECT last_id FROM rooms WHERE name = $1) + row_number() OVER (ORDER BY m.id),
	m.author, m.text, m.time,
	CASE WHEN m.client_id <> '' AND EXISTS (SELECT 1 FROM messages k WHERE k.room = $1 AND k.client_id = m.client_id)
		THEN '' ELSE m.client_id END,
	m.author_id
FROM messages m WHERE m.room = $2 ORDER BY m.id`, into, from)
	if err != nil {
		return fmt.Errorf("move messages: %w", err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE rooms SET last_id = last_id + $3, active = greatest(active, (SELECT active FROM rooms WHERE name = $2))
WHERE name = $1`, []any{into, from, tag.RowsAffected()}},
		{`DELETE FROM messages WHERE room = $1`, []any{from}},
		{`DELETE FROM rooms WHERE name = $1`, []any{from}},
	} {
		if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
			return err
		}
	}
	return nil
}
