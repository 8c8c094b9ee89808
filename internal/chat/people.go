package chat

import (
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/identity"
	"github.com/parley-chat/parley/internal/names"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// person is someone online: one identity, with every socket it joined
// with (tabs, devices), which are one person to the others: listed once,
// announced when the first socket comes and when the last goes. id, name,
// key, secret and created never change; the other fields are guarded by
// Chat.mu.
type person struct {
	id   string
	name string
	key  string // the key the identity holds in the store
	// secret is the hash of a guest's token (nil for an application's
	// user), to claim the name again after the person was gone.
	secret []byte
	// created is when the identity claimed its name, if known (see
	// Chat.seen).
	created time.Time

	// kept: the identity keeps its token (see who.kept); otherwise the
	// person leaves at once when its page closes, since it cannot come
	// back as itself.
	kept bool
	// seenAt is when the store last recorded the identity as seen.
	seenAt time.Time
	// quietUntil: until then, the person's arrivals in rooms are not news
	// (it was here before the server restarted; see quietArrival).
	quietUntil time.Time

	sockets map[*socketio.Socket]struct{}
	rooms   map[string]*room
	away    *time.Timer // ends the grace period while it has no socket
}

// joinReply acknowledges new-user: the tutorial's fields (the first page
// of the default room's members), and the identity, with a guest's token, to send with new-user next time.
type joinReply struct {
	OK   bool   `json:"ok"`
	Name string `json:"name"`
	Room string `json:"room"`
	usersPage
	ID     string `json:"id"`
	Token  string `json:"token,omitempty"`
	Limits Limits `json:"limits"`
}

// newUserOptions is the optional second argument of new-user.
type newUserOptions struct {
	// Token is the guest token the server gave in an earlier new-user's
	// ack: the name it holds is this client's, in any later session.
	Token string `json:"token"`
}

// maxTokenLength bounds a client's token.
const maxTokenLength = 128

func (c *Chat) onNewUser(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	if s.person() != nil {
		reply(nil, ErrAlreadyJoined)
		return
	}
	var (
		name string
		opts newUserOptions
		back bool
		held *store.Identity
	)
	if c.verifier == nil {
		var ok bool
		if name, ok = e.String(0); !ok {
			reply(nil, ErrNameType)
			return
		}
		if e.Len() > 1 && (e.Bind(1, &opts) != nil || len(opts.Token) > maxTokenLength) {
			reply(nil, ErrBadRequest)
			return
		}
		back, held = c.returnOf(name, opts.Token)
	}
	if addr, ok := c.clientAddr(so); ok && !back {
		if ok, _ := c.newUsers.Allow(addr); !ok {
			reply(nil, ErrJoinsLimited)
			return
		}
	}
	var (
		w   who
		err error
	)
	if c.verifier != nil {
		// App mode: the name is the application's, whatever was asked.
		w, err = c.appUser(s)
	} else {
		w, err = c.guest(so, s, name, opts, e.HasAck(), held)
	}
	if err != nil {
		reply(nil, err)
		return
	}
	now := time.Now()
	p, fresh, upgraded, err := c.attach(so, s, w, c.quietArrival(w, now))
	if err != nil {
		reply(nil, err)
		return
	}
	so.SetData(s)      // the cluster's copy of the session names the person
	list := e.HasAck() // the members are only for the ack
	joined := func(users usersPage, err error) {
		if err != nil {
			reply(nil, err)
			return
		}
		if upgraded || (fresh && w.kept && !c.seenLately(w, now)) {
			c.seen(context.Background(), p, now)
		}
		reply(joinReply{OK: true, Name: p.name, Room: DefaultRoom, usersPage: users, ID: p.id, Token: w.token,
			Limits: c.limits()}, nil)
	}
	if !fresh {
		c.log.Info("user back", "name", p.name, "id", p.id, "sid", so.ID())
		c.rejoin(so, p, list, joined)
		return
	}
	c.log.Info("user joined", "name", p.name, "id", p.id, "sid", so.ID())
	c.enter(so, p, DefaultRoom, 0, list, func(users usersPage, err error) {
		if err != nil {
			c.detach(so, s, p)
		}
		joined(users, err)
	})
}

// returnOf reports whether a guest's new-user of name with token is a
// return rather than a claim: the token is one of ours, and its identity,
// known to keep it, holds that name. A return takes no name from anyone,
// so it is not counted against its address's new-user limit (the people
// behind one address, a NAT or an office, come back together after a
// restart), and needs no claim: held is the identity as the store holds
// it, for guest to take (nil when it is online here, or not a return).
// It costs one read of the store, on its readers.
func (c *Chat) returnOf(name, token string) (back bool, held *store.Identity) {
	if token == "" || !c.tokens.Valid(token) {
		return false, nil
	}
	n, err := names.Normalize(name, c.cfg.MaxNameLength)
	if err != nil {
		return false, nil
	}
	key, id := names.Key(n), guestID(token)
	c.mu.Lock()
	p := c.people[id]
	c.mu.Unlock()
	if p != nil {
		return p.key == key, nil // another tab, or back within the grace
	}
	ctx, cancel := storeContext()
	defer cancel()
	got, err := c.store.IdentityByID(ctx, id)
	if err != nil || got.Key != key || !kept(got) || !c.tokens.Matches(token, got.Secret) ||
		time.Since(got.LastSeen) >= c.cfg.NameReserve {
		return false, nil
	}
	return true, &got
}

// quietArrival reports whether the arrival at now of the identity w is
// not news: after a restart, someone seen in the RestartGrace before this
// Chat started, coming back within the RestartGrace after, was most likely
// here when the server stopped, and nobody heard them leave.
func (c *Chat) quietArrival(w who, now time.Time) bool {
	if c.node != nil {
		// In a cluster, the presence of a node that stopped outlives it
		// by the presence grace (see node.shutdown): those who come back
		// within it are no news anyway, and a node that starts must not
		// hush the arrivals of people who were on no node.
		return false
	}
	g := c.cfg.RestartGrace
	return w.existed && g > 0 && now.Before(c.started.Add(g)) &&
		w.seen.Before(c.started) && !w.seen.Before(c.started.Add(-g))
}

// attach makes so a socket of the person of w, who is fresh when nobody
// was online with w's identity; one who was gets so as one more socket,
// and is upgraded when w shows its token kept for the first time.
func (c *Chat) attach(so *socketio.Socket, s *session, w who, quiet bool) (p *person, fresh, upgraded bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		return nil, false, false, ErrAlreadyJoined
	}
	c.mu.Lock()
	p = c.people[w.id]
	if p == nil {
		p = &person{
			id: w.id, name: w.name, key: w.key, created: w.created, kept: w.kept, seenAt: w.seen,
			sockets: make(map[*socketio.Socket]struct{}, 1),
			rooms:   make(map[string]*room),
		}
		if w.token != "" {
			p.secret = identity.Hash(w.token)
		}
		if quiet {
			p.quietUntil = c.started.Add(c.cfg.RestartGrace)
		}
		c.people[w.id] = p
		delete(c.arriving, w.id)
		if c.node != nil {
			c.node.joinLocked("", p, "")
		}
		fresh = true
	} else {
		if p.away != nil {
			p.away.Stop()
			p.away = nil
		}
		if w.kept && !p.kept {
			p.kept, upgraded = true, true
		}
	}
	p.sockets[so] = struct{}{}
	c.mu.Unlock()
	s.p = p
	return p, fresh, upgraded, nil
}

// detach undoes the attach of a fresh person whose entry failed: nobody
// heard of them.
func (c *Chat) detach(so *socketio.Socket, s *session, p *person) {
	s.mu.Lock()
	if s.p == p {
		s.p = nil
	}
	s.mu.Unlock()
	c.mu.Lock()
	delete(p.sockets, so)
	if len(p.sockets) == 0 && c.people[p.id] == p {
		c.removeLocked(p)
	}
	c.mu.Unlock()
}

// announceJoined tells r's members that p came into r (so is p's socket
// that made them), unless it is no news (see quietArrival).
func (c *Chat) announceJoined(so *socketio.Socket, p *person, r *room) {
	c.mu.Lock()
	quiet := time.Now().Before(p.quietUntil)
	c.mu.Unlock()
	if quiet {
		return
	}
	_ = so.To(r.key).Emit(EventUserConnected, p.name, r.name)
}

// rejoin makes a new socket of a person online listen to the person's
// rooms, then calls then, if list with the first page of the default
// room's members (see enter).
func (c *Chat) rejoin(so *socketio.Socket, p *person, list bool, then func(usersPage, error)) {
	c.mu.Lock()
	rooms := make([]*room, 0, len(p.rooms))
	for _, r := range p.rooms {
		rooms = append(rooms, r)
	}
	c.mu.Unlock()
	c.listenRooms(so, rooms, func(err error) {
		switch {
		case err != nil || !list:
			then(usersPage{}, err)
		case c.node != nil:
			then(c.clusterUsersPage(DefaultRoom, "", DefaultUsersPage), nil)
		default:
			then(c.localUsersPage(DefaultRoom, "", DefaultUsersPage), nil)
		}
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

// goodbye reports whether a socket's disconnection for reason is its
// person saying goodbye, rather than losing the connection or closing a
// page (a reload, which comes back): the client left the namespace (the
// page's Leave), or the server sent it away. A person whose token is not
// kept also leaves when its transport closes, since it cannot come back
// as itself.
func goodbye(reason socketio.DisconnectReason, kept bool) bool {
	switch reason {
	case socketio.ReasonClientDisconnect, socketio.ReasonServerDisconnect:
		return true
	case socketio.ReasonTransportClose:
		return !kept
	}
	return false
}

func (c *Chat) onDisconnect(so *socketio.Socket, reason socketio.DisconnectReason) {
	p := sessionOf(so).person()
	if p == nil {
		return
	}
	c.mu.Lock()
	if _, ok := p.sockets[so]; !ok {
		c.mu.Unlock()
		return
	}
	delete(p.sockets, so)
	if len(p.sockets) > 0 || c.people[p.id] != p {
		c.mu.Unlock()
		c.log.Debug("socket of a person left", "name", p.name, "reason", string(reason))
		return // another tab is still open
	}
	if goodbye(reason, p.kept) || c.cfg.PresenceGrace < 0 {
		left, kept := c.removeLocked(p), p.kept
		c.mu.Unlock()
		c.announceLeft(p, left, string(reason))
		if kept {
			c.seen(context.Background(), p, time.Now())
		}
		return
	}
	p.away = time.AfterFunc(c.cfg.PresenceGrace, func() { c.expire(p) })
	c.mu.Unlock()
	c.log.Debug("user away", "name", p.name, "reason", string(reason))
}

// expire ends the grace period of someone who did not come back.
func (c *Chat) expire(p *person) {
	c.mu.Lock()
	if len(p.sockets) > 0 || c.people[p.id] != p {
		c.mu.Unlock()
		return
	}
	left, kept := c.removeLocked(p), p.kept
	c.mu.Unlock()
	c.announceLeft(p, left, "did not come back")
	if kept {
		c.seen(context.Background(), p, time.Now())
	}
}

// removeLocked takes p offline and out of its rooms' presence, and returns
// those rooms. p keeps its room list, for a later resume. Chat.mu is held.
func (c *Chat) removeLocked(p *person) []*room {
	online := c.people[p.id] == p
	if online {
		delete(c.people, p.id)
	}
	if p.away != nil {
		p.away.Stop()
		p.away = nil
	}
	left := make([]*room, 0, len(p.rooms))
	for _, r := range p.rooms {
		if r.dropMember(p) && c.node != nil {
			c.node.leaveLocked(r.name, p)
		}
		left = append(left, r)
	}
	if online && c.node != nil {
		c.node.leaveLocked("", p)
	}
	return left
}

// announceLeft tells p's rooms that p left. In a cluster, the cluster's
// presence does, once p is on no node.
func (c *Chat) announceLeft(p *person, rooms []*room, why string) {
	c.log.Info("user left", "name", p.name, "id", p.id, "reason", why)
	if c.node != nil {
		return
	}
	for _, r := range rooms {
		_ = c.nsp.To(r.key).Emit(EventUserDisconnected, p.name, r.name)
	}
}

// resume takes back a recovered socket's person: within the grace period,
// or while another of its sockets is open, nothing was announced; after
// it, the person is announced again, unless its name went to someone else
// meanwhile.
func (c *Chat) resume(so *socketio.Socket, s *session) {
	p := s.person()
	if p == nil || c.addSocket(so, s, p) {
		return
	}
	if err := c.reloadRooms(p); err != nil {
		c.log.Warn("reloading the rooms of a returning user", "name", p.name, "err", err)
	}
	// Gone and announced: the name may have gone to someone else.
	if !c.reclaim(p) {
		s.mu.Lock()
		s.p = nil
		s.mu.Unlock()
		for _, r := range p.rooms {
			so.Leave(r.key)
		}
		r := c.refusedWith(ErrNameTaken)
		r.Message = "while you were away, someone else took the name " + p.name
		_ = so.Emit(EventError, r)
		return
	}
	s.mu.Lock()
	c.mu.Lock()
	if cur := c.people[p.id]; cur != nil {
		// Back through another socket meanwhile.
		cur.sockets[so] = struct{}{}
		s.p = cur
		c.mu.Unlock()
		s.mu.Unlock()
		return
	}
	c.people[p.id] = p
	p.sockets = map[*socketio.Socket]struct{}{so: {}}
	if c.node != nil {
		c.node.joinLocked("", p, "")
	}
	rooms := make([]*room, 0, len(p.rooms))
	for _, r := range p.rooms {
		if r.addMember(p) && c.node != nil {
			c.node.joinLocked(r.name, p, so.ID())
		}
		rooms = append(rooms, r)
	}
	c.mu.Unlock()
	s.mu.Unlock()
	if c.node != nil {
		return // announced by the cluster's presence, if news
	}
	for _, r := range rooms {
		c.announceJoined(so, p, r)
	}
}

// addSocket makes so, whose session had p, a socket of the person online
// with p's identity, and reports whether there is one: p itself, or
// another person of the same identity who came back through another
// socket after p was gone.
func (c *Chat) addSocket(so *socketio.Socket, s *session, p *person) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.people[p.id]
	if cur == nil {
		return false
	}
	if cur.away != nil {
		cur.away.Stop()
		cur.away = nil
	}
	cur.sockets[so] = struct{}{}
	s.p = cur
	c.log.Debug("user back", "name", cur.name)
	return true
}

// reclaim claims p's name again for p's identity, after p was gone, and
// reports whether it is still theirs.
func (c *Chat) reclaim(p *person) bool {
	reserve := c.cfg.NameReserve
	ctx, cancel := storeContext()
	defer cancel()
	held, err := c.store.ClaimName(ctx, store.Claim{ID: p.id, Name: p.name, Key: p.key, Secret: p.secret, Now: time.Now(), Reserve: reserve, Kept: p.kept})
	if err != nil {
		c.log.Error("claiming a name again", "id", p.id, "err", err)
		return false
	}
	return held.ID == p.id
}

// Online returns the names of the people online on this node, sorted.
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
