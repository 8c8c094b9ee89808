package store

import (
	"fmt"
	"time"
)

// Identity is a person the chat knows: the name they hold and what proves
// they are the one holding it.
type Identity struct {
	// ID identifies the identity for good; messages carry it as AuthorID.
	ID string
	// Name is the name as the person spelled it, for display.
	Name string
	// Key is the comparison key of Name (names.Key): one identity at a
	// time holds a key, so that names that look alike are one name.
	Key string
	// Secret is the SHA-256 hash of the guest token that proves the
	// identity, empty for an identity the host application vouches for.
	Secret []byte
	// Created is when the identity claimed its name; LastSeen is when it
	// was last seen, at or after Created. Both are in UTC, with
	// millisecond precision, as Timestamp makes them.
	Created, LastSeen time.Time
}

// Claim is an identity's request for a name: see Store.ClaimName.
type Claim struct {
	// ID, Name, Key and Secret are those of the identity to store when the
	// claim wins. ID and Key must not be empty.
	ID, Name, Key string
	Secret        []byte
	// Now is the time of the claim, which must not be zero: the new
	// identity's Created and LastSeen, and the clock that Reserve counts
	// against.
	Now time.Time
	// Reserve is how long a name stays its holder's after they were last
	// seen; it must not be negative. A holder last seen before
	// Now-Reserve has let the name go.
	Reserve time.Duration
	// Kept says that the claimant is known to keep what proves it (a
	// guest's token): the identity stored is then seen a millisecond
	// after it is created, which tells a later claimant that it was kept,
	// with no SeenIdentity to follow.
	Kept bool
}

// Validate reports, as an error wrapping ErrInvalid, why c cannot be
// claimed, or returns nil.
func (c Claim) Validate() error {
	if c.ID == "" {
		return fmt.Errorf("%w: empty identity id", ErrInvalid)
	}
	if c.Key == "" {
		return fmt.Errorf("%w: empty name key", ErrInvalid)
	}
	for _, f := range [...]struct{ name, s string }{
		{"identity id", c.ID},
		{"name", c.Name},
		{"name key", c.Key},
	} {
		if err := validString(f.s); err != nil {
			return fmt.Errorf("%w: %s %s", ErrInvalid, f.name, err)
		}
	}
	if c.Now.IsZero() {
		return fmt.Errorf("%w: claim without a time", ErrInvalid)
	}
	if c.Reserve < 0 {
		return fmt.Errorf("%w: negative reserve %v", ErrInvalid, c.Reserve)
	}
	return nil
}

// Identity returns the identity c stores when it wins: times as the store
// keeps them (LastSeen a millisecond after Created when c.Kept), and a
// Secret that is never nil (a database column that cannot be null stores
// an empty one).
func (c Claim) Identity() Identity {
	now := Timestamp(c.Now)
	secret := c.Secret
	if secret == nil {
		secret = []byte{}
	}
	seen := now
	if c.Kept {
		seen = now.Add(time.Millisecond)
	}
	return Identity{ID: c.ID, Name: c.Name, Key: c.Key, Secret: secret, Created: now, LastSeen: seen}
}

// Expired reports whether id, seen last at its LastSeen, has let its name
// go by the time of c.
func (c Claim) Expired(id Identity) bool {
	return id.LastSeen.Before(c.Cutoff())
}

// Cutoff returns the time before which a holder's name is free: c.Now,
// as the store keeps times, less c.Reserve.
func (c Claim) Cutoff() time.Time {
	return Timestamp(c.Now).Add(-c.Reserve)
}

// ValidateConstantName reports, as an error wrapping ErrInvalid, why name
// cannot name a Constant, or returns nil.
func ValidateConstantName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty constant name", ErrInvalid)
	}
	if err := validString(name); err != nil {
		return fmt.Errorf("%w: constant name %s", ErrInvalid, err)
	}
	return nil
}

// ValidIdentityID reports whether id can be an identity's ID: not empty,
// and text both backends store unchanged. No identity has any other ID,
// so the backends look such an id up as ErrNotFound.
func ValidIdentityID(id string) bool {
	return id != "" && validString(id) == nil
}
