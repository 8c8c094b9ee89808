package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
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
	// logKeyOrigin is a request's Origin header, logKeyOwnOrigin the origin
	// it was compared with, the server's as the request reached it.
	logKeyOrigin    = "origin"
	logKeyOwnOrigin = "own_origin"
	logKeyRemote    = "remote"
)

// Server is an Engine.IO v4 server. It is an http.Handler, safe for
// concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	poller  *netpoll.Poller // nil where there is none: a goroutine reads each connection
	origins map[string]bool
	anyOrig bool
	count   counters

	mu       sync.Mutex
	sessions map[string]*Session
	shutdown bool
	gone     chan struct{} // closed when shutting down and no session is left

	taken takenConns // connections of long polls, taken over from net/http
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

// open creates a session, registers it, and then queues its open packet.
// The order matters: over WebSocket the open packet may be written the
// moment it is queued, and a client may use its sid as soon as it reads it,
// so the session must be known by then.
func (srv *Server) open(r *http.Request, kind transportKind, ws *wsConn) (*Session, error) {
	id, err := newSessionID()
	if err != nil {
		return nil, err
	}
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
	s := newSession(srv, id, r, kind)
	srv.cfg.Observer.SessionOpened(kind.String())
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

	// The connection is attached only now, so that nothing is written to
	// it before the session is registered; the open packet goes first, ahead
	// of anything the handler may have sent already.
	pkt := queued{pkt: eioparser.Packet{Type: eioparser.PacketOpen, Data: open}}
	s.mu.Lock()
	if s.state == stateClosed {
		// Closed meanwhile: by the handler, or by a shutdown that came
		// just after the registration.
		s.mu.Unlock()
		srv.remove(s)
		return nil, ErrClosed
	}
	s.ws = ws
	s.countPollingLocked()
	s.queue = slices.Insert(s.queue, 0, pkt)
	s.queued += eioparser.PayloadSize(pkt.pkt)
	s.kickLocked()
	s.mu.Unlock()
	s.startHeartbeat()
	s.logger().Debug("session opened", "transport", kind.String(), logKeyRemote, r.RemoteAddr)
	return s, nil
}

// sessionHeaders are the headers of the handshake request that a session
// keeps, for Session.Request (whose comment lists them): those an application may want to know its
// client by (cookies and credentials, language, user agent, origin) and
// those a reverse proxy adds. The others are dropped when the session
// opens, so that a client cannot have the server hold large headers it has
// no use for as long as the session lasts. The request line and headers
// together are bounded by the HTTP server (parley: 16 KiB).
var sessionHeaders = []string{
	"Accept-Language",
	"Authorization",
	"Cookie",
	"Forwarded",
	"Origin",
	"User-Agent",
	"X-Forwarded-For",
	"X-Forwarded-Host",
	"X-Forwarded-Proto",
	"X-Real-Ip",
}

// sessionHeader returns the headers of h that are in sessionHeaders, in a
// map of their own.
func sessionHeader(h http.Header) http.Header {
	n := 0
	for _, k := range sessionHeaders {
		if len(h[k]) > 0 {
			n++
		}
	}
	// As small as it can be: a map made for all of sessionHeaders is
	// twice the size of one for the few a client sends.
	kept := make(http.Header, n)
	for _, k := range sessionHeaders {
		if v := h.Values(k); len(v) > 0 {
			kept[k] = slices.Clone(v)
		}
	}
	return kept
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
	// The connections taken over serve the sessions' last polls, and are
	// closed once those are answered.
	defer srv.closeTaken()
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
// origin is not allowed. Any origin ("*") is answered as the reference
// server answers it, "*" without credentials, so that no page of another
// site can make a browser send its cookies along; a listed origin or the
// server's own is named, with credentials.
func (srv *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	h := w.Header()
	switch {
	case srv.anyOrig:
		h.Set("Access-Control-Allow-Origin", "*")
	case srv.origins[strings.ToLower(origin)] || srv.sameOrigin(origin, r):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	default:
		scheme, host := srv.requestOrigin(r)
		srv.log.Info("cross-origin request refused", logKeyOrigin, origin,
			logKeyOwnOrigin, scheme+"://"+host, logKeyRemote, r.RemoteAddr)
		return false
	}
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", strconv.Itoa(int((24 * time.Hour).Seconds())))
	}
	return true
}

// sameOrigin reports whether origin, an Origin header, has the scheme, host
// and port of the request itself (RFC 6454), default ports included.
func (srv *Server) sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return false
	}
	ownScheme, ownHost := srv.requestOrigin(r)
	return scheme == ownScheme && canonicalHost(scheme, u.Host) == canonicalHost(ownScheme, ownHost)
}

// requestOrigin returns the scheme and host by which the client reached
// the server: the connection's scheme and the Host header, or, from a
// proxy that Config.TrustForwarded trusts, X-Forwarded-Proto and
// X-Forwarded-Host where it set them (the last value of each, the one the
// nearest proxy added).
func (srv *Server) requestOrigin(r *http.Request) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if srv.cfg.TrustForwarded == nil || !srv.cfg.TrustForwarded(r) {
		return scheme, host
	}
	if p := strings.ToLower(lastValue(r.Header, "X-Forwarded-Proto")); p == "http" || p == "https" {
		scheme = p
	}
	if h := lastValue(r.Header, "X-Forwarded-Host"); h != "" {
		host = h
	}
	return scheme, host
}

// lastValue returns the last of the comma-separated values of header name.
func lastValue(h http.Header, name string) string {
	vs := h.Values(name)
	if len(vs) == 0 {
		return ""
	}
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// canonicalHost returns hostport, a host with an optional port, lowercased
// and with the scheme's default port made explicit.
func canonicalHost(scheme, hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), ""
	}
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}

// writeError answers with one of the reference server's error bodies.
func writeError(w http.ResponseWriter, e requestError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, `{"code":%d,"message":%q}`, e.code, e.message)
}
