package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Store is a persistent history of chat messages, by room, and the
// identities of the people who write them. Implementations are safe for
// concurrent use.
//
// Room names that look alike name one room: every method that takes a
// room's name finds the room by its key (RoomKey), so that "general",
// "General" and "GENERAL" are one room, and what it returns carries the
// name the room was created with.
type Store interface {
	// Append stores msgs in one durable transaction, in order, assigning
	// IDs (and Time when zero); returns them as stored, each with its
	// room's Name (which may be spelt otherwise than the Room given).
	// Rooms are created on first use, and each room of msgs is active
	// (Room.Active) from the time of the call.
	//
	// A message whose ClientID is not empty and was already stored in its
	// room (by an earlier call, or earlier in msgs) is not stored again: the
	// stored message is returned in its place. The IDs that callers pass in
	// are ignored. Either all of msgs are committed, or none is and the
	// error says why; an invalid message fails the whole call with
	// ErrInvalid.
	Append(ctx context.Context, msgs []Message) ([]Message, error)
	// History returns up to limit messages of room with ID < before
	// (before <= 0: the latest), oldest first. An unknown room, or a limit
	// <= 0, gives no messages and no error.
	History(ctx context.Context, room string, before int64, limit int) ([]Message, error)
	// Since returns up to limit messages of room with ID > after, oldest
	// first. An unknown room, or a limit <= 0, gives no messages and no
	// error.
	Since(ctx context.Context, room string, after int64, limit int) ([]Message, error)
	// CreateRoom creates a room if no room has name's key, and returns
	// the room of that key: a new room is called name, and is active from
	// its creation.
	CreateRoom(ctx context.Context, name string) (Room, error)
	// Room returns the room called name, or ErrNotFound (also for a name
	// no room can have): unlike CreateRoom, it creates nothing.
	Room(ctx context.Context, name string) (Room, error)
	// Rooms lists the rooms, by name (in byte order).
	Rooms(ctx context.Context) ([]Room, error)
	// ListRooms lists a page of the rooms that q selects, by name (in
	// byte order): up to q.Limit rooms whose name sorts after q.After and
	// that were active at or after q.ActiveSince. A page that ends before
	// the last selected room is followed by the one with q.After set to
	// its last room's name. A q.Limit <= 0 gives no rooms and no error; a
	// q.After that no room could be called (but "") is ErrInvalid.
	ListRooms(ctx context.Context, q RoomQuery) ([]Room, error)
	// CountRooms returns the number of rooms active at or after since
	// (zero: all rooms).
	CountRooms(ctx context.Context, since time.Time) (int, error)
	// TouchRooms records that the rooms of names were in use at at:
	// the Active of each becomes the later of its Active and at. Names of
	// rooms that do not exist, or cannot, are skipped.
	TouchRooms(ctx context.Context, at time.Time, names []string) error

	// ClaimName gives c.Key to the identity c describes, atomically, also
	// between processes sharing one database: when no identity holds the
	// key, or the one that holds it was last seen before c.Now-c.Reserve,
	// it stores {c.ID, c.Name, c.Key, c.Secret, Created and LastSeen
	// c.Now} in place of that expired one (which is removed) and of any
	// identity with c.ID (which so gives up its old key), and returns it;
	// otherwise it returns the identity that holds the key, unchanged.
	//
	// The caller has won the name when the returned ID is c.ID. When it is
	// not, the name belongs to the identity returned, and only the caller
	// can tell whether that is its own: a guest proves it is by a token
	// whose hash equals the identity's Secret, which the caller must
	// compare in constant time (crypto/subtle), and an identity with an
	// empty Secret is vouched for by the host application and taken by no
	// token. Of concurrent claims of a free key exactly one wins, and the
	// others return the winner. An invalid claim fails with ErrInvalid.
	ClaimName(ctx context.Context, c Claim) (Identity, error)
	// SeenIdentity records that the identity id was seen at at: its
	// LastSeen becomes the later of LastSeen and at, which keeps its name
	// reserved for another Reserve from then. An unknown id is ErrNotFound.
	SeenIdentity(ctx context.Context, id string, at time.Time) error
	// SeenIdentities does what SeenIdentity does for each of ids, in one
	// transaction: a server that stops records everyone online at once.
	// The ids that no identity has are skipped.
	SeenIdentities(ctx context.Context, ids []string, at time.Time) error
	// IdentityByID returns the identity id, or ErrNotFound.
	IdentityByID(ctx context.Context, id string) (Identity, error)
	// PruneIdentities removes the identities last seen before before, and
	// returns how many it removed. Their names become free; their messages
	// keep their AuthorID.
	PruneIdentities(ctx context.Context, before time.Time) (int, error)

	// Constant returns the value stored under name, storing init under it
	// first when there is none: of racing calls, in one process or
	// several, all get the one value stored first. A value never changes
	// once stored. It keeps what a deployment makes once, such as the key
	// of its guest tokens or the epoch that tells a page the store started
	// over (store/memory, whose values live as long as the process, makes
	// a new one at every start). An empty name is ErrInvalid.
	Constant(ctx context.Context, name string, init []byte) ([]byte, error)

	// Close releases the store's resources, after the calls in progress
	// return. Later calls fail with ErrClosed; Close itself may be called
	// again and then returns nil.
	Close() error
}

// Message is one chat message of a room.
type Message struct {
	// Room is the name of the room; it must not be empty.
	Room string
	// ID is assigned by the store: 1 for the first message of the room,
	// then one more for each message after it.
	ID int64
	// Author is the name of the sender.
	Author string
	// Text is the body of the message.
	Text string
	// Time is when the server received the message, in UTC, with
	// millisecond precision. The store sets it when zero, and truncates it
	// to the millisecond otherwise.
	Time time.Time
	// ClientID, when not empty, is an id the client chose for the message
	// so that a retry is stored once: see Store.Append.
	ClientID string
	// AuthorID is the ID of the author's Identity, empty for messages
	// stored before identities existed. It is stored as given: the store
	// does not check that such an identity exists, and keeps it after the
	// identity is pruned.
	AuthorID string
}

// Room is a chat room, the last ID its messages reached and when it was
// last in use.
type Room struct {
	// Name is the room's name as it was first spelt, for display; the
	// room is found by any name of the same RoomKey.
	Name string
	// Created is when the room was created, in UTC, with millisecond
	// precision.
	Created time.Time
	// Active is when the room was last in use, as precise as Created: the
	// latest of its creation, the last Append of a message to it, and the
	// times given to TouchRooms. An application lists the rooms active
	// lately, and lets the others rest (they keep their history).
	Active time.Time
	// LastID is the ID of the room's newest message, 0 when it has none.
	LastID int64
}

// RoomQuery selects a page of rooms for Store.ListRooms.
type RoomQuery struct {
	// After is the name the page starts after, in byte order; "" starts
	// at the first room.
	After string
	// ActiveSince leaves out the rooms last active before it; zero keeps
	// every room.
	ActiveSince time.Time
	// Limit is the most rooms the page holds.
	Limit int
}

// Validate reports, as an error wrapping ErrInvalid, why m cannot be
// stored, or returns nil.
func (m Message) Validate() error {
	if err := ValidateRoomName(m.Room); err != nil {
		return err
	}
	for _, f := range [...]struct{ name, s string }{
		{"author", m.Author},
		{"text", m.Text},
		{"client id", m.ClientID},
		{"author id", m.AuthorID},
	} {
		if err := validString(f.s); err != nil {
			return fmt.Errorf("%w: %s %s", ErrInvalid, f.name, err)
		}
	}
	return nil
}

// ValidRoomNames returns the names of names that a room may have (see
// ValidateRoomName), in order: TouchRooms skips the others.
func ValidRoomNames(names []string) []string {
	for i, n := range names {
		if ValidateRoomName(n) != nil {
			out := slices.Clone(names[:i])
			for _, n := range names[i+1:] {
				if ValidateRoomName(n) == nil {
					out = append(out, n)
				}
			}
			return out
		}
	}
	return names
}

// Validate checks q for ListRooms: its After must be "" or a room name.
func (q RoomQuery) Validate() error {
	if q.After == "" {
		return nil
	}
	if err := ValidateRoomName(q.After); err != nil {
		return fmt.Errorf("list rooms after: %w", err)
	}
	return nil
}

// ValidateRoomName reports, as an error wrapping ErrInvalid, why name is
// not a room name, or returns nil.
func ValidateRoomName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty room name", ErrInvalid)
	}
	if err := validString(name); err != nil {
		return fmt.Errorf("%w: room name %s", ErrInvalid, err)
	}
	return nil
}

// validString checks that s is text both backends store unchanged.
func validString(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("contains a NUL byte")
	}
	return nil
}

// Prepare validates msgs for Append and returns a copy of them with Time set
// to now where zero, every Time truncated to the millisecond in UTC, and ID
// cleared. Backends call it first in Append.
func Prepare(msgs []Message, now time.Time) ([]Message, error) {
	now = Timestamp(now)
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		m.ID = 0
		if m.Time.IsZero() {
			m.Time = now
		} else {
			m.Time = Timestamp(m.Time)
		}
		out[i] = m
	}
	return out, nil
}

// Timestamp returns t as the store keeps times: in UTC, truncated to the
// millisecond, without a monotonic clock reading.
func Timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

// CeilTimestamp returns the earliest time at or after t that the store
// keeps (t rounded up to the millisecond, in UTC): a kept time is before t
// exactly when it is before CeilTimestamp(t), which lets a backend compare
// kept times with t in a database of its own precision.
func CeilTimestamp(t time.Time) time.Time {
	c := Timestamp(t)
	if c.Before(t) {
		c = c.Add(time.Millisecond)
	}
	return c
}
