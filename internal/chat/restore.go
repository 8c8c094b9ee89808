package chat

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/identity"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// This file is a socket's chat session in a cluster, where a node that
// did not make the socket may restore it (connection state recovery across
// nodes): the session's copy in Redis holds its data as JSON, and a
// restoring node that has no memory of it rebuilds the session from that:
// the person it was, from the store; the rooms it listened to, from the
// socket's rooms; and whether it had heard the default room.

// sessionJSON is what the cluster keeps of a session.
type sessionJSON struct {
	// ID is the identity of the person the socket joined as, if it did.
	ID string `json:"id,omitempty"`
	// Heard: the socket got the default room's history on connecting.
	Heard bool `json:"heard,omitempty"`
	// App is, in app mode, who the socket's token proved the user is.
	App *appJSON `json:"app,omitempty"`
}

// appJSON is identity.Claims as sessionJSON keeps them.
type appJSON struct {
	Subject string `json:"sub"`
	Name    string `json:"name,omitempty"`
	Expires int64  `json:"exp,omitempty"` // milliseconds since the epoch
}

// MarshalJSON encodes what another node needs to restore the session.
func (s *session) MarshalJSON() ([]byte, error) {
	s.mu.Lock()
	j := sessionJSON{Heard: s.heard}
	if s.p != nil {
		j.ID = s.p.id
	}
	s.mu.Unlock()
	if a := s.app; a != nil {
		j.App = &appJSON{Subject: a.Subject, Name: a.Name}
		if !a.Expires.IsZero() {
			j.App.Expires = a.Expires.UnixMilli()
		}
	}
	return json.Marshal(j)
}

// errNoIdentity: the identity a session names is not in the store any
// more.
var errNoIdentity = errors.New("chat: the session's identity is gone")

// restoreSession rebuilds the session of a socket restored from another
// node's copy: raw is its data. It returns nil when raw is no session of
// the chat's; the socket then starts afresh.
func (c *Chat) restoreSession(so *socketio.Socket, raw json.RawMessage) *session {
	var j sessionJSON
	if len(raw) == 0 || json.Unmarshal(raw, &j) != nil {
		return nil
	}
	s := &session{limiter: c.newConnLimiter(), heard: j.Heard}
	if j.App != nil && j.App.Subject != "" {
		s.app = &identity.Claims{Subject: j.App.Subject, Name: j.App.Name}
		if j.App.Expires > 0 {
			s.app.Expires = time.UnixMilli(j.App.Expires)
		}
	}
	if j.ID != "" {
		p, err := c.personOf(so, j.ID)
		if err != nil {
			c.log.Warn("restoring the person of a socket recovered from another node", "id", j.ID, "sid", so.ID(), "err", err)
		} else {
			s.p = p
		}
	}
	so.SetData(s)
	return s
}

// personOf returns the person identity id was, as another node had it,
// listening to the rooms so is in: a person with no socket yet, which
// resume takes back.
func (c *Chat) personOf(so *socketio.Socket, id string) (*person, error) {
	ctx, cancel := storeContext()
	who, err := c.store.IdentityByID(ctx, id)
	cancel()
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoIdentity
	}
	if err != nil {
		return nil, err
	}
	p := &person{id: who.ID, name: who.Name, key: who.Key, secret: who.Secret, created: who.Created,
		kept: kept(who) || len(who.Secret) == 0, seenAt: who.LastSeen, rooms: make(map[string]*room)}
	for _, key := range so.Rooms() {
		name, ok := strings.CutPrefix(key, "room:")
		if !ok {
			continue
		}
		r, err := c.loadRoom(name, nil)
		if err != nil {
			return nil, err
		}
		p.rooms[r.id] = r
	}
	if len(p.rooms) == 0 {
		return nil, errors.New("chat: the session's socket is in no room")
	}
	return p, nil
}

// inDefault reports whether so listens to the default room.
func inDefault(so *socketio.Socket) bool { return slices.Contains(so.Rooms(), roomKey(DefaultRoom)) }
