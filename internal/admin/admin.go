package admin

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/socketio"
)

// Mode says how much the UI is told, as the reference's mode option.
type Mode string

// The modes.
const (
	// Development sends every socket's life as it happens: connections,
	// updates, disconnections, rooms joined and left, events received.
	Development Mode = "development"
	// Production sends the aggregated stats only, which cost the same
	// however many sockets come and go.
	Production Mode = "production"
)

// Defaults of Config.
const (
	DefaultNamespace     = "/admin"
	DefaultStatsInterval = 2 * time.Second
	// DefaultSessionTTL is how long a session id logs a UI in, as the
	// reference's Redis store keeps one (a day).
	DefaultSessionTTL = 24 * time.Hour
	// DefaultMaxQueued bounds the events waiting to be sent to the UIs.
	DefaultMaxQueued = 10_000
)

// Limits of failed logins: per client address, a burst then one every
// failureEvery; in all, a burst then failuresPerSecond. A refused attempt
// costs no bcrypt comparison, so that they also bound the CPU that
// guessing passwords can take.
const (
	failureBurst      = 5
	failureEvery      = 10 * time.Second
	globalBurst       = 20
	failuresPerSecond = 2
)

// timeouts of what the admin waits for: the session store, and the other
// nodes' sockets for "all_sockets".
const (
	sessionTimeout = 2 * time.Second
	fetchTimeout   = 5 * time.Second
)

// Config configures an Admin. Username and PasswordHash are required; the
// other zero fields take the documented defaults.
type Config struct {
	// Username is the UI's login name; PasswordHash the bcrypt hash of its
	// password ($2a$, $2b$ or $2y$, as htpasswd -B or bcryptjs make it).
	Username     string
	PasswordHash string
	// Mode is Development (default) or Production.
	Mode Mode
	// Namespace is the admin namespace's name (default "/admin").
	Namespace string
	// ServerID names this server among those the UI shows (default: the
	// host name, then "#" and the pid, so that nodes on one host differ).
	ServerID string
	// Sessions keeps the session ids given to UIs that logged in (default
	// in memory, for DefaultSessionTTL). Nodes of a cluster share one
	// (RedisSessions), so that an id given by one logs in on the others.
	Sessions Sessions
	// StatsInterval is how often server_stats is sent (default 2 s).
	StatsInterval time.Duration
	// MaxQueued bounds the events waiting to be sent (default 10,000).
	MaxQueued int
	// ClientAddress returns what failed logins are counted by for a
	// handshake (default: the peer's IP address; an IPv6 /64). Behind a
	// reverse proxy, the command sets one that believes its
	// X-Forwarded-For.
	ClientAddress func(*socketio.Handshake) string
	// Cluster says that the server's adapter spans several nodes: the
	// events of this node's sockets are then sent even with no admin
	// socket here, for the UIs connected to other nodes.
	Cluster bool
	// Logger receives logs (default slog.Default()).
	Logger *slog.Logger
}

// Admin serves the Admin UI's protocol on a server's admin namespace. It
// is the server's socketio.Observer (Config.Observer), which it must be
// given before the server is made; Start then opens the namespace. It is
// safe for concurrent use.
type Admin struct {
	cfg      Config
	log      *slog.Logger
	hash     []byte
	userSum  [sha256.Size]byte
	sessions Sessions
	started  time.Time
	hostname string
	pid      int

	// srv and nsp are set by Start; running says they are.
	srv     *socketio.Server
	nsp     *socketio.Namespace
	running atomic.Bool
	// listeners counts this node's admin sockets, which were let in.
	listeners atomic.Int64

	failures *ratelimit.Keyed[string]
	global   *rate.Limiter

	stats aggregator
	queue queue

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ socketio.Observer = (*Admin)(nil)

// New returns an Admin for cfg, not yet started.
func New(cfg Config) (*Admin, error) {
	if cfg.Username == "" {
		return nil, errNoUser
	}
	if _, err := bcrypt.Cost([]byte(cfg.PasswordHash)); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadHash, err)
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = Development
	case Development, Production:
	default:
		return nil, fmt.Errorf("%w %q: want %q or %q", errBadMode, cfg.Mode, Development, Production)
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.Namespace[0] != '/' {
		cfg.Namespace = "/" + cfg.Namespace
	}
	hostname, _ := os.Hostname()
	if cfg.ServerID == "" {
		cfg.ServerID = fmt.Sprintf("%s#%d", hostname, os.Getpid())
	}
	if cfg.Sessions == nil {
		cfg.Sessions = NewMemorySessions(DefaultSessionTTL)
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = DefaultStatsInterval
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.ClientAddress == nil {
		cfg.ClientAddress = remoteAddress
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Admin{
		cfg:      cfg,
		log:      cfg.Logger,
		hash:     []byte(cfg.PasswordHash),
		userSum:  sha256.Sum256([]byte(cfg.Username)),
		sessions: cfg.Sessions,
		started:  time.Now(),
		hostname: hostname,
		pid:      os.Getpid(),
		failures: ratelimit.New[string](rate.Every(failureEvery), failureBurst),
		global:   rate.NewLimiter(failuresPerSecond, globalBurst),
		ctx:      ctx,
		cancel:   cancel,
	}
	a.stats.init()
	a.queue.init(cfg.MaxQueued)
	return a, nil
}

// Mode returns the admin's mode.
func (a *Admin) Mode() Mode { return a.cfg.Mode }

// ServerID returns the id the admin gives its server.
func (a *Admin) ServerID() string { return a.cfg.ServerID }

// Start opens the admin namespace on srv, whose Config.Observer must be
// a, and starts sending stats and events. It must be called once.
func (a *Admin) Start(srv *socketio.Server) error {
	if a.srv != nil {
		return errStarted
	}
	a.srv = srv
	a.nsp = srv.Of(a.cfg.Namespace)
	a.nsp.Use(a.authenticate)
	a.nsp.OnConnection(a.onConnection)
	for name, h := range a.commands() {
		a.nsp.On(name, h)
	}
	a.stats.start(srv.Traffic())
	a.running.Store(true)
	a.wg.Add(1)
	go a.run()
	a.log.Info("admin UI protocol", "namespace", a.cfg.Namespace, "mode", string(a.cfg.Mode), "server_id", a.cfg.ServerID)
	return nil
}

// Close stops sending stats and events. The namespace stays, and its
// sockets are disconnected with the server's.
func (a *Admin) Close() {
	a.running.Store(false)
	a.cancel()
	a.wg.Wait()
}

// development reports whether the per-socket events are to be sent now:
// in development mode, once started, while some UI may listen.
func (a *Admin) development() bool {
	return a.cfg.Mode == Development && a.running.Load() && (a.cfg.Cluster || a.listeners.Load() > 0)
}

// onConnection welcomes a UI that is in: the config, the stats at once
// (the reference sends them on its timer only) and, in development mode,
// every socket, which may take other nodes' answers: it is sent from a
// goroutine of its own.
func (a *Admin) onConnection(so *socketio.Socket) {
	a.listeners.Add(1)
	so.OnDisconnect(func(*socketio.Socket, socketio.DisconnectReason) { a.listeners.Add(-1) })
	_ = so.Emit("config", configPayload{SupportedFeatures: a.features()})
	_ = so.Emit("server_stats", a.serverStats(nil))
	if a.cfg.Mode != Development {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(a.ctx, fetchTimeout)
		defer cancel()
		list := a.allSockets(ctx)
		_ = so.Emit("all_sockets", list)
	}()
}

// configPayload is the "config" event's.
type configPayload struct {
	SupportedFeatures []string `json:"supportedFeatures"`
}

// features returns the supported features: every command, with its forms
// on many sockets, the aggregated events and, in development mode,
// ALL_EVENTS, which the UI takes for development mode (it then shows the
// sockets, rooms, clients and events).
func (a *Admin) features() []string {
	f := []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"}
	if a.cfg.Mode == Development {
		f = append(f, "ALL_EVENTS")
	}
	return f
}

// run sends the queued events as they come, and the stats on their
// interval, until Close.
func (a *Admin) run() {
	defer a.wg.Done()
	tick := time.NewTicker(a.cfg.StatsInterval)
	defer tick.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-a.queue.wake:
			a.flush()
		case now := <-tick.C:
			a.flush()
			a.emitStats(now)
		}
	}
}
