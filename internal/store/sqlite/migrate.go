package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// migration is one step of the schema, applied once.
type migration struct {
	version int
	name    string
	sql     string
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
`},
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
`},
		{3, "room activity", `
-- When the room was last in use (Unix milliseconds, UTC): its creation,
-- its newest message, or the chat's last sight of people in it.
ALTER TABLE rooms ADD COLUMN active INTEGER NOT NULL DEFAULT 0;
UPDATE rooms SET active = max(created, coalesce(
	(SELECT time FROM messages WHERE messages.room = rooms.name ORDER BY id DESC LIMIT 1), 0));
CREATE INDEX rooms_active ON rooms (active);
`},
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
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("record version %d: %w", m.version, err)
		}
	}
	return tx.Commit()
}
