package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/identity"
	"github.com/parley-chat/parley/internal/names"
	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
)

// The tutorial's events, and parley's.
const (
	EventNewUser          = "new-user"
	EventSendChatMessage  = "send-chat-message"
	EventChatMessage      = "chat-message"
	EventUserConnected    = "user-connected"
	EventUserDisconnected = "user-disconnected"
	EventError            = "error"
	EventJoinRoom         = "join-room"
	EventLeaveRoom        = "leave-room"
	EventListRooms        = "list-rooms"
	EventListUsers        = "list-users"
	EventHistory          = "history"
	EventTyping           = "typing"
)

// Defaults for zero Config fields.
const (
	DefaultRoom             = "general"
	DefaultMaxNameLength    = 32
	DefaultMaxMessageLength = 2000
	DefaultRate             = 20 // events per second, per connection, and messages per person
	DefaultBurst            = 60
	DefaultHistoryLimit     = 50
	DefaultPresenceGrace    = 10 * time.Second
	DefaultNameReserve      = 30 * 24 * time.Hour
	DefaultRestartGrace     = time.Minute
	DefaultNewUserRate      = 1 // new-user per second, per client address
	DefaultNewUserBurst     = 20
	DefaultFailedClaimRate  = rate.Limit(1.0 / 6) // claims of others' names, per client address
	DefaultFailedClaimBurst = 10
	// MaxHistoryLimit bounds a history request.
	MaxHistoryLimit = 200
	// maxCatchUp bounds the messages sent to catch a client up.
	maxCatchUp = 500
	// storeTimeout bounds one read of the store.
	storeTimeout = 5 * time.Second
)

// Config configures a Chat. Zero fields take the documented defaults.
type Config struct {
	// Store keeps the history; it is required.
	Store store.Store
	// Committer stores new messages with group commit; by default the Chat
	// makes one over Store (and closes it in Close).
	Committer *store.Committer
	// MaxNameLength is the longest name, in characters (default 32).
	MaxNameLength int
	// MaxMessageLength is the longest message, in characters (default 2000).
	MaxMessageLength int
	// Rate and Burst limit the events one connection may send, and the
	// messages one person may send, whatever their sockets (default 20
	// per second, bursts of 60).
	Rate  rate.Limit
	Burst int
	// NewUserRate and NewUserBurst limit the new-user events of one
	// client address (default 1 per second, bursts of 20), and
	// FailedClaimRate and FailedClaimBurst its claims of names that
	// belong to others (default 10 a minute, bursts of 10): beyond them,
	// new-user is refused with rate_limited. A client address is an IPv4
	// address or an IPv6 /64; ExemptAddress ones are not limited.
	NewUserRate      rate.Limit
	NewUserBurst     int
	FailedClaimRate  rate.Limit
	FailedClaimBurst int
	// ExemptAddress reports whether a client's address is exempt from
	// the per-address limits (default: loopback addresses, those of a
	// proxy on the same machine).
	ExemptAddress func(netip.Addr) bool

	// Verifier, when set, puts the chat in app mode: a socket must bring
	// a token of the host application in its handshake (auth: {token}),
	// which gives its identity (sub) and its name; there are no guest
	// names. Otherwise guests choose their names, and Tokens proves them.
	Verifier *identity.Verifier
	// Tokens mints and checks guest tokens (default: under the key kept
	// in Store, see GuestTokens).
	Tokens *identity.Tokens
	// NameReserve is how long a guest's name stays theirs after they were
	// last seen (default 30 days).
	NameReserve time.Duration
	// Reserved are the names nobody may take (default DefaultReserved).
	Reserved *names.Reserved
	// RestartGrace: after a restart, people seen in the RestartGrace
	// before it who come back within the RestartGrace after it are not
	// announced, since they were most likely here all along (default one
	// minute; negative: none).
	RestartGrace time.Duration
	// HistoryLimit is how many past messages a room sends to whoever
	// joins it (default 50).
	HistoryLimit int
	// RecentMessages is how many of each room's newest messages the chat
	// keeps in memory, to send to whoever joins or catches up without
	// reading the store (default DefaultRecentMessages; never fewer than
	// HistoryLimit).
	RecentMessages int
	// RecentBytes bounds the memory of a room's recent messages, which
	// keeps fewer of them when they are long, but never fewer than
	// HistoryLimit (default DefaultRecentBytes).
	RecentBytes int
	// PresenceGrace is how long someone whose connection dropped (rather
	// than closed) stays online, so that a reconnection within it goes
	// unannounced (default 10 s; negative: none).
	PresenceGrace time.Duration
	// RoomsPerPerson caps the rooms one person may create within a
	// RoomIdle (default DefaultRoomsPerPerson; negative: no cap). A
	// person is counted by name (by identity, once there are identities).
	RoomsPerPerson int
	// RoomsPerAddress caps the rooms created from one client address (see
	// ClientAddress) within a RoomIdle (default DefaultRoomsPerAddress;
	// negative: no cap).
	RoomsPerAddress int
	// MaxRooms caps the rooms listed, those in use within the last
	// RoomIdle: beyond it, no room is created until some fall idle
	// (default DefaultMaxRooms; negative: no cap). Joining a room that
	// exists is never capped.
	MaxRooms int
	// RoomIdle is how long a room nobody is in stays listed after it was
	// last in use, and the window of the caps on creating rooms (default
	// DefaultRoomIdle, 24 hours). An idle room keeps its history, and
	// comes back to the list when someone joins it.
	RoomIdle time.Duration
	// ClientAddress returns the client address that a socket's room
	// creations count against, "" for none (default RemoteAddress: the
	// peer's IP address). Behind a reverse proxy, the command sets one
	// that believes the proxy's X-Forwarded-For.
	ClientAddress func(*socketio.Handshake) string
	// Cluster, when set, makes the Chat one node of a chat that several
	// processes serve (docs/cluster.md): its Store must be the one all
	// share, and the namespace's adapter a cluster adapter.
	Cluster *ClusterConfig
	// Observer, when set, hears of refusals and of the time messages take
	// to reach their rooms' members, for metrics.
	Observer Observer
	// DeliverySample is how often the Observer hears how long a message
	// took to reach its room's members on this node: the messages whose id
	// it divides, one in DeliverySample of each room (default 1: every
	// message).
	DeliverySample int
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
	if c.HistoryLimit <= 0 {
		c.HistoryLimit = DefaultHistoryLimit
	}
	if c.RecentMessages <= 0 {
		c.RecentMessages = DefaultRecentMessages
	}
	c.RecentMessages = max(c.RecentMessages, c.HistoryLimit)
	if c.RecentBytes <= 0 {
		c.RecentBytes = DefaultRecentBytes
	}
	if c.PresenceGrace == 0 {
		c.PresenceGrace = DefaultPresenceGrace
	}
	for _, f := range []struct {
		v   *int
		def int
	}{
		{&c.RoomsPerPerson, DefaultRoomsPerPerson},
		{&c.RoomsPerAddress, DefaultRoomsPerAddress},
		{&c.MaxRooms, DefaultMaxRooms},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if c.RoomIdle <= 0 {
		c.RoomIdle = DefaultRoomIdle
	}
	if c.ClientAddress == nil {
		c.ClientAddress = RemoteAddress
	}
	if c.NewUserRate <= 0 {
		c.NewUserRate = DefaultNewUserRate
	}
	if c.NewUserBurst <= 0 {
		c.NewUserBurst = DefaultNewUserBurst
	}
	if c.FailedClaimRate <= 0 {
		c.FailedClaimRate = DefaultFailedClaimRate
	}
	if c.FailedClaimBurst <= 0 {
		c.FailedClaimBurst = DefaultFailedClaimBurst
	}
	if c.ExemptAddress == nil {
		c.ExemptAddress = netip.Addr.IsLoopback
	}
	if c.NameReserve <= 0 {
		c.NameReserve = DefaultNameReserve
	}
	if c.Reserved == nil {
		c.Reserved = names.NewReserved(DefaultReserved...)
	}
	if c.RestartGrace == 0 {
		c.RestartGrace = DefaultRestartGrace
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.DeliverySample <= 0 {
		c.DeliverySample = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// DefaultReserved are the names nobody may take by default: the labels
// the page shows in the place of a name, and the server's own.
var DefaultReserved = []string{"You", "System", "Server", "Parley", "Admin", "Administrator", "Moderator", "Everyone"}

// Chat holds the people online and the rooms, and handles their events.
// It is safe for concurrent use.
type Chat struct {
	cfg       Config
	log       *slog.Logger
	obs       Observer
	nsp       *socketio.Namespace
	store     store.Store
	committer *store.Committer
	ownCommit bool
	tokens    *identity.Tokens
	verifier  *identity.Verifier
	started   time.Time
	epoch     string                  // the store's (see Welcome)
	hello     *socketio.PreparedEvent // the welcome of every connection, encoded once

	// The limits that outlive a connection: new-user and failed claims
	// per client address, messages per identity.
	newUsers     *ratelimit.Keyed[netip.Prefix]
	failedClaims *ratelimit.Keyed[netip.Prefix]
	messages     *ratelimit.Keyed[string]

	stop      chan struct{} // closed by Close, to stop the sweep
	swept     chan struct{} // closed when the sweep has stopped
	closeOnce sync.Once

	caps      *roomCaps
	roomSweep sweeper

	// node is the Chat's part in a cluster, nil on its own; checked is
	// closed when its checkRooms has stopped.
	node    *node
	checked chan struct{}

	mu     sync.Mutex
	people map[string]*person // online, by identity id
	// arriving holds, by identity id, when a guest's claim of its name
	// succeeded, until it is online (attach): meanwhile it holds the name
	// as one online does, so that a racing claim cannot take it over.
	arriving map[string]time.Time
	rooms    map[string]*room // rooms with state loaded
}

// New returns a Chat serving the sockets of nsp.
func New(cfg Config, nsp *socketio.Namespace) (*Chat, error) {
	cfg = cfg.withDefaults()
	if cfg.Store == nil {
		return nil, errors.New("chat: Config.Store is required")
	}
	if cfg.Cluster != nil && cfg.Cluster.Presence == nil {
		return nil, errors.New("chat: ClusterConfig.Presence is required")
	}
	c := &Chat{
		cfg:          cfg,
		log:          cfg.Logger,
		obs:          cfg.Observer,
		nsp:          nsp,
		store:        cfg.Store,
		committer:    cfg.Committer,
		tokens:       cfg.Tokens,
		verifier:     cfg.Verifier,
		started:      time.Now(),
		newUsers:     ratelimit.New[netip.Prefix](cfg.NewUserRate, cfg.NewUserBurst),
		failedClaims: ratelimit.New[netip.Prefix](cfg.FailedClaimRate, cfg.FailedClaimBurst),
		messages:     ratelimit.New[string](cfg.Rate, cfg.Burst),
		stop:         make(chan struct{}),
		swept:        make(chan struct{}),
		caps:         newRoomCaps(cfg.RoomsPerPerson, cfg.RoomsPerAddress, cfg.RoomIdle),
		people:       make(map[string]*person),
		arriving:     make(map[string]time.Time),
		rooms:        make(map[string]*room),
	}
	if c.tokens == nil && c.verifier == nil {
		ctx, cancel := storeContext()
		defer cancel()
		t, err := GuestTokens(ctx, cfg.Store)
		if err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		c.tokens = t
	}
	hello, err := c.newWelcome()
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if c.hello, err = nsp.PrepareEvent(EventWelcome, hello); err != nil {
		return nil, fmt.Errorf("chat: encoding the welcome: %w", err)
	}
	if c.committer == nil {
		c.committer = store.NewCommitter(cfg.Store, store.CommitterConfig{Logger: cfg.Logger})
		c.ownCommit = true
	}
	if c.verifier != nil {
		nsp.Use(c.authenticate)
	}
	c.checked = make(chan struct{})
	if cfg.Cluster != nil {
		sq, ok := nsp.Adapter().(socketio.Sequencer)
		if !ok {
			return nil, errors.New("chat: a cluster needs a namespace whose adapter keeps sequences (socketio.Sequencer)")
		}
		c.node = newNode(c, *cfg.Cluster)
		c.log.Info("chat node", "node", c.node.uid)
		c.useStream(sq)
		go c.node.run()
		go c.checkRooms()
	} else {
		close(c.checked)
	}
	go c.sweepIdentities()
	c.startSweeper()
	nsp.OnConnection(c.onConnection)
	// The event handlers are the namespace's, shared by every socket: a
	// connection holds none of its own.
	for name, h := range map[string]handler{
		EventNewUser:         c.onNewUser,
		EventSendChatMessage: c.onSendChatMessage,
		EventJoinRoom:        c.onJoinRoom,
		EventLeaveRoom:       c.onLeaveRoom,
		EventListRooms:       c.onListRooms,
		EventListUsers:       c.onListUsers,
		EventHistory:         c.onHistory,
		EventTyping:          c.onTyping,
	} {
		nsp.On(name, c.limited(h))
	}
	return c, nil
}

// Close records the rooms in use as active until now and the people online
// as seen (so that, when the server starts again, their return is no news:
// see Config.RestartGrace), and stops storing messages, after those already
// submitted. It does not close the Store. Call it after the connections
// are closed.
func (c *Chat) Close() error {
	c.closeOnce.Do(func() {
		c.stopSweeper()
		close(c.stop)
		<-c.swept
		<-c.checked
		c.seenAll()
		if c.node != nil {
			c.node.close()
		}
	})
	if c.ownCommit {
		return c.committer.Close()
	}
	return nil
}

// session is the chat's state for one socket, kept across a recovered
// reconnection (it is the socket's data).
type session struct {
	limiter *rate.Limiter
	// app is, in app mode, who the handshake's token proved the socket's
	// user is.
	app *identity.Claims

	mu sync.Mutex
	p  *person // nil before new-user
	// minted is the guest token made for this socket, which came with
	// none (see guestToken).
	minted string
	// heard is set once the socket got the default room's history on
	// connecting and went on to its live messages (see onConnection).
	heard bool
}

// newConnLimiter returns the limiter of one connection's events.
func (c *Chat) newConnLimiter() *rate.Limiter { return rate.NewLimiter(c.cfg.Rate, c.cfg.Burst) }

func sessionOf(so *socketio.Socket) *session {
	s, _ := so.Data().(*session)
	return s
}

func (s *session) person() *person {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

func (c *Chat) onConnection(so *socketio.Socket) {
	c.welcome(so)
	s := sessionOf(so)
	if raw, ok := so.Data().(json.RawMessage); ok && so.Recovered() && s == nil {
		// Restored from another node's copy of the session (restore.go).
		s = c.restoreSession(so, raw)
	}
	switch {
	case so.Recovered() && s != nil:
		c.resume(so, s)
		if !s.hasHeard() && !inDefault(so) {
			// Cut off before its catch-up was over, it was kept without
			// the default room: it catches up again, from what it names.
			c.hearDefault(so, s)
		}
	default:
		if s == nil { // app mode's middleware made one
			s = &session{limiter: c.newConnLimiter()}
			so.SetData(s)
		}
		// Like the tutorial's, every connection hears the default room
		// from the start, named or not; it first gets the room's history,
		// or what it missed since the id its handshake names.
		c.hearDefault(so, s)
	}
	so.OnDisconnect(c.onDisconnect)
}

// hearDefault makes so listen to the default room, after its history or
// what it missed since the id its handshake names.
func (c *Chat) hearDefault(so *socketio.Socket, s *session) {
	c.listen(so, DefaultRoom, c.connectSince(so), func(err error) {
		if err != nil {
			_ = so.Emit(EventError, c.refusedWith(err))
			return
		}
		s.mu.Lock()
		s.heard = true
		s.mu.Unlock()
		so.SetData(s) // the cluster's copy of the session says so
	})
}

// hasHeard reports whether the socket got to the default room's live
// messages on connecting.
func (s *session) hasHeard() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heard
}

// handler handles one event; it answers by calling reply once, now or
// later (after a store commit).
type handler func(so *socketio.Socket, s *session, e *socketio.Event, reply replyFunc)

// replyFunc answers an event: with its ack payload, or with an error.
type replyFunc func(payload any, err error)

// errorReply is an ack error and the payload of the error event: the
// refusal's code, and its text twice (error, and message for the
// tutorial's style of error event).
type errorReply struct {
	OK      bool   `json:"ok"`
	Code    Code   `json:"code"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

// refusedWith returns the errorReply of err, counting it refused.
func (c *Chat) refusedWith(err error) errorReply {
	r := refusal(err)
	c.refused(string(r.Code))
	return errorReply{Code: r.Code, Error: r.Text, Message: r.Text}
}

// limited wraps h with the connection's rate limit, and answers its result:
// as the ack when the client asked for one, as an error event otherwise.
func (c *Chat) limited(h handler) socketio.EventHandler {
	return func(so *socketio.Socket, e *socketio.Event) {
		reply := func(payload any, err error) {
			if err != nil {
				c.log.Debug("refused event", "event", e.Name, "err", err, "sid", so.ID())
				r := c.refusedWith(err)
				if e.HasAck() {
					_ = e.Ack(r)
				} else {
					_ = so.Emit(EventError, r)
				}
				return
			}
			if e.HasAck() {
				_ = e.Ack(payload)
			}
		}
		s := sessionOf(so)
		if !s.limiter.Allow() {
			reply(nil, ErrRateLimited)
			return
		}
		h(so, s, e, reply)
	}
}

// storeContext bounds one read of the store.
func storeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}

// sinceFromAuth returns the "since" of the handshake's auth payload: the id
// of the last message of the default room the client saw.
func sinceFromAuth(so *socketio.Socket) int64 {
	var auth struct {
		Since int64 `json:"since"`
	}
	if a := so.Handshake().Auth; len(a) > 0 && a[0] == '{' {
		_ = json.Unmarshal(a, &auth)
	}
	return max(auth.Since, 0)
}

// storable reports whether s can be stored and sent as it is: the stores
// keep no NUL characters.
func storable(s string) bool { return !strings.ContainsRune(s, 0) }
