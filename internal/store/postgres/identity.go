package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// identityColumns are the columns scanIdentity reads, in its order.
const identityColumns = `id, name, name_key, secret, created, last_seen`

// ClaimName implements store.Store with one transaction of three round
// trips: BEGIN with a transaction-scoped advisory lock on the key (of this
// schema), which serialises the claims of one key between every node, and
// the read of its holder, pipelined; when the key is free or its holder
// expired, the removal of the holder and the upsert of the new identity by
// ID; COMMIT. The lock covers a key no row holds yet, which a row lock
// cannot; the holder's row is read FOR UPDATE as well, so that a
// SeenIdentity of the holder committed meanwhile is seen, and one still to
// come finds the holder gone.
func (s *Store) ClaimName(ctx context.Context, c store.Claim) (_ store.Identity, err error) {
	end, err := s.begin(ctx, "claim name")
	if err != nil {
		return store.Identity{}, err
	}
	defer end()
	defer func() {
		if err != nil {
			err = fmt.Errorf("postgres: claim name key %q for identity %q: %w", c.Key, c.ID, err)
		}
	}()
	if err := c.Validate(); err != nil {
		return store.Identity{}, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return store.Identity{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background())

	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock(hashtext('parley/store/identity/' || coalesce(current_schema(), '')), hashtext($1))`, c.Key)
	var (
		holder store.Identity
		held   = true
	)
	b.Queue(`SELECT `+identityColumns+` FROM identities WHERE name_key = $1 FOR UPDATE`, c.Key).QueryRow(func(row pgx.Row) error {
		var err error
		holder, err = scanIdentity(row)
		if errors.Is(err, pgx.ErrNoRows) {
			held = false
			return nil
		}
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return store.Identity{}, fmt.Errorf("lock the key and read its holder: %w", err)
	}
	if held && !c.Expired(holder) {
		return holder, nil // the transaction rolls back, releasing the lock
	}

	// The key's expired holder goes; an identity that claims another name
	// gives up its own, by the upsert.
	id := c.Identity()
	b = &pgx.Batch{}
	b.Queue(`DELETE FROM identities WHERE name_key = $1`, c.Key)
	b.Queue(`
INSERT INTO identities (`+identityColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, secret = excluded.secret,
	created = excluded.created, last_seen = excluded.last_seen`,
		id.ID, id.Name, id.Key, id.Secret, id.Created, id.LastSeen)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return store.Identity{}, fmt.Errorf("store the identity: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Identity{}, fmt.Errorf("commit: %w", err)
	}
	return id, nil
}

// scanIdentity reads the identityColumns of an identity.
func scanIdentity(row pgx.Row) (store.Identity, error) {
	var id store.Identity
	if err := row.Scan(&id.ID, &id.Name, &id.Key, &id.Secret, &id.Created, &id.LastSeen); err != nil {
		return store.Identity{}, err
	}
	if id.Secret == nil {
		id.Secret = []byte{}
	}
	id.Created = id.Created.UTC()
	id.LastSeen = id.LastSeen.UTC()
	return id, nil
}

// SeenIdentity implements store.Store with one UPDATE.
func (s *Store) SeenIdentity(ctx context.Context, id string, at time.Time) error {
	end, err := s.begin(ctx, "identity seen")
	if err != nil {
		return err
	}
	defer end()
	if !store.ValidIdentityID(id) {
		return fmt.Errorf("postgres: identity %q seen: %w", id, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE identities SET last_seen = greatest(last_seen, $2) WHERE id = $1`,
		id, store.Timestamp(at))
	if err != nil {
		return fmt.Errorf("postgres: identity %q seen: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: identity %q seen: %w", id, store.ErrNotFound)
	}
	return nil
}

// SeenIdentities implements store.Store with one UPDATE of the ids in an
// array.
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
	if _, err := s.pool.Exec(ctx, `UPDATE identities SET last_seen = greatest(last_seen, $1) WHERE id = ANY($2::text[])`,
		store.Timestamp(at), valid); err != nil {
		return fmt.Errorf("postgres: %d identities seen: %w", len(valid), err)
	}
	return nil
}

// IdentityByID implements store.Store.
func (s *Store) IdentityByID(ctx context.Context, id string) (store.Identity, error) {
	end, err := s.begin(ctx, "identity")
	if err != nil {
		return store.Identity{}, err
	}
	defer end()
	if !store.ValidIdentityID(id) {
		return store.Identity{}, fmt.Errorf("postgres: identity %q: %w", id, store.ErrNotFound)
	}
	got, err := scanIdentity(s.pool.QueryRow(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Identity{}, fmt.Errorf("postgres: identity %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Identity{}, fmt.Errorf("postgres: identity %q: %w", id, err)
	}
	return got, nil
}

// PruneIdentities implements store.Store with one DELETE.
func (s *Store) PruneIdentities(ctx context.Context, before time.Time) (int, error) {
	end, err := s.begin(ctx, "prune identities")
	if err != nil {
		return 0, err
	}
	defer end()
	tag, err := s.pool.Exec(ctx, `DELETE FROM identities WHERE last_seen < $1`, store.CeilTimestamp(before))
	if err != nil {
		return 0, fmt.Errorf("postgres: prune identities: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Constant implements store.Store with two statements in one round trip:
// the insert, which waits for a racing one to commit and then does
// nothing, and the read, whose snapshot, taken after, sees the value that
// won.
func (s *Store) Constant(ctx context.Context, name string, init []byte) (_ []byte, err error) {
	end, err := s.begin(ctx, "constant")
	if err != nil {
		return nil, err
	}
	defer end()
	defer func() {
		if err != nil {
			err = fmt.Errorf("postgres: constant %q: %w", name, err)
		}
	}()
	if err := store.ValidateConstantName(name); err != nil {
		return nil, err
	}
	if init == nil {
		init = []byte{}
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO constants (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, init)
	var v []byte
	b.Queue(`SELECT value FROM constants WHERE name = $1`, name).QueryRow(func(row pgx.Row) error {
		return row.Scan(&v)
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}
