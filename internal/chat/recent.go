package chat

import (
	"fmt"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// Defaults of the rooms' recent messages (Config.RecentMessages,
// Config.RecentBytes).
const (
	// DefaultRecentMessages is how many of a room's newest messages are kept
	// in memory. It is more than the 50 a joiner gets
	// (DefaultHistoryLimit), so that a client that comes back after a
	// short absence catches up from memory too: at 20 messages a second, a
	// busy room for people, 256 messages are the 10 s of the presence
	// grace and more. It is also the margin of a store read made for an
	// older catch-up: that read has to be made again only when more
	// messages than the room keeps arrived while it ran.
	DefaultRecentMessages = 256
	// DefaultRecentBytes bounds the memory of a room's recent messages:
	// room for 256 messages of a typical 200 bytes (text, name, client id
	// and the message's own fields) twice over, or about 60 of the longest
	// ASCII messages (2,000 characters). The history events encoded for
	// joiners count too, as they are made (about as much again for each
	// message sent as history). The newest HistoryLimit messages are kept
	// whatever their size, so that a joiner's history always comes from
	// memory: at most 50 messages of 2,000 four-byte characters, some
	// 400 KiB, and as much again for their events, in a room that sends
	// nothing else.
	DefaultRecentBytes = 128 << 10
)

// messageOverhead is what a kept message costs besides its strings' bytes:
// the store.Message value (the room's name is shared by all of them).
const messageOverhead = 96

// eventOverhead is what a kept history event costs besides its bytes: the
// socketio.PreparedEvent and its frame.
const eventOverhead = 96

// messageSize is what m costs in a room's recent messages.
func messageSize(m store.Message) int {
	return messageOverhead + len(m.Author) + len(m.Text) + len(m.ClientID)
}

// recentEntry is one of a room's recent messages, with its history event
// once a joiner needed it.
type recentEntry struct {
	m store.Message
	// history is m's chat-message event marked as history, encoded once
	// for every socket that gets it (recent.events), nil until then.
	history *socketio.PreparedEvent
}

// size is what k costs in a room's recent messages.
func (k *recentEntry) size() int {
	n := messageSize(k.m)
	if k.history != nil {
		n += eventOverhead + k.history.Size()
	}
	return n
}

// recent is a room's newest messages, oldest first, as the chat delivered
// them: a ring buffer bounded by count (limit) and by bytes (maxBytes, but
// never below keep messages). It holds every message of the room whose ID
// is above floor() and at most last, with no gap: a message that does not
// follow the newest (one stored by another node) starts it afresh. The
// messages sent as history keep their encoded event, which every joiner
// shares (events): sending the history of a room to a socket then costs
// no encoding, and what the burst of a thousand connections leaves behind
// is not a thousand copies of it.
//
// A recent is not safe for concurrent use: the room's deliverMu guards it,
// except while it is filled, before the room is shared.
type recent struct {
	buf   []recentEntry // grows up to limit, then wraps
	head  int           // index of the oldest message in buf
	n     int           // messages held
	bytes int           // their size
	last  int64         // the newest message delivered, held or not

	limit, keep, maxBytes int
}

// newRecent returns the recent messages of a room whose newest message is
// lastID, filled with msgs (oldest first, as read from the store).
func newRecent(limit, keep, maxBytes int, lastID int64, msgs []store.Message) *recent {
	q := &recent{last: lastID, limit: limit, keep: min(keep, limit), maxBytes: maxBytes}
	for _, m := range msgs {
		q.push(m)
	}
	if q.last < lastID {
		// The read is older than the room's last id (which the store
		// should not do): hold nothing rather than claim what is missing.
		q.clear()
		q.last = lastID
	}
	return q
}

// floor returns the ID below the oldest message held: the messages with
// IDs floor()+1 up to last are all held.
func (q *recent) floor() int64 { return q.last - int64(q.n) }

// at returns the i-th message held, oldest first.
func (q *recent) at(i int) store.Message { return q.entry(i).m }

// entry returns the i-th entry, oldest first.
func (q *recent) entry(i int) *recentEntry { return &q.buf[(q.head+i)%len(q.buf)] }

// push appends m, the newest message, dropping the oldest beyond the
// bounds.
func (q *recent) push(m store.Message) {
	if q.n > 0 && m.ID != q.last+1 {
		q.clear()
	}
	size := messageSize(m)
	for q.n > 0 && (q.n >= q.limit || (q.n >= q.keep && q.bytes+size > q.maxBytes)) {
		q.dropOldest()
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = recentEntry{m: m}
	q.n++
	q.bytes += size
	q.last = m.ID
}

// dropOldest forgets the oldest message held.
func (q *recent) dropOldest() {
	q.bytes -= q.buf[q.head].size()
	q.buf[q.head] = recentEntry{} // let its strings and event go
	q.head = (q.head + 1) % len(q.buf)
	q.n--
}

// clear forgets every message held; last stays.
func (q *recent) clear() {
	clear(q.buf)
	q.head, q.n, q.bytes = 0, 0, 0
}

// grow makes room for one more message: the buffer doubles up to limit, so
// that a quiet room costs little.
func (q *recent) grow() {
	buf := make([]recentEntry, min(max(2*len(q.buf), 8), q.limit))
	for i := range q.n {
		buf[i] = *q.entry(i)
	}
	q.buf, q.head = buf, 0
}

// span returns the room's messages with IDs from up to last, oldest first,
// copied; ok is false when the ring does not hold them all.
func (q *recent) span(from int64) (msgs []store.Message, ok bool) {
	from = max(from, 1)
	if from > q.last {
		return nil, true
	}
	if from <= q.floor() {
		return nil, false
	}
	return q.appendFrom(make([]store.Message, 0, q.last-from+1), from), true
}

// appendFrom appends the messages held with IDs from up to last to dst;
// from must be above floor().
func (q *recent) appendFrom(dst []store.Message, from int64) []store.Message {
	for i := int(from - q.floor() - 1); i < q.n; i++ {
		dst = append(dst, q.at(i))
	}
	return dst
}

// events returns the history events (historyEvent) of the messages with
// IDs from up to last, oldest first, as span does their messages. Those
// not yet encoded are, for nsp, and kept: the next joiner gets the same.
// It fails only if a message cannot be encoded.
func (q *recent) events(from int64, nsp *socketio.Namespace) ([]*socketio.PreparedEvent, bool, error) {
	from = max(from, 1)
	if from > q.last {
		return nil, true, nil
	}
	if from <= q.floor() {
		return nil, false, nil
	}
	start := int(from - q.floor() - 1)
	out := make([]*socketio.PreparedEvent, 0, q.n-start)
	for i := start; i < q.n; i++ {
		k := q.entry(i)
		if k.history == nil {
			pe, err := historyEvent(nsp, k.m)
			if err != nil {
				return nil, false, err
			}
			k.history = pe
			q.bytes += eventOverhead + pe.Size()
		}
		out = append(out, k.history)
	}
	return out, true, nil
}

// historyEvent encodes m as a chat-message event marked as history.
func historyEvent(nsp *socketio.Namespace, m store.Message) (*socketio.PreparedEvent, error) {
	pe, err := nsp.PrepareEvent(EventChatMessage, historyMessage(m))
	if err != nil {
		return nil, fmt.Errorf("chat: encoding history: %w", err)
	}
	return pe, nil
}
