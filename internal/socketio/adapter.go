package socketio

import (
	"sync"

	"github.com/parley-chat/parley/internal/engineio"
)

// Adapter keeps a namespace's rooms and carries its broadcasts. The
// in-memory adapter knows the local sockets only; a cluster adapter also
// forwards broadcasts to other nodes. Implementations are safe for
// concurrent use and never block on a socket.
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
	// Broadcast delivers b to the matching sockets.
	Broadcast(b *Broadcast)
}

// Broadcast is one packet for many sockets: those in any of Rooms (every
// socket of the namespace when Rooms is empty), less those in any of
// Except. It is encoded once, however many sockets receive it.
type Broadcast struct {
	Packet *Packet
	Rooms  []string
	Except []string

	once   sync.Once
	frames []engineio.Packet
}

// Frames returns the broadcast's Engine.IO messages, encoded on first use.
func (b *Broadcast) Frames() []engineio.Packet {
	b.once.Do(func() { b.frames = encodeForEngine(b.Packet) })
	return b.frames
}

// memoryAdapter is the single-node Adapter.
type memoryAdapter struct {
	mu      sync.RWMutex
	rooms   map[string]map[*Socket]struct{}
	members map[*Socket]map[string]struct{}
}

var _ Adapter = (*memoryAdapter)(nil)

// NewMemoryAdapter returns an Adapter that keeps rooms in memory and
// delivers broadcasts to local sockets.
func NewMemoryAdapter() Adapter {
	return &memoryAdapter{
		rooms:   make(map[string]map[*Socket]struct{}),
		members: make(map[*Socket]map[string]struct{}),
	}
}

func (a *memoryAdapter) Join(so *Socket, rooms ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.members[so]
	if mine == nil {
		mine = make(map[string]struct{}, len(rooms))
		a.members[so] = mine
	}
	for _, r := range rooms {
		set := a.rooms[r]
		if set == nil {
			set = make(map[*Socket]struct{})
			a.rooms[r] = set
		}
		set[so] = struct{}{}
		mine[r] = struct{}{}
	}
}

func (a *memoryAdapter) Leave(so *Socket, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.leaveLocked(so, room)
	if mine := a.members[so]; mine != nil {
		delete(mine, room)
	}
}

func (a *memoryAdapter) leaveLocked(so *Socket, room string) {
	if set := a.rooms[room]; set != nil {
		delete(set, so)
		if len(set) == 0 {
			delete(a.rooms, room)
		}
	}
}

func (a *memoryAdapter) LeaveAll(so *Socket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for r := range a.members[so] {
		a.leaveLocked(so, r)
	}
	delete(a.members, so)
}

func (a *memoryAdapter) Rooms(so *Socket) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	rooms := make([]string, 0, len(a.members[so]))
	for r := range a.members[so] {
		rooms = append(rooms, r)
	}
	return rooms
}

func (a *memoryAdapter) Sockets(rooms, except []string) []*Socket {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.appendTargetsLocked(nil, rooms, except)
}

// appendTargetsLocked appends the sockets a broadcast reaches.
func (a *memoryAdapter) appendTargetsLocked(dst []*Socket, rooms, except []string) []*Socket {
	excluded := func(so *Socket) bool {
		for _, r := range except {
			if _, in := a.rooms[r][so]; in {
				return true
			}
		}
		return false
	}
	switch len(rooms) {
	case 0:
		for so := range a.members {
			if !excluded(so) {
				dst = append(dst, so)
			}
		}
	case 1:
		for so := range a.rooms[rooms[0]] {
			if !excluded(so) {
				dst = append(dst, so)
			}
		}
	default:
		seen := make(map[*Socket]struct{})
		for _, r := range rooms {
			for so := range a.rooms[r] {
				if _, dup := seen[so]; dup || excluded(so) {
					continue
				}
				seen[so] = struct{}{}
				dst = append(dst, so)
			}
		}
	}
	return dst
}

// targetBuffers recycles the target lists of broadcasts.
var targetBuffers = sync.Pool{New: func() any { s := make([]*Socket, 0, 64); return &s }}

func (a *memoryAdapter) Broadcast(b *Broadcast) {
	frames := b.Frames()
	bufp := targetBuffers.Get().(*[]*Socket)
	a.mu.RLock()
	targets := a.appendTargetsLocked((*bufp)[:0], b.Rooms, b.Except)
	a.mu.RUnlock()
	for _, so := range targets {
		so.deliver(frames)
	}
	clear(targets)
	*bufp = targets[:0]
	targetBuffers.Put(bufp)
}
