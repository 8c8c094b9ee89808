package chat

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// Defaults of the room caps (see Config).
const (
	DefaultRoomsPerPerson  = 10
	DefaultRoomsPerAddress = 30
	DefaultMaxRooms        = 1000
	DefaultRoomIdle        = 24 * time.Hour
)

// creator is who asks for a room that does not exist yet: the keys its
// creation counts against.
type creator struct {
	// person is the person's identity id.
	person string
	// address is the client address (see Config.ClientAddress), "" when
	// it is not capped.
	address string
}

// creatorOf returns the creator p is on so.
func (c *Chat) creatorOf(so *socketio.Socket, p *person) *creator {
	return &creator{person: p.id, address: c.cfg.ClientAddress(so.Handshake())}
}

// RemoteAddress is the default Config.ClientAddress: the IP address of the
// socket's peer, as an IPv4 address or an IPv6 /64 (one subscriber's usual
// allocation, as the connection caps count), or "" when it has none.
func RemoteAddress(h *socketio.Handshake) string {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(h.Address); err == nil {
		a = ap.Addr()
	} else if a, err = netip.ParseAddr(h.Address); err != nil {
		return ""
	}
	return AddressKey(a)
}

// AddressKey returns the client address that a per-address cap counts a
// by: a itself for IPv4, its /64 for IPv6; "" for an invalid a.
func AddressKey(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	if a.Is4() {
		return p.Addr().String()
	}
	return p.String()
}

// roomCaps counts the rooms created lately, by person and by client
// address, within a sliding window, and the creations under way. It is
// safe for concurrent use; its mu is a leaf (docs/locking.md).
type roomCaps struct {
	perPerson, perAddress int // <= 0: no cap
	window                time.Duration

	mu sync.Mutex
	// made holds, by key ("p " + person, "a " + address), the times of
	// the creations within the window, oldest first. Every time is one
	// room created (or being created), so the map holds no more entries
	// than rooms were made in a window.
	made map[string][]time.Time
	// creating is the number of creations under way: reserved, not yet
	// in the store.
	creating int
}

func newRoomCaps(perPerson, perAddress int, window time.Duration) *roomCaps {
	return &roomCaps{perPerson: perPerson, perAddress: perAddress, window: window, made: make(map[string][]time.Time)}
}

// recentLocked returns the times of key's creations since from, dropping
// the older ones; rc.mu must be held.
func (rc *roomCaps) recentLocked(key string, from time.Time) []time.Time {
	ts := rc.made[key]
	i := 0
	for i < len(ts) && ts[i].Before(from) {
		i++
	}
	switch {
	case i == len(ts):
		delete(rc.made, key)
		return nil
	case i > 0:
		ts = slices.Clone(ts[i:]) // let the old array go
		rc.made[key] = ts
	}
	return ts
}

// reserve counts a creation by by at now, unless one of its caps is
// reached, and returns the function that ends it: with ok false (the room
// was not created after all), it is uncounted.
func (rc *roomCaps) reserve(by *creator, now time.Time) (done func(ok bool), err error) {
	type capped struct {
		key   string
		limit int
		err   error
	}
	caps := [...]capped{
		{"p " + by.person, rc.perPerson, ErrRoomLimitPerson},
		{"a " + by.address, rc.perAddress, ErrRoomLimitAddress},
	}
	keys := make([]string, 0, len(caps))
	from := now.Add(-rc.window)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, c := range caps {
		if c.limit <= 0 || c.key == "a " || c.key == "p " {
			continue
		}
		if len(rc.recentLocked(c.key, from)) >= c.limit {
			return nil, c.err
		}
		keys = append(keys, c.key)
	}
	for _, k := range keys {
		rc.made[k] = append(rc.made[k], now)
	}
	rc.creating++
	var once sync.Once
	return func(ok bool) {
		once.Do(func() {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			rc.creating--
			if ok {
				return
			}
			for _, k := range keys {
				ts := rc.made[k]
				if i := slices.Index(ts, now); i >= 0 {
					ts = slices.Delete(ts, i, i+1)
				}
				if len(ts) == 0 {
					delete(rc.made, k)
				} else {
					rc.made[k] = ts
				}
			}
		})
	}, nil
}

// underway returns the number of creations under way.
func (rc *roomCaps) underway() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.creating
}

// sweep drops the creations older than the window, so that the keys of
// those who made rooms once and never again do not stay.
func (rc *roomCaps) sweep(now time.Time) {
	from := now.Add(-rc.window)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for k := range rc.made {
		rc.recentLocked(k, from)
	}
}

// size returns the number of keys kept, for tests.
func (rc *roomCaps) size() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.made)
}

// createRoom creates the room called name in the store, for by (nil: for
// the chat itself, as the default room is), within the caps: by's, and the
// total of rooms listed. It is called without any lock held.
func (c *Chat) createRoom(ctx context.Context, name string, by *creator) (store.Room, error) {
	if by != nil && store.RoomKey(name) != store.RoomKey(DefaultRoom) {
		now := time.Now()
		done, err := c.caps.reserve(by, now)
		if err != nil {
			c.log.Info("room creation refused", "room", name, "person", by.person, "address", by.address, "err", err)
			return store.Room{}, err
		}
		ok := false
		defer func() { done(ok) }()
		if c.cfg.MaxRooms > 0 {
			n, err := c.store.CountRooms(ctx, now.Add(-c.cfg.RoomIdle))
			if err != nil {
				c.log.Error("counting rooms", "err", err)
				return store.Room{}, ErrUnavailable
			}
			// The creations under way, this one included, are not in
			// the count yet (or are, if they have just ended: then the
			// cap is met a little early, never exceeded by this node).
			if n+c.caps.underway() > c.cfg.MaxRooms {
				c.log.Warn("room creation refused: the server has its most rooms", "room", name, "rooms", n, "cap", c.cfg.MaxRooms)
				return store.Room{}, ErrRoomsFull
			}
		}
		stored, err := c.store.CreateRoom(ctx, name)
		if err != nil {
			c.log.Error("creating room", "room", name, "err", err)
			return store.Room{}, ErrUnavailable
		}
		ok = true
		if !stored.Created.Before(store.Timestamp(now)) { // not made meanwhile by another
			c.announceRoom(stored)
		}
		return stored, nil
	}
	stored, err := c.store.CreateRoom(ctx, name)
	if err != nil {
		c.log.Error("creating room", "room", name, "err", err)
		return store.Room{}, ErrUnavailable
	}
	return stored, nil
}

// findRoom returns the stored room called name, created for by when it
// does not exist (see createRoom).
func (c *Chat) findRoom(ctx context.Context, name string, by *creator) (store.Room, error) {
	stored, err := c.store.Room(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.createRoom(ctx, name, by)
	case err != nil:
		c.log.Error("loading room", "room", name, "err", err)
		return store.Room{}, ErrUnavailable
	}
	return stored, nil
}
