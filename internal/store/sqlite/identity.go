package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// ClaimName implements store.Store in a write transaction: BEGIN
// IMMEDIATE takes the database's write lock, which serialises claims
// between the connections of every process sharing the file, so that
// reading the holder of the key and replacing it are one step. Claims
// that come together share one transaction, and its sync (see claims.go).
func (s *Store) ClaimName(ctx context.Context, c store.Claim) (store.Identity, error) {
	end, err := s.begin(ctx, "claim name")
	if err != nil {
		return store.Identity{}, err
	}
	defer end()
	id, err := s.claim(ctx, c)
	if err != nil {
		return store.Identity{}, fmt.Errorf("sqlite: claim name key %q for identity %q: %w", c.Key, c.ID, err)
	}
	return id, nil
}

// claimIn does claim c in the write transaction tx, and reports whether
// it wrote.
func claimIn(ctx context.Context, tx *sql.Tx, c store.Claim) (_ store.Identity, wrote bool, err error) {
	holder, err := scanIdentity(tx.QueryRowContext(ctx, `
SELECT id, name, name_key, secret, created, last_seen FROM identities WHERE name_key = ?`, c.Key))
	switch {
	case err == nil && !c.Expired(holder):
		return holder, false, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return store.Identity{}, false, fmt.Errorf("read the holder: %w", err)
	}
	// The key's expired holder goes, and so does the claimant's old name.
	if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE name_key = ? OR id = ?`, c.Key, c.ID); err != nil {
		return store.Identity{}, true, fmt.Errorf("remove the expired holder: %w", err)
	}
	id := c.Identity()
	if _, err := tx.ExecContext(ctx, `
INSERT INTO identities (id, name, name_key, secret, created, last_seen) VALUES (?, ?, ?, ?, ?, ?)`,
		id.ID, id.Name, id.Key, id.Secret, id.Created.UnixMilli(), id.LastSeen.UnixMilli()); err != nil {
		return store.Identity{}, true, fmt.Errorf("insert: %w", err)
	}
	return id, true, nil
}

// scanIdentity reads the id, name, name_key, secret, created and
// last_seen columns of an identity.
func scanIdentity(row interface{ Scan(...any) error }) (store.Identity, error) {
	var id store.Identity
	var created, seen int64
	if err := row.Scan(&id.ID, &id.Name, &id.Key, &id.Secret, &created, &seen); err != nil {
		return store.Identity{}, err
	}
	if id.Secret == nil {
		id.Secret = []byte{}
	}
	id.Created = time.UnixMilli(created).UTC()
	id.LastSeen = time.UnixMilli(seen).UTC()
	return id, nil
}

// SeenIdentity implements store.Store with one UPDATE on the writer.
func (s *Store) SeenIdentity(ctx context.Context, id string, at time.Time) error {
	end, err := s.begin(ctx, "identity seen")
	if err != nil {
		return err
	}
	defer end()
	if !store.ValidIdentityID(id) {
		return fmt.Errorf("sqlite: identity %q seen: %w", id, store.ErrNotFound)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE identities SET last_seen = max(last_seen, ?) WHERE id = ?`,
		store.Timestamp(at).UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("sqlite: identity %q seen: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: identity %q seen: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: identity %q seen: %w", id, store.ErrNotFound)
	}
	return nil
}

// SeenIdentities implements store.Store with one UPDATE on the writer,
// the ids in a JSON array.
func (s *Store) SeenIdentities(ctx context.Context, ids []string, at time.Time) error {
	end, err := s.begin(ctx, "identities seen")
	if err != nil {
		return err
	}
	defer end()
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if store.ValidIdentityID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return nil
	}
	list, err := json.Marshal(valid)
	if err != nil {
		return fmt.Errorf("sqlite: %d identities seen: %w", len(valid), err)
	}
	if _, err := s.w.ExecContext(ctx, `
UPDATE identities SET last_seen = max(last_seen, ?1) WHERE id IN (SELECT value FROM json_each(?2))`,
		store.Timestamp(at).UnixMilli(), string(list)); err != nil {
		return fmt.Errorf("sqlite: %d identities seen: %w", len(valid), err)
	}
	return nil
}

// IdentityByID implements store.Store, on the readers.
func (s *Store) IdentityByID(ctx context.Context, id string) (store.Identity, error) {
	end, err := s.begin(ctx, "identity")
	if err != nil {
		return store.Identity{}, err
	}
	defer end()
	if !store.ValidIdentityID(id) {
		return store.Identity{}, fmt.Errorf("sqlite: identity %q: %w", id, store.ErrNotFound)
	}
	got, err := scanIdentity(s.r.QueryRowContext(ctx, `
SELECT id, name, name_key, secret, created, last_seen FROM identities WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Identity{}, fmt.Errorf("sqlite: identity %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Identity{}, fmt.Errorf("sqlite: identity %q: %w", id, err)
	}
	return got, nil
}

// PruneIdentities implements store.Store with one DELETE on the writer.
func (s *Store) PruneIdentities(ctx context.Context, before time.Time) (int, error) {
	end, err := s.begin(ctx, "prune identities")
	if err != nil {
		return 0, err
	}
	defer end()
	res, err := s.w.ExecContext(ctx, `DELETE FROM identities WHERE last_seen < ?`, store.CeilTimestamp(before).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune identities: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune identities: %w", err)
	}
	return int(n), nil
}

// Constant implements store.Store in one write transaction.
func (s *Store) Constant(ctx context.Context, name string, init []byte) (_ []byte, err error) {
	end, err := s.begin(ctx, "constant")
	if err != nil {
		return nil, err
	}
	defer end()
	defer func() {
		if err != nil {
			err = fmt.Errorf("sqlite: constant %q: %w", name, err)
		}
	}()
	if err := store.ValidateConstantName(name); err != nil {
		return nil, err
	}
	if init == nil {
		init = []byte{}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO constants (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, init); err != nil {
		return nil, err
	}
	var v []byte
	if err := tx.QueryRowContext(ctx, `SELECT value FROM constants WHERE name = ?`, name).Scan(&v); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}
