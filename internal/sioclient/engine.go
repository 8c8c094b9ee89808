package sioclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/eioparser"
)

// Transport selects how a connection reaches the server.
type Transport string

// The transports. TransportUpgrade starts on polling and, when the server
// offers it, upgrades to WebSocket before Dial returns, as browsers do.
const (
	TransportWebSocket Transport = "websocket"
	TransportPolling   Transport = "polling"
	TransportUpgrade   Transport = "upgrade"
)

// DefaultWriteTimeout bounds one write when Options.WriteTimeout is zero.
const DefaultWriteTimeout = 10 * time.Second

// Options configures a connection. A nil *Options means the zero value:
// WebSocket, default clients, pings answered.
type Options struct {
	// Transport is TransportWebSocket (the default), TransportPolling or
	// TransportUpgrade.
	Transport Transport
	// Query holds extra query parameters for every request.
	Query url.Values
	// Header holds extra headers for every request, such as Origin.
	Header http.Header
	// HTTPClient makes the polling requests. By default each connection
	// has a client of its own, whose idle connections Close closes.
	HTTPClient *http.Client
	// Dialer dials WebSocket connections (default: a Dialer with a
	// 10-second handshake timeout).
	Dialer *websocket.Dialer
	// WriteTimeout bounds each write (default 10 s); Close waits as long
	// for what is queued to be sent.
	WriteTimeout time.Duration
	// NoPong stops the connection from answering the server's pings, to
	// test heartbeat timeouts.
	NoPong bool
	// ReadControl makes EngineConn.Read return every packet received but
	// the open packet (pings, noops, close...), not only messages.
	ReadControl bool
	// MaxAttachmentBytes bounds the binary attachments of one Socket.IO
	// packet a Client accepts (default 10 MiB).
	MaxAttachmentBytes int
}

// OpenInfo is the server's handshake: the payload of the open packet.
type OpenInfo struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"` // milliseconds
	PingTimeout  int64    `json:"pingTimeout"`  // milliseconds
	MaxPayload   int64    `json:"maxPayload"`
	// Raw is the open packet's JSON as received.
	Raw json.RawMessage `json:"-"`
}

// outgoing is one entry of the send queue. A raw entry's Data is written as
// it is: as a whole WebSocket frame, or as a whole POST body.
type outgoing struct {
	pkt eioparser.Packet
	raw bool
}

// EngineConn is a client Engine.IO v4 connection. It is safe for concurrent
// use.
type EngineConn struct {
	opts     Options
	endpoint *url.URL // with EIO=4 and Options.Query
	http     *http.Client
	ownHTTP  bool
	open     OpenInfo
	ctx      context.Context // canceled when the connection ends
	cancel   context.CancelFunc
	done     chan struct{}
	wg       sync.WaitGroup // the reader and writer goroutines

	mu        sync.Mutex
	cond      sync.Cond // on mu: out, busy, paused or closed changed
	transport Transport
	ws        *websocket.Conn
	probeWS   *websocket.Conn // the upgrade's connection, until it is done
	out       []outgoing
	busy      bool // the writer is writing a batch
	paused    bool // an upgrade is under way: the writer waits
	upgrading bool
	stopPoll  bool
	pollDone  chan struct{} // closed when the poll loop has returned
	inbox     []eioparser.Packet
	inboxWake chan struct{} // capacity 1
	closing   bool          // Close has queued the close packet
	closed    bool
	err       error
}

// DialEngine opens an Engine.IO connection to rawURL, an http or https URL
// whose path is the endpoint ("/socket.io/" when empty or "/"). It returns
// after the handshake and, for TransportUpgrade, after the upgrade.
func DialEngine(ctx context.Context, rawURL string, opts *Options) (*EngineConn, error) {
	c, err := newEngineConn(rawURL, opts)
	if err != nil {
		return nil, err
	}
	switch c.opts.Transport {
	case TransportWebSocket:
		err = c.openWebSocket(ctx)
	case TransportPolling, TransportUpgrade:
		err = c.openPolling(ctx)
	default:
		err = fmt.Errorf("sioclient: unknown transport %q", c.opts.Transport)
	}
	if err != nil {
		c.teardown(err)
		c.wait()
		return nil, err
	}
	c.wg.Add(1)
	go c.writeLoop()
	if c.opts.Transport == TransportUpgrade && slices.Contains(c.open.Upgrades, string(TransportWebSocket)) {
		if err := c.Upgrade(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

func newEngineConn(rawURL string, opts *Options) (*EngineConn, error) {
	c := &EngineConn{inboxWake: make(chan struct{}, 1), done: make(chan struct{})}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Transport == "" {
		c.opts.Transport = TransportWebSocket
	}
	if c.opts.WriteTimeout <= 0 {
		c.opts.WriteTimeout = DefaultWriteTimeout
	}
	if c.opts.Dialer == nil {
		c.opts.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	}
	c.http = c.opts.HTTPClient
	if c.http == nil {
		c.http = &http.Client{Transport: &http.Transport{}}
		c.ownHTTP = true
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("sioclient: parsing URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("sioclient: URL scheme %q, want http or https", u.Scheme)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/socket.io/"
	}
	q := u.Query()
	for k, vs := range c.opts.Query {
		q[k] = slices.Clone(vs)
	}
	q.Set("EIO", "4")
	u.RawQuery = q.Encode()
	c.endpoint = u
	c.cond.L = &c.mu
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// requestURL returns the endpoint for transport, with the session id once
// there is one.
func (c *EngineConn) requestURL(transport Transport) string {
	u := *c.endpoint
	q := u.Query()
	q.Set("transport", string(transport))
	if c.open.SID != "" {
		q.Set("sid", c.open.SID)
	}
	u.RawQuery = q.Encode()
	if transport == TransportWebSocket {
		u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	}
	return u.String()
}

// handshake parses the open packet.
func (c *EngineConn) handshake(p eioparser.Packet) error {
	if p.Type != eioparser.PacketOpen || p.Binary {
		return fmt.Errorf("%w: first packet is %v", ErrHandshake, p.Type)
	}
	if err := json.Unmarshal(p.Data, &c.open); err != nil || c.open.SID == "" {
		return fmt.Errorf("%w: open packet %q", ErrHandshake, p.Data)
	}
	c.open.Raw = json.RawMessage(p.Data)
	return nil
}

// Open returns the server's handshake.
func (c *EngineConn) Open() OpenInfo { return c.open }

// SID returns the session id.
func (c *EngineConn) SID() string { return c.open.SID }

// Transport returns the current transport: TransportPolling or
// TransportWebSocket.
func (c *EngineConn) Transport() Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Done is closed when the connection has ended.
func (c *EngineConn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended: ErrClosed after Close,
// ErrServerClosed when the server closed it, or a transport error. It
// returns nil while the connection is open.
func (c *EngineConn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Send queues packets to be sent in order; a zero Type means a message.
// It returns ErrClosed once the connection is closing. Send does not wait
// for the network: a failed write ends the connection (see Err).
func (c *EngineConn) Send(pkts ...eioparser.Packet) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.closing {
		return ErrClosed
	}
	for _, p := range pkts {
		if p.Type == 0 {
			p.Type = eioparser.PacketMessage
		}
		c.out = append(c.out, outgoing{pkt: p})
	}
	c.cond.Broadcast()
	return nil
}

// SendMessage queues one message packet.
func (c *EngineConn) SendMessage(data []byte, binary bool) error {
	return c.Send(eioparser.Packet{Type: eioparser.PacketMessage, Data: data, Binary: binary})
}

// WriteRaw queues data to be written exactly as given, for protocol tests:
// on WebSocket as one frame (binary or text), on polling as a whole POST
// body. A POST answered with anything but 200 ends the connection with a
// *StatusError.
func (c *EngineConn) WriteRaw(data []byte, binary bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.closing {
		return ErrClosed
	}
	c.out = append(c.out, outgoing{pkt: eioparser.Packet{Data: data, Binary: binary}, raw: true})
	c.cond.Broadcast()
	return nil
}

// Read returns the next message received, and with Options.ReadControl
// every other packet but the open packet too. Once the connection has
// ended and everything received was read, it returns Err.
func (c *EngineConn) Read(ctx context.Context) (eioparser.Packet, error) {
	for {
		c.mu.Lock()
		if len(c.inbox) > 0 {
			p := c.inbox[0]
			c.inbox[0] = eioparser.Packet{}
			c.inbox = c.inbox[1:]
			c.mu.Unlock()
			return p, nil
		}
		if c.closed {
			err := c.err
			c.mu.Unlock()
			return eioparser.Packet{}, err
		}
		c.mu.Unlock()
		select {
		case <-c.inboxWake:
		case <-c.done:
		case <-ctx.Done():
			return eioparser.Packet{}, ctx.Err()
		}
	}
}

// deliver hands a received packet to Read.
func (c *EngineConn) deliver(p eioparser.Packet) {
	c.mu.Lock()
	c.inbox = append(c.inbox, p)
	c.mu.Unlock()
	select {
	case c.inboxWake <- struct{}{}:
	default:
	}
}

// handle processes one received packet. It returns true when the
// connection ended.
func (c *EngineConn) handle(p eioparser.Packet) bool {
	switch p.Type {
	case eioparser.PacketMessage:
		c.deliver(p)
		return false
	case eioparser.PacketPing:
		if !c.opts.NoPong {
			_ = c.Send(eioparser.Packet{Type: eioparser.PacketPong, Data: p.Data})
		}
	}
	if c.opts.ReadControl {
		c.deliver(p)
	}
	if p.Type == eioparser.PacketClose {
		c.teardown(ErrServerClosed)
		return true
	}
	return false
}

// Close sends a close packet after what is queued, waits up to
// Options.WriteTimeout for it to be written, then closes the transport and
// waits for the connection's goroutines. It is idempotent and always
// returns nil.
func (c *EngineConn) Close() error {
	c.mu.Lock()
	if !c.closed && !c.closing {
		c.closing = true
		c.out = append(c.out, outgoing{pkt: eioparser.Packet{Type: eioparser.PacketClose}})
		c.cond.Broadcast()
	}
	c.mu.Unlock()
	t := time.NewTimer(c.opts.WriteTimeout)
	select {
	case <-c.done:
	case <-t.C:
	}
	t.Stop()
	c.teardown(ErrClosed)
	c.wait()
	return nil
}

// wait waits for the goroutines, then drops idle HTTP connections.
func (c *EngineConn) wait() {
	c.wg.Wait()
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
}

// teardown ends the connection once, with err as its cause: ErrClosed
// once Close has started, whatever the transport reports.
func (c *EngineConn) teardown(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.closing {
		err = ErrClosed
	}
	c.closed = true
	c.err = err
	ws, probe := c.ws, c.probeWS
	c.cond.Broadcast()
	c.mu.Unlock()
	c.cancel()
	if ws != nil {
		_ = ws.Close()
	}
	if probe != nil {
		_ = probe.Close()
	}
	close(c.done)
}

// writeLoop writes the send queue with the current transport, batch by
// batch, until the connection ends.
func (c *EngineConn) writeLoop() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		for !c.closed && (len(c.out) == 0 || c.paused) {
			c.cond.Wait()
		}
		if c.closed {
			c.mu.Unlock()
			return
		}
		batch := c.out
		c.out = nil
		c.busy = true
		transport, ws := c.transport, c.ws
		c.mu.Unlock()

		var err error
		if transport == TransportWebSocket {
			err = c.writeWebSocket(ws, batch)
		} else {
			err = c.writePolling(batch)
		}

		c.mu.Lock()
		c.busy = false
		done := c.closing && len(c.out) == 0
		c.cond.Broadcast()
		c.mu.Unlock()
		switch {
		case err != nil:
			c.teardown(err)
			return
		case done:
			c.teardown(ErrClosed)
			return
		}
	}
}
