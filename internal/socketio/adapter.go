package socketio

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/sioparser"
)

// Adapter keeps a namespace's rooms and carries its broadcasts. The
// in-memory adapter knows the local sockets only; a cluster adapter also
// forwards broadcasts and the operations on sockets to the other nodes of
// its cluster, and applies theirs to its own sockets (see Namespace.Deliver
// and Namespace.HandleServerSideEmit). Implementations are safe for
// concurrent use and never block on a socket; the methods without a
// context never block on the network either.
type Adapter interface {
	// Join adds a local socket to rooms.
	Join(so *Socket, rooms ...string)
	// Leave removes a local socket from a room.
	Leave(so *Socket, room string)
	// LeaveAll removes a local socket from every room.
	LeaveAll(so *Socket)
	// Rooms returns the rooms of a local socket.
	Rooms(so *Socket) []string
	// Sockets returns the local sockets in any of rooms, or all of them
	// when rooms is empty, less those in any of except.
	Sockets(rooms, except []string) []*Socket
	// Broadcast delivers b to the matching local sockets and, unless
	// b.Local, hands it to the other nodes. An error means the other nodes
	// will not get it; the local sockets got it all the same.
	Broadcast(b *Broadcast) error

	// AddSockets makes the sockets in any of rooms (every socket when rooms
	// is empty), less those in any of except, join the rooms of join, on
	// every node.
	AddSockets(rooms, except, join []string) error
	// DelSockets makes the sockets so selected leave the rooms of leave,
	// on every node.
	DelSockets(rooms, except, leave []string) error
	// DisconnectSockets disconnects the sockets so selected, on every
	// node; with closeConn, their connections are closed too.
	DisconnectSockets(rooms, except []string, closeConn bool) error
	// FetchSockets describes the sockets so selected, on every node. When
	// some node does not answer by the end of ctx, or its own timeout, it
	// returns those it has with an error.
	FetchSockets(ctx context.Context, rooms, except []string) ([]RemoteSocket, error)
	// ServerSideEmit sends an event to the other nodes of the cluster:
	// args holds its name, then its arguments.
	ServerSideEmit(args *sioparser.Message) error
	// ServerSideEmitWithAck sends an event to the other nodes and returns
	// their replies, one argument per node that answered, in the order
	// they came. When some node does not answer in time, it returns those
	// it has with an error.
	ServerSideEmitWithAck(ctx context.Context, args *sioparser.Message) (*sioparser.Message, error)
}

// Broadcast is one packet for many sockets: those in any of Rooms (every
// socket of the namespace when Rooms is empty), less those in any of
// Except. It is encoded once, however many sockets receive it.
type Broadcast struct {
	Packet *sioparser.Packet
	Rooms  []string
	Except []string
	// Local keeps the broadcast to this node's sockets.
	Local bool
	// Offset is the broadcast's offset in a shared log, which a
	// SharedRecovery adapter sets when it delivers it (Namespace.Deliver).
	Offset string
	// Tracker, when set, times the broadcast's way to the local sockets
	// (BroadcastOperator.Track).
	Tracker *Tracker

	once   sync.Once
	frames []eioparser.Packet
	// sent counts the local sockets the in-memory adapter queued the
	// broadcast for, for the Observer.
	sent int
}

// memoryAdapter is the single-node Adapter. A socket's own room (its id)
// is implicit: it costs the socket one entry in sockets, not a set of its own.
type memoryAdapter struct {
	mu      sync.RWMutex
	sockets map[string]*Socket              // every local socket, by id
	rooms   map[string]map[*Socket]struct{} // named rooms
	joined  map[*Socket][]string            // each socket's named rooms
}

var _ Adapter = (*memoryAdapter)(nil)

// NewMemoryAdapter returns an Adapter that keeps rooms in memory and
// delivers broadcasts to local sockets.
func NewMemoryAdapter() Adapter {
	return &memoryAdapter{
		sockets: make(map[string]*Socket),
		rooms:   make(map[string]map[*Socket]struct{}),
		joined:  make(map[*Socket][]string),
	}
}

// Join adds so to rooms. With an Observer, it tells it of each room joined,
// after releasing a.mu; the slice of those rooms is made only then.
func (a *memoryAdapter) Join(so *Socket, rooms ...string) {
	obs := so.observer()
	var added []string
	a.mu.Lock()
	if a.sockets[so.id] != so {
		a.sockets[so.id] = so
		if obs != nil {
			added = append(added, so.id)
		}
	}
	for _, r := range rooms {
		if r == so.id {
			continue
		}
		set := a.rooms[r]
		if set == nil {
			set = make(map[*Socket]struct{})
			a.rooms[r] = set
		}
		if _, in := set[so]; !in {
			set[so] = struct{}{}
			a.joined[so] = append(a.joined[so], r)
			if obs != nil {
				added = append(added, r)
			}
		}
	}
	a.mu.Unlock()
	for _, r := range added {
		obs.RoomJoined(so, r)
	}
}

func (a *memoryAdapter) Leave(so *Socket, room string) {
	if a.leave(so, room) {
		if obs := so.observer(); obs != nil {
			obs.RoomLeft(so, room)
		}
	}
}

// leave removes so from room, and reports whether it was in it.
func (a *memoryAdapter) leave(so *Socket, room string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, in := a.rooms[room][so]; !in {
		return false
	}
	a.leaveLocked(so, room)
	rooms := a.joined[so]
	for i, r := range rooms {
		if r == room {
			rooms = append(rooms[:i], rooms[i+1:]...)
			break
		}
	}
	if len(rooms) == 0 {
		delete(a.joined, so)
	} else {
		a.joined[so] = rooms
	}
	return true
}

func (a *memoryAdapter) leaveLocked(so *Socket, room string) {
	if set := a.rooms[room]; set != nil {
		delete(set, so)
		if len(set) == 0 {
			delete(a.rooms, room)
		}
	}
}

// LeaveAll removes so from every room. With an Observer, it tells it of
// each room left, its own last, after releasing a.mu.
func (a *memoryAdapter) LeaveAll(so *Socket) {
	obs := so.observer()
	a.mu.Lock()
	left := a.joined[so]
	for _, r := range left {
		a.leaveLocked(so, r)
	}
	delete(a.joined, so)
	own := a.sockets[so.id] == so
	if own {
		delete(a.sockets, so.id)
	}
	a.mu.Unlock()
	if obs == nil {
		return
	}
	for _, r := range left {
		obs.RoomLeft(so, r)
	}
	if own {
		obs.RoomLeft(so, so.id)
	}
}

func (a *memoryAdapter) Rooms(so *Socket) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.sockets[so.id] != so {
		return nil
	}
	return append([]string{so.id}, a.joined[so]...)
}

func (a *memoryAdapter) Sockets(rooms, except []string) []*Socket {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.appendTargetsLocked(nil, rooms, except)
}

// inRoomLocked reports whether so is in room r, its own room included.
func (a *memoryAdapter) inRoomLocked(so *Socket, r string) bool {
	if a.sockets[r] == so {
		return true
	}
	_, in := a.rooms[r][so]
	return in
}

// appendRoomLocked appends the members of room r that pass keep.
func (a *memoryAdapter) appendRoomLocked(dst []*Socket, r string, keep func(*Socket) bool) []*Socket {
	if so := a.sockets[r]; so != nil && keep(so) {
		dst = append(dst, so)
	}
	for so := range a.rooms[r] {
		if keep(so) {
			dst = append(dst, so)
		}
	}
	return dst
}

// appendTargetsLocked appends the sockets a broadcast reaches.
func (a *memoryAdapter) appendTargetsLocked(dst []*Socket, rooms, except []string) []*Socket {
	keep := func(so *Socket) bool {
		for _, r := range except {
			if a.inRoomLocked(so, r) {
				return false
			}
		}
		return true
	}
	switch len(rooms) {
	case 0:
		for _, so := range a.sockets {
			if keep(so) {
				dst = append(dst, so)
			}
		}
	case 1:
		dst = a.appendRoomLocked(dst, rooms[0], keep)
	default:
		seen := make(map[*Socket]struct{})
		for _, r := range rooms {
			dst = a.appendRoomLocked(dst, r, func(so *Socket) bool {
				if _, dup := seen[so]; dup || !keep(so) {
					return false
				}
				seen[so] = struct{}{}
				return true
			})
		}
	}
	return dst
}

// targetBuffers recycles the target lists of broadcasts.
var targetBuffers = sync.Pool{New: func() any { s := make([]*Socket, 0, 64); return &s }}

func (a *memoryAdapter) Broadcast(b *Broadcast) error {
	frames := b.Frames()
	bufp := targetBuffers.Get().(*[]*Socket)
	a.mu.RLock()
	targets := a.appendTargetsLocked((*bufp)[:0], b.Rooms, b.Except)
	a.mu.RUnlock()
	sent := 0
	for _, so := range targets {
		if so.deliver(frames, b.Tracker) {
			sent++
		}
	}
	b.sent += sent
	clear(targets)
	*bufp = targets[:0]
	targetBuffers.Put(bufp)
	return nil
}

// The operations on sockets, which one node does alone.

func (a *memoryAdapter) AddSockets(rooms, except, join []string) error {
	joinLocal(a, rooms, except, join)
	return nil
}

func (a *memoryAdapter) DelSockets(rooms, except, leave []string) error {
	leaveLocal(a, rooms, except, leave)
	return nil
}

func (a *memoryAdapter) DisconnectSockets(rooms, except []string, closeConn bool) error {
	disconnectLocal(a, rooms, except, closeConn)
	return nil
}

func (a *memoryAdapter) FetchSockets(_ context.Context, rooms, except []string) ([]RemoteSocket, error) {
	return fetchLocal(a, rooms, except), nil
}

// ServerSideEmit has no other node to reach.
func (a *memoryAdapter) ServerSideEmit(*sioparser.Message) error { return nil }

// ServerSideEmitWithAck has no other node to answer.
func (a *memoryAdapter) ServerSideEmitWithAck(context.Context, *sioparser.Message) (*sioparser.Message, error) {
	return &sioparser.Message{Args: []json.RawMessage{}}, nil
}

// Sequencer is an Adapter whose cluster keeps one shared, ordered log of
// broadcasts (the Redis stream of package cluster), in which a broadcast
// can take its place as number id of a sequence: after number id-1 and
// only once, whichever node appends it. An application whose events carry
// such numbers (a chat room's message ids) gets every node's sockets to
// receive them in that order, once, and recovered, across nodes, as any
// broadcast of the log.
//
// Once UseSequences was called, every broadcast of this node reaches its
// own sockets from the shared log too, in the log's order, as with
// recovery on (see SharedRecovery).
type Sequencer interface {
	// UseSequences makes the node's own broadcasts reach its sockets from
	// the shared log, and sets filter, which sees every broadcast event
	// read from the log before it reaches this node's sockets (nil for
	// none).
	UseSequences(filter DeliveryFilter)
	// BroadcastInSequence appends b to the shared log as number id of the
	// sequence seq, unless the log has it already; when the log's last of
	// seq is not id-1 it is not appended, unless force (the caller gives
	// up on the missing ones). done is called once Redis answered, on the
	// adapter's goroutine: it must not block. An error means b was not
	// queued and done will not be called.
	BroadcastInSequence(b *Broadcast, seq string, id int64, force bool, done func(SequenceResult)) error
}

// DeliveryFilter sees a broadcast event read from a shared log, its name
// and encoded arguments, and the rooms it goes to, before it reaches this
// node's sockets: it calls deliver, once, for them to get it, or not, to
// drop it; with a Tracker, deliver times the broadcast's way to them. It
// runs on the adapter's reader goroutine, in the log's order, and may hold
// a lock of its own over deliver (one taken before the namespace's
// ordering lock: docs/locking.md).
type DeliveryFilter func(event string, args []json.RawMessage, rooms []string, deliver func(*Tracker))

// SequenceStatus is what became of a broadcast in a sequence.
type SequenceStatus int

// What Sequencer.BroadcastInSequence did.
const (
	// SequenceAppended: the broadcast is in the log.
	SequenceAppended SequenceStatus = iota + 1
	// SequencePresent: the log had it (or a later one) already.
	SequencePresent
	// SequenceGap: the log's last of the sequence is SequenceResult.Last,
	// not id-1: the ones between must be appended first.
	SequenceGap
	// SequenceFailed: Redis refused the command (SequenceResult.Err).
	SequenceFailed
)

// SequenceResult is the outcome of BroadcastInSequence.
type SequenceResult struct {
	Status SequenceStatus
	// Last is the log's last number of the sequence before this one (for
	// SequenceGap and SequencePresent).
	Last int64
	// Err is why Redis refused it (SequenceFailed).
	Err error
}
