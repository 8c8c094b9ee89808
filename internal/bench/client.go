package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// link is a client's connection over one transport.
type link interface {
	// readLoop calls handle for each Engine.IO packet received, until
	// handle returns false (then it returns nil) or the connection fails.
	// The packet is valid during the call only.
	readLoop(handle func(pkt []byte) bool) error
	// write sends one Engine.IO packet. It is safe for concurrent use.
	write(pkt []byte) error
	// extend moves the reader's deadline to d from now; only the reader
	// calls it.
	extend(d time.Duration)
	// close ends the connection, after leaving the namespace when goodbye
	// (waiting up to timeout for that), and makes readLoop return. It is
	// safe for concurrent use with the others.
	close(goodbye bool, timeout time.Duration)
	// probe tells whether the server has closed the connection, once
	// readLoop has returned and before close: it nudges the server (a
	// WebSocket ping, a poll), then reads what the server sent meanwhile,
	// and discards it, until the server has sent nothing for quiet, or for
	// at most limit. It returns nil if the connection is still open, or
	// what showed it closed.
	probe(quiet, limit time.Duration) error
}

// dialFunc opens client c's link within ctx and returns the Engine.IO open
// packet.
type dialFunc func(ctx context.Context, c *client) (link, []byte, error)

// openInfo is what the client needs of the Engine.IO handshake.
type openInfo struct {
	SID          string `json:"sid"`
	PingInterval int64  `json:"pingInterval"` // milliseconds
	PingTimeout  int64  `json:"pingTimeout"`  // milliseconds
}

// livenessSlack is added to the server's ping interval and timeout to get
// how long a client waits for a ping before giving up on the server.
const livenessSlack = 5 * time.Second

// parseOpen parses an Engine.IO open packet.
func parseOpen(pkt []byte) (openInfo, error) {
	var o openInfo
	if len(pkt) == 0 || pkt[0] != eioOpen || json.Unmarshal(pkt[1:], &o) != nil || o.SID == "" {
		return openInfo{}, fmt.Errorf("%w: open packet %.80q", ErrHandshake, pkt)
	}
	return o, nil
}

// liveness is how long to wait for the server's next ping.
func (o openInfo) liveness() time.Duration {
	d := time.Duration(o.PingInterval+o.PingTimeout) * time.Millisecond
	if d <= 0 {
		d = time.Minute
	}
	return d + livenessSlack
}

// The states of a client.
const (
	stateConnecting int32 = iota
	stateConnected
	stateFailed  // never connected
	stateDropped // connected, then lost
	stateStopped // a slow reader that stopped reading, still connected
	stateLeft    // left the chat as part of the churn (Config.Churn)
)

// client is one connection of a run. Its goroutine dials, then reads until
// the connection ends; fields marked "the reader's" are that goroutine's.
type client struct {
	r      *runner
	id     int
	node   int // its node, an index into the run's layout
	sender int // its index among the senders (its id), -1 if it only receives
	shard  *shard
	slow   bool // a slow reader (see Config.SlowReaders)
	// churns: the client may leave, to be replaced (Config.Churn);
	// replacement: it joined in another's place.
	churns, replacement bool

	// The reader's.
	start     time.Time
	tracks    []window // by sender
	liveness  time.Duration
	connected bool
	err       error // why handle stopped the read loop
	pong      []byte

	state atomic.Int32

	mu      sync.Mutex
	link    link // set once connected; written by the reader
	closing bool // Run is closing every client

	// The sender group's: what it has sent. sent and sentMeasured are
	// read by Run too.
	seq          uint64
	sendBuf      []byte
	prefixLen    int
	sent         atomic.Uint64
	sentMeasured atomic.Uint64
	// firstMeasured and lastMeasured are the sequence numbers of its
	// first and last message in the window (0 before the first).
	firstMeasured, lastMeasured atomic.Uint64
	ackBody                     []byte // with Config.Ack: the message after the ack id

	// recvMeasured counts the distinct messages of the window it
	// received (from others); the reader's, read by Run.
	recvMeasured atomic.Uint64

	// With Config.Ack: ackedN and refused count the sender's messages of
	// the window acknowledged and refused; acked is the set of those
	// acknowledged, recv (by sender) those a steady client received.
	ackedN, refused atomic.Uint64
	ackMu           sync.Mutex
	acked           bitset
	recv            []bitset
}

// run connects the client and reads until the connection ends.
func (c *client) run(ctx context.Context) {
	defer c.r.readers.Done()
	c.start = time.Now()
	dctx, cancel := context.WithTimeout(ctx, c.r.cfg.ConnectTimeout)
	l, open, err := c.r.dial(dctx, c)
	cancel()
	var info openInfo
	if err == nil {
		info, err = parseOpen(open)
	}
	if err == nil {
		c.liveness = info.liveness()
		err = l.write(connectFrame)
	}
	if err != nil {
		if l != nil {
			l.close(false, 0)
		}
		c.r.failed(c, err)
		return
	}
	c.mu.Lock()
	c.link = l
	closing := c.closing
	c.mu.Unlock()
	if closing {
		l.close(false, 0)
	}
	err = l.readLoop(c.handle)
	if err == nil {
		err = c.err
	}
	if errors.Is(err, errStopped) {
		// A slow reader leaves its connection open: from here on, Run
		// probes it, then closes it.
		c.state.Store(stateStopped)
		return
	}
	l.close(false, 0)
	c.mu.Lock()
	closing = c.closing
	c.mu.Unlock()
	switch {
	case !c.connected:
		if closing && err == nil {
			err = context.Canceled
		}
		c.r.failed(c, err)
	case !closing:
		c.r.dropped(c, err)
	}
}

// close ends the connection at the end of the run.
func (c *client) close(timeout time.Duration) {
	c.mu.Lock()
	c.closing = true
	l := c.link
	c.mu.Unlock()
	if l != nil {
		st := c.state.Load()
		l.close(st == stateConnected || st == stateStopped, timeout)
	}
}

// probe tells, once a slow reader has stopped (its state is stateStopped,
// and its goroutine no longer reads), whether the server has closed its
// connection: see link.probe.
func (c *client) probe(quiet, limit time.Duration) error {
	c.mu.Lock()
	l := c.link
	c.mu.Unlock()
	return l.probe(quiet, limit)
}

// handle handles one Engine.IO packet; it returns false to end the
// connection, with c.err saying why.
func (c *client) handle(p []byte) bool {
	if c.slow && c.r.stopReading.Load() {
		// A slow reader stops at the first packet after the server
		// settled, and leaves it, and all that follow, unhandled.
		c.err = errStopped
		return false
	}
	if len(p) < 2 {
		if len(p) == 1 {
			return c.onControl(p)
		}
		return true
	}
	if p[0] != eioMessage {
		return c.onControl(p)
	}
	if len(p) > 2 && p[2] == '/' {
		return true // another namespace
	}
	switch p[1] {
	case sioEvent:
		if bytes.HasPrefix(p, welcomePrefix) {
			return true // a greeting, not an event the server settles from
		}
		c.shard.events.Add(1)
		if bytes.HasPrefix(p, chatPrefix) {
			c.onChat(p)
		} else if bytes.HasPrefix(p, errorPrefix) {
			c.shard.serverErrors.Add(1)
		}
	case sioAck:
		c.onAck(p[2:])
	case sioConnect:
		return c.onConnect()
	case sioConnectError:
		c.err = fmt.Errorf("%w: %.80s", ErrConnectRefused, p[2:])
		return false
	case sioDisconnect:
		c.err = ErrKicked
		return false
	}
	return true
}

// onControl handles the Engine.IO packets other than messages.
func (c *client) onControl(p []byte) bool {
	switch p[0] {
	case eioPing:
		c.pong = append(append(c.pong[:0], eioPong), p[1:]...)
		if err := c.link.write(c.pong); err != nil {
			c.err = err
			return false
		}
		c.link.extend(c.liveness)
	case eioClose:
		c.err = ErrServerClose
		return false
	}
	return true
}

// onConnect joins the chat once the namespace is connected, unless
// Config.NoJoin says not to.
func (c *client) onConnect() bool {
	if c.connected {
		return true
	}
	if c.sender >= 0 || !c.r.cfg.NoJoin {
		if err := c.link.write(c.r.newUser(c.id)); err != nil {
			c.err = err
			return false
		}
	}
	c.connected = true
	c.link.extend(c.liveness)
	c.r.joined(c, time.Since(c.start))
	return true
}

// onChat counts a chat-message.
func (c *client) onChat(p []byte) {
	d, kind := parseChat(p, c.r.marker)
	sh := c.shard
	switch {
	case kind == chatOther:
		return
	case kind == chatHistory:
		sh.history.Add(1)
		return
	case kind == chatMalformed || d.sender >= len(c.tracks) || d.seq == 0 || d.seq > math.MaxUint32:
		sh.malformed.Add(1)
		return
	}
	if c.slow {
		return // the figures are those of the healthy clients
	}
	now := time.Now().UnixNano()
	sh.live.Add(1)
	if d.sender == c.sender {
		sh.echoes.Add(1)
		return
	}
	res := c.tracks[d.sender].observe(uint32(d.seq))
	if c.recv != nil {
		c.ackMu.Lock()
		c.recv[d.sender].set(d.seq)
		c.ackMu.Unlock()
	}
	if !c.r.measured(d.sent) {
		return
	}
	if res != seqDup {
		c.recvMeasured.Add(1)
	}
	switch res {
	case seqDup:
		sh.dups.Add(1)
		return
	case seqLate:
		sh.late.Add(1)
	}
	if c.r.nodes.nodeOf(d.sender) != c.node {
		sh.crossReceived.Add(1)
		sh.crossHist.Record(time.Duration(now - d.sent))
		return
	}
	sh.received.Add(1)
	sh.hist.Record(time.Duration(now - d.sent))
}

// send sends the sender's next message, if it is connected, and reports
// whether it did. Only its sender group calls it.
func (c *client) send() bool {
	if c.state.Load() != stateConnected {
		return false
	}
	c.seq++
	now := time.Now().UnixNano()
	measured := c.r.measured(now)
	if measured {
		// Before the write: the ack may come before it returns.
		c.firstMeasured.CompareAndSwap(0, c.seq)
		c.lastMeasured.Store(c.seq)
	}
	if c.ackBody != nil {
		c.sendBuf = appendAckSend(c.sendBuf[:0], c.ackBody, c.seq, now)
	} else {
		c.sendBuf = appendSend(c.sendBuf[:c.prefixLen], c.seq, now)
	}
	if err := c.link.write(c.sendBuf); err != nil {
		return false
	}
	c.sent.Add(1)
	if measured {
		c.sentMeasured.Add(1)
	}
	return true
}

// window is what a receiver has seen of one sender's sequence numbers:
// the highest, and which of the 31 below it.
type window struct {
	top  uint32
	seen uint32 // bit i: top-i was seen
}

// seqResult classifies a sequence number.
type seqResult uint8

const (
	seqNew  seqResult = iota // higher than any before
	seqLate                  // not seen before, but lower than one seen
	seqDup                   // seen before
)

// observe records seq, which is at least 1. A number more than 31 below
// the highest counts as late: the window no longer knows it.
func (w *window) observe(seq uint32) seqResult {
	switch {
	case seq > w.top:
		if shift := seq - w.top; shift >= 32 {
			w.seen = 1
		} else {
			w.seen = w.seen<<shift | 1
		}
		w.top = seq
		return seqNew
	case w.top-seq >= 32:
		return seqLate
	}
	bit := uint32(1) << (w.top - seq)
	if w.seen&bit != 0 {
		return seqDup
	}
	w.seen |= bit
	return seqLate
}

// shard holds counters shared by a subset of the clients, to spread
// their atomic updates.
type shard struct {
	// hist and received are the latencies and count of the measured
	// deliveries from a sender on the shard's node, crossHist and
	// crossReceived those from a sender on another node.
	hist          Histogram
	crossHist     Histogram
	events        atomic.Uint64 // every event, of any name but the welcome
	live          atomic.Uint64
	received      atomic.Uint64 // measured, unique
	crossReceived atomic.Uint64
	dups          atomic.Uint64 // measured
	late          atomic.Uint64 // measured, also in received
	echoes        atomic.Uint64
	history       atomic.Uint64
	malformed     atomic.Uint64
	serverErrors  atomic.Uint64
	_             [64]byte
}
