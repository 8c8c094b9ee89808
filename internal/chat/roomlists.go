package chat

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// The bounds of the lists the chat answers with: list-rooms, list-users,
// and the members in join-room's and new-user's answers. A list grows with
// the server's state (the rooms made, the people in a room), and an answer
// larger than the connection's send queue (2 MB by default) would close
// the connection that asked; so a list is answered in pages, bounded in
// number and in bytes, each with the cursor of the next.
const (
	// DefaultRoomsPage and MaxRoomsPage bound a page of list-rooms.
	DefaultRoomsPage = 100
	MaxRoomsPage     = 200
	// DefaultUsersPage and MaxUsersPage bound a page of list-users, and
	// DefaultUsersPage the members in join-room's and new-user's answers.
	DefaultUsersPage = 200
	MaxUsersPage     = 1000
	// MaxListBytes bounds the JSON of a page's list: a small part of the
	// send queue, which holds the rest of what the client is sent.
	MaxListBytes = 64 << 10
)

// jsonStringLen returns the length of s encoded as a JSON string by
// encoding/json, quotes included (invalid UTF-8 counted as the 6 bytes
// of its replacement, \ufffd, at most).
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\n' || b == '\r' || b == '\t' || b == '\b' || b == '\f':
				n += 2
			case b < 0x20 || b == '<' || b == '>' || b == '&':
				n += 6 // \u00XX
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// pageRequest is the optional argument of list-rooms, and the one of
// list-users besides its room: the most items wanted, and the cursor
// (the next of the page before; "" for the first page).
type pageRequest struct {
	Room  string `json:"room"`
	Limit int    `json:"limit"`
	After string `json:"after"`
}

// parsePage reads argument i as a pageRequest, if there is one, with its
// limit put within [1, most] (def when unset). A cursor no item can have
// is ErrBadRequest.
func parsePage(e *socketio.Event, i, def, most int) (pageRequest, error) {
	var req pageRequest
	if e.Len() > i && e.Bind(i, &req) != nil {
		return req, ErrBadRequest
	}
	switch {
	case req.Limit <= 0:
		req.Limit = def
	case req.Limit > most:
		req.Limit = most
	}
	if req.After != "" && !utf8.ValidString(req.After) {
		return req, ErrBadRequest
	}
	return req, nil
}

// page returns, in order, up to limit (> 0) of the names that sort after
// after, whose JSON list stays within MaxListBytes (but for a first name
// longer than that alone), and whether more follow: then the last name
// returned is the cursor of the next page. It costs O(log n + limit). A
// room's names are unique (one per person), so that a page never ends
// between equals. The snapshot is taken under Chat.mu (pageSnapshot); the
// page, which measures each name's JSON, is made after, outside it.
func (s nameSnapshot) page(after string, limit int) (names []string, more bool) {
	names = []string{}
	if len(s) == 0 {
		return names, false
	}
	bytes := 2 // []
	i := 0
	if after != "" {
		i, _ = slices.BinarySearchFunc(s, after, func(c []string, name string) int {
			return strings.Compare(c[len(c)-1], name)
		})
	}
	for ; i < len(s); i++ {
		c := s[i]
		j := 0
		if after != "" {
			j, _ = slices.BinarySearch(c, after)
			for j < len(c) && c[j] <= after {
				j++
			}
		}
		for ; j < len(c); j++ {
			n := jsonStringLen(c[j]) + 1 // and a comma
			if len(names) == limit || (bytes+n > MaxListBytes && len(names) > 0) {
				return names, true
			}
			names = append(names, c[j])
			bytes += n
		}
	}
	return names, false
}

// usersPage is a page of a room's members, in join-room's, new-user's and
// list-users' answers: Users, and Next, the cursor of the next page when
// there are more (ask list-users with {room, after: next}).
type usersPage struct {
	Users []string `json:"users"`
	Next  string   `json:"next,omitempty"`
}

// usersPage returns the page of the members after after, of up to
// limit. No lock is needed.
func (s nameSnapshot) usersPage(after string, limit int) usersPage {
	names, more := s.page(after, limit)
	p := usersPage{Users: names}
	if more {
		p.Next = names[len(names)-1]
	}
	return p
}

// usersReply answers list-users, and join-room and leave-room.
type usersReply struct {
	OK   bool   `json:"ok"`
	Room string `json:"room"`
	usersPage
}

func (c *Chat) onListUsers(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	req := pageRequest{Limit: DefaultUsersPage}
	if name, ok := e.String(0); ok {
		req.Room = name
	} else if e.Len() == 0 {
		reply(nil, ErrBadRequest)
		return
	} else {
		var err error
		if req, err = parsePage(e, 0, DefaultUsersPage, MaxUsersPage); err != nil {
			reply(nil, err)
			return
		}
	}
	name, err := roomName(req.Room)
	if err != nil {
		reply(nil, err)
		return
	}
	if !e.HasAck() {
		return // nobody to tell
	}
	c.mu.Lock()
	if r := c.rooms[store.RoomKey(name)]; r != nil {
		req.Room = r.name // as the room was first spelt
	} else {
		req.Room = name
	}
	c.mu.Unlock()
	var page usersPage
	if c.node != nil {
		page = c.clusterUsersPage(req.Room, req.After, req.Limit)
	} else {
		page = c.localUsersPage(req.Room, req.After, req.Limit)
	}
	reply(usersReply{OK: true, Room: req.Room, usersPage: page}, nil)
}

// roomInfo describes a room in list-rooms.
type roomInfo struct {
	Name   string `json:"name"`
	Users  int    `json:"users"`
	LastID int64  `json:"lastId"`
}

// roomInfoMaxLen is the longest JSON of a roomInfo but its name (which
// jsonStringLen measures), with the comma that follows it.
const roomInfoMaxLen = len(`{"name":,"users":-9223372036854775808,"lastId":-9223372036854775808},`)

// roomsReply answers list-rooms: a page of the rooms listed, by name (in
// byte order), and Next, the cursor of the next page when there are
// more (ask again with {after: next}).
type roomsReply struct {
	OK    bool       `json:"ok"`
	Rooms []roomInfo `json:"rooms"`
	Next  string     `json:"next,omitempty"`
}

func (c *Chat) onListRooms(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	req, err := parsePage(e, 0, DefaultRoomsPage, MaxRoomsPage)
	if err != nil {
		reply(nil, err)
		return
	}
	if !e.HasAck() {
		return // nobody to tell
	}
	if req.After != "" && store.ValidateRoomName(req.After) != nil {
		reply(nil, ErrBadRequest)
		return
	}
	ctx, cancel := storeContext()
	defer cancel()
	// One more than the page, to know whether another follows.
	stored, err := c.store.ListRooms(ctx, store.RoomQuery{After: req.After, ActiveSince: c.listedSince(), Limit: req.Limit + 1})
	if err != nil {
		c.log.Error("listing rooms", "err", err)
		reply(nil, ErrUnavailable)
		return
	}
	out := roomsReply{OK: true, Rooms: make([]roomInfo, 0, min(len(stored), req.Limit))}
	bytes := len(`[]`)
	c.mu.Lock()
	for _, sr := range stored {
		n := jsonStringLen(sr.Name) + roomInfoMaxLen
		if len(out.Rooms) == req.Limit || (bytes+n > MaxListBytes && len(out.Rooms) > 0) {
			out.Next = out.Rooms[len(out.Rooms)-1].Name
			break
		}
		bytes += n
		info := roomInfo{Name: sr.Name, LastID: sr.LastID}
		if r := c.rooms[store.RoomKey(sr.Name)]; r != nil {
			info.Users = len(r.members)
		}
		out.Rooms = append(out.Rooms, info)
	}
	c.mu.Unlock()
	if c.node != nil {
		c.clusterCounts(out.Rooms)
	}
	reply(out, nil)
}

// localUsersPage returns the page of a room's members on this node after
// after, of up to limit. No lock may be held.
func (c *Chat) localUsersPage(room, after string, limit int) usersPage {
	var members nameSnapshot
	c.mu.Lock()
	if r := c.rooms[store.RoomKey(room)]; r != nil {
		members = r.names.pageSnapshot(after, limit)
	}
	c.mu.Unlock()
	return members.usersPage(after, limit)
}

// clusterUsersPage returns the page of a room's people on every node
// after after, of up to limit; this node's when Redis does not answer.
// No lock may be held.
func (c *Chat) clusterUsersPage(room, after string, limit int) usersPage {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	names, err := c.node.pres.Names(ctx, room, after, limit+1)
	if err != nil {
		c.log.Warn("listing a room's people on every node; listing this node's", "room", room, "err", err)
		return c.localUsersPage(room, after, limit)
	}
	return pageOf(names, limit)
}

// pageOf makes a page of up to limit of names (sorted, and one more than
// limit if more follow), within MaxListBytes but for a first name longer
// than that alone.
func pageOf(names []string, limit int) usersPage {
	p := usersPage{Users: make([]string, 0, min(len(names), limit))}
	bytes := 2 // []
	for i, n := range names {
		size := jsonStringLen(n) + 1 // and a comma
		if i == limit || (bytes+size > MaxListBytes && len(p.Users) > 0) {
			p.Next = p.Users[len(p.Users)-1]
			return p
		}
		p.Users = append(p.Users, n)
		bytes += size
	}
	return p
}

// clusterCounts sets the number of people of each of rooms to the
// cluster's, when Redis answers. No lock may be held.
func (c *Chat) clusterCounts(rooms []roomInfo) {
	if len(rooms) == 0 {
		return
	}
	names := make([]string, len(rooms))
	for i, r := range rooms {
		names[i] = r.Name
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	counts, err := c.node.pres.Counts(ctx, names)
	if err != nil {
		c.log.Warn("counting the rooms' people on every node; counting this node's", "err", err)
		return
	}
	for i := range rooms {
		rooms[i].Users = counts[i]
	}
}
