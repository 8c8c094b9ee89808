package socketio

import (
	"context"
	"slices"

	"github.com/parley-chat/parley/internal/eioparser"
)

// Sending one socket more than its send queue holds, for applications: a
// chat's history to a client that missed a lot, say. Sent at once, it
// would close the client as a slow consumer (engineio
// Config.MaxQueueBytes), every time it came back for it. A Stream sends it
// in pieces instead, each once the queue has room for it, as a replay does
// (replay.go), and Socket.Async gives the sender a goroutine on which it
// may wait for that without holding up the connection.

// Async runs f on a goroutine of its own, for a handler that may have to
// wait for the client to take in what it is sent (Stream.Send). What the
// connection receives meanwhile is held, and handled in order once f has
// returned, as if f had run within the handler: the socket's next events,
// and those of the connection's other namespaces, wait for it. The
// connection's transport goes on meanwhile: a polling request that
// carried the event ends, so that the client can poll, answer pings and
// upgrade. Called from a connection handler, f runs once the CONNECT reply,
// and what the handlers sent, are queued.
//
// Async must be called from the socket's connection or event handlers, on
// the goroutine that runs them (not from an acknowledgement callback or a
// goroutine of the application's); within f, it runs its function there
// and then. The connection's disconnect handlers wait for f to return,
// which it should do soon once the connection is closed: Stream.Send and
// Socket.WaitQueue then return at once.
func (so *Socket) Async(f func()) {
	if so.connecting.Load() {
		so.mu.Lock()
		if so.connecting.Load() {
			so.deferred = append(so.deferred, f)
			so.mu.Unlock()
			return
		}
		so.mu.Unlock()
	}
	so.conn.startReplay(f)
}

// runDeferred runs what Socket.Async was given while the socket was
// connecting, in order, on one goroutine; the CONNECT reply was queued.
func (so *Socket) runDeferred() {
	so.mu.Lock()
	fs := so.deferred
	so.deferred = nil
	so.mu.Unlock()
	if len(fs) == 0 {
		return
	}
	so.conn.startReplay(func() {
		for _, f := range fs {
			f()
		}
	})
}

// MaxQueueBytes returns the bound of the connection's send queue, in
// bytes (engineio Config.MaxQueueBytes): a reply or a piece of a Stream
// must fit in it, with what else is queued.
func (so *Socket) MaxQueueBytes() int { return so.conn.eio.MaxQueueBytes() }

// WaitQueue blocks until at most n bytes are queued on the socket's
// connection, as engineio Session.WaitQueue does: it returns an error once
// the connection is closed, when ctx is done, or when the client takes
// nothing in for the engine's WriteTimeout (closing it as a slow
// consumer). It must not be called with a lock held, nor from a handler
// but within Socket.Async.
func (so *Socket) WaitQueue(ctx context.Context, n int) error {
	return so.conn.eio.WaitQueue(ctx, n)
}

// A Stream sends one socket a run of events that may be more than its send
// queue holds. Emit encodes an event and keeps it; Send queues what is
// kept, once the queue has room for it, leaving a share of the queue's
// bound free for what else the connection gets meanwhile; TrySend queues
// it only if it fits now, and never waits, so that it may be called with
// the application's locks held (to go live with no gap, say). The sender
// keeps each piece to at most PieceSize bytes, Send-ing whenever Full.
//
// Its events go out as Socket.EmitRaw's do: even with recovery on, they
// are not kept for replay and carry no offset. A Stream is not safe for
// concurrent use.
type Stream struct {
	so     *Socket
	frames []eioparser.Packet // encoded, not yet queued
	size   int                // their bytes
	events int                // their events
}

// NewStream returns an empty Stream to so.
func (so *Socket) NewStream() *Stream { return &Stream{so: so} }

// Emit encodes an event and keeps it, to be queued by Send or TrySend.
// []byte arguments are sent as binary attachments, as by Socket.Emit.
func (st *Stream) Emit(event string, args ...any) error {
	p, err := newEventPacket(st.so.nsp.name, event, args)
	if err != nil {
		return err
	}
	n := len(st.frames)
	st.frames = appendForEngine(st.frames, p)
	st.events++
	for _, f := range st.frames[n:] {
		st.size += eioparser.PayloadSize(f)
	}
	return nil
}

// Grow makes room for n more events without attachments, so that a
// sender that knows how many it has encodes them without growing the
// Stream on the way.
func (st *Stream) Grow(n int) { st.frames = slices.Grow(st.frames, n) }

// Buffered returns the bytes of the events kept.
func (st *Stream) Buffered() int { return st.size }

// PieceSize returns what a piece may take: an eighth of the queue's bound.
func (st *Stream) PieceSize() int { return max(st.so.MaxQueueBytes()/replayPieceShare, 1) }

// Full reports whether the events kept make a piece, to Send before
// encoding more.
func (st *Stream) Full() bool { return st.size >= st.PieceSize() }

// limit returns what the queue may hold once a piece is queued: the bound
// less the share kept free.
func (st *Stream) limit() int {
	bound := st.so.MaxQueueBytes()
	return bound - bound/replayReserveShare
}

// Send waits until the queue has room for the events kept, then queues
// them, at once, and empties the Stream. It fails when the socket is
// disconnected, and as Socket.WaitQueue does. It must not be called with a
// lock held, nor from a handler but within Socket.Async.
func (st *Stream) Send(ctx context.Context) error {
	if len(st.frames) == 0 {
		return nil
	}
	if !st.so.Connected() {
		return ErrDisconnected
	}
	if err := st.so.WaitQueue(ctx, max(st.limit()-st.size, 0)); err != nil {
		return err
	}
	return st.SendNow()
}

// Wait blocks until the queue has room for a piece, as Send does before
// queueing one, so that a TrySend of at most a piece that follows finds
// room (unless the connection is sent more meanwhile). It fails as Send
// does, and must be called as Send is.
func (st *Stream) Wait(ctx context.Context) error {
	if !st.so.Connected() {
		return ErrDisconnected
	}
	return st.so.WaitQueue(ctx, max(st.limit()-st.PieceSize(), 0))
}

// TrySend queues the events kept, and empties the Stream, if the queue
// then holds at most its bound less the share kept free (while the socket
// connects, if what is held for it is at most a piece), and reports
// whether it did. It never waits.
func (st *Stream) TrySend() (bool, error) {
	if len(st.frames) == 0 {
		return true, nil
	}
	so := st.so
	if !so.Connected() {
		return false, ErrDisconnected
	}
	if so.connecting.Load() {
		so.mu.Lock()
		if so.connecting.Load() {
			// Held, it goes out with the CONNECT reply, in one Send.
			fits := framesSize(so.held)+st.size <= st.PieceSize()
			if fits {
				so.held = append(so.held, st.frames...)
			}
			so.mu.Unlock()
			if fits {
				st.sent()
			}
			return fits, nil
		}
		so.mu.Unlock()
	}
	sent, err := so.conn.eio.SendWithin(st.limit(), st.frames...)
	if sent {
		st.sent()
	}
	return sent, err
}

// SendNow queues the events kept at once, whatever the queue holds, as
// Socket.Emit would (a queue that cannot take them closes the connection
// as a slow consumer), and empties the Stream.
func (st *Stream) SendNow() error {
	if len(st.frames) == 0 {
		return nil
	}
	if !st.so.Connected() {
		return ErrDisconnected
	}
	err := st.so.queue(st.frames, nil)
	if err == nil {
		st.so.nsp.srv.obs.EventsSent(st.events)
	}
	st.reset()
	return err
}

// sent counts the events kept sent, and empties the Stream.
func (st *Stream) sent() {
	st.so.nsp.srv.obs.EventsSent(st.events)
	st.reset()
}

// reset empties the Stream, keeping its array (the queue holds copies of
// the packets, not of the array).
func (st *Stream) reset() {
	clear(st.frames)
	st.frames, st.size, st.events = st.frames[:0], 0, 0
}
