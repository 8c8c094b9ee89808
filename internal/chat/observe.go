package chat

import (
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/identity"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// Observer hears of the chat's refusals and of its messages' delivery, for
// metrics. Its methods are called on the connections' goroutines and on
// the store's reporter: they must be quick, never block, and be safe for
// concurrent use.
type Observer interface {
	// Refused: the chat refused something with code, one of Codes: an
	// event (as its ack or an error event), or, in app mode, a connection
	// (its CONNECT_ERROR's code).
	Refused(code string)
	// RateLimited: the refusal was for a rate limit (code rate_limited).
	RateLimited()
	// Delivered: a message whose delivery was timed (see
	// Config.DeliverySample) was written to the connections of its room's
	// members on this node, the last of them d after the message's event
	// reached the chat (see socketio.Tracker).
	Delivered(d time.Duration)
}

// nopObserver is the Observer of a Config that sets none.
type nopObserver struct{}

func (nopObserver) Refused(string)          {}
func (nopObserver) RateLimited()            {}
func (nopObserver) Delivered(time.Duration) {}

// Events returns the events a client may send the chat, sorted: those
// with a handler. Every other event is ignored.
func Events() []string {
	return []string{
		EventHistory, EventJoinRoom, EventLeaveRoom, EventListRooms,
		EventListUsers, EventNewUser, EventSendChatMessage, EventTyping,
	}
}

// Codes returns every code the chat refuses something with, sorted: its
// own refusals' (Code), and in app mode those of the tokens it refuses
// (identity.Refusal).
func Codes() []string {
	codes := []string{
		string(CodeBadRequest), string(CodeRateLimited), string(CodeNameInvalid),
		string(CodeNameTooLong), string(CodeNameTaken), string(CodeAlreadyJoined),
		string(CodeNotJoined), string(CodeMessageInvalid), string(CodeMessageTooLong),
		string(CodeRoomInvalid), string(CodeRoomLimit), string(CodeNotInRoom),
		string(CodeNotStored), string(CodeUnavailable), string(CodeNotAuthenticated),
		identity.ErrTokenMissing.Code(), identity.ErrTokenExpired.Code(), identity.ErrTokenInvalid.Code(),
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// refused tells the observer of a refusal with code.
func (c *Chat) refused(code string) {
	c.obs.Refused(code)
	if code == string(CodeRateLimited) {
		c.obs.RateLimited()
	}
}

// timedDelivery is a message of a room whose delivery is to be timed: its
// id, and when its event reached the chat. Guarded by the room's
// deliverMu.
type timedDelivery struct {
	id      int64
	arrived time.Time
}

// timeDelivery marks m, stored, which arrived at arrived, for its
// delivery to be timed, if it is one of those sampled (see
// Config.DeliverySample). A room times one message at a time: the mark of
// a message held back for a gap (cluster.go) is lost when another of its
// room's is marked before it is delivered.
func (c *Chat) timeDelivery(r *room, m store.Message, arrived time.Time) {
	if m.ID <= 0 || m.ID%int64(c.cfg.DeliverySample) != 0 {
		return
	}
	r.deliverMu.Lock()
	r.timed = timedDelivery{id: m.ID, arrived: arrived}
	r.deliverMu.Unlock()
}

// trackLocked returns to with a Tracker when m is the message of r's to
// time, and the Tracker, to release once the broadcast is emitted (nil
// otherwise). r.deliverMu is held.
func (c *Chat) trackLocked(r *room, m store.Message, to *socketio.BroadcastOperator) (*socketio.BroadcastOperator, *socketio.Tracker) {
	t := c.trackerLocked(r, m)
	if t == nil {
		return to, nil
	}
	return to.Track(t), t
}

// trackerLocked returns a Tracker when m is the message of r's to time,
// nil otherwise. In a cluster, the node that stored a message times its
// way through the stream to the node's own sockets. r.deliverMu is held.
func (c *Chat) trackerLocked(r *room, m store.Message) *socketio.Tracker {
	if r.timed.id != m.ID || m.ID == 0 {
		return nil
	}
	t := socketio.NewTracker(r.timed.arrived, c.obs)
	r.timed = timedDelivery{}
	return t
}

// PeopleOnline returns the number of people online on this node: the
// identities with a socket here, or within their presence grace.
func (c *Chat) PeopleOnline() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.people)
}

// RoomsInUse returns the number of rooms that somebody online on this
// node is in.
func (c *Chat) RoomsInUse() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.rooms {
		if len(r.members) > 0 {
			n++
		}
	}
	return n
}
