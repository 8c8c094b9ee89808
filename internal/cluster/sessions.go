package cluster

import (
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/socketio"
)

// The sessions of connection state recovery, in Redis under
// sio:session:<pid>, as the reference keeps them. The reference writes a
// session when its socket disconnects, and so loses every session of a
// node that dies. A parley node keeps the session of each of its sockets
// in Redis while the socket lives: written when it connects, again when
// its rooms or data change, and before its lifetime runs out; when the
// socket disconnects, written for the recovery window, or deleted when it
// is gone for good. A node killed without a word leaves its sessions
// behind, and its clients, reconnecting to another node, are restored.
//
// The writes are queued to the publisher, which pipelines them with the
// broadcasts: a change costs a SET, coalesced with the other changes of
// the same socket until the keeper's goroutine takes them.

// Bounds of the keeper's rhythm.
const (
	minSessionTick = 10 * time.Millisecond
	maxSessionTick = time.Second
)

// keeper keeps the sessions of a node's live sockets in Redis. It is safe
// for concurrent use; its methods never block on the network.
type keeper struct {
	nd     *Node
	nextID atomic.Uint64 // for owner tokens

	mu    sync.Mutex
	live  map[*socketio.Socket]*liveSession
	dirty []*liveSession // to write, each once
	tick  time.Duration  // how often to look for sessions to refresh
	wake  chan struct{}
	// owned holds, by owner token, what the sessions this node wrote
	// carry as data: a live socket's, or a disconnected one's until its
	// window ends (in left, oldest first, at most maxLeft). A session the
	// node takes back that is still its own copy gets its data as it was,
	// not as its JSON.
	owned map[string]owned
	left  []leftSession
}

// owned is the data of a session this node wrote: its socket's, while it
// lives, or else what it had.
type owned struct {
	so   *socketio.Socket
	data any
}

// leftSession is a disconnected socket's entry in owned.
type leftSession struct {
	owner string
	until time.Time
}

// maxLeft bounds the disconnected sessions whose data a node keeps, as
// socketio.DefaultMaxRecoverySessions bounds those a single node keeps.
const maxLeft = socketio.DefaultMaxRecoverySessions

// liveSession is the session of one live socket.
type liveSession struct {
	a     *adapter
	so    *socketio.Socket
	key   string
	owner string // in the value, so that this socket's copy is its own
	last  string // the value last queued, "" if none
	due   time.Time
	dirty bool
	done  bool // the socket disconnected: nothing more is written
}

func newKeeper(nd *Node) *keeper {
	return &keeper{nd: nd, live: make(map[*socketio.Socket]*liveSession), tick: maxSessionTick, wake: make(chan struct{}, 1),
		owned: make(map[string]owned)}
}

// useRefresh makes the keeper look for sessions to refresh often enough
// for a refresh interval of d.
func (k *keeper) useRefresh(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.tick = min(k.tick, max(d/4, minSessionTick))
}

// changed starts keeping the session of so, or marks it to be written
// again.
func (k *keeper) changed(a *adapter, so *socketio.Socket) {
	s := so.Session()
	if s == nil {
		return
	}
	k.mu.Lock()
	ls := k.live[so]
	if ls == nil {
		if !so.Connected() {
			// Gone meanwhile: its end (closed) comes, or came, after
			// it was marked disconnected, and must find nothing to
			// write after it.
			k.mu.Unlock()
			return
		}
		ls = &liveSession{a: a, so: so, key: wire.SessionKey(a.node.cfg.SessionKeyPrefix, s.PID), owner: k.newOwner()}
		k.live[so] = ls
		k.owned[ls.owner] = owned{so: so}
	}
	marked := k.markLocked(ls)
	k.mu.Unlock()
	if marked {
		wake(k.wake)
	}
}

// touched marks the session of so to be written again, if it is kept.
func (k *keeper) touched(so *socketio.Socket) {
	k.mu.Lock()
	ls := k.live[so]
	marked := ls != nil && k.markLocked(ls)
	k.mu.Unlock()
	if marked {
		wake(k.wake)
	}
}

// markLocked puts ls on the list to write, unless it is there, and
// reports whether it was not.
func (k *keeper) markLocked(ls *liveSession) bool {
	if ls.dirty || ls.done {
		return false
	}
	ls.dirty = true
	k.dirty = append(k.dirty, ls)
	return true
}

// newOwner returns a token unique to one socket of this node.
func (k *keeper) newOwner() string {
	return k.nd.uid + "." + strconv.FormatUint(k.nextID.Add(1), 36)
}

// closed stops keeping the session of so, which disconnected: s is what
// to keep for the recovery window, or nil to delete the session, unless
// another socket took it over meanwhile (its copy is not this one's).
func (k *keeper) closed(a *adapter, so *socketio.Socket, s *SessionState) {
	k.mu.Lock()
	ls := k.live[so]
	delete(k.live, so)
	owner, last := "", ""
	if ls != nil {
		ls.done = true
		owner, last = ls.owner, ls.last
		delete(k.owned, owner)
	}
	if s != nil {
		if owner == "" {
			owner = k.newOwner()
		}
		k.owned[owner] = owned{data: s.Data}
		k.left = append(k.left, leftSession{owner: owner, until: time.Now().Add(a.window)})
		k.sweepLocked(time.Now())
	}
	k.mu.Unlock()
	var j job
	switch {
	case s != nil:
		value, err := encodeSession(s, owner)
		if err != nil {
			a.node.log.Warn("cluster: cannot encode a session", logKeyNsp, a.name, logKeyError, err)
			return
		}
		j = job{key: wire.SessionKey(a.node.cfg.SessionKeyPrefix, s.PID), value: value, ttl: a.window, size: len(value)}
	case last != "":
		j = job{key: ls.key, value: last, delIf: true, size: len(last)}
	default:
		return
	}
	// After what the keeper queued for this socket: it queues under mu,
	// and not once done is set.
	k.mu.Lock()
	err := a.node.pub.push(j)
	k.mu.Unlock()
	if err != nil {
		a.node.log.Warn("cluster: cannot keep a session in Redis", logKeyNsp, a.name, logKeyError, err)
	}
}

// SessionState is socketio's.
type SessionState = socketio.SessionState

// encodeSession encodes s as its key's value, with its data as JSON.
func encodeSession(s *SessionState, owner string) (string, error) {
	data, err := json.Marshal(s.Data)
	if err != nil {
		data = []byte("null")
	}
	return wire.EncodeSession(&wire.Session{SID: s.SID, PID: s.PID, Rooms: s.Rooms, Data: wire.Value{JSON: data}, Owner: owner})
}

// run writes the sessions marked, and every session before its lifetime
// runs out, until the node closes.
func (k *keeper) run(wg *sync.WaitGroup) {
	defer wg.Done()
	k.mu.Lock()
	tick := k.tick
	k.mu.Unlock()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-k.nd.ctx.Done():
			return
		case <-k.wake:
		case now := <-t.C:
			k.markDue(now)
		}
		k.flush()
		k.mu.Lock()
		if k.tick != tick {
			tick = k.tick
			t.Reset(tick)
		}
		k.mu.Unlock()
	}
}

// markDue marks the sessions whose refresh is due, and forgets the data
// of the disconnected sessions whose window ended.
func (k *keeper) markDue(now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, ls := range k.live {
		if !ls.dirty && now.After(ls.due) {
			k.markLocked(ls)
		}
	}
	k.sweepLocked(now)
}

// sweepLocked forgets the data of the disconnected sessions whose window
// ended, and of the oldest beyond maxLeft.
func (k *keeper) sweepLocked(now time.Time) {
	n := 0
	for n < len(k.left) && (now.After(k.left[n].until) || len(k.left)-n > maxLeft) {
		if o, ok := k.owned[k.left[n].owner]; ok && o.so == nil {
			delete(k.owned, k.left[n].owner)
		}
		n++
	}
	if n > 0 {
		k.left = append(k.left[:0], k.left[n:]...)
	}
}

// take returns, once, the data of the session whose copy owner wrote, if
// this node wrote it: that of its socket, if alive, or else what it had.
func (k *keeper) take(owner string) (any, bool) {
	k.mu.Lock()
	o, ok := k.owned[owner]
	if ok && o.so == nil {
		delete(k.owned, owner) // its entry in left goes with the sweep
	}
	k.mu.Unlock()
	if !ok {
		return nil, false
	}
	if o.so != nil {
		return o.so.Data(), true
	}
	return o.data, true
}

// flush queues a SET of each marked session. One the publisher refuses
// (its queue is full) stays marked, for the next tick.
func (k *keeper) flush() {
	k.mu.Lock()
	list := k.dirty
	k.dirty = nil
	for _, ls := range list {
		ls.dirty = false
	}
	k.mu.Unlock()
	now := time.Now()
	for _, ls := range list {
		s := ls.so.Session()
		if s == nil {
			continue
		}
		value, err := encodeSession(s, ls.owner)
		if err != nil {
			ls.a.node.log.Warn("cluster: cannot encode a session", logKeyNsp, ls.a.name, logKeyError, err)
			continue
		}
		k.mu.Lock()
		if !ls.done {
			refresh := ls.a.refresh
			if err := k.nd.pub.push(job{key: ls.key, value: value, ttl: ls.a.window + refresh, size: len(value)}); err != nil {
				k.markLocked(ls)
			} else {
				ls.last, ls.due = value, now.Add(refresh)
			}
		}
		k.mu.Unlock()
	}
}
