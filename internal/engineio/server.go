package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/netpoll"
)

// Log attribute keys.
const (
	logKeySID    = "sid"
	logKeyReason = "reason"
	logKeyError  = "err"
	logKeyQueued = "queued"
	logKeyBytes  = "bytes"
)

// Server is an Engine.IO v4 server. It is an http.Handler, safe for
// concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	poller  *netpoll.Poller // nil where there is none: a goroutine reads each connection
	origins map[string]bool
	anyOrig bool

	mu       sync.Mutex
	sessions map[string]*Session
	shutdown bool
	gone     chan struct{} // closed when shutting down and no session is left
}

// NewServer returns a Server for cfg. cfg.NewSession must be set.
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	srv := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		origins:  make(map[string]bool),
		sessions: make(map[string]*Session),
		gone:     make(chan struct{}),
	}
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			srv.anyOrig = true
		}
		srv.origins[strings.TrimSuffix(strings.ToLower(o), "/")] = true
	}
	if netpoll.Supported && !cfg.disablePoller {
		if p, err := netpoll.New(); err == nil {
			srv.poller = p
		}
	}
	return srv
}

// SessionCount returns the number of open sessions.
func (srv *Server) SessionCount() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.sessions)
}

// ServeHTTP serves the Engine.IO endpoint.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !srv.cors(w, r) {
		writeError(w, errForbidden)
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		writeError(w, errBadVersion)
		return
	}
	var kind transportKind
	switch q.Get("transport") {
	case "polling":
		if srv.cfg.DisablePolling {
			writeError(w, errUnknownTransport)
			return
		}
		kind = transportPolling
	case "websocket":
		if srv.cfg.DisableWebSocket {
			writeError(w, errUnknownTransport)
			return
		}
		kind = transportWebSocket
	default:
		writeError(w, errUnknownTransport)
		return
	}
	isWebSocket := isUpgradeRequest(r)
	if (kind == transportWebSocket) != isWebSocket {
		writeError(w, errBadRequest)
		return
	}

	sid := q.Get("sid")
	if sid == "" {
		srv.handshake(w, r, kind)
		return
	}
	srv.mu.Lock()
	s := srv.sessions[sid]
	srv.mu.Unlock()
	if s == nil {
		writeError(w, errUnknownSID)
		return
	}
	switch {
	case kind == transportWebSocket:
		srv.serveUpgrade(w, r, s)
	case r.Method == http.MethodGet:
		srv.servePoll(w, r, s)
	case r.Method == http.MethodPost:
		srv.servePost(w, r, s)
	default:
		writeError(w, errBadRequest)
	}
}

// handshake opens a new session.
func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, kind transportKind) {
	if kind == transportWebSocket {
		srv.serveWebSocket(w, r)
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, errBadHandshake)
		return
	}
	s, err := srv.open(r, transportPolling, nil)
	if err != nil {
		writeError(w, errBadRequest)
		return
	}
	srv.servePoll(w, r, s)
}

// open creates and registers a session whose open packet is queued.
func (srv *Server) open(r *http.Request, kind transportKind, ws *wsConn) (*Session, error) {
	id, err := newSessionID()
	if err != nil {
		return nil, err
	}
	s := newSession(srv, id, r, kind)
	s.ws = ws
	upgrades := []string{}
	if kind == transportPolling && !srv.cfg.DisableWebSocket {
		upgrades = append(upgrades, "websocket")
	}
	open, err := json.Marshal(struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int      `json:"maxPayload"`
	}{id, upgrades, srv.cfg.PingInterval.Milliseconds(), srv.cfg.PingTimeout.Milliseconds(), srv.cfg.MaxPayload})
	if err != nil {
		return nil, fmt.Errorf("encoding open packet: %w", err)
	}
	s.mu.Lock()
	s.enqueueLocked(queued{pkt: eioparser.Packet{Type: eioparser.PacketOpen, Data: open}})
	s.mu.Unlock()
	if srv.cfg.NewSession != nil {
		s.handler = srv.cfg.NewSession(s)
	}

	srv.mu.Lock()
	if srv.shutdown {
		srv.mu.Unlock()
		s.closeWith(eioparser.ReasonServerShutdown, eioparser.PacketClose, false)
		return nil, ErrClosed
	}
	srv.sessions[id] = s
	srv.mu.Unlock()
	s.startHeartbeat()
	s.logger().Debug("session opened", "transport", kind.String(), "remote", r.RemoteAddr)
	return s, nil
}

// remove forgets a session.
func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
	}
	if srv.shutdown && len(srv.sessions) == 0 {
		select {
		case <-srv.gone:
		default:
			close(srv.gone)
		}
	}
}

// lingerTime is how long a session closed by its polling client stays
// reachable for one last poll.
const lingerTime = time.Second

// linger puts a closed session back in the map until one poll has collected
// its final packet, or lingerTime has passed.
func (srv *Server) linger(s *Session) {
	srv.mu.Lock()
	if !srv.shutdown {
		if _, taken := srv.sessions[s.id]; !taken {
			srv.sessions[s.id] = s
		}
	}
	srv.mu.Unlock()
	time.AfterFunc(lingerTime, func() { srv.remove(s) })
}

// Shutdown refuses new sessions, closes every open one after flushing its
// queue, and waits until they are gone or ctx is done.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.shutdown = true
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	if len(srv.sessions) == 0 {
		select {
		case <-srv.gone:
		default:
			close(srv.gone)
		}
	}
	srv.mu.Unlock()
	for _, s := range all {
		s.closeWith(eioparser.ReasonServerShutdown, eioparser.PacketClose, true)
	}
	select {
	case <-srv.gone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("engineio: shutdown: %w", ctx.Err())
	}
}

// newSessionID returns 20 random characters (120 bits), URL-safe.
func newSessionID() (string, error) {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("engineio: session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// cors applies the origin policy. It returns false when the request's
// origin is not allowed.
func (srv *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !srv.originAllowed(origin, r) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", strconv.Itoa(int((24 * time.Hour).Seconds())))
	}
	return true
}

func (srv *Server) originAllowed(origin string, r *http.Request) bool {
	if srv.anyOrig || srv.origins[strings.ToLower(origin)] {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// writeError answers with one of the reference server's error bodies.
func writeError(w http.ResponseWriter, e requestError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, `{"code":%d,"message":%q}`, e.code, e.message)
}
