package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Transport is how clients reach the server.
type Transport string

// The transports. Clients stay on the one chosen: polling never upgrades.
const (
	TransportWebSocket Transport = "websocket"
	TransportPolling   Transport = "polling"
)

// Defaults for zero Config fields.
const (
	DefaultURL            = "http://127.0.0.1:3000"
	DefaultPath           = "/socket.io/"
	DefaultClients        = 100
	DefaultSenders        = 10
	DefaultRate           = 10
	DefaultDuration       = 10 * time.Second
	DefaultWarmup         = 2 * time.Second
	DefaultConnectRate    = 500
	DefaultConnectTimeout = 10 * time.Second
	DefaultDrain          = 5 * time.Second
	DefaultSettle         = 30 * time.Second
	DefaultWriteTimeout   = 5 * time.Second
	DefaultSampleInterval = 100 * time.Millisecond
	DefaultStormLimit     = 2 * time.Minute
)

// Hard limits, so that a run stays bounded in time and memory.
const (
	MaxClients  = 20_000
	MaxRate     = 1_000 // messages per second per sender
	MaxDuration = 10 * time.Minute
	MaxWarmup   = time.Minute
	MaxDrain    = time.Minute
	MaxSettle   = 5 * time.Minute
	MaxStorm    = 10 * time.Minute
	// MaxTracked bounds Clients × Senders: each client keeps 8 bytes of
	// sequence state per sender.
	MaxTracked = 10_000_000
	// MaxNodes bounds the nodes that URL and SendersURL list.
	MaxNodes = 64
)

// Config configures a run. Zero fields take the documented defaults.
type Config struct {
	// URL is the server's base URL, http or https (default
	// http://127.0.0.1:3000), or the base URLs of several nodes of a
	// cluster, separated by commas: the clients are spread over them in
	// turn (see SendersURL, and "Several nodes" in the package doc).
	URL string
	// SendersURL, when not empty, is the base URL, or the comma-separated
	// base URLs, of the nodes the senders connect to: the senders are
	// spread over these, and the other clients over URL's. With
	// SendersURL http://node1 and URL http://node2, every message is
	// sent on one node and heard on the other, and the latency includes
	// the hop between them. Not with Idle.
	SendersURL string
	// Path is the Socket.IO endpoint (default /socket.io/).
	Path string
	// Transport is TransportWebSocket (the default) or TransportPolling.
	Transport Transport
	// Clients is how many clients connect (default 100, at most 20,000).
	Clients int
	// Senders is how many of them send (default 10, or Clients if fewer;
	// at most Clients).
	// Ignored when Idle.
	Senders int
	// Rate is the messages per second each sender sends (default 10, at
	// most 1,000). Parley refuses more than 20 events per second from one
	// connection (bursts of 60): beyond that, add senders.
	Rate float64
	// Duration is the measured window (default 10 s, at most 10 minutes).
	Duration time.Duration
	// Warmup precedes the window: messages are sent but their deliveries
	// are not counted (default 2 s; negative: none).
	Warmup time.Duration
	// Drain is how long, after the window, the run waits for deliveries
	// of the messages sent in it (default 5 s); it stops early once all
	// have arrived.
	Drain time.Duration
	// Settle bounds the wait, once connected, for the server to go quiet:
	// until no client has received an event for half a second (default
	// 30 s; negative: no wait). A tutorial server announces each new user
	// to everyone, so N joins make N² user-connected events; the window
	// opens once they are delivered.
	Settle time.Duration
	// ConnectRate is how many connections are opened per second (default
	// 500), so as not to flood the server's accept queue.
	ConnectRate float64
	// ConnectTimeout bounds each client's connection, from dialing to the
	// Socket.IO CONNECT answer (default 10 s).
	ConnectTimeout time.Duration
	// WriteTimeout bounds each write (default 5 s).
	WriteTimeout time.Duration
	// Idle connects the clients, sends nothing, and measures only the
	// server's memory and CPU over Duration.
	Idle bool
	// SlowReaders is the fraction, 0 to 1, of the clients that do not send
	// which become slow readers (default 0, none): they connect and join
	// like the others, then, once the server has settled and before the
	// warm-up, stop reading from their connection for the rest of the
	// run, like a stuck phone. Over WebSocket they are dialed with a small
	// TCP receive buffer (SO_RCVBUF, where the system allows setting it),
	// so that the server soon finds them unable to take more; over polling
	// they stop polling. They are left out of Result.Expected, Received,
	// Loss and the latencies, and counted in Result.SlowReaders and
	// SlowCutOff. Not with Idle.
	SlowReaders float64
	// NoJoin keeps the clients that do not send from emitting new-user:
	// they connect and listen, and no join is announced. Senders always
	// join.
	NoJoin bool
	// Churn is how many clients per second leave and are replaced by new
	// ones, from the warm-up to the end of the window (default 0, none).
	// Every other receiver churns (slow readers never): it leaves the
	// namespace and closes its connection, and a new client, with a new
	// name, connects and joins in its place, getting the room's history;
	// the new clients churn too. The senders and the other receivers
	// stay: the delivery figures are those of these steady clients (see
	// Result.Steady). Not with Idle.
	Churn float64
	// Ack has the senders ask for an acknowledgement of each message,
	// and checks that every message acknowledged in the window reached
	// every steady client but its sender (Result.Acks). Not with Idle.
	Ack bool
	// Hostile runs a hostile client alongside the load, from the warm-up
	// to the end of the window: one connection after another, it sends
	// what a well-behaved client never would (see the package doc) and
	// checks that the server refuses or bounds it (Result.Hostile). It
	// speaks plain http only. Not with Idle.
	Hostile bool
	// Restart, when set, makes the run a restart storm (see the package
	// doc): the clients join, the server settles, then Restart restarts
	// the server, and the clients come back as Rejoin says. Restart
	// returns once the server has been told to stop (it may return
	// before the new one listens: the clients wait for it) with the new
	// server's process id, 0 when unknown, and with an error if it could
	// not restart it. Senders, Rate and Warmup do not apply; Duration is
	// how long the clients stay once all are back. Not with Idle,
	// SlowReaders, NoJoin, Churn, Ack or Hostile.
	Restart func(ctx context.Context) (pid int, err error)
	// Rejoin is how the clients of a restart storm join and come back
	// (default RejoinPage).
	Rejoin Rejoin
	// StormLimit bounds the wait, from the restart, for every client to
	// be back (default 2 minutes, at most 10).
	StormLimit time.Duration
	// PID is the server's process id, on this machine: when set, the run
	// reports its CPU time over the window and its resident memory.
	PID int
	// SampleInterval is how often the server's resident memory is read
	// (default 100 ms).
	SampleInterval time.Duration
	// Progress receives a progress line each second; nil for none.
	Progress io.Writer
	// OnWindow, when not nil, is called from Run's goroutine as the
	// measured window opens (with true) and as it closes (false), just
	// after the CPU counters are read: for a caller that measures
	// something else over the same window, such as a broker's counters.
	// It should return quickly. It is not called for a window that a
	// canceled context cut short.
	OnWindow func(open bool)

	// hostile sizes the hostile client's items; nil for defaultHostile.
	hostile *hostileParams
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Transport == "" {
		c.Transport = TransportWebSocket
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Senders == 0 {
		c.Senders = min(DefaultSenders, c.Clients)
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	switch {
	case c.Warmup == 0:
		c.Warmup = DefaultWarmup
	case c.Warmup < 0:
		c.Warmup = 0
	}
	if c.Drain == 0 {
		c.Drain = DefaultDrain
	}
	switch {
	case c.Settle == 0:
		c.Settle = DefaultSettle
	case c.Settle < 0:
		c.Settle = 0
	}
	if c.ConnectRate == 0 {
		c.ConnectRate = DefaultConnectRate
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
		if c.Restart != nil {
			c.ConnectTimeout = pageOpenTimeout
		}
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.SampleInterval == 0 {
		c.SampleInterval = DefaultSampleInterval
	}
	if c.Idle || c.Restart != nil {
		c.Senders = 0
		c.Warmup = 0
	}
	if c.Restart != nil {
		if c.Rejoin == "" {
			c.Rejoin = RejoinPage
		}
		if c.StormLimit == 0 {
			c.StormLimit = DefaultStormLimit
		}
	}
	return c
}

// validate checks a Config that has its defaults.
func (c Config) validate() error {
	l, err := newLayout(c)
	if err != nil {
		return err
	}
	plain := true
	for _, n := range l.nodes {
		plain = plain && strings.HasPrefix(n.key, "http:")
	}
	switch {
	case len(l.nodes) > MaxNodes:
		return fmt.Errorf("%w: %d nodes, want at most %d", ErrConfig, len(l.nodes), MaxNodes)
	case l.split && c.Idle:
		return fmt.Errorf("%w: senders URL with idle: an idle run has no senders", ErrConfig)
	case c.Transport != TransportWebSocket && c.Transport != TransportPolling:
		return fmt.Errorf("%w: transport %q, want websocket or polling", ErrConfig, c.Transport)
	case c.Clients < 1 || c.Clients > MaxClients:
		return fmt.Errorf("%w: clients %d, want 1 to %d", ErrConfig, c.Clients, MaxClients)
	case c.Senders < 0 || c.Senders > c.Clients:
		return fmt.Errorf("%w: senders %d, want 1 to clients (%d)", ErrConfig, c.Senders, c.Clients)
	case !c.Idle && c.Restart == nil && (c.Rate <= 0 || c.Rate > MaxRate):
		return fmt.Errorf("%w: rate %g, want more than 0 and at most %d", ErrConfig, c.Rate, MaxRate)
	case c.Duration < 0 || c.Duration > MaxDuration:
		return fmt.Errorf("%w: duration %v, want at most %v", ErrConfig, c.Duration, MaxDuration)
	case c.Warmup > MaxWarmup:
		return fmt.Errorf("%w: warmup %v, want at most %v", ErrConfig, c.Warmup, MaxWarmup)
	case c.Drain < 0 || c.Drain > MaxDrain:
		return fmt.Errorf("%w: drain %v, want at most %v", ErrConfig, c.Drain, MaxDrain)
	case c.Settle > MaxSettle:
		return fmt.Errorf("%w: settle %v, want at most %v", ErrConfig, c.Settle, MaxSettle)
	case c.ConnectRate < 0:
		return fmt.Errorf("%w: connect rate %g, want positive", ErrConfig, c.ConnectRate)
	case c.ConnectTimeout < 0 || c.WriteTimeout < 0 || c.SampleInterval < 0:
		return fmt.Errorf("%w: negative timeout or interval", ErrConfig)
	case c.PID < 0:
		return fmt.Errorf("%w: pid %d", ErrConfig, c.PID)
	case !(c.SlowReaders >= 0 && c.SlowReaders <= 1): // NaN too
		return fmt.Errorf("%w: slow readers %g, want a fraction from 0 to 1", ErrConfig, c.SlowReaders)
	case c.Idle && c.SlowReaders > 0:
		return fmt.Errorf("%w: slow readers with idle: slow readers need messages to fall behind on", ErrConfig)
	case c.Hostile && !plain:
		return fmt.Errorf("%w: the hostile client speaks plain http, not https", ErrConfig)
	case c.Idle && (c.Churn > 0 || c.Ack || c.Hostile):
		return fmt.Errorf("%w: churn, acks and the hostile client need a load: not with idle", ErrConfig)
	case !(c.Churn >= 0 && c.Churn <= MaxChurn):
		return fmt.Errorf("%w: churn %g, want 0 to %d clients per second", ErrConfig, c.Churn, MaxChurn)
	case c.Churn > 0 && c.Clients-c.Senders < 2:
		return fmt.Errorf("%w: churn needs at least two clients that do not send", ErrConfig)
	case c.Ack && c.ackBits() > maxAckBits:
		return fmt.Errorf("%w: acks of clients × senders × messages need %.0f bits, want at most %d", ErrConfig, c.ackBits(), maxAckBits)
	case c.Restart != nil && (c.Idle || c.SlowReaders > 0 || c.NoJoin || c.Churn > 0 || c.Ack || c.Hostile):
		return fmt.Errorf("%w: a restart storm has clients join, then come back: not with idle, slow readers, no-join, churn, acks or the hostile client", ErrConfig)
	case c.Restart != nil && c.Rejoin != RejoinPage && c.Rejoin != RejoinTutorial:
		return fmt.Errorf("%w: rejoin %q, want page or tutorial", ErrConfig, c.Rejoin)
	case c.Restart != nil && (c.StormLimit < 0 || c.StormLimit > MaxStorm):
		return fmt.Errorf("%w: storm limit %v, want at most %v", ErrConfig, c.StormLimit, MaxStorm)
	case int64(c.Clients)*int64(c.Senders) > MaxTracked:
		return fmt.Errorf("%w: clients × senders = %d, want at most %d", ErrConfig, c.Clients*c.Senders, MaxTracked)
	}
	return nil
}

// ackBits is about how many bits Config.Ack keeps: one per message of
// each sender, for its acks and for each client that may be steady.
func (c Config) ackBits() float64 {
	perSender := c.Rate*(c.Warmup+c.Duration).Seconds() + 64
	return float64(c.Clients+1) * float64(c.Senders) * perSender
}
