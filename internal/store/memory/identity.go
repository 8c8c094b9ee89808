package memory

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// identities holds the identities and the constants of a history, behind
// one lock: claims are rare next to messages, and each is a few map
// operations. The fields are guarded by mu, which is held while no other
// lock is taken.
type identities struct {
	mu sync.Mutex
	// byID maps an identity's ID to it; byKey maps each held key to the
	// ID of its holder. Every identity of byID is in byKey, and no other.
	byID  map[string]store.Identity
	byKey map[string]string
	// constants maps a constant's name to its value.
	constants map[string][]byte
}

// newIdentities returns an empty set of identities and constants.
func newIdentities() *identities {
	return &identities{
		byID:      make(map[string]store.Identity),
		byKey:     make(map[string]string),
		constants: make(map[string][]byte),
	}
}

// clone returns id with a Secret of its own, so that neither the caller nor
// the store sees what the other does to theirs.
func clone(id store.Identity) store.Identity {
	id.Secret = bytes.Clone(id.Secret)
	if id.Secret == nil {
		id.Secret = []byte{}
	}
	return id
}

// ClaimName implements store.Store.
func (s *Store) ClaimName(ctx context.Context, c store.Claim) (store.Identity, error) {
	d, end, err := s.begin(ctx, "memory: claim name")
	if err != nil {
		return store.Identity{}, err
	}
	defer end()
	if err := c.Validate(); err != nil {
		return store.Identity{}, fmt.Errorf("memory: claim name: %w", err)
	}
	ids := d.ids
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if holder, ok := ids.byKey[c.Key]; ok {
		h := ids.byID[holder]
		if !c.Expired(h) {
			return clone(h), nil
		}
		ids.remove(holder)
	}
	ids.remove(c.ID) // an identity that claims another name gives up its own
	id := clone(c.Identity())
	ids.byID[id.ID] = id
	ids.byKey[id.Key] = id.ID
	return clone(id), nil
}

// remove removes the identity id, if there is one. The caller holds mu.
func (ids *identities) remove(id string) {
	if old, ok := ids.byID[id]; ok {
		delete(ids.byKey, old.Key)
		delete(ids.byID, id)
	}
}

// SeenIdentity implements store.Store.
func (s *Store) SeenIdentity(ctx context.Context, id string, at time.Time) error {
	d, end, err := s.begin(ctx, "memory: identity seen")
	if err != nil {
		return err
	}
	defer end()
	ids := d.ids
	ids.mu.Lock()
	defer ids.mu.Unlock()
	got, ok := ids.byID[id]
	if !ok {
		return fmt.Errorf("memory: identity %q seen: %w", id, store.ErrNotFound)
	}
	if at = store.Timestamp(at); at.After(got.LastSeen) {
		got.LastSeen = at
		ids.byID[id] = got
	}
	return nil
}

// SeenIdentities implements store.Store.
func (s *Store) SeenIdentities(ctx context.Context, ids []string, at time.Time) error {
	d, end, err := s.begin(ctx, "memory: identities seen")
	if err != nil {
		return err
	}
	defer end()
	at = store.Timestamp(at)
	d.ids.mu.Lock()
	defer d.ids.mu.Unlock()
	for _, id := range ids {
		if got, ok := d.ids.byID[id]; ok && at.After(got.LastSeen) {
			got.LastSeen = at
			d.ids.byID[id] = got
		}
	}
	return nil
}

// IdentityByID implements store.Store.
func (s *Store) IdentityByID(ctx context.Context, id string) (store.Identity, error) {
	d, end, err := s.begin(ctx, "memory: identity")
	if err != nil {
		return store.Identity{}, err
	}
	defer end()
	ids := d.ids
	ids.mu.Lock()
	defer ids.mu.Unlock()
	got, ok := ids.byID[id]
	if !ok {
		return store.Identity{}, fmt.Errorf("memory: identity %q: %w", id, store.ErrNotFound)
	}
	return clone(got), nil
}

// PruneIdentities implements store.Store.
func (s *Store) PruneIdentities(ctx context.Context, before time.Time) (int, error) {
	d, end, err := s.begin(ctx, "memory: prune identities")
	if err != nil {
		return 0, err
	}
	defer end()
	ids := d.ids
	ids.mu.Lock()
	defer ids.mu.Unlock()
	n := 0
	for id, got := range ids.byID {
		if got.LastSeen.Before(before) {
			ids.remove(id)
			n++
		}
	}
	return n, nil
}

// Constant implements store.Store. The values live as long as the history:
// a new Store (and so a new process) makes new ones.
func (s *Store) Constant(ctx context.Context, name string, init []byte) ([]byte, error) {
	d, end, err := s.begin(ctx, "memory: constant")
	if err != nil {
		return nil, err
	}
	defer end()
	if err := store.ValidateConstantName(name); err != nil {
		return nil, fmt.Errorf("memory: constant: %w", err)
	}
	ids := d.ids
	ids.mu.Lock()
	defer ids.mu.Unlock()
	v, ok := ids.constants[name]
	if !ok {
		v = bytes.Clone(init)
		if v == nil {
			v = []byte{}
		}
		ids.constants[name] = v
	}
	return bytes.Clone(v), nil
}
