package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Store is a persistent history of chat messages, by room. Implementations
// are safe for concurrent use.
type Store interface {
	// Append stores msgs in one durable transaction, in order, assigning
	// IDs (and Time when zero); returns them as stored. Rooms are created
	// on first use.
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
	// CreateRoom creates a room if it does not exist and returns it.
	CreateRoom(ctx context.Context, name string) (Room, error)
	// Rooms lists the rooms, by name (in byte order).
	Rooms(ctx context.Context) ([]Room, error)
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
}

// Room is a chat room and the last ID its messages reached.
type Room struct {
	// Name identifies the room.
	Name string
	// Created is when the room was created, in UTC, with millisecond
	// precision.
	Created time.Time
	// LastID is the ID of the room's newest message, 0 when it has none.
	LastID int64
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
	} {
		if err := validString(f.s); err != nil {
			return fmt.Errorf("%w: %s %s", ErrInvalid, f.name, err)
		}
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
