package socketio

import (
	"context"

	"github.com/parley-chat/parley/internal/eioparser"
)

// The replay of a restored socket's missed events. They may be more than
// the send queue may hold (engineio Config.MaxQueueBytes): sent at once,
// they would close the client as a slow consumer, every time it came back.
// So they are sent in pieces, each once the queue has room for it, as the
// reference server sends them one by one.
//
// Live broadcasts must not come between them, nor be lost: the socket
// joins its rooms, and so starts getting broadcasts, only once it has
// caught up. It catches up from the log without Namespace.orderMu, which
// every broadcast of the namespace takes, so that waiting for a slow
// client holds up nobody else; when what is left fits in the queue, it
// takes orderMu, sends the rest and joins its rooms: no broadcast can be
// recorded in between. If the log moved on meanwhile by more than a piece,
// it lets go of orderMu and catches up again.
//
// A client that reads nothing is cut off after engineio's WriteTimeout
// (Session.WaitQueue); one that reads, but slower than the namespace
// broadcasts, falls behind until the events it needs expire from the log
// (at most MaxDisconnectionDuration), and is then closed. Either way it
// reconnects, with the offset of the last event it got, and is recovered
// from there if that is still kept.

// Shares of the send queue's bound: a piece read from the log, and what
// stays free for what else the connection gets meanwhile (heartbeats,
// other namespaces). At the switch, the queue holds at most two pieces.
const (
	replayPieceShare   = 8 // a piece is at most bound/8
	replayReserveShare = 4 // bound/4 stays free
)

// catchUp sends a restored socket first, its CONNECT reply if not sent, then the
// events it missed in rooms after offset seq, and joins it to rooms. It
// runs while the socket is connecting: what is sent to it meanwhile is held
// and follows. It fails when the connection closes, when the client does
// not read in time (closing it as a slow consumer), or with ErrRecoveryGap.
func (so *Socket) catchUp(first []eioparser.Packet, rooms []string, seq uint64) error {
	n, es := so.nsp, so.conn.eio
	bound := es.MaxQueueBytes()
	piece, reserve := max(bound/replayPieceShare, 1), bound/replayReserveShare
	if len(first) > 0 {
		if err := so.conn.send(first...); err != nil {
			return err
		}
	}
	var frames []eioparser.Packet
	for {
		var (
			next uint64
			last bool
			err  error
		)
		frames, next, last, err = n.recovery.read(frames[:0], seq, rooms, piece)
		if err != nil {
			return err
		}
		// Room for this piece; before the switch, an empty queue, so that
		// the socket goes live with the headroom of any other.
		room := max(bound-reserve-framesSize(frames), 0)
		if last {
			room = 0
		}
		if err := es.WaitQueue(context.Background(), room); err != nil {
			return err
		}
		if last {
			n.orderMu.Lock()
			frames, next, last, err = n.recovery.read(frames, next, rooms, piece)
			if err == nil && last {
				err = so.sendEvents(frames)
				if err == nil {
					n.adapter.Join(so, rooms...)
					so.mu.Lock()
					so.restoring = nil
					connected := so.connected
					so.mu.Unlock()
					if !connected {
						// Disconnected meanwhile (Socket.Disconnect): its
						// onClose may have left the rooms before the Join.
						n.adapter.LeaveAll(so)
						err = ErrDisconnected
					}
				}
				n.orderMu.Unlock()
				return err
			}
			n.orderMu.Unlock()
			if err != nil {
				return err
			}
		}
		if err := so.sendEvents(frames); err != nil {
			return err
		}
		seq = next
	}
}

// sendEvents queues frames, encoded events, on the connection, and counts
// the events sent.
func (so *Socket) sendEvents(frames []eioparser.Packet) error {
	if len(frames) == 0 {
		return nil
	}
	if err := so.conn.send(frames...); err != nil {
		return err
	}
	so.nsp.srv.obs.EventsSent(countEvents(frames))
	return nil
}

// countEvents returns the events that frames encode: one text frame each,
// the binary ones being their attachments.
func countEvents(frames []eioparser.Packet) int {
	n := 0
	for _, f := range frames {
		if !f.Binary {
			n++
		}
	}
	return n
}

// framesSize returns the bytes frames take in a send queue.
func framesSize(frames []eioparser.Packet) int {
	n := 0
	for _, f := range frames {
		n += eioparser.PayloadSize(f)
	}
	return n
}
