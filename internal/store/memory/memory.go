package memory

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// DefaultMaxMessages is how many messages a room keeps when
// Config.MaxMessages is not set.
const DefaultMaxMessages = 10_000

var _ store.Store = (*Store)(nil)

// Config configures a Store. The zero value is the default.
type Config struct {
	// MaxMessages is the most messages each room keeps: storing one more
	// drops the room's oldest (DefaultMaxMessages when 0 or less).
	MaxMessages int
}

// Store is a store.Store in process memory. It is safe for concurrent use.
type Store struct {
	// gate admits calls while the store is open; Close waits for them.
	gate store.Gate
	// d is the history; nil after Close, which lets it go. Read it only
	// between gate.Enter and its end.
	d *data
}

// data is the history a Store serves: the rooms, each behind a lock of its
// own. mu guards the map and the list, and is never held while a room's mu
// is taken; an Append locks its rooms in key order.
type data struct {
	limit int // Config.MaxMessages, filled in

	mu     sync.RWMutex
	rooms  map[string]*room // by store.RoomKey of their names
	byName []*room          // the rooms, sorted by name

	// ids holds the identities and constants, behind a lock of their own.
	ids *identities
}

// New returns an empty Store.
func New(cfg Config) *Store {
	return &Store{d: newData(cfg)}
}

// newData returns an empty history configured by cfg.
func newData(cfg Config) *data {
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = DefaultMaxMessages
	}
	return &data{limit: cfg.MaxMessages, rooms: make(map[string]*room), ids: newIdentities()}
}

// lookup returns the room of key, or nil.
func (d *data) lookup(key string) *room {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.rooms[key]
}

// room returns the room of key, adding it, called name, (not yet listed:
// see room.created) if it does not exist.
func (d *data) room(name, key string) *room {
	if r := d.lookup(key); r != nil {
		return r
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.rooms[key]
	if r == nil {
		r = &room{name: name, key: key}
		d.rooms[key] = r
		i, _ := slices.BinarySearchFunc(d.byName, name, byName)
		d.byName = slices.Insert(d.byName, i, r)
	}
	return r
}

// byName orders rooms by name, for slices.BinarySearchFunc.
func byName(r *room, name string) int { return strings.Compare(r.name, name) }

// begin admits a call while s is open, returning the history and the func
// that ends the call; what says what the call does, for errors.
func (s *Store) begin(ctx context.Context, what string) (*data, func(), error) {
	end, err := s.gate.Enter(ctx, what)
	if err != nil {
		return nil, nil, err
	}
	return s.d, end, nil
}

// Append implements store.Store. It locks the rooms of msgs, in key
// order, and stores the messages under those locks: a reader of a room
// sees all of the call's messages of that room, or none. A ClientID is
// known for as long as its message is kept: a retry that comes after the
// room has dropped the message is stored again.
func (s *Store) Append(ctx context.Context, msgs []store.Message) ([]store.Message, error) {
	d, end, err := s.begin(ctx, "memory: append")
	if err != nil {
		return nil, err
	}
	defer end()
	now := time.Now()
	out, err := store.Prepare(msgs, now)
	if err != nil {
		return nil, fmt.Errorf("memory: append: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	keys := make([]string, len(out))
	for i, m := range out {
		keys[i] = store.RoomKey(m.Room)
	}
	rooms := d.roomsOf(out, keys)
	for _, r := range rooms {
		r.mu.Lock()
	}
	defer func() {
		for _, r := range rooms {
			r.mu.Unlock()
		}
	}()
	created := store.Timestamp(now)
	for i := range out {
		r := rooms[0]
		if len(rooms) > 1 {
			j, _ := slices.BinarySearchFunc(rooms, keys[i], func(r *room, key string) int { return strings.Compare(r.key, key) })
			r = rooms[j]
		}
		if r.created.IsZero() {
			r.created = created
		}
		if r.active.Before(created) {
			r.active = created
		}
		out[i].Room = r.name
		out[i] = r.add(out[i], d.limit)
	}
	return out, nil
}

// roomsOf returns the rooms of msgs (at least one), whose keys are keys,
// sorted by key, adding those that do not exist.
func (d *data) roomsOf(msgs []store.Message, keys []string) []*room {
	first := d.room(msgs[0].Room, keys[0])
	i := slices.IndexFunc(keys, func(k string) bool { return k != first.key })
	if i < 0 { // most batches are of one room: no map for them
		return []*room{first}
	}
	byKey := map[string]*room{first.key: first}
	for j := i; j < len(msgs); j++ {
		if byKey[keys[j]] == nil {
			byKey[keys[j]] = d.room(msgs[j].Room, keys[j])
		}
	}
	rooms := slices.Collect(maps.Values(byKey))
	slices.SortFunc(rooms, func(a, b *room) int { return strings.Compare(a.key, b.key) })
	return rooms
}

// History implements store.Store. Only the messages the room keeps are
// returned: paging back past the oldest gives no more.
func (s *Store) History(ctx context.Context, name string, before int64, limit int) ([]store.Message, error) {
	return s.read(ctx, "memory: history", name, limit, func(r *room) []store.Message { return r.before(before, limit) })
}

// Since implements store.Store. Only the messages the room keeps are
// returned: after a long gap, the first returned may not be after+1.
func (s *Store) Since(ctx context.Context, name string, after int64, limit int) ([]store.Message, error) {
	return s.read(ctx, "memory: since", name, limit, func(r *room) []store.Message { return r.after(after, limit) })
}

// read runs get on room under its read lock, when the room exists and
// limit > 0.
func (s *Store) read(ctx context.Context, what, name string, limit int, get func(*room) []store.Message) ([]store.Message, error) {
	d, end, err := s.begin(ctx, what)
	if err != nil {
		return nil, err
	}
	defer end()
	r := d.lookup(store.RoomKey(name))
	if r == nil || limit <= 0 {
		return []store.Message{}, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return get(r), nil
}

// CreateRoom implements store.Store.
func (s *Store) CreateRoom(ctx context.Context, name string) (store.Room, error) {
	d, end, err := s.begin(ctx, "memory: create room")
	if err != nil {
		return store.Room{}, err
	}
	defer end()
	if err := store.ValidateRoomName(name); err != nil {
		return store.Room{}, fmt.Errorf("memory: create room %q: %w", name, err)
	}
	r := d.room(name, store.RoomKey(name))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.created.IsZero() {
		r.created = store.Timestamp(time.Now())
		r.active = r.created
	}
	return r.info(), nil
}

// Room implements store.Store.
func (s *Store) Room(ctx context.Context, name string) (store.Room, error) {
	d, end, err := s.begin(ctx, "memory: room")
	if err != nil {
		return store.Room{}, err
	}
	defer end()
	if r := d.lookup(store.RoomKey(name)); r != nil {
		r.mu.RLock()
		defer r.mu.RUnlock()
		if !r.created.IsZero() {
			return r.info(), nil
		}
	}
	return store.Room{}, fmt.Errorf("memory: room %q: %w", name, store.ErrNotFound)
}

// Rooms implements store.Store.
func (s *Store) Rooms(ctx context.Context) ([]store.Room, error) {
	return s.ListRooms(ctx, store.RoomQuery{Limit: math.MaxInt})
}

// ListRooms implements store.Store.
func (s *Store) ListRooms(ctx context.Context, q store.RoomQuery) ([]store.Room, error) {
	d, end, err := s.begin(ctx, "memory: list rooms")
	if err != nil {
		return nil, err
	}
	defer end()
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	rooms := []store.Room{}
	if q.Limit <= 0 {
		return rooms, nil
	}
	since := store.CeilTimestamp(q.ActiveSince)
	for _, r := range d.after(q.After) {
		r.mu.RLock()
		if !r.created.IsZero() && !r.active.Before(since) {
			rooms = append(rooms, r.info())
		}
		r.mu.RUnlock()
		if len(rooms) == q.Limit {
			break
		}
	}
	return rooms, nil
}

// after returns the rooms whose names sort after name, in order.
func (d *data) after(name string) []*room {
	d.mu.RLock()
	defer d.mu.RUnlock()
	i, found := slices.BinarySearchFunc(d.byName, name, byName)
	if found {
		i++
	}
	return slices.Clone(d.byName[i:])
}

// CountRooms implements store.Store.
func (s *Store) CountRooms(ctx context.Context, since time.Time) (int, error) {
	d, end, err := s.begin(ctx, "memory: count rooms")
	if err != nil {
		return 0, err
	}
	defer end()
	since = store.CeilTimestamp(since)
	n := 0
	for _, r := range d.after("") {
		r.mu.RLock()
		if !r.created.IsZero() && !r.active.Before(since) {
			n++
		}
		r.mu.RUnlock()
	}
	return n, nil
}

// TouchRooms implements store.Store.
func (s *Store) TouchRooms(ctx context.Context, at time.Time, names []string) error {
	d, end, err := s.begin(ctx, "memory: touch rooms")
	if err != nil {
		return err
	}
	defer end()
	at = store.Timestamp(at)
	for _, name := range store.ValidRoomNames(names) {
		r := d.lookup(store.RoomKey(name))
		if r == nil {
			continue
		}
		r.mu.Lock()
		if !r.created.IsZero() && r.active.Before(at) {
			r.active = at
		}
		r.mu.Unlock()
	}
	return nil
}

// Close implements store.Store: it waits for the calls in progress, then
// lets the history go.
func (s *Store) Close() error {
	return s.gate.Close(func() error {
		s.d = nil
		return nil
	})
}
