package chat

import (
	"crypto/subtle"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/socketio"
)

// person is someone online under a name. Fields other than name and key
// are guarded by Chat.mu.
type person struct {
	name  string
	key   string // folded name
	token string // proves a returning client is this person; may be empty

	so    *socketio.Socket // current socket; nil while away
	rooms map[string]*room
	away  *time.Timer // ends the grace period while away
}

// foldName is the form in which names must be unique: "Alice" and "alice"
// are the same person.
func foldName(name string) string { return strings.ToLower(name) }

// joinReply acknowledges new-user, with the first page of the default
// room's members.
type joinReply struct {
	OK   bool   `json:"ok"`
	Name string `json:"name"`
	Room string `json:"room"`
	usersPage
}

// newUserOptions is the optional second argument of new-user.
type newUserOptions struct {
	// Token is a secret the client keeps for the session: a client that
	// comes back with the same name and token takes its place back, even
	// before its old connection is known to be gone (a reload, a dropped
	// network).
	Token string `json:"token"`
}

// maxTokenLength bounds a client's token.
const maxTokenLength = 128

func (c *Chat) onNewUser(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	name, ok := e.String(0)
	if !ok {
		reply(nil, ErrNameType)
		return
	}
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		reply(nil, ErrNameEmpty)
		return
	case n > c.cfg.MaxNameLength:
		reply(nil, ErrNameTooLong)
		return
	case !storable(name):
		reply(nil, ErrNameInvalid)
		return
	}
	var opts newUserOptions
	if e.Len() > 1 && (e.Bind(1, &opts) != nil || len(opts.Token) > maxTokenLength) {
		reply(nil, ErrBadRequest)
		return
	}
	p := &person{name: name, key: foldName(name), token: opts.Token, so: so, rooms: make(map[string]*room)}
	s.mu.Lock()
	if s.p != nil {
		s.mu.Unlock()
		reply(nil, ErrAlreadyJoined)
		return
	}
	c.mu.Lock()
	var old *socketio.Socket // the connection a returning person leaves behind
	returning := false
	if held, taken := c.people[p.key]; taken {
		if held.token == "" || subtle.ConstantTimeCompare([]byte(held.token), []byte(opts.Token)) != 1 {
			c.mu.Unlock()
			s.mu.Unlock()
			reply(nil, ErrNameTaken)
			return
		}
		if held.away != nil {
			held.away.Stop()
			held.away = nil
		}
		old, held.so = held.so, so
		p, returning = held, true
	} else {
		c.people[p.key] = p
	}
	c.mu.Unlock()
	s.p = p
	s.mu.Unlock()

	if old != nil && old != so {
		if os := sessionOf(old); os != nil {
			os.mu.Lock()
			os.p = nil
			os.mu.Unlock()
		}
		old.Disconnect(false)
	}
	list := e.HasAck() // the members are only for the ack
	joined := func(users usersPage, err error) {
		if err != nil {
			reply(nil, err)
			return
		}
		reply(joinReply{OK: true, Name: p.name, Room: DefaultRoom, usersPage: users}, nil)
	}
	if returning {
		c.log.Info("user returned", "name", p.name, "sid", so.ID())
		c.rejoin(so, p, list, joined)
		return
	}
	c.log.Info("user joined", "name", name, "sid", so.ID())
	c.enter(so, p, DefaultRoom, 0, list, func(users usersPage, err error) {
		if err != nil {
			// Nobody heard of p: let the name go, so that the client can
			// try again, unless a returning client took p over meanwhile.
			c.mu.Lock()
			mine := c.people[p.key] == p && p.so == so
			if mine {
				delete(c.people, p.key)
			}
			c.mu.Unlock()
			if mine {
				s.mu.Lock()
				s.p = nil
				s.mu.Unlock()
			}
		}
		joined(users, err)
	})
}

// rejoin makes a returning person's new socket listen to its rooms, then
// calls then, if list with the first page of the default room's members
// (see enter).
func (c *Chat) rejoin(so *socketio.Socket, p *person, list bool, then func(usersPage, error)) {
	c.mu.Lock()
	rooms := make([]*room, 0, len(p.rooms))
	for _, r := range p.rooms {
		rooms = append(rooms, r)
	}
	c.mu.Unlock()
	c.listenRooms(so, rooms, func(err error) {
		if err != nil || !list {
			then(usersPage{}, err)
			return
		}
		members := usersPage{Users: []string{}}
		c.mu.Lock()
		if r := c.rooms[DefaultRoom]; r != nil {
			members = r.usersPageLocked("", DefaultUsersPage)
		}
		c.mu.Unlock()
		then(members, nil)
	})
}

// listenRooms makes so listen to rooms, one after the other, then calls
// then (see listen).
func (c *Chat) listenRooms(so *socketio.Socket, rooms []*room, then func(error)) {
	if len(rooms) == 0 {
		then(nil)
		return
	}
	c.listenRoom(so, rooms[0], 0, func(err error) {
		if err != nil {
			then(err)
			return
		}
		c.listenRooms(so, rooms[1:], then)
	})
}

// graceful reports whether a disconnection was a goodbye rather than a
// lost connection.
func graceful(reason socketio.DisconnectReason) bool {
	switch reason {
	case socketio.ReasonTransportClose, socketio.ReasonClientDisconnect, socketio.ReasonServerDisconnect:
		return true
	}
	return false
}

func (c *Chat) onDisconnect(so *socketio.Socket, reason socketio.DisconnectReason) {
	p := sessionOf(so).person()
	if p == nil {
		return
	}
	c.mu.Lock()
	if p.so != so {
		c.mu.Unlock()
		return // a newer socket took over
	}
	p.so = nil
	if graceful(reason) || c.cfg.PresenceGrace < 0 {
		left := c.removeLocked(p)
		c.mu.Unlock()
		c.announceLeft(p, left, string(reason))
		return
	}
	p.away = time.AfterFunc(c.cfg.PresenceGrace, func() { c.expire(p) })
	c.mu.Unlock()
	c.log.Debug("user away", "name", p.name, "reason", string(reason))
}

// expire ends the grace period of someone who did not come back.
func (c *Chat) expire(p *person) {
	c.mu.Lock()
	if p.so != nil || c.people[p.key] != p {
		c.mu.Unlock()
		return
	}
	left := c.removeLocked(p)
	c.mu.Unlock()
	c.announceLeft(p, left, "did not come back")
}

// removeLocked takes p offline and out of its rooms' presence, and returns
// those rooms. p keeps its room list, for a later resume.
func (c *Chat) removeLocked(p *person) []*room {
	if c.people[p.key] == p {
		delete(c.people, p.key)
	}
	if p.away != nil {
		p.away.Stop()
		p.away = nil
	}
	left := make([]*room, 0, len(p.rooms))
	for _, r := range p.rooms {
		r.dropMember(p)
		left = append(left, r)
	}
	return left
}

func (c *Chat) announceLeft(p *person, rooms []*room, why string) {
	c.log.Info("user left", "name", p.name, "reason", why)
	for _, r := range rooms {
		_ = c.nsp.To(r.key).Emit(EventUserDisconnected, p.name, r.name)
	}
}

// resume takes back a recovered socket's person: within the grace period
// nothing was announced; after it, the person is announced again, unless
// someone else took the name meanwhile.
func (c *Chat) resume(so *socketio.Socket, s *session) {
	p := s.person()
	if p == nil {
		return
	}
	if err := c.reloadRooms(p); err != nil {
		c.log.Warn("reloading the rooms of a returning user", "name", p.name, "err", err)
	}
	c.mu.Lock()
	if c.people[p.key] == p {
		if p.away != nil {
			p.away.Stop()
			p.away = nil
		}
		p.so = so
		c.mu.Unlock()
		c.log.Debug("user back", "name", p.name)
		return
	}
	if _, taken := c.people[p.key]; taken {
		c.mu.Unlock()
		s.mu.Lock()
		s.p = nil
		s.mu.Unlock()
		for _, r := range p.rooms {
			so.Leave(r.key)
		}
		r := refusedWith(ErrNameTaken)
		r.Message = "while you were away, someone else took the name " + p.name
		_ = so.Emit(EventError, r)
		return
	}
	c.people[p.key] = p
	p.so = so
	rooms := make([]*room, 0, len(p.rooms))
	for _, r := range p.rooms {
		r.addMember(p)
		rooms = append(rooms, r)
	}
	c.mu.Unlock()
	for _, r := range rooms {
		_ = so.To(r.key).Emit(EventUserConnected, p.name, r.name)
	}
}

// Online returns the names of the people online, sorted.
func (c *Chat) Online() []string {
	c.mu.Lock()
	names := make([]string, 0, len(c.people))
	for _, p := range c.people {
		names = append(names, p.name)
	}
	c.mu.Unlock()
	slices.Sort(names) // outside the lock
	return names
}
