package chat

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// maxClientIDLength bounds the id a client gives a message.
const maxClientIDLength = 64

// ChatMessage is the payload of chat-message: the tutorial's name and
// message, plus the author's identity id (for a page to tell its own
// messages by, never by name), the room, the message's id (increasing
// within its room), the server's time (milliseconds since the epoch), the
// client's own id of the message when it gave one, and whether it is
// history rather than live.
type ChatMessage struct {
	Name     string `json:"name"`
	Message  string `json:"message"`
	UserID   string `json:"userId,omitempty"`
	Room     string `json:"room"`
	ID       int64  `json:"id"`
	Time     int64  `json:"time"`
	ClientID string `json:"clientId,omitempty"`
	History  bool   `json:"history,omitempty"`
}

func wireMessage(m store.Message) ChatMessage {
	return ChatMessage{Name: m.Author, Message: m.Text, UserID: m.AuthorID, Room: m.Room, ID: m.ID, Time: m.Time.UnixMilli(), ClientID: clientIDOf(m)}
}

// historyMessage is the chat-message payload of m sent as history.
func historyMessage(m store.Message) ChatMessage {
	w := wireMessage(m)
	w.History = true
	return w
}

// storedClientID is the id a message's retries share in the store, which
// keeps one message per id and room: the author's identity id and the id
// the client gave, so that two people's ids never collide.
func storedClientID(authorID, clientID string) string {
	if clientID == "" {
		return ""
	}
	return authorID + "|" + clientID
}

// clientIDOf returns the id the client gave m. Messages stored before
// identities have their author's name where the id is now.
func clientIDOf(m store.Message) string {
	author := m.AuthorID
	if author == "" {
		author = m.Author
	}
	return strings.TrimPrefix(m.ClientID, author+"|")
}

// sendOptions is the optional second argument of send-chat-message.
type sendOptions struct {
	Room     string `json:"room"`
	ClientID string `json:"clientId"`
}

// sendReply acknowledges send-chat-message, once the message is stored.
type sendReply struct {
	OK   bool   `json:"ok"`
	ID   int64  `json:"id"`
	Time int64  `json:"time"`
	Room string `json:"room"`
}

func (c *Chat) onSendChatMessage(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	arrived := time.Now()
	p := s.person()
	if p == nil {
		reply(nil, ErrNotJoined)
		return
	}
	text, ok := e.String(0)
	if !ok {
		reply(nil, ErrMessageType)
		return
	}
	switch {
	case strings.TrimSpace(text) == "":
		reply(nil, ErrMessageEmpty)
		return
	case utf8.RuneCountInString(text) > c.cfg.MaxMessageLength:
		reply(nil, ErrMessageTooLong)
		return
	case !storable(text):
		reply(nil, ErrMessageInvalid)
		return
	}
	opts := sendOptions{Room: DefaultRoom}
	if e.Len() > 1 {
		if err := e.Bind(1, &opts); err != nil || len(opts.ClientID) > maxClientIDLength {
			reply(nil, ErrBadRequest)
			return
		}
		if opts.Room == "" {
			opts.Room = DefaultRoom
		}
	}
	c.mu.Lock()
	r := p.rooms[store.RoomKey(opts.Room)]
	c.mu.Unlock()
	if r == nil {
		reply(nil, ErrNotInRoom)
		return
	}
	// One person's sockets share one allowance, which outlives them: a
	// client cycling connections gets no fresh one.
	if ok, _ := c.messages.Allow(p.id); !ok {
		reply(nil, ErrRateLimited)
		return
	}
	m := store.Message{Room: r.name, Author: p.name, AuthorID: p.id, Text: text, ClientID: storedClientID(p.id, opts.ClientID)}
	c.committer.Submit(m, func(m store.Message, err error) {
		if err != nil {
			c.log.Error("storing message", "room", r.name, "err", err)
			reply(nil, ErrNotStored)
			return
		}
		c.timeDelivery(r, m, arrived)
		c.stored(r, m, so.ID())
		reply(sendReply{OK: true, ID: m.ID, Time: m.Time.UnixMilli(), Room: m.Room}, nil)
	})
}

// historyRequest is the argument of history.
type historyRequest struct {
	Room   string `json:"room"`
	Before int64  `json:"before"`
	Limit  int    `json:"limit"`
}

// historyReply answers history: messages oldest first; More when older
// ones that the limit would have included were left out, to keep the
// reply within historyReplyShare of the send queue.
type historyReply struct {
	OK       bool          `json:"ok"`
	Room     string        `json:"room"`
	Messages []ChatMessage `json:"messages"`
	More     bool          `json:"more,omitempty"`
}

// historyReplyShare is the share of the send queue's bound that a history
// reply may take, at most: an acknowledgement is one packet, which must
// fit in the queue with what else the connection is sent. With the 2 MB
// bound, that is 256 KB: 200 messages of a typical 200 bytes, or 40 of the
// longest CJK ones.
const historyReplyShare = 8

// chatMessageMaxLen is the longest JSON of a ChatMessage marked as
// history but its strings, with the comma after it.
const chatMessageMaxLen = len(`{"name":,"message":,"userId":,"room":,"id":-9223372036854775808,"time":-9223372036854775808,"clientId":,"history":true},`)

func (c *Chat) onHistory(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	p := s.person()
	if p == nil {
		reply(nil, ErrNotJoined)
		return
	}
	req := historyRequest{Room: DefaultRoom}
	if e.Len() > 0 && e.Bind(0, &req) != nil {
		reply(nil, ErrBadRequest)
		return
	}
	switch {
	case req.Limit <= 0:
		req.Limit = c.cfg.HistoryLimit
	case req.Limit > MaxHistoryLimit:
		req.Limit = MaxHistoryLimit
	}
	c.mu.Lock()
	_, in := p.rooms[store.RoomKey(req.Room)]
	c.mu.Unlock()
	if !in {
		reply(nil, ErrNotInRoom)
		return
	}
	ctx, cancel := storeContext()
	defer cancel()
	msgs, err := c.store.History(ctx, req.Room, req.Before, req.Limit)
	if err != nil {
		c.log.Error("reading history", "room", req.Room, "err", err)
		reply(nil, ErrUnavailable)
		return
	}
	out, more := historyPage(msgs, so.MaxQueueBytes()/historyReplyShare)
	reply(historyReply{OK: true, Room: req.Room, Messages: out, More: more}, nil)
}

// historyPage returns msgs (oldest first) as ChatMessages marked as
// history: the newest of them whose JSON takes at most budget bytes (one
// at least), and whether it left older ones out. It measures their JSON
// without encoding it (jsonStringLen), by excess.
func historyPage(msgs []store.Message, budget int) (out []ChatMessage, more bool) {
	size, first := 2, len(msgs) // [], and the oldest one kept
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		n := chatMessageMaxLen + jsonStringLen(m.Author) + jsonStringLen(m.Text) + jsonStringLen(m.AuthorID) +
			jsonStringLen(m.Room) + jsonStringLen(clientIDOf(m))
		if size+n > budget && first < len(msgs) {
			break
		}
		size += n
		first = i
	}
	out = make([]ChatMessage, 0, len(msgs)-first)
	for _, m := range msgs[first:] {
		out = append(out, historyMessage(m))
	}
	return out, first > 0
}

// typingRequest is the argument of typing, from a client.
type typingRequest struct {
	Room   string `json:"room"`
	Typing bool   `json:"typing"`
}

// Typing is the payload of typing, to the others in the room. Clients show
// it for a few seconds unless it is repeated: senders repeat it every few
// seconds while typing, and send typing false when they stop or send.
type Typing struct {
	Room   string `json:"room"`
	Name   string `json:"name"`
	UserID string `json:"userId,omitempty"`
	Typing bool   `json:"typing"`
}

func (c *Chat) onTyping(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc) {
	p := s.person()
	if p == nil {
		reply(nil, ErrNotJoined)
		return
	}
	req := typingRequest{Room: DefaultRoom, Typing: true}
	if e.Len() > 0 && e.Bind(0, &req) != nil {
		reply(nil, ErrBadRequest)
		return
	}
	c.mu.Lock()
	r := p.rooms[store.RoomKey(req.Room)]
	c.mu.Unlock()
	if r == nil {
		reply(nil, ErrNotInRoom)
		return
	}
	_ = so.To(r.key).Emit(EventTyping, Typing{Room: r.name, Name: p.name, UserID: p.id, Typing: req.Typing})
	reply(struct {
		OK bool `json:"ok"`
	}{true}, nil)
}
