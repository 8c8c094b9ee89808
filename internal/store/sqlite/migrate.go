package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// migration is one step of the schema, applied once: its sql, then its
// fn, if any, in the transaction of the migration.
type migration struct {
	version int
	name    string
	sql     string
	fn      func(ctx context.Context, tx *sql.Tx) error
}

// migrations returns the schema's steps in order. Append new ones; never
// edit one that has shipped.
func migrations() []migration {
	return []migration{
		{1, "rooms and messages", `
CREATE TABLE rooms (
	name    TEXT    NOT NULL PRIMARY KEY,
	created INTEGER NOT NULL,           -- Unix milliseconds, UTC
	last_id INTEGER NOT NULL DEFAULT 0  -- ID of the newest message
);
-- WITHOUT ROWID clusters messages by (room, id): a page of history is one
-- range scan of the primary key. Chat messages are small rows.
CREATE TABLE messages (
	room      TEXT    NOT NULL REFERENCES rooms (name),
	id        INTEGER NOT NULL,
	author    TEXT    NOT NULL,
	text      TEXT    NOT NULL,
	time      INTEGER NOT NULL,         -- Unix milliseconds, UTC
	client_id TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (room, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_room_client_id ON messages (room, client_id)
	WHERE client_id <> '';
`, nil},
		{2, "identities, message authors and constants", `
ALTER TABLE messages ADD COLUMN author_id TEXT NOT NULL DEFAULT '';
-- One identity holds a name key at a time; ClaimName replaces an expired
-- holder in one write transaction.
CREATE TABLE identities (
	id        TEXT    NOT NULL PRIMARY KEY,
	name      TEXT    NOT NULL,
	name_key  TEXT    NOT NULL UNIQUE,  -- names.Key of name
	secret    BLOB    NOT NULL,         -- SHA-256 of the guest token, or empty
	created   INTEGER NOT NULL,         -- Unix milliseconds, UTC
	last_seen INTEGER NOT NULL          -- Unix milliseconds, UTC
);
CREATE INDEX identities_last_seen ON identities (last_seen);
CREATE TABLE constants (
	name  TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL
);
`, nil},
		{3, "room activity", `
-- When the room was last in use (Unix milliseconds, UTC): its creation,
-- its newest message, or the chat's last sight of people in it.
ALTER TABLE rooms ADD COLUMN active INTEGER NOT NULL DEFAULT 0;
UPDATE rooms SET active = max(created, coalesce(
	(SELECT time FROM messages WHERE messages.room = rooms.name ORDER BY id DESC LIMIT 1), 0));
CREATE INDEX rooms_active ON rooms (active);
`, nil},
		{4, "room keys", `
-- store.RoomKey of name: names that look alike are one room. keyRooms
-- fills it in, merges the rooms whose names share a key, and makes it
-- unique.
ALTER TABLE rooms ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
`, keyRooms},
	}
}

// migrate brings the schema of db up to date in one transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	return migrateTo(ctx, db, migrations())
}

// migrateTo applies the steps of ms that db lacks, in one transaction.
func migrateTo(ctx context.Context, db *sql.DB, ms []migration) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("migrate schema: %w", err)
		}
	}()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER NOT NULL PRIMARY KEY,
	name    TEXT    NOT NULL,
	applied INTEGER NOT NULL            -- Unix milliseconds, UTC
)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if latest := ms[len(ms)-1].version; current > latest {
		return fmt.Errorf("version %d, this program knows up to %d: %w", current, latest, store.ErrSchemaTooNew)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("version %d (%s): %w", m.version, m.name, err)
		}
		if m.fn != nil {
			if err := m.fn(ctx, tx); err != nil {
				return fmt.Errorf("version %d (%s): %w", m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("record version %d: %w", m.version, err)
		}
	}
	return tx.Commit()
}

// keyRooms gives every room its key (store.RoomKey), for version 4. Rooms
// whose names share a key become one: the oldest (by Created, then name)
// keeps its name, its ID and its messages' IDs, and each other one's
// messages follow its own, in their order, with the IDs that come next; a
// moved message whose ClientID the room already holds loses it (it is
// kept, but a retry of it would be stored again). The merged room is as
// active as the most active of them.
func keyRooms(ctx context.Context, tx *sql.Tx) error {
	rooms, err := roomsToKey(ctx, tx)
	if err != nil {
		return err
	}
	for _, group := range store.GroupRooms(rooms) {
		keep := group[0]
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET name_key = ? WHERE name = ?`,
			store.RoomKey(keep.Name), keep.Name); err != nil {
			return fmt.Errorf("key room %q: %w", keep.Name, err)
		}
		for _, r := range group[1:] {
			if err := mergeRoom(ctx, tx, keep.Name, r.Name); err != nil {
				return fmt.Errorf("merge room %q into %q: %w", r.Name, keep.Name, err)
			}
		}
	}
	_, err = tx.ExecContext(ctx, `CREATE UNIQUE INDEX rooms_name_key ON rooms (name_key)`)
	return err
}

// roomsToKey reads every room, oldest first.
func roomsToKey(ctx context.Context, tx *sql.Tx) ([]store.Room, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+roomColumns+` FROM rooms ORDER BY created, name`)
	if err != nil {
		return nil, fmt.Errorf("read rooms: %w", err)
	}
	rooms, err := scanRooms(rows, nil)
	if err != nil {
		return nil, fmt.Errorf("read rooms: %w", err)
	}
	return rooms, nil
}

// mergeRoom moves the messages of the room from to the end of the room
// into, and removes from.
func mergeRoom(ctx context.Context, tx *sql.Tx, into, from string) error {
	res, err := tx.ExecContext(ctx, `
INSERT INTO messages (room, id, author, text, time, client_id, author_id)
SELECT ?1, (SELECT last_id FROM rooms WHERE name = ?1) + row_number() OVER (ORDER BY m.id),
	m.author, m.text, m.time,
	CASE WHEN EXISTS (SELECT 1 FROM messages k WHERE k.room = ?1 AND k.client_id = m.client_id AND m.client_id <> '')
		THEN '' ELSE m.client_id END,
	m.author_id
FROM messages m WHERE m.room = ?2 ORDER BY m.id`, into, from)
	if err != nil {
		return fmt.Errorf("move messages: %w", err)
	}
	moved, err := res.RowsAffected()
	if err != nil {
		return err
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE rooms SET last_id = last_id + ?, active = max(active, (SELECT active FROM rooms WHERE name = ?))
WHERE name = ?`, []any{moved, from, into}},
		{`DELETE FROM messages WHERE room = ?`, []any{from}},
		{`DELETE FROM rooms WHERE name = ?`, []any{from}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return err
		}
	}
	return nil
}
