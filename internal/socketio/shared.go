package socketio

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/sioparser"
)

// Connection state recovery shared by the nodes of a cluster. With the
// in-memory adapter, a namespace numbers its broadcasts itself and keeps the
// sessions of disconnected sockets in its own memory: a client can only be
// recovered by the node it left. A SharedRecovery adapter makes the offsets
// and the sessions the cluster's, so that any node can restore any client.

// SharedRecovery is an Adapter whose nodes share connection state recovery,
// such as package cluster's: a broadcast's offset is its place in a log
// that every node reads (a Redis stream), and the sessions are kept where
// every node can take them back. A client that loses its connection to one
// node can then be restored by another, with every event it missed.
//
// With recovery on (Config.Recovery), a namespace whose adapter implements
// SharedRecovery calls EnableRecovery once, as it is made. From then on:
//
//   - Broadcast, unless b.Local, only appends b to the log: the node's own
//     sockets get it, as every other broadcast, when the adapter reads it
//     back and hands it to Namespace.Deliver with its Offset, in the log's
//     order. So every socket gets the broadcasts in the log's order, which
//     is the order of their offsets, and a client's offset tells exactly
//     what it has had.
//   - The namespace keeps the broadcasts it was handed in memory, bounded
//     as RecoveryConfig says, to replay them; what came before them it
//     reads back from the log with ReadAfter.
//   - The sessions are the adapter's: it is told of each socket's session
//     while the socket lives (SessionChanged) and when it ends
//     (SessionClosed), and gives sessions back, once, with TakeSession.
//
// Implementations are safe for concurrent use. SessionChanged and
// SessionClosed never block on the network; ReadAfter and TakeSession do,
// within their context.
type SharedRecovery interface {
	Adapter

	// EnableRecovery switches the adapter to shared recovery, as above.
	EnableRecovery(cfg RecoveryConfig)
	// LogRange returns the part of the log whose broadcasts the adapter
	// has handed to the namespace, every one of them: those after start,
	// up to end (which may be the offset of an entry of another
	// namespace); false while it does not know it yet.
	LogRange() (start, end string, ok bool)
	// ParseOffset parses an offset of the log, and reports whether it is
	// one. Offsets compare as the log orders them.
	ParseOffset(offset string) (Offset, bool)
	// ReadAfter reads the log after offset, looking at up to max entries:
	// it returns the namespace's broadcasts among them that can be
	// replayed (events without acknowledgement or binary attachments), the
	// offset of the last entry it looked at, and whether that is the end
	// of the log. It fails with an error wrapping ErrRecoveryGap when
	// entries after offset are no longer kept.
	ReadAfter(ctx context.Context, offset string, max int) (events []LoggedEvent, next string, end bool, err error)
	// TakeSession takes the session of private id pid, which nobody can
	// take again, and reports whether the log still holds offset. The
	// session is nil when there is none.
	TakeSession(ctx context.Context, pid, offset string) (s *SessionState, offsetKept bool, err error)
	// SessionChanged tells that so connected, or that its rooms or data
	// changed: the adapter keeps its session current (Socket.Session),
	// so that a client whose node dies can be restored.
	SessionChanged(so *Socket)
	// SessionClosed tells that so disconnected: s is what to keep for
	// the recovery window, nil when the socket is gone for good.
	SessionClosed(so *Socket, s *SessionState)
}

// Offset is an offset of a shared log in a form that compares: by Hi,
// then Lo (a Redis stream id's milliseconds and sequence number).
type Offset struct{ Hi, Lo uint64 }

// Compare returns -1, 0 or 1 as o is before, at or after p.
func (o Offset) Compare(p Offset) int {
	switch {
	case o.Hi < p.Hi || o.Hi == p.Hi && o.Lo < p.Lo:
		return -1
	case o == p:
		return 0
	}
	return 1
}

// LoggedEvent is a broadcast read back from a shared log: its offset, its
// event packet (without the offset) and whom it was for.
type LoggedEvent struct {
	Offset string
	Packet *sioparser.Packet
	Rooms  []string
	Except []string
}

// ErrRecoveryGap means that events after an offset are no longer kept,
// so that a replay from there cannot be complete.
var ErrRecoveryGap = errors.New("socketio: missed events no longer kept")

// Bounds of the work of a restore from a shared log.
const (
	// sharedTakeTimeout bounds the wait for a session, on the
	// connection's own goroutine.
	sharedTakeTimeout = 2 * time.Second
	// sharedReadTimeout bounds each read of the log during a replay.
	sharedReadTimeout = 5 * time.Second
	// sharedReadCount is the most log entries one read looks at.
	sharedReadCount = 200
	// sharedCatchUpWait bounds the wait for this node's reader to reach
	// the offset a replay got to (another node's reader may be ahead).
	sharedCatchUpWait = 5 * time.Second
)

// restoreShared takes back the session of pid from the shared adapter,
// when every event after offset is still kept, in this node's memory or in
// the log. A socket of this node with the session's id is a leftover of
// the same client, whose connection the node has not yet seen die: it is
// disconnected (the adapter tells the other nodes to do the same).
func (n *Namespace) restoreShared(pid, offset string) *SessionState {
	id, ok := n.shared.ParseOffset(offset)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTakeTimeout)
	defer cancel()
	s, kept, err := n.shared.TakeSession(ctx, pid, offset)
	if err != nil {
		n.srv.log.Warn("socketio: cannot take back a session", logKeyNamespace, n.name, logKeyError, err)
		return nil
	}
	if s == nil {
		return nil
	}
	if !kept {
		start, end, known := n.logRange()
		if !known || !n.recovery.holds(id, start, end) {
			return nil
		}
	}
	if old := n.Socket(s.SID); old != nil {
		old.Disconnect(true)
	}
	return s
}

// logRange returns the parsed LogRange of the shared adapter.
func (n *Namespace) logRange() (start, end Offset, ok bool) {
	s, e, ok := n.shared.LogRange()
	if !ok {
		return Offset{}, Offset{}, false
	}
	start, ok1 := n.shared.ParseOffset(s)
	end, ok2 := n.shared.ParseOffset(e)
	return start, end, ok1 && ok2
}

// catchUpShared is catchUp for a shared log: it sends first, then the
// events the socket missed in rooms after offset: those before this node's
// memory begins read from the log, the rest from memory, and joins rooms.
func (so *Socket) catchUpShared(first []eioparser.Packet, rooms []string, offset string) error {
	n, es := so.nsp, so.conn.eio
	if err := so.conn.send(first...); err != nil {
		return err
	}
	bound := es.MaxQueueBytes()
	piece, reserve := max(bound/replayPieceShare, 1), bound/replayReserveShare
	pos := offset
	for {
		id, ok := n.shared.ParseOffset(pos)
		if !ok {
			return fmt.Errorf("socketio: log offset %q: %w", pos, ErrRecoveryGap)
		}
		where, seq := beforeMemory, uint64(0)
		if start, end, known := n.logRange(); known {
			where, seq = n.recovery.locate(id, start, end)
		}
		switch where {
		case inMemory:
			return so.catchUp(nil, rooms, seq)
		case afterMemory:
			// Another node's reader is ahead of this one's.
			if err := n.waitForReader(id); err != nil {
				return fmt.Errorf("socketio: waiting for this node to read the log up to %s: %w", pos, err)
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), sharedReadTimeout)
		events, next, end, err := n.shared.ReadAfter(ctx, pos, sharedReadCount)
		cancel()
		if err != nil {
			return err
		}
		if err := so.sendPieces(replayFrames(events, rooms), bound, piece, reserve); err != nil {
			return err
		}
		if next == pos && end {
			// The log ends before this node's memory begins: it was
			// emptied (a Redis restarted without its data).
			return fmt.Errorf("socketio: the log ends at %s, before this node's memory: %w", pos, ErrRecoveryGap)
		}
		pos = next
	}
}

// waitForReader waits until the adapter has handed the namespace the log
// up to id, polling: another node's reader is ahead of this one's, which
// is seldom and by little.
func (n *Namespace) waitForReader(id Offset) error {
	deadline := time.Now().Add(sharedCatchUpWait)
	for {
		if _, end, ok := n.logRange(); ok && end.Compare(id) >= 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return context.DeadlineExceeded
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Where an offset is, relative to what a namespace's memory holds of a
// shared log.
type logPlace int

const (
	// beforeMemory: some events after it are not in memory; the log has
	// them, or nobody.
	beforeMemory logPlace = iota
	// inMemory: every event after it is in memory or is yet to be
	// delivered.
	inMemory
	// afterMemory: this node has not read the log that far.
	afterMemory
)

// useShared makes the log keep the offsets of sr's log.
func (l *recoveryLog) useShared(sr SharedRecovery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shared = sr
}

// floorLocked returns the offset after which the log holds every event
// of the shared log it was handed, delivered after start.
func (l *recoveryLog) floorLocked(start Offset) Offset {
	if l.hasTrimmed && l.trimmedID.Compare(start) > 0 {
		return l.trimmedID
	}
	return start
}

// locate returns where id is relative to what the log holds of a shared
// log handed to it from after start up to end, and, when inMemory, the
// sequence number to read after (see read).
func (l *recoveryLog) locate(id, start, end Offset) (logPlace, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id.Compare(l.floorLocked(start)) < 0 {
		return beforeMemory, 0
	}
	if id.Compare(end) > 0 && (l.last == "" || id.Compare(l.lastID) > 0) {
		return afterMemory, 0
	}
	i := sort.Search(len(l.packets), func(i int) bool { return l.packets[i].id.Compare(id) > 0 })
	if i < len(l.packets) {
		return inMemory, l.packets[i].seq - 1
	}
	return inMemory, l.next
}

// holds reports whether id is the offset of an event the log was handed,
// or of its start, and whether every event after it is in memory: a
// client's offset that this node can replay from.
func (l *recoveryLog) holds(id, start, end Offset) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id.Compare(l.floorLocked(start)) < 0 || id.Compare(end) > 0 && (l.last == "" || id.Compare(l.lastID) > 0) {
		return false
	}
	if id == start || l.hasTrimmed && id == l.trimmedID {
		return true
	}
	_, found := sort.Find(len(l.packets), func(i int) int { return id.Compare(l.packets[i].id) })
	return found
}

// lastOffset returns the offset of the last event kept from a shared log,
// or else where the log's delivery to the namespace started, "" if not
// known.
func (l *recoveryLog) lastOffset(n *Namespace) string {
	l.mu.Lock()
	last := l.last
	l.mu.Unlock()
	if last != "" {
		return last
	}
	start, _, _ := n.shared.LogRange()
	return start
}

// replayFrames returns the frames of the events that a socket in rooms
// gets, each with its offset.
func replayFrames(events []LoggedEvent, rooms []string) []eioparser.Packet {
	var frames []eioparser.Packet
	for i := range events {
		e := &events[i]
		if includes(rooms, e.Rooms, e.Except) {
			frames = append(frames, eioparser.Packet{Type: eioparser.PacketMessage, Data: encodeWithOffset(e.Packet, e.Offset, nil)})
		}
	}
	return frames
}

// sendPieces sends frames in pieces of up to piece bytes, each once the
// queue has room for it and the reserve.
func (so *Socket) sendPieces(frames []eioparser.Packet, bound, piece, reserve int) error {
	es := so.conn.eio
	for len(frames) > 0 {
		n, size := 0, 0
		for n < len(frames) {
			s := eioparser.PayloadSize(frames[n])
			if n > 0 && size+s > piece {
				break
			}
			size += s
			n++
		}
		if err := es.WaitQueue(context.Background(), max(bound-reserve-size, 0)); err != nil {
			return err
		}
		if err := so.sendEvents(frames[:n]); err != nil {
			return err
		}
		frames = frames[n:]
	}
	return nil
}

// emitAtOffset sends an event to this socket alone with the offset of the
// last broadcast the namespace delivered as its last argument, under
// orderMu so that the offset is that of the broadcasts before it: the
// client, which takes the event's last string for its offset, stays where
// it is in the log. The event is not kept for replay.
func (so *Socket) emitAtOffset(p *sioparser.Packet) error {
	if !so.Connected() {
		return ErrDisconnected
	}
	n := so.nsp
	n.orderMu.Lock()
	defer n.orderMu.Unlock()
	offset := n.recovery.lastOffset(n)
	frames := encodeForEngine(p)
	if offset != "" {
		frames = []eioparser.Packet{{Type: eioparser.PacketMessage, Data: encodeWithOffset(p, offset, nil)}}
	}
	if err := so.queue(frames, nil); err != nil {
		return err
	}
	n.srv.obs.EventsSent(1)
	return nil
}

// Session returns what connection state recovery keeps of the socket: its
// ids, rooms (those it is to be restored to while it catches up) and data;
// nil when recovery is off. PID is the socket's private session id, which
// only its client may know.
func (so *Socket) Session() *SessionState {
	if so.pid == "" {
		return nil
	}
	so.mu.Lock()
	rooms, data := so.restoring, so.data
	so.mu.Unlock()
	if rooms == nil {
		rooms = so.Rooms()
	}
	return &SessionState{SID: so.id, PID: so.pid, Rooms: rooms, Data: data}
}
