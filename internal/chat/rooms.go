package chat

import (
	"slices"
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
	// gets one twice. It is never held over a read of the store: the
	// history comes from recent, and what is older than recent holds is
	// read before taking it (see listenRoom). Its place in the lock order:
	// docs/locking.md.
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

// listen makes a socket hear a room: it first gets the room's recent
// history, or what came after since, as chat-message events marked as
// history, then the room's live messages. A socket already listening gets
// nothing again.
func (c *Chat) listen(so *socketio.Socket, name string, since int64) error {
	r, err := c.loadRoom(name, nil)
	if err != nil {
		return err
	}
	return c.listenRoom(so, r, since)
}

// maxHistoryReads bounds the store reads of one listenRoom (see there).
const maxHistoryReads = 3

// listenRoom makes so listen to r (see listen). What it gets first is sent
// under r.deliverMu, so that it joins the live messages with no gap and no
// message twice; it comes from the room's recent messages, or, when the
// client wants older ones, partly from a read of the store made without
// the lock: then, under the lock again, the recent messages must still
// reach back to the end of the read (they do unless more messages than
// they hold were sent meanwhile), or the read is made again.
func (c *Chat) listenRoom(so *socketio.Socket, r *room, since int64) error {
	var read *storeRead
	for reads := 0; ; reads++ {
		r.deliverMu.Lock()
		// Already listening: a client that says what it last saw still
		// gets what came after (it drops what it already has, by id).
		listening := slices.Contains(so.Rooms(), r.key)
		if listening && since <= 0 {
			r.deliverMu.Unlock()
			return nil
		}
		from := c.historyFrom(r.recent.last, since)
		msgs, ok := r.recent.span(from, read)
		if !ok && reads == maxHistoryReads {
			// The room outruns the store: send what is in memory, with
			// no gap to the live messages; the client pages back for the
			// rest, as after a long absence (see historyFrom).
			c.log.Warn("history read overtaken; sending the recent messages only", "room", r.name, "reads", reads)
			msgs, ok = r.recent.span(r.recent.floor()+1, nil)
		}
		if ok {
			sendHistory(so, msgs)
			if !listening {
				so.Join(r.key)
			}
			r.deliverMu.Unlock()
			return nil
		}
		to := r.recent.last
		r.deliverMu.Unlock()

		var err error
		if read, err = c.readHistory(r, from, to); err != nil {
			return err
		}
	}
}

// historyFrom returns the id of the first message to send to someone who
// joins a room whose last message is last, and who last saw since (0:
// nothing).
func (c *Chat) historyFrom(last, since int64) int64 {
	switch {
	case since > 0 && last-since > maxCatchUp:
		// Too much was missed to send it all: send the latest, so that
		// there is no hole between them and the live messages that follow;
		// the client pages back for the rest with history requests.
		return last - maxCatchUp + 1
	case since > 0:
		return since + 1
	}
	return max(last-int64(c.cfg.HistoryLimit)+1, 1)
}

// readHistory reads a room's messages with ids from..to from the store.
// No lock may be held.
func (c *Chat) readHistory(r *room, from, to int64) (*storeRead, error) {
	ctx, cancel := storeContext()
	defer cancel()
	msgs, err := c.store.Since(ctx, r.name, from-1, int(to-from+1))
	if err != nil {
		c.log.Error("reading history", "room", r.name, "err", err)
		return nil, ErrUnavailable
	}
	return &storeRead{from: from, to: to, msgs: msgs}, nil
}

// sendHistory sends msgs to so as chat-message events marked as history.
func sendHistory(so *socketio.Socket, msgs []store.Message) {
	for _, m := range msgs {
		w := wireMessage(m)
		w.History = true
		if err := so.Emit(EventChatMessage, w); err != nil {
			return // the socket is gone
		}
	}
}

// enter makes p a member of a room: its socket listens to the room (see
// listen), p appears in the room's presence, and the others are told. If
// list, it returns the first page of the room's members, sorted (the
// others are read with list-users); otherwise nothing, so that a client
// that did not ask for them (the tutorial's new-user has no callback)
// costs nothing that grows with the room.
func (c *Chat) enter(so *socketio.Socket, p *person, name string, since int64, list bool) (usersPage, error) {
	_, users, err := c.enterRoom(so, p, name, since, list)
	return users, err
}

// enterRoom is enter, and returns the room too.
func (c *Chat) enterRoom(so *socketio.Socket, p *person, name string, since int64, list bool) (*room, usersPage, error) {
	var (
		r   *room
		err error
	)
	for {
		if r, err = c.loadRoom(name, c.creatorOf(so, p)); err != nil {
			return nil, usersPage{}, err
		}
		if err := c.listenRoom(so, r, since); err != nil {
			return nil, usersPage{}, err
		}
		c.mu.Lock()
		if !r.unloaded {
			break // with Chat.mu held
		}
		// The room fell idle and was let go while so listened to it
		// (which it does still, by the room's key): the room's state
		// is loaded again, and nothing was sent to the room meanwhile.
		c.mu.Unlock()
		since = 0
	}
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
			return r, members, nil
		}
		c.node.await(op)
		return r, c.clusterUsersPage(r.name, "", DefaultUsersPage), nil
	}
	if list {
		members = r.usersPageLocked("", DefaultUsersPage)
	}
	c.mu.Unlock()
	if !already {
		c.announceJoined(so, p, r)
	}
	return r, members, nil
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
	r, users, err := c.enterRoom(so, p, req.Room, req.Since, e.HasAck())
	if err != nil {
		reply(nil, err)
		return
	}
	reply(usersReply{OK: true, Room: r.name, usersPage: users}, nil)
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
