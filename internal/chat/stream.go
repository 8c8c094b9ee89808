package chat

import (
	"encoding/json"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// This file is the order of a room's messages in a cluster. The store
// gives each message its id, one more than the last of its room; the node
// that stored it appends it to the cluster's stream as number id of the
// room's sequence (socketio.Sequencer): the stream takes it only after
// id-1, and once. Every node's sockets, the sender's node's included, get
// the room's messages from the stream, in its order: in id order, once,
// and a client that reconnects to any node is replayed those it missed,
// as any broadcast.
//
// The stream lacks a message when the node that stored it died, or Redis
// lost it, before it was appended: the next message of the room then
// meets a gap, and its node reads the missing ones from the store and
// appends them first, on the other node's behalf (the script keeps the
// one that comes first); every CheckEvery each node does the same for the
// rooms whose last id in the store is past the last they delivered. A
// message appended so has no sender to leave out: its author's other
// sockets get it too (the page knows it by its clientId).
//
// When the stream does not answer within LocalAfter (Redis is slow or
// away), the node delivers its own people's messages to its own sockets
// without it, in id order, as on one node (sequence.go: the ones between
// are read from the store); when the stream brings them later, they are
// known and dropped, here, and go to the other nodes' sockets.

// Bounds of a room's outbox.
const (
	// gapRounds is how many times the head of an outbox meets a gap, each
	// GapWait apart, after the missing ones were read from the store,
	// before it is appended whatever the stream holds (the store lacks
	// them: a message is never given an id before the one before it is
	// committed, so this should not happen).
	gapRounds = 4
	// failedRetry is how long a node waits to send a message again that
	// Redis refused (out of memory, say).
	failedRetry = time.Second
)

// outMessage is a message of this node's room, stored, waiting for the
// stream to have it.
type outMessage struct {
	m      store.Message
	except string // the socket that sent it, which is not sent it again
	sent   bool   // in the publisher's queue, not yet answered
	local  bool   // handed to this node's own delivery (see localOut)
}

// seqName is the name of a room's sequence in the stream.
func seqName(r *room) string { return "room:" + r.id }

// appendStored queues a message this node stored for the stream.
func (c *Chat) appendStored(r *room, m store.Message, except string) {
	r.deliverMu.Lock()
	defer r.deliverMu.Unlock()
	if m.ID <= r.recent.last {
		return // delivered already: a retry's stored message
	}
	c.queueOutLocked(r, outMessage{m: m, except: except})
	c.sendOutLocked(r)
	if r.localTimer == nil && !c.closing() {
		r.localTimer = time.AfterFunc(c.node.cfg.LocalAfter, func() { c.localOut(r) })
	}
}

// localOut delivers to this node's sockets the messages of r's outbox that
// the stream has not brought yet, LocalAfter after they were stored, in id
// order (offerLocked); the stream's copies are dropped when they come.
func (c *Chat) localOut(r *room) {
	r.deliverMu.Lock()
	defer r.deliverMu.Unlock()
	r.localTimer = nil
	for i := range r.outbox {
		o := &r.outbox[i]
		if o.local || o.m.ID <= r.recent.last {
			continue
		}
		o.local = true
		c.offerLocked(r, o.m, o.except)
	}
}

// queueOutLocked puts o in r's outbox, in id order, unless it is there.
// r.deliverMu is held.
func (c *Chat) queueOutLocked(r *room, o outMessage) {
	i := len(r.outbox)
	for i > 0 && r.outbox[i-1].m.ID >= o.m.ID {
		if r.outbox[i-1].m.ID == o.m.ID {
			return
		}
		i--
	}
	r.outbox = append(r.outbox, outMessage{})
	copy(r.outbox[i+1:], r.outbox[i:])
	r.outbox[i] = o
}

// sendOutLocked hands the publisher the messages of r's outbox not yet
// sent, in order. r.deliverMu is held.
func (c *Chat) sendOutLocked(r *room) {
	for i := range r.outbox {
		o := &r.outbox[i]
		if o.sent {
			continue
		}
		force := r.gapRounds >= gapRounds && i == 0
		to := c.nsp.To(r.key)
		if o.except != "" {
			to = to.Except(o.except)
		}
		id := o.m.ID
		err := to.EmitInSequence(seqName(r), id, force, func(res socketio.SequenceResult) { c.appended(r, id, res) },
			EventChatMessage, wireMessage(o.m))
		if err != nil {
			// The queue is full (Redis has been away for long) or closed:
			// tried again on the next check.
			c.log.Warn("sending a message to the cluster", "room", r.name, "id", id, "err", err)
			c.retryOutLocked(r, failedRetry)
			return
		}
		o.sent = true
	}
}

// appended takes the stream's answer about message id of r. It runs on the
// cluster adapter's goroutine.
func (c *Chat) appended(r *room, id int64, res socketio.SequenceResult) {
	r.deliverMu.Lock()
	defer r.deliverMu.Unlock()
	i := 0
	for i < len(r.outbox) && r.outbox[i].m.ID != id {
		i++
	}
	if i == len(r.outbox) {
		return // taken off by an earlier answer
	}
	switch res.Status {
	case socketio.SequenceAppended, socketio.SequencePresent:
		r.outbox = append(r.outbox[:i], r.outbox[i+1:]...)
		if i == 0 {
			r.gapRounds = 0
		}
		if len(r.outbox) == 0 && r.outTimer != nil {
			r.outTimer.Stop()
			r.outTimer = nil
		}
	case socketio.SequenceGap:
		// Those before it are on their way from another node, or lost:
		// sent again when the stream brings the one before, or after
		// GapWait, once read from the store.
		r.outbox[i].sent = false
		if i == 0 {
			r.streamLast = max(r.streamLast, res.Last)
			c.retryOutLocked(r, c.gapWait())
		}
	default:
		c.log.Error("the cluster refused a message", "room", r.name, "id", id, "err", res.Err)
		r.outbox[i].sent = false
		c.retryOutLocked(r, failedRetry)
	}
}

// retryOutLocked makes sure r's outbox is looked at again after d.
// r.deliverMu is held.
func (c *Chat) retryOutLocked(r *room, d time.Duration) {
	if r.outTimer != nil || c.closing() {
		return
	}
	r.outTimer = time.AfterFunc(d, func() { c.repairOut(r) })
}

// repairOut reads from the store the messages of r the stream lacks: up
// to the head of r's outbox, which met a gap, or to the room's last id in
// the store (room.head, see checkHeads); it queues them in the outbox, on
// their nodes' behalf, and sends the outbox again.
func (c *Chat) repairOut(r *room) {
	r.deliverMu.Lock()
	r.outTimer = nil
	from := max(r.streamLast, r.recent.last)
	upTo := r.head
	if len(r.outbox) > 0 {
		if r.outbox[0].sent {
			r.deliverMu.Unlock()
			return // answered soon
		}
		upTo = max(upTo, r.outbox[0].m.ID-1)
		r.gapRounds++
	}
	r.deliverMu.Unlock()

	var missing []store.Message
	if upTo > from {
		ctx, cancel := storeContext()
		var err error
		missing, err = c.store.Since(ctx, r.name, from, int(min(upTo-from, maxCatchUp)))
		cancel()
		if err != nil {
			c.log.Error("reading messages missing from the cluster's stream", "room", r.name, "from", from+1, "err", err)
		}
	}
	r.deliverMu.Lock()
	defer r.deliverMu.Unlock()
	for _, m := range missing {
		if m.ID > r.recent.last && m.ID <= upTo {
			c.queueOutLocked(r, outMessage{m: m})
		}
	}
	c.sendOutLocked(r)
}

// useStream makes the namespace's messages come from the cluster's stream.
func (c *Chat) useStream(sq socketio.Sequencer) {
	sq.UseSequences(c.fromStream)
}

// fromStream sees each broadcast the stream brings to this node, in the
// stream's order; it delivers the chat's messages, in id order, once, and
// lets the rest through.
func (c *Chat) fromStream(event string, args []json.RawMessage, _ []string, deliver func(*socketio.Tracker)) {
	if event != EventChatMessage || len(args) == 0 {
		deliver(nil)
		return
	}
	var w ChatMessage
	if err := json.Unmarshal(args[0], &w); err != nil || w.ID <= 0 {
		deliver(nil)
		return
	}
	c.mu.Lock()
	r := c.rooms[store.RoomKey(w.Room)]
	c.mu.Unlock()
	if r == nil {
		deliver(nil) // not loaded here: nobody here listens to it
		return
	}
	m := storeMessage(w)
	r.deliverMu.Lock()
	defer r.deliverMu.Unlock()
	r.streamLast = max(r.streamLast, m.ID)
	if m.ID <= r.recent.last {
		return // in the history of those who joined since it was stored
	}
	if m.ID > r.recent.last+1 {
		c.fillFromStoreLocked(r, m.ID)
	}
	r.recent.push(m)
	t := c.trackerLocked(r, m)
	deliver(t)
	t.Release()
	if len(r.pending) > 0 { // delivered here without the stream meanwhile
		delete(r.pending, m.ID)
		c.deliverPendingLocked(r)
	}
	// The next of this node's own may have waited for this one.
	if len(r.outbox) > 0 && !r.outbox[0].sent && r.outbox[0].m.ID == m.ID+1 {
		c.sendOutLocked(r)
	}
}

// fillFromStoreLocked delivers to this node's members of r the messages
// before id that the stream lacks (Redis lost them, and the key of the
// room's sequence with them): read from the store, as the stream cannot
// take them before id any more. r.deliverMu is held; it is let go over the
// read, while the stream's reader waits for it.
func (c *Chat) fillFromStoreLocked(r *room, id int64) {
	from := r.recent.last
	r.deliverMu.Unlock()
	ctx, cancel := storeContext()
	msgs, err := c.store.Since(ctx, r.name, from, int(min(id-from-1, maxCatchUp)))
	cancel()
	r.deliverMu.Lock()
	if err != nil {
		c.log.Error("reading messages missing from the cluster's stream", "room", r.name, "from", from+1, "err", err)
	}
	for _, m := range msgs {
		if m.ID > r.recent.last && m.ID < id {
			c.deliverLocked(r, m, "")
		}
	}
	if r.recent.last < id-1 {
		c.log.Error("messages missing from the store; going on without them", "room", r.name, "from", r.recent.last+1, "to", id-1)
		r.recent.last = id - 1
		r.recent.clear()
	}
}

// storeMessage is the stored message that w shows.
func storeMessage(w ChatMessage) store.Message {
	author := w.UserID
	if author == "" {
		author = w.Name
	}
	return store.Message{Room: w.Room, ID: w.ID, Author: w.Name, AuthorID: w.UserID, Text: w.Message,
		Time: time.UnixMilli(w.Time).UTC(), ClientID: storedClientID(author, w.ClientID)}
}
