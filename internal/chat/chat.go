package chat

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/socketio"
)

// The tutorial's events, and parley's error event.
const (
	EventNewUser          = "new-user"
	EventSendChatMessage  = "send-chat-message"
	EventChatMessage      = "chat-message"
	EventUserConnected    = "user-connected"
	EventUserDisconnected = "user-disconnected"
	EventError            = "error"
)

// Defaults for zero Config fields.
const (
	DefaultMaxNameLength    = 32
	DefaultMaxMessageLength = 2000
	DefaultRate             = 20 // events per second, per connection
	DefaultBurst            = 60
)

// Config configures a Chat. Zero fields take the documented defaults.
type Config struct {
	// MaxNameLength is the longest name, in characters (default 32).
	MaxNameLength int
	// MaxMessageLength is the longest message, in characters (default 2000).
	MaxMessageLength int
	// Rate and Burst limit the events one connection may send (default 20
	// per second, bursts of 60).
	Rate  rate.Limit
	Burst int
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Logger receives logs (default slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxNameLength <= 0 {
		c.MaxNameLength = DefaultMaxNameLength
	}
	if c.MaxMessageLength <= 0 {
		c.MaxMessageLength = DefaultMaxMessageLength
	}
	if c.Rate <= 0 {
		c.Rate = DefaultRate
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Errors sent to clients, as ack errors or error events.
var (
	ErrNameType       = errors.New("name must be a string")
	ErrNameEmpty      = errors.New("name must not be empty")
	ErrNameTooLong    = errors.New("name is too long")
	ErrNameTaken      = errors.New("name is already taken")
	ErrAlreadyJoined  = errors.New("already joined")
	ErrNotJoined      = errors.New("join with new-user first")
	ErrMessageType    = errors.New("message must be a string")
	ErrMessageEmpty   = errors.New("message must not be empty")
	ErrMessageTooLong = errors.New("message is too long")
	ErrRateLimited    = errors.New("too many events; slow down")
)

// ChatMessage is the payload of chat-message: the tutorial's name and
// message, plus a server-assigned id and time (milliseconds since the epoch).
type ChatMessage struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	ID      uint64 `json:"id"`
	Time    int64  `json:"time"`
}

// joinReply acknowledges new-user.
type joinReply struct {
	OK    bool     `json:"ok"`
	Name  string   `json:"name"`
	Users []string `json:"users"`
}

// sendReply acknowledges send-chat-message.
type sendReply struct {
	OK   bool   `json:"ok"`
	ID   uint64 `json:"id"`
	Time int64  `json:"time"`
}

// errorReply is an ack error and the payload of the error event.
type errorReply struct {
	OK      bool   `json:"ok"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Chat holds the people online and handles their events. It is safe for
// concurrent use.
type Chat struct {
	cfg    Config
	log    *slog.Logger
	nextID atomic.Uint64

	mu    sync.Mutex
	names map[string]*socketio.Socket // folded name → socket
}

// user is the per-socket state.
type user struct {
	limiter *rate.Limiter
	mu      sync.Mutex
	name    string
}

// New returns a Chat serving the sockets of nsp.
func New(cfg Config, nsp *socketio.Namespace) *Chat {
	cfg = cfg.withDefaults()
	c := &Chat{cfg: cfg, log: cfg.Logger, names: make(map[string]*socketio.Socket)}
	nsp.OnConnection(c.onConnection)
	return c
}

// Online returns the names of the people online.
func (c *Chat) Online() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.names))
	for _, so := range c.names {
		names = append(names, userOf(so).Name())
	}
	return names
}

func userOf(so *socketio.Socket) *user {
	u, _ := so.Data().(*user)
	return u
}

// Name returns the user's name, "" before new-user.
func (u *user) Name() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.name
}

func (c *Chat) onConnection(so *socketio.Socket) {
	so.SetData(&user{limiter: rate.NewLimiter(c.cfg.Rate, c.cfg.Burst)})
	so.On(EventNewUser, c.limited(c.onNewUser))
	so.On(EventSendChatMessage, c.limited(c.onSendChatMessage))
	so.OnDisconnect(c.onDisconnect)
}

// handler handles one event and returns the ack payload or an error.
type handler func(so *socketio.Socket, e *socketio.Event) (any, error)

// limited wraps h with the connection's rate limit and answers its result:
// as the ack when the client asked for one, as an error event otherwise.
func (c *Chat) limited(h handler) socketio.EventHandler {
	return func(so *socketio.Socket, e *socketio.Event) {
		var (
			reply any
			err   error
		)
		if !userOf(so).limiter.Allow() {
			err = ErrRateLimited
		} else {
			reply, err = h(so, e)
		}
		if err != nil {
			c.log.Debug("refused event", "event", e.Name, "err", err, "sid", so.ID())
			r := errorReply{Error: err.Error(), Message: err.Error()}
			if e.HasAck() {
				_ = e.Ack(r)
			} else {
				_ = so.Emit(EventError, r)
			}
			return
		}
		if e.HasAck() {
			_ = e.Ack(reply)
		}
	}
}

func (c *Chat) onNewUser(so *socketio.Socket, e *socketio.Event) (any, error) {
	name, ok := e.String(0)
	if !ok {
		return nil, ErrNameType
	}
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nil, ErrNameEmpty
	case n > c.cfg.MaxNameLength:
		return nil, ErrNameTooLong
	}
	u := userOf(so)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.name != "" {
		return nil, ErrAlreadyJoined
	}
	key := foldName(name)
	c.mu.Lock()
	if _, taken := c.names[key]; taken {
		c.mu.Unlock()
		return nil, ErrNameTaken
	}
	c.names[key] = so
	users := make([]string, 0, len(c.names))
	for k, other := range c.names {
		if k == key {
			users = append(users, name)
		} else {
			users = append(users, userOf(other).Name())
		}
	}
	c.mu.Unlock()
	u.name = name
	c.log.Info("user joined", "name", name, "sid", so.ID())
	_ = so.Broadcast().Emit(EventUserConnected, name)
	return joinReply{OK: true, Name: name, Users: users}, nil
}

func (c *Chat) onSendChatMessage(so *socketio.Socket, e *socketio.Event) (any, error) {
	name := userOf(so).Name()
	if name == "" {
		return nil, ErrNotJoined
	}
	text, ok := e.String(0)
	if !ok {
		return nil, ErrMessageType
	}
	switch {
	case strings.TrimSpace(text) == "":
		return nil, ErrMessageEmpty
	case utf8.RuneCountInString(text) > c.cfg.MaxMessageLength:
		return nil, ErrMessageTooLong
	}
	m := ChatMessage{Name: name, Message: text, ID: c.nextID.Add(1), Time: c.cfg.Now().UnixMilli()}
	if err := so.Broadcast().Emit(EventChatMessage, m); err != nil {
		return nil, err
	}
	return sendReply{OK: true, ID: m.ID, Time: m.Time}, nil
}

func (c *Chat) onDisconnect(so *socketio.Socket, reason socketio.DisconnectReason) {
	u := userOf(so)
	u.mu.Lock()
	name := u.name
	u.name = ""
	u.mu.Unlock()
	if name == "" {
		return
	}
	c.mu.Lock()
	if c.names[foldName(name)] == so {
		delete(c.names, foldName(name))
	}
	c.mu.Unlock()
	c.log.Info("user left", "name", name, "sid", so.ID(), "reason", string(reason))
	_ = so.Namespace().Emit(EventUserDisconnected, name)
}

// foldName is the form in which names must be unique: "Alice" and "alice"
// are the same person.
func foldName(name string) string { return strings.ToLower(name) }
