package chat

import (
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/names"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// maxRoomNameLength is the longest room name, in characters.
const maxRoomNameLength = 32

// room is a chat room with its state loaded.
type room struct {
	name string // as the store has it: its first spelling
	id   string // store.RoomKey(name): the key of Chat.rooms and person.rooms
	key  string // the Socket.IO room of its members

	// deliverMu orders what the room's members get: the history sent to
	// someone joining, and the live messages, so that nobody misses one or
	// gets one twice. It is never held over a read of the store, nor
	// while waiting for a client: the history comes from recent, and what
	// is older than recent holds, or more than the client's queue takes at
	// once, is sent without it (see catchup.go). Its place in the lock
	// order: docs/locking.md.
	deliverMu sync.Mutex
	// recent is the room's newest messages, up to the last one broadcast
	// (recent.last); guarded by deliverMu.
	recent *recent
	// pending are the messages that came before some with lower ids,
	// waiting for them; head is the highest id the room is known to have
	// reached; filling is set while the missing ones are read from the
	// store, and gapTimer until they are (sequence.go). All guarded by
	// deliverMu.
	pending  map[int64]pendingMessage
	head     int64
	filling  bool
	gapTimer *time.Timer
	// In a cluster (stream.go): outbox holds the messages this node stored
	// that the stream does not have yet, by id; outTimer is set while a
	// look at it is due, and localTimer while its own delivery without the
	// stream is; gapRounds counts the looks its head met a gap;
	// streamLast is the highest id the stream is known to have. All
	// guarded by deliverMu.
	outbox     []outMessage
	outTimer   *time.Timer
	localTimer *time.Timer
	gapRounds  int
	streamLast int64
	// timed is the message whose delivery is to be timed, if any (see
	// Chat.timeDelivery); guarded by deliverMu.
	timed timedDelivery

	// members are the people in the room's presence, and names their
	// names, sorted; both guarded by Chat.mu and changed together by
	// addMember and dropMember.
	members map[*person]struct{}
	names   nameIndex

	// used is when the room was last loaded or left empty, touched when
	// its Active was last written to the store (or read from it), and
	// unloaded is set once the room is no longer the chat's room of its
	// name (see sweepRooms); all three guarded by Chat.mu.
	used, touched time.Time
	unloaded      bool
}

// roomName returns the form of a room's name that the chat stores and
// shows, as names.Normalize makes it (NFKC, white space collapsed), or
// ErrRoomInvalid. Rooms are found by key (store.RoomKey), so that names
// that look alike name one room, whichever spelling came first.
func roomName(name string) (string, error) {
	n, err := names.Normalize(name, maxRoomNameLength)
	if err != nil || !validRoomName(n) {
		return "", ErrRoomInvalid
	}
	return n, nil
}

// validRoomName reports whether name may name a room.
func validRoomName(name string) bool {
	if n := utf8.RuneCountInString(name); n == 0 || n > maxRoomNameLength || strings.TrimSpace(name) != name {
		return false
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" -_.", r) {
			return false
		}
	}
	return store.ValidateRoomName(name) == nil
}

// loadRoom returns the room of name's key, creating it in the store, called
// name, on first use, for by (nil: for the chat), within the caps on
// creating rooms (see createRoom). A room is loaded with its recent
// messages, read before anyone can see the room, so without holding any
// lock: nobody can send to it yet. A room that had fallen idle is listed
// again from now.
func (c *Chat) loadRoom(name string, by *creator) (*room, error) {
	now := time.Now()
	id := store.RoomKey(name)
	c.mu.Lock()
	r := c.rooms[id]
	if r != nil {
		r.used = now // not idle: see sweepRooms
	}
	c.mu.Unlock()
	if r != nil {
		return r, nil
	}
	ctx, cancel := storeContext()
	defer cancel()
	stored, err := c.findRoom(ctx, name, by)
	if err != nil {
		return nil, err
	}
	name = stored.Name
	touched := stored.Active
	if now.Sub(touched) >= c.touchEvery() {
		if err := c.store.TouchRooms(ctx, now, []string{name}); err != nil {
			c.log.Warn("recording a room in use", "room", name, "err", err) // the sweeper will
		} else {
			touched = now
		}
	}
	msgs, err := c.store.History(ctx, name, 0, c.cfg.RecentMessages)
	if err != nil {
		c.log.Error("loading room's recent messages", "room", name, "err", err)
		return nil, ErrUnavailable
	}
	loaded := &room{
		name:    name,
		id:      id,
		key:     roomKey(name),
		recent:  newRecent(c.cfg.RecentMessages, c.cfg.HistoryLimit, c.cfg.RecentBytes, stored.LastID, msgs),
		members: make(map[*person]struct{}),
		touched: touched,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r = c.rooms[id]; r == nil {
		// First come, first kept: another load's room may be in use
		// already, and its recent messages newer than these.
		r = loaded
		c.rooms[id] = r
	}
	r.used = now
	return r, nil
}

// addMember puts p in the room's presence, if it is not there already,
// and reports whether it was not. Chat.mu must be held; the cost hardly
// grows with the room (see nameIndex).
func (r *room) addMember(p *person) bool {
	if _, in := r.members[p]; in {
		return false
	}
	r.members[p] = struct{}{}
	r.names.add(p.name)
	return true
}

// dropMember takes p out of the room's presence, if it is there, and
// reports whether it was. Chat.mu must be held; it costs what addMember
// does.
func (r *room) dropMember(p *person) bool {
	if _, in := r.members[p]; !in {
		return false
	}
	delete(r.members, p)
	r.names.remove(p.name)
	if len(r.members) == 0 {
		r.used = time.Now() // from now on, idle
	}
	return true
}

// enter makes p a member of a room: its socket listens to the room (see
// listen), p appears in the room's presence, and the others are told. Then
// it calls then, if list with the first page of the room's members, sorted
// (the others are read with list-users); otherwise with nothing, so that a
// client that did not ask for them (the tutorial's new-user has no
// callback) costs nothing that grows with the room. then may be called
// after enter returns (see listen).
func (c *Chat) enter(so *socketio.Socket, p *person, name string, since int64, list bool, then func(usersPage, error)) {
	c.enterRoom(so, p, name, since, list, func(_ *room, users usersPage, err error) { then(users, err) })
}

// enterRoom is enter, and gives then the room too.
func (c *Chat) enterRoom(so *socketio.Socket, p *person, name string, since int64, list bool, then func(*room, usersPage, error)) {
	r, err := c.loadRoom(name, c.creatorOf(so, p))
	if err != nil {
		then(nil, usersPage{}, err)
		return
	}
	c.listenRoom(so, r, since, func(err error) {
		if err != nil {
			then(nil, usersPage{}, err)
			return
		}
		c.mu.Lock()
		if r.unloaded {
			// The room fell idle and was let go while so listened to it
			// (which it does still, by the room's key): the room's state
			// is loaded again, and nothing was sent to the room meanwhile.
			c.mu.Unlock()
			c.enterRoom(so, p, name, 0, list, then)
			return
		}
		then(r, c.presentLocked(so, p, r, list), nil)
	})
}

// presentLocked puts p, whose socket so listens to r, in r's presence,
// tells the others, and if list returns the first page of r's members
// (see enter). Chat.mu is held, and released.
func (c *Chat) presentLocked(so *socketio.Socket, p *person, r *room, list bool) usersPage {
	var members usersPage
	_, already := p.rooms[r.id]
	p.rooms[r.id] = r
	added := r.addMember(p)
	if c.node != nil {
		// The cluster's presence says whether the arrival is news, and
		// lists the room.
		var op *presenceOp
		if added {
			op = c.node.joinLocked(r.name, p, so.ID())
		}
		c.mu.Unlock()
		if !list {
			return members
		}
		c.node.await(op)
		return c.clusterUsersPage(r.name, "", DefaultUsersPage)
	}
	var snap nameSnapshot
	if list {
		snap = r.names.pageSnapshot("", DefaultUsersPage)
	}
	c.mu.Unlock()
	if list {
		members = snap.usersPage("", DefaultUsersPage)
	}
	if !already {
		c.announceJoined(so, p, r)
	}
	return members
}

// roomRequest is the argument of the room events: a room's name, or an
// object with it.
type roomRequest struct {
	Room  string `json:"room"`
	Since int64  `json:"since"`
}

// parseRoomRequest reads argument 0 as a room name or a roomRequest.
func parseRoomRequest(e *socketio.Event) (roomRequest, error) {
	var req roomRequest
	if name, ok := e.String(0); ok {
		req.Room = name
	} else if e.Len() == 0 || e.Bind(0, &req) != nil {
		return req, ErrBadRequest
	}
	var err error
	req.Room, err = roomName(req.Room)
	return req, err
}

func (c *Chat) onJoinRoom(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	p := s.person()
	if p == nil {
		reply(nil, ErrNotJoined)
		return
	}
	req, err := parseRoomRequest(e)
	if err != nil {
		reply(nil, err)
		return
	}
	c.enterRoom(so, p, req.Room, req.Since, e.HasAck(), func(r *room, users usersPage, err error) {
		if err != nil {
			reply(nil, err)
			return
		}
		reply(usersReply{OK: true, Room: r.name, usersPage: users}, nil)
	})
}

func (c *Chat) onLeaveRoom(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	p := s.person()
	if p == nil {
		reply(nil, ErrNotJoined)
		return
	}
	req, err := parseRoomRequest(e)
	if err != nil {
		reply(nil, err)
		return
	}
	c.mu.Lock()
	r, in := p.rooms[store.RoomKey(req.Room)]
	if in {
		delete(p.rooms, r.id)
		if r.dropMember(p) && c.node != nil {
			c.node.leaveLocked(r.name, p)
		}
	}
	c.mu.Unlock()
	if !in {
		reply(nil, ErrNotInRoom)
		return
	}
	so.Leave(r.key)
	if c.node == nil {
		_ = c.nsp.To(r.key).Emit(EventUserDisconnected, p.name, r.name)
	}
	reply(usersReply{OK: true, Room: r.name, usersPage: usersPage{Users: []string{}}}, nil)
}
