package chat

import (
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// maxRoomNameLength is the longest room name, in characters.
const maxRoomNameLength = 32

// room is a chat room with its state loaded.
type room struct {
	name string
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

// loadRoom returns the room called name, creating it in the store on first
// use, for by (nil: for the chat), within the caps on creating rooms
// (see createRoom). A room is loaded with its recent messages, read before
// anyone can see the room, so without holding any lock: nobody can send
// to it yet. A room that had fallen idle is listed again from now.
func (c *Chat) loadRoom(name string, by *creator) (*room, error) {
	now := time.Now()
	c.mu.Lock()
	r := c.rooms[name]
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
		key:     roomKey(name),
		recent:  newRecent(c.cfg.RecentMessages, c.cfg.HistoryLimit, c.cfg.RecentBytes, stored.LastID, msgs),
		members: make(map[*person]struct{}),
		touched: touched,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r = c.rooms[name]; r == nil {
		// First come, first kept: another load's room may be in use
		// already, and its recent messages newer than these.
		r = loaded
		c.rooms[name] = r
	}
	r.used = now
	return r, nil
}

// addMember puts p in the room's presence, if it is not there already.
// Chat.mu must be held; the cost hardly grows with the room (see
// nameIndex).
func (r *room) addMember(p *person) {
	if _, in := r.members[p]; in {
		return
	}
	r.members[p] = struct{}{}
	r.names.add(p.name)
}

// dropMember takes p out of the room's presence, if it is there. Chat.mu
// must be held; it costs what addMember does.
func (r *room) dropMember(p *person) {
	if _, in := r.members[p]; !in {
		return
	}
	delete(r.members, p)
	r.names.remove(p.name)
	if len(r.members) == 0 {
		r.used = time.Now() // from now on, idle
	}
}

// enter makes p a member of a room: its socket listens to the room (see
// listen), p appears in the room's presence, and the others are told. Then
// it calls then, if list with the first page of the room's members, sorted
// (the others are read with list-users); otherwise with nothing, so that a
// client that did not ask for them (the tutorial's new-user has no
// callback) costs nothing that grows with the room. then may be called
// after enter returns (see listen).
func (c *Chat) enter(so *socketio.Socket, p *person, name string, since int64, list bool, then func(usersPage, error)) {
	r, err := c.loadRoom(name, c.creatorOf(so, p))
	if err != nil {
		then(usersPage{}, err)
		return
	}
	c.listenRoom(so, r, since, func(err error) {
		if err != nil {
			then(usersPage{}, err)
			return
		}
		c.mu.Lock()
		if r.unloaded {
			// The room fell idle and was let go while so listened to it
			// (which it does still, by the room's key): the room's state
			// is loaded again, and nothing was sent to the room meanwhile.
			c.mu.Unlock()
			c.enter(so, p, name, 0, list, then)
			return
		}
		var members usersPage
		_, already := p.rooms[name]
		p.rooms[name] = r
		r.addMember(p)
		if list {
			members = r.usersPageLocked("", DefaultUsersPage)
		}
		c.mu.Unlock()
		if !already {
			c.announceJoined(so, p, r)
		}
		then(members, nil)
	})
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
	if !validRoomName(req.Room) {
		return req, ErrRoomInvalid
	}
	return req, nil
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
	c.enter(so, p, req.Room, req.Since, e.HasAck(), func(users usersPage, err error) {
		if err != nil {
			reply(nil, err)
			return
		}
		reply(usersReply{OK: true, Room: req.Room, usersPage: users}, nil)
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
	r, in := p.rooms[req.Room]
	if in {
		delete(p.rooms, req.Room)
		r.dropMember(p)
	}
	c.mu.Unlock()
	if !in {
		reply(nil, ErrNotInRoom)
		return
	}
	so.Leave(r.key)
	_ = c.nsp.To(r.key).Emit(EventUserDisconnected, p.name, r.name)
	reply(usersReply{OK: true, Room: r.name, usersPage: usersPage{Users: []string{}}}, nil)
}
