package memory

import (
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// room is the history of one room: its newest messages in a ring buffer,
// and the ClientIDs of those messages. The fields are guarded by mu.
type room struct {
	name string // set once, read without mu
	key  string // store.RoomKey(name); set once, read without mu

	mu sync.RWMutex
	// created is when the room was created, zero until the Append that
	// created it has stored its messages (or CreateRoom ran): Rooms skips
	// the room until then, as if the room and its first messages were one
	// transaction.
	created time.Time
	// active is when the room was last in use (see store.Room.Active).
	active time.Time
	// last is the ID of the newest message, 0 when the room has none.
	last int64
	// buf holds the room's newest len(buf) messages, oldest at buf[head]:
	// it grows up to the limit, then wraps, each message overwriting the
	// oldest. IDs are dense, so the message with ID id is at logical
	// position id - first().
	buf  []store.Message
	head int
	// clients maps the ClientIDs of the messages in buf to their IDs.
	clients map[string]int64
}

// info returns the room as listed; r.mu must be held.
func (r *room) info() store.Room {
	return store.Room{Name: r.name, Created: r.created, Active: r.active, LastID: r.last}
}

// first returns the ID of the oldest message kept; first() > last when
// there is none.
func (r *room) first() int64 {
	return r.last - int64(len(r.buf)) + 1
}

// get returns the message with ID id, which must be kept.
func (r *room) get(id int64) store.Message {
	return r.buf[(r.head+int(id-r.first()))%len(r.buf)]
}

// add stores m as the room's next message, dropping the oldest one when
// the room already keeps limit, and returns m with its ID. A message whose
// ClientID is kept in the room is not stored again: the kept one is
// returned.
func (r *room) add(m store.Message, limit int) store.Message {
	if m.ClientID != "" {
		if id, ok := r.clients[m.ClientID]; ok {
			return r.get(id)
		}
	}
	r.last++
	m.ID = r.last
	if len(r.buf) < limit {
		if len(r.buf) == cap(r.buf) {
			// Grow as append would, but never past limit.
			nb := make([]store.Message, len(r.buf), min(max(2*cap(r.buf), 8), limit))
			copy(nb, r.buf)
			r.buf = nb
		}
		r.buf = append(r.buf, m)
	} else {
		old := &r.buf[r.head]
		if old.ClientID != "" && r.clients[old.ClientID] == old.ID {
			delete(r.clients, old.ClientID)
		}
		*old = m
		r.head = (r.head + 1) % len(r.buf)
	}
	if m.ClientID != "" {
		if r.clients == nil {
			r.clients = make(map[string]int64)
		}
		r.clients[m.ClientID] = m.ID
	}
	return m
}

// span returns a copy of the kept messages with IDs lo to hi, which must
// be kept (or hi < lo, for none).
func (r *room) span(lo, hi int64) []store.Message {
	if hi < lo {
		return []store.Message{}
	}
	out := make([]store.Message, hi-lo+1)
	i := (r.head + int(lo-r.first())) % len(r.buf)
	n := copy(out, r.buf[i:])
	copy(out[n:], r.buf)
	return out
}

// before returns up to limit (> 0) kept messages with ID < before (before
// <= 0: the newest), oldest first.
func (r *room) before(before int64, limit int) []store.Message {
	hi := r.last
	if before > 0 && before <= hi {
		hi = before - 1
	}
	lo := max(r.first(), hi-int64(limit)+1)
	return r.span(lo, hi)
}

// after returns up to limit (> 0) kept messages with ID > after, oldest
// first.
func (r *room) after(after int64, limit int) []store.Message {
	if after >= r.last {
		return []store.Message{}
	}
	lo := max(r.first(), after+1)
	return r.span(lo, lo+min(int64(limit), r.last-lo+1)-1)
}
