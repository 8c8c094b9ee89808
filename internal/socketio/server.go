package socketio

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
)

// DefaultConnectTimeout is how long a new connection may take to join a
// namespace before it is closed, as in the reference server.
const DefaultConnectTimeout = 45 * time.Second

// DefaultMaxAttachmentBytes bounds the binary attachments of one packet.
const DefaultMaxAttachmentBytes = 10 << 20

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Engine configures the Engine.IO layer; its NewSession is set by the
	// Server.
	Engine engineio.Config
	// ConnectTimeout closes a connection that has joined no namespace in
	// time (default 45 s).
	ConnectTimeout time.Duration
	// MaxAttachmentBytes bounds the binary attachments of one incoming
	// packet (default 10 MiB).
	MaxAttachmentBytes int
	// Recovery, when set, switches on connection state recovery.
	Recovery *RecoveryConfig
	// NewAdapter makes the adapter of each namespace (default: in memory).
	NewAdapter func(n *Namespace) Adapter
	// Logger receives logs (default slog.Default()).
	Logger *slog.Logger
	// Observer, when set, is told of connections, sockets, rooms and
	// events as they come and go (see Observer).
	Observer Observer
	// Metrics, when set, hears of the events received and sent, and of
	// recoveries, for metrics (see Metrics).
	Metrics Metrics

	// releasing, for tests, is called as a socket's CONNECT reply and what
	// was held with it are about to be queued (Socket.release), with
	// Socket.mu held.
	releasing func(*Socket)
}

// Server is a Socket.IO v5 server: an http.Handler to mount at the
// Socket.IO path, "/socket.io/" by default. It is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	eio *engineio.Server
	obs Metrics

	// maxWaiting bounds the bytes a connection may send while a replay
	// runs (see conn.HandleMessage).
	maxWaiting int

	mu         sync.RWMutex
	namespaces map[string]*Namespace
	shutdown   bool // recovery logs made from now on keep nothing
}

// NewServer returns a Server with the main namespace "/" created.
func NewServer(cfg Config) *Server {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.MaxAttachmentBytes <= 0 {
		cfg.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NewAdapter == nil {
		cfg.NewAdapter = func(n *Namespace) Adapter { return NewMemoryAdapter() }
	}
	if cfg.Metrics == nil {
		cfg.Metrics = nopMetrics{}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, obs: cfg.Metrics, namespaces: make(map[string]*Namespace)}
	s.maxWaiting = 2 * engineio.DefaultMaxPayload
	if cfg.Engine.MaxPayload > 0 {
		s.maxWaiting = 2 * cfg.Engine.MaxPayload
	}
	ecfg := cfg.Engine
	if ecfg.Logger == nil {
		ecfg.Logger = cfg.Logger
	}
	ecfg.NewSession = s.newConn
	s.eio = engineio.NewServer(ecfg)
	s.Of("/")
	return s
}

// ServeHTTP serves the Socket.IO endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.eio.ServeHTTP(w, r)
}

// PollListener returns a listener for the http.Server that serves s,
// through which s takes the connections of long polls over from net/http
// and answers them itself (engineio.Server.PollListener).
func (s *Server) PollListener(l net.Listener) net.Listener {
	return s.eio.PollListener(l)
}

// Of returns the namespace called name, creating it on first use. Names
// start with "/".
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.RLock()
	n := s.namespaces[name]
	s.mu.RUnlock()
	if n != nil {
		return n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n = s.namespaces[name]; n == nil {
		n = newNamespace(s, name)
		if s.shutdown && n.recovery != nil {
			n.recovery.close()
		}
		s.namespaces[name] = n
	}
	return n
}

// Lookup returns the namespace called name if it exists, or nil; unlike
// Of, it creates none.
func (s *Server) Lookup(name string) *Namespace { return s.namespace(name) }

// namespace returns an existing namespace, or nil.
func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.namespaces[name]
}

// ConnectionCount returns the number of open Engine.IO connections.
func (s *Server) ConnectionCount() int { return s.eio.SessionCount() }

// Shutdown closes every connection, after flushing what is queued for it,
// and waits until they are gone or ctx is done. With recovery on, it then
// stops the sweeps of the namespaces' logs and drops what they keep: a
// server that is shut down accepts no connection to recover.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.eio.Shutdown(ctx)
	s.mu.Lock()
	s.shutdown = true
	logs := make([]*recoveryLog, 0, len(s.namespaces))
	for _, n := range s.namespaces {
		if n.recovery != nil {
			logs = append(logs, n.recovery)
		}
	}
	s.mu.Unlock()
	for _, l := range logs {
		l.close()
	}
	if err != nil {
		return fmt.Errorf("socketio: %w", err)
	}
	return nil
}
