package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// Catch-ups: the history a socket gets as it starts listening to a room,
// the room's last messages or what came after the id it names (auth
// {since} at connect, join-room's since), before the live messages.
//
// A catch-up may be more than the connection's send queue holds: 500
// messages of 2,000 CJK characters are 3 MB, over the 2 MB bound. Sent at
// once, it would close the client as a slow consumer, every time it came
// back for it. So a catch-up that fits is sent at once, as before; one
// that does not is sent in pieces, each once the queue has room for it
// (socketio.Stream), on a goroutine of its own (socketio.Socket.Async),
// which holds what the connection receives meanwhile, so that the handler
// that asked for it (a join-room, say) goes on after it, and answers after
// it.
//
// The live messages come after the history, with no gap and none twice:
// the socket joins the room's Socket.IO room, and so starts getting live
// messages, under the room's deliverMu, at the same moment as it is sent
// the last of its history, from the room's recent messages. What comes
// before is sent without the lock, which the delivery of every room waits
// for (see room.deliver): a piece of the room's recent messages copied
// under it, or what is older, read from the store. Then, under the lock
// again, the rest is what came meanwhile: if it fits, it is sent and the
// socket joins; if not, the catch-up goes on without the lock, and tries
// again. A socket that was listening already, and asks for what came
// after an id, stays in the room: it gets what came after that id up to
// the room's last message when it asked, while the live messages, which
// it gets already, go on; they may come among the last pieces of its
// history (clients place messages by id), never twice. (Leaving the room
// for the catch-up would keep them apart, but a socket cut off meanwhile
// would be recovered without the room.)
//
// A client that reads nothing is closed as a slow consumer after the
// engine's WriteTimeout (Stream.Send); one that reads, but so slowly that
// its catch-up takes more than catchUpTimeout, or that the room outruns
// it (see maxCatchUpRounds), is closed too, and comes back asking for what
// came after the last message it got.

// Bounds of a catch-up sent in pieces.
const (
	// catchUpPage is the most messages one read of the store returns.
	catchUpPage = MaxHistoryLimit
	// maxCatchUpRounds bounds the times a catch-up goes on without the
	// room's lock: each round sends what came during the one before, so
	// that a client that reads faster than the room is written catches up
	// in a few. The last round sends the rest at once, from the room's
	// recent messages; if they no longer reach back to what the client
	// lacks, the client is closed, as too slow for the room.
	maxCatchUpRounds = 8
	// catchUpTimeout bounds a catch-up sent in pieces.
	catchUpTimeout = 2 * time.Minute
)

// listen makes a socket hear a room: it first gets the room's recent
// history, or what came after since, as chat-message events marked as
// history, then the room's live messages. A socket already listening gets
// nothing again, unless it names what it saw last. then is called with
// the outcome, on the handler's goroutine or, when the catch-up is sent in
// pieces, on its own goroutine (see socketio.Socket.Async), after it.
func (c *Chat) listen(so *socketio.Socket, name string, since int64, then func(error)) {
	r, err := c.loadRoom(name, nil)
	if err != nil {
		then(err)
		return
	}
	c.listenRoom(so, r, since, then)
}

// listenRoom makes so listen to r (see listen).
func (c *Chat) listenRoom(so *socketio.Socket, r *room, since int64, then func(error)) {
	r.deliverMu.Lock()
	// Already listening: a client that says what it last saw still gets
	// what came after (it drops what it already has, by id).
	listening := slices.Contains(so.Rooms(), r.key)
	if listening && since <= 0 {
		r.deliverMu.Unlock()
		then(nil)
		return
	}
	cu := &catchUp{c: c, so: so, r: r, st: so.NewStream(), next: c.historyFrom(r.recent.last, since), listening: listening}
	if done, err := cu.switchLocked(false); done {
		then(err)
		return
	}
	so.Async(func() { then(cu.finish()) })
}

// historyFrom returns the id of the first message to send to someone who
// joins a room whose last message is last, and who last saw since (0:
// nothing).
func (c *Chat) historyFrom(last, since int64) int64 {
	switch {
	case since > 0 && last-since > maxCatchUp:
		// Too much was missed to send it all: send the latest, so that
		// there is no hole between them and the live messages that follow;
		// the client pages back for the rest with history requests.
		return last - maxCatchUp + 1
	case since > 0:
		return since + 1
	}
	return max(last-int64(c.cfg.HistoryLimit)+1, 1)
}

// catchUp is one socket's catch-up on one room. It is used by one
// goroutine at a time: the handler's, then the one of socketio.Async.
type catchUp struct {
	c  *Chat
	so *socketio.Socket
	r  *room
	st *socketio.Stream // encoded, not yet queued

	next      int64                     // the first id not yet taken
	pending   []*socketio.PreparedEvent // taken from the room's recent messages, not yet in st
	readTo    int64                     // when not 0: the messages next..readTo are to be read from the store
	listening bool                      // the socket is in the room's Socket.IO room
}

// switchLocked ends the catch-up if it can: with r.deliverMu held, it
// takes the history events of the room's messages from cu.next on (each
// encoded once, for every joiner: see recent.events) and, if they fit in
// the queue now, queues them and joins the socket to the room. Otherwise it
// takes what it has to send without the lock. With force (the last round),
// it sends the rest whatever it takes. It releases r.deliverMu, and reports
// whether the catch-up is over, and how it ended.
func (cu *catchUp) switchLocked(force bool) (done bool, err error) {
	r := cu.r
	defer func() {
		r.deliverMu.Unlock()
		if done && err == nil {
			err = cu.joined()
		}
	}()
	events, ok, err := r.recent.events(cu.next, cu.c.nsp)
	if err != nil {
		return true, err
	}
	if !ok && force {
		return true, errCatchUpOvertaken
	}
	if !ok {
		cu.readTo = r.recent.last
		return false, nil
	}
	cu.st.Grow(len(events)) // at most what the room keeps in memory
	i := 0
	for ; i < len(events) && (force || !cu.st.Full()); i++ {
		if err := cu.st.EmitPrepared(events[i]); err != nil {
			return true, fmt.Errorf("chat: sending history: %w", err)
		}
	}
	if i == len(events) {
		sent := true
		if force {
			err = cu.st.SendNow()
		} else {
			sent, err = cu.st.TrySend()
		}
		if err != nil {
			return true, fmt.Errorf("chat: sending history: %w", err)
		}
		if sent {
			if !cu.listening {
				cu.so.Join(r.key)
			}
			return true, nil
		}
	}
	cu.pending = events[i:]
	cu.next = r.recent.last + 1
	return false, nil
}

// joined checks that a socket that joined its room is still connected: if
// it disconnected meanwhile, its leaving the rooms may have come before
// the join.
func (cu *catchUp) joined() error {
	if !cu.so.Connected() {
		cu.so.Leave(cu.r.key)
		return socketio.ErrDisconnected
	}
	return nil
}

// finish sends the rest of a catch-up that did not fit at once, in
// pieces; it runs on a goroutine that may wait.
func (cu *catchUp) finish() error {
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	defer cancel()
	err := cu.run(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errCatchUpOvertaken) {
		// Too slow for the room: as a live slow consumer would be, it is
		// closed, and comes back asking for what came after what it got.
		cu.c.log.Warn("closing a client too slow to catch up", "room", cu.r.name, "sid", cu.so.ID(), "err", err)
		cu.so.CloseTransport()
	}
	return err
}

// run sends, round after round, what the catch-up took, then tries to end
// it under the room's lock.
func (cu *catchUp) run(ctx context.Context) error {
	for round := 1; ; round++ {
		if err := cu.send(ctx); err != nil {
			return err
		}
		if cu.listening {
			// It hears the room already: what came after what it took
			// came live.
			return nil
		}
		if err := cu.reload(); err != nil {
			return err
		}
		cu.r.deliverMu.Lock()
		if done, err := cu.switchLocked(round >= maxCatchUpRounds); done {
			return err
		}
	}
}

// reload makes the catch-up go on with the room's state loaded again if
// it was let go meanwhile, idle (see sweepRooms): its live messages go
// through that. The ids go on.
func (cu *catchUp) reload() error {
	cu.c.mu.Lock()
	unloaded := cu.r.unloaded
	cu.c.mu.Unlock()
	if !unloaded {
		return nil
	}
	r, err := cu.c.loadRoom(cu.r.name, nil)
	if err != nil {
		return err
	}
	cu.r = r
	return nil
}

// send sends what the catch-up took without the room's lock: what it has
// to read from the store, the recent messages it copied, and what it
// encoded; then it waits for the queue to have room for a last piece.
func (cu *catchUp) send(ctx context.Context) error {
	if cu.readTo > 0 {
		if err := cu.read(ctx); err != nil {
			return err
		}
	}
	for _, pe := range cu.pending {
		if err := cu.makeRoom(ctx); err != nil {
			return err
		}
		if err := cu.st.EmitPrepared(pe); err != nil {
			return fmt.Errorf("chat: sending history: %w", err)
		}
	}
	cu.pending = nil
	if err := cu.st.Send(ctx); err != nil {
		return fmt.Errorf("chat: sending history: %w", err)
	}
	if err := cu.st.Wait(ctx); err != nil {
		return fmt.Errorf("chat: sending history: %w", err)
	}
	return nil
}

// read sends the room's messages cu.next..cu.readTo, read from the store
// a page at a time.
func (cu *catchUp) read(ctx context.Context) error {
	for cu.next <= cu.readTo {
		n := int(min(cu.readTo-cu.next+1, catchUpPage))
		rctx, cancel := context.WithTimeout(ctx, storeTimeout)
		msgs, err := cu.c.store.Since(rctx, cu.r.name, cu.next-1, n)
		cancel()
		if err != nil {
			cu.c.log.Error("reading history", "room", cu.r.name, "err", err)
			return ErrUnavailable
		}
		for _, m := range msgs {
			if m.ID > cu.readTo {
				break
			}
			if err := cu.emit(ctx, m); err != nil {
				return err
			}
		}
		if len(msgs) < n {
			break // the store holds no more of them
		}
		cu.next = msgs[len(msgs)-1].ID + 1
	}
	cu.next, cu.readTo = cu.readTo+1, 0
	return nil
}

// emit encodes m, read from the store, for the catch-up, sending what was
// encoded before when it makes a piece.
func (cu *catchUp) emit(ctx context.Context, m store.Message) error {
	if err := cu.makeRoom(ctx); err != nil {
		return err
	}
	return emitHistory(cu.st, m)
}

// makeRoom sends what the catch-up's stream holds when it makes a piece.
func (cu *catchUp) makeRoom(ctx context.Context) error {
	if cu.st.Full() {
		if err := cu.st.Send(ctx); err != nil {
			return fmt.Errorf("chat: sending history: %w", err)
		}
	}
	return nil
}

// emitHistory encodes m as a chat-message event marked as history.
func emitHistory(st *socketio.Stream, m store.Message) error {
	if err := st.Emit(EventChatMessage, historyMessage(m)); err != nil {
		return fmt.Errorf("chat: encoding history: %w", err)
	}
	return nil
}
