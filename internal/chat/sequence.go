package chat

import (
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// This file is the order of a room's messages on one node. The store
// gives each message its id, one more than the last of its room; the node
// delivers each room's messages to its sockets in that order, each once,
// as its Committer reports them. In a cluster they come from the cluster's
// stream instead (stream.go); what both share is here: a message that
// comes before one with a lower id waits, for GapWait, for the missing
// ones, which are then read from the store (they are there: the store
// gives an id only once the one before is committed).

// maxPending bounds the messages a room holds back for a gap; past it, the
// gap is read from the store at once.
const maxPending = 1000

// pendingMessage is a message that waits for those before it.
type pendingMessage struct {
	m      store.Message
	except string // the sender's socket, which is not sent its own message
}

// roomKey is the Socket.IO room of a chat room's members.
func roomKey(name string) string { return "room:" + name }

// stored hands a message this node stored, which the socket except sent,
// to its room's delivery: at once on one node, through the cluster's
// stream in a cluster.
func (c *Chat) stored(r *room, m store.Message, except string) {
	if c.node != nil {
		c.appendStored(r, m, except)
		return
	}
	r.deliverMu.Lock()
	c.offerLocked(r, m, except)
	r.deliverMu.Unlock()
}

// offerLocked delivers m to r's members on this node if it is the next
// of the room, with those that waited for it; holds it back if some are
// missing before it; drops it if it was delivered already. It reports
// whether m was new. r.deliverMu is held.
func (c *Chat) offerLocked(r *room, m store.Message, except string) bool {
	if m.ID <= r.recent.last {
		return false
	}
	if _, dup := r.pending[m.ID]; dup {
		return false
	}
	r.head = max(r.head, m.ID)
	if m.ID != r.recent.last+1 {
		if r.pending == nil {
			r.pending = make(map[int64]pendingMessage)
		}
		r.pending[m.ID] = pendingMessage{m: m, except: except}
		c.log.Debug("message held for those before it", "room", r.name, "id", m.ID, "last", r.recent.last)
		c.scheduleFillLocked(r, len(r.pending) >= maxPending)
		return true
	}
	c.deliverLocked(r, m, except)
	c.deliverPendingLocked(r)
	return true
}

// deliverPendingLocked delivers the held messages that follow the room's
// last, in order. r.deliverMu is held.
func (c *Chat) deliverPendingLocked(r *room) {
	for len(r.pending) > 0 {
		next, ok := r.pending[r.recent.last+1]
		if !ok {
			break
		}
		delete(r.pending, next.m.ID)
		c.deliverLocked(r, next.m, next.except)
	}
}

// deliverLocked sends m to the room's members on this node but except,
// and keeps it among the room's recent messages. r.deliverMu is held.
func (c *Chat) deliverLocked(r *room, m store.Message, except string) {
	r.recent.push(m)
	to := c.nsp.Local().To(r.key)
	if except != "" {
		to = to.Except(except)
	}
	to, timed := c.trackLocked(r, m, to)
	_ = to.Emit(EventChatMessage, wireMessage(m))
	timed.Release()
}

// scheduleFillLocked makes sure the room's missing messages, those up to
// its head, are read from the store: after GapWait, or now. r.deliverMu
// is held.
func (c *Chat) scheduleFillLocked(r *room, now bool) {
	if r.filling || r.head <= r.recent.last || c.closing() {
		return
	}
	if r.gapTimer != nil {
		if !now {
			return
		}
		r.gapTimer.Stop()
	}
	wait := c.gapWait()
	if now {
		wait = 0
	}
	r.gapTimer = time.AfterFunc(wait, func() { c.fill(r) })
}

// gapWait is how long a gap may stay open before it is read from the
// store.
func (c *Chat) gapWait() time.Duration {
	if c.node != nil {
		return c.node.cfg.GapWait
	}
	return DefaultGapWait
}

// fill reads the room's missing messages from the store, without a lock,
// and delivers them with those that waited. Were some missing from the
// store too (which it should not do), the room goes on after them, with
// an error logged, rather than wait for ever.
func (c *Chat) fill(r *room) {
	r.deliverMu.Lock()
	r.gapTimer = nil
	if r.filling || r.head <= r.recent.last {
		r.deliverMu.Unlock()
		return
	}
	r.filling = true
	from, to := r.recent.last+1, r.head
	r.deliverMu.Unlock()

	c.log.Debug("reading messages missing from a room", "room", r.name, "from", from, "to", to)
	ctx, cancel := storeContext()
	msgs, err := c.store.Since(ctx, r.name, from-1, int(min(to-from+1, maxCatchUp)))
	cancel()

	r.deliverMu.Lock()
	defer r.deliverMu.Unlock()
	r.filling = false
	if err != nil {
		c.log.Error("reading messages missing from a room", "room", r.name, "from", from, "err", err)
		if !c.closing() {
			r.gapTimer = time.AfterFunc(4*c.gapWait(), func() { c.fill(r) })
		}
		return
	}
	before := r.recent.last
	for _, m := range msgs {
		c.offerLocked(r, m, "")
	}
	if r.recent.last == before && len(r.pending) == 0 {
		// Nothing to read after all (a head the store no longer has).
		r.head = r.recent.last
		return
	}
	if r.recent.last == before {
		ids := make([]int64, 0, len(r.pending))
		for id := range r.pending {
			ids = append(ids, id)
		}
		next := slices.Min(ids)
		c.log.Error("messages missing from the store; going on without them", "room", r.name, "from", from, "to", next-1)
		r.recent.last = next - 1
		r.recent.clear()
		p := r.pending[next]
		delete(r.pending, next)
		c.offerLocked(r, p.m, p.except)
	}
	c.scheduleFillLocked(r, false)
}

// closing reports whether Close has begun.
func (c *Chat) closing() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// checkRooms runs until Close, in a cluster: every CheckEvery it reads the
// last ids of the rooms active lately and, for the loaded ones whose last
// is past what the stream brought, appends to the stream what it lacks
// (see stream.go).
func (c *Chat) checkRooms() {
	defer close(c.checked)
	t := time.NewTicker(c.node.cfg.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.checkHeads(time.Now())
		}
	}
}

// checkWindow is how far back checkHeads looks for active rooms: more
// than the clocks of two nodes may differ by.
const checkWindow = time.Minute

// checkHeads compares the loaded rooms active since now-window with the
// store's last ids.
func (c *Chat) checkHeads(now time.Time) {
	since := now.Add(-max(checkWindow, 2*c.node.cfg.CheckEvery))
	after := ""
	for {
		ctx, cancel := storeContext()
		page, err := c.store.ListRooms(ctx, store.RoomQuery{After: after, ActiveSince: since, Limit: MaxRoomsPage})
		cancel()
		if err != nil {
			c.log.Warn("checking the rooms' last messages", "err", err)
			return
		}
		for _, sr := range page {
			c.mu.Lock()
			r := c.rooms[store.RoomKey(sr.Name)]
			c.mu.Unlock()
			if r == nil {
				continue
			}
			r.deliverMu.Lock()
			if sr.LastID > r.recent.last {
				r.head = max(r.head, sr.LastID)
				c.retryOutLocked(r, c.gapWait())
			}
			r.deliverMu.Unlock()
		}
		if len(page) < MaxRoomsPage {
			return
		}
		after = page[len(page)-1].Name
	}
}
