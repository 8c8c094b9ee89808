package engineio

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
)

// Defaults of the reference server, used for zero Config fields.
const (
	DefaultPingInterval   = 25 * time.Second
	DefaultPingTimeout    = 20 * time.Second
	DefaultMaxPayload     = 1_000_000
	DefaultUpgradeTimeout = 10 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	// DefaultBodyTimeout is the default Config.BodyTimeout: the reference
	// server has none of its own (Node.js cuts a request after 5 minutes).
	DefaultBodyTimeout = 10 * time.Second
	// DefaultSendBuffer is the default Config.SendBuffer.
	DefaultSendBuffer = 32 << 10
	// DefaultWriteCoalesce is the default Config.WriteCoalesce.
	DefaultWriteCoalesce = 5 * time.Millisecond
	// DefaultMaxQueueBytes bounds a session's send queue: twice the largest
	// message a client may send, so that one echo of it always fits.
	DefaultMaxQueueBytes = 2 * DefaultMaxPayload
)

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// PingInterval is how often the server sends a ping (default 25 s).
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong before closing
	// the session (default 20 s).
	PingTimeout time.Duration
	// MaxPayload is the largest message, or polling payload, a client may
	// send, in bytes (default 1,000,000).
	MaxPayload int
	// MaxQueueBytes bounds each session's send queue; a session that would
	// exceed it is closed as a slow consumer (default 2,000,000).
	MaxQueueBytes int
	// UpgradeTimeout bounds the polling-to-WebSocket upgrade (default 10 s).
	UpgradeTimeout time.Duration
	// WriteTimeout bounds one WebSocket write, and the writing of one
	// poll's answer (default 10 s). A write that takes longer closes the
	// session as a transport error.
	WriteTimeout time.Duration
	// BodyTimeout bounds the reading of one polling POST's body, from the
	// moment its handler starts (default 10 s: MaxPayload at 100 kB/s). A
	// POST cut by it is answered 408, and its session closed as for a
	// transport error. Long-polling GETs have no body and are not
	// concerned.
	BodyTimeout time.Duration
	// SendBuffer sets the kernel's send buffer of each WebSocket
	// connection, in bytes (SO_SNDBUF; default 32 KiB, which Linux
	// doubles; negative leaves the system's automatic sizing). Left to
	// itself Linux lets the buffer of a client that stopped reading grow to
	// megabytes: with a bound, such a client's writes stall soon, and
	// WriteTimeout or MaxQueueBytes cuts it off, while the server's memory
	// for it stays small.
	SendBuffer int
	// WriteCoalesce is the shortest time between two writes to one
	// WebSocket connection (default 5 ms; negative for none). A
	// connection that gets frames faster than that has them written
	// together, in one call, WriteCoalesce after its previous write: a
	// busy connection costs one system call per batch instead of one per
	// frame, for at most WriteCoalesce of added latency. A connection
	// written to less often is written at once.
	WriteCoalesce time.Duration
	// AllowedOrigins lists the origins (scheme://host[:port]) allowed to
	// connect from a browser, besides the server's own; "*" allows any, and
	// is answered "Access-Control-Allow-Origin: *" without credentials, so
	// that browsers send no cookies with such polling requests. Requests
	// without an Origin header (not from a browser) are allowed. An origin
	// is the server's own when its scheme, host and port are the request's
	// (see TrustForwarded); a refused one is logged at info.
	AllowedOrigins []string
	// TrustForwarded reports whether a request came through a reverse
	// proxy trusted to say how the client reached it: for such a request,
	// the same-origin check takes the scheme from X-Forwarded-Proto and the
	// host from X-Forwarded-Host, where the proxy set them. Nil trusts no
	// request: the scheme is then the connection's (TLS or not) and the
	// host the Host header.
	TrustForwarded func(r *http.Request) bool
	// DisableWebSocket turns the WebSocket transport off.
	DisableWebSocket bool
	// DisablePolling turns the HTTP long-polling transport off.
	DisablePolling bool
	// NewSession is called once per session, after the handshake and before
	// any message; the Handler it returns receives the session's messages.
	// It must not block.
	NewSession func(s *Session) Handler
	// Logger receives connection-level logs (default slog.Default()).
	Logger *slog.Logger
	// Observer, when set, hears of sessions opening, upgrading and
	// closing, for metrics.
	Observer Observer

	// disablePoller makes a goroutine read each WebSocket connection, as
	// on systems without a poller; for tests.
	disablePoller bool
	// afterRegister, when set, is called as a connection has been
	// registered with the poller and before its registration is kept;
	// for tests of what arrives in between.
	afterRegister func(*Session)
	// sweepEvery, when set, replaces the constant of that name: how often
	// the timeouts of connections taken over are checked.
	sweepEvery time.Duration
}

// Handler receives the messages and the close of one session.
type Handler interface {
	// HandleMessage is called for each message, in order, never
	// concurrently for one session. The handler owns data.
	HandleMessage(data []byte, binary bool)
	// HandleClose is called once, when the session closes, with its reason.
	HandleClose(reason eioparser.CloseReason)
}

func (c Config) withDefaults() Config {
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = 2 * c.MaxPayload
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	if c.SendBuffer == 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	if c.WriteCoalesce == 0 {
		c.WriteCoalesce = DefaultWriteCoalesce
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	return c
}
