package engineio

import (
	"log/slog"
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
	// WriteTimeout bounds one WebSocket write (default 10 s).
	WriteTimeout time.Duration
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
	// connect from a browser; "*" allows any. When empty, only same-origin
	// requests (and requests without an Origin header) are allowed.
	AllowedOrigins []string
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

	// disablePoller makes a goroutine read each WebSocket connection, as
	// on systems without a poller; for tests.
	disablePoller bool
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
	if c.SendBuffer == 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	if c.WriteCoalesce == 0 {
		c.WriteCoalesce = DefaultWriteCoalesce
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
