package chat

import (
	"strings"
	"sync"
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
	// gets one twice. It is never held over a read of the store: the
	// history comes from recent, and what is older than recent holds is
	// read before taking it (see listenRoom). Its place in the lock order:
	// docs/locking.md.
	deliverMu sync.Mutex
	// recent is the room's newest messages, up to the last one broadcast
	// (recent.last); guarded by deliverMu.
	recent *recent

	// members are the people in the room's presence, and names their
	// names, sorted; both guarded by Chat.mu and changed together by
	// addMember and dropMember.
	members map[*person]struct{}
	names   nameIndex
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
// use. A room is loaded with its recent messages, read before anyone can
// see the room, so without holding any lock: nobody can send to it yet.
func (c *Chat) loadRoom(name string) (*room, error) {
	c.mu.Lock()
	r := c.rooms[name]
	c.mu.Unlock()
	if r != nil {
		return r, nil
	}
	ctx, cancel := storeContext()
	defer cancel()
	stored, err := c.store.CreateRoom(ctx, name)
	if err != nil {
		c.log.Error("loading room", "room", name, "err", err)
		return nil, ErrUnavailable
	}
	msgs, err := c.store.History(ctx, name, 0, c.cfg.RecentMessages)
	if err != nil {
		c.log.Error("loading room's recent messages", "room", name, "err", err)
		return nil, ErrUnavailable
	}
	loaded := &room{
		name:    name,
		key:     "room:" + name,
		recent:  newRecent(c.cfg.RecentMessages, c.cfg.HistoryLimit, c.cfg.RecentBytes, stored.LastID, msgs),
		members: make(map[*person]struct{}),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r = c.rooms[name]; r == nil {
		// First come, first kept: another load's room may be in use
		// already, and its recent messages newer than these.
		r = loaded
		c.rooms[name] = r
	}
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
}

// membersLocked returns the room's members' names as they are now, in
// O(n/maxChunk); Chat.mu must be held. Make the list with its names
// method after releasing Chat.mu.
func (r *room) membersLocked() nameSnapshot { return r.names.snapshot() }

// enter makes p a member of a room: its socket listens to the room (see
// listen), p appears in the room's presence, and the others are told. Then
// it calls then, if list with the room's members, sorted; otherwise with
// nil, so that a client that did not ask for them (the tutorial's new-user
// has no callback) costs nothing that grows with the room. then may be
// called after enter returns (see listen).
func (c *Chat) enter(so *socketio.Socket, p *person, name string, since int64, list bool, then func([]string, error)) {
	r, err := c.loadRoom(name)
	if err != nil {
		then(nil, err)
		return
	}
	c.listenRoom(so, r, since, func(err error) {
		if err != nil {
			then(nil, err)
			return
		}
		then(c.present(so, p, r, list), nil)
	})
}

// present puts p, whose socket listens to r, in r's presence, tells the
// others, and if list returns r's members (see enter).
func (c *Chat) present(so *socketio.Socket, p *person, r *room, list bool) []string {
	var members nameSnapshot
	c.mu.Lock()
	_, already := p.rooms[r.name]
	p.rooms[r.name] = r
	r.addMember(p)
	if list {
		members = r.membersLocked()
	}
	c.mu.Unlock()
	if !already {
		_ = so.To(r.key).Emit(EventUserConnected, p.name, r.name)
	}
	if !list {
		return nil
	}
	return members.names()
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

// roomReply acknowledges join-room, leave-room and list-users.
type roomReply struct {
	OK    bool     `json:"ok"`
	Room  string   `json:"room"`
	Users []string `json:"users"`
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
	c.enter(so, p, req.Room, req.Since, e.HasAck(), func(users []string, err error) {
		if err != nil {
			reply(nil, err)
			return
		}
		reply(roomReply{OK: true, Room: req.Room, Users: users}, nil)
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
	reply(roomReply{OK: true, Room: r.name, Users: []string{}}, nil)
}

func (c *Chat) onListUsers(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	req, err := parseRoomRequest(e)
	if err != nil {
		reply(nil, err)
		return
	}
	if !e.HasAck() {
		return // nobody to tell
	}
	var members nameSnapshot
	c.mu.Lock()
	if r := c.rooms[req.Room]; r != nil {
		members = r.membersLocked()
	}
	c.mu.Unlock()
	reply(roomReply{OK: true, Room: req.Room, Users: members.names()}, nil)
}

// roomInfo describes a room in list-rooms.
type roomInfo struct {
	Name   string `json:"name"`
	Users  int    `json:"users"`
	LastID int64  `json:"lastId"`
}

func (c *Chat) onListRooms(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	ctx, cancel := storeContext()
	defer cancel()
	stored, err := c.store.Rooms(ctx)
	if err != nil {
		c.log.Error("listing rooms", "err", err)
		reply(nil, ErrUnavailable)
		return
	}
	rooms := make([]roomInfo, 0, len(stored)+1)
	seen := make(map[string]bool, len(stored))
	c.mu.Lock()
	for _, sr := range stored {
		info := roomInfo{Name: sr.Name, LastID: sr.LastID}
		if r := c.rooms[sr.Name]; r != nil {
			info.Users = len(r.members)
		}
		rooms = append(rooms, info)
		seen[sr.Name] = true
	}
	c.mu.Unlock()
	if !seen[DefaultRoom] {
		rooms = append(rooms, roomInfo{Name: DefaultRoom})
	}
	reply(struct {
		OK    bool       `json:"ok"`
		Rooms []roomInfo `json:"rooms"`
	}{true, rooms}, nil)
}
