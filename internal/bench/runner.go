package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// nShards is how many counter shards clients spread over.
	nShards = 64
	// loopbackSources is how many loopback addresses (127.0.0.1, .2, ...)
	// connections to a loopback server come from, each with its own
	// ephemeral ports.
	loopbackSources = 16
	// closeTimeout bounds the goodbye each client sends at the end.
	closeTimeout = time.Second
	// closeWorkers close the clients at the end, in parallel.
	closeWorkers = 32
	// stopTimeout bounds the wait for the readers after closing.
	stopTimeout = 10 * time.Second
	// drainPoll is how often the drain checks for the last deliveries.
	drainPoll = 20 * time.Millisecond
	// sendLead is how long after the connections the senders start.
	sendLead = 50 * time.Millisecond
	// quiet is how long no event may arrive for the server to be settled;
	// settlePoll is how often settle looks.
	quiet      = 500 * time.Millisecond
	settlePoll = 50 * time.Millisecond
)

// runner is the state of one run.
type runner struct {
	cfg        Config
	runID      string
	marker     []byte
	dial       dialFunc
	dialer     *websocket.Dialer
	slowDialer *websocket.Dialer // a slow reader's: a small receive buffer
	nodes      *layout
	srcNext    atomic.Uint32 // the next loopback source address

	clients []*client
	// shards are grouped by node: node k's clients use the perNode
	// shards from k × perNode.
	shards  []shard
	perNode int
	// nodeJoined counts, by node, the first clients that joined.
	nodeJoined []atomic.Int64
	connect    Histogram // connection times

	// winStart and winEnd bound the measured window, in unix
	// nanoseconds: messages sent in it count. Zero until it is set.
	winStart, winEnd atomic.Int64

	connecting sync.WaitGroup // each client until it connected or failed
	readers    sync.WaitGroup // each client's goroutine
	closeOnce  sync.Once

	nJoined, nFailed, nDropped atomic.Int64
	// nSlow counts the slow readers that joined, nSlowCutOff those whose
	// connection the server closed; nDropped counts only the others.
	nSlow, nSlowCutOff atomic.Int64
	// stopReading is set, once the server has settled, to make the slow
	// readers stop.
	stopReading atomic.Bool
	phase       atomic.Value // string, for progress

	// The churn (Config.Churn): nLeft counts the clients that left,
	// nRejoined their replacements that joined, nRejoinFailed those that
	// could not. churnMu guards extra, the replacements, nextID, the id
	// of the next, and closed, set once closeAll has begun, after which
	// none is added.
	nLeft, nRejoined, nRejoinFailed atomic.Int64
	// steady are the clients that should stay connected through the
	// window and the drain: connected when the senders start, neither
	// slow readers nor churning. Set by load.
	steady  []*client
	churnMu sync.Mutex
	extra   []*client
	nextID  int
	closed  bool

	errMu sync.Mutex
	errs  map[string]int
}

func newRunner(cfg Config) (*runner, error) {
	l, err := newLayout(cfg)
	if err != nil {
		return nil, err
	}
	var tag [3]byte
	_, _ = rand.Read(tag[:])
	perNode := max(1, min(nShards, cfg.Clients)/len(l.nodes))
	r := &runner{
		cfg:        cfg,
		runID:      hex.EncodeToString(tag[:]),
		nodes:      l,
		shards:     make([]shard, perNode*len(l.nodes)),
		perNode:    perNode,
		nodeJoined: make([]atomic.Int64, len(l.nodes)),
		errs:       make(map[string]int),
	}
	r.marker = marker(r.runID)
	if cfg.Transport == TransportPolling {
		r.dial = dialPolling
	} else {
		r.dial = dialWebSocket
		r.dialer = newDialer(r.dialTCP)
	}
	nSlow := slowCount(cfg)
	if nSlow > 0 && cfg.Transport == TransportWebSocket {
		r.slowDialer = newDialer(r.dialSlowTCP)
	}
	if cfg.Restart != nil {
		r.phase.Store("connecting")
		return r, nil // a restart storm has clients of its own
	}
	r.clients = make([]*client, cfg.Clients)
	for i := range r.clients {
		c := r.newClient(i)
		if i < cfg.Senders {
			c.sender = i
			c.sendBuf = sendPrefix(r.runID, i)
			c.prefixLen = len(c.sendBuf)
			if cfg.Ack {
				c.ackBody = bytes.Clone(c.sendBuf[len(eventPrefix):])
			}
		} else {
			c.slow = isSlow(i-cfg.Senders, nSlow, cfg.Clients-cfg.Senders)
			c.churns = churns(cfg, i) && !c.slow
		}
		if cfg.Ack && !c.churns && !c.slow {
			c.recv = make([]bitset, cfg.Senders)
		}
		r.clients[i] = c
	}
	r.nextID = cfg.Clients
	r.phase.Store("connecting")
	return r, nil
}

// newClient makes client id, which only receives until told otherwise,
// on its node.
func (r *runner) newClient(id int) *client {
	node := r.nodes.nodeOf(id)
	sh := &r.shards[node*r.perNode+id%r.perNode]
	return &client{r: r, id: id, node: node, sender: -1, shard: sh, tracks: make([]window, r.cfg.Senders)}
}

// dialTCP dials the server, from the next loopback address when it is on
// loopback, so that large runs do not run out of ephemeral ports.
func (r *runner) dialTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	return r.dialTCPWith(ctx, network, addr, nil)
}

// dialSlowTCP dials a slow reader's connection, with a small receive
// buffer.
func (r *runner) dialSlowTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	return r.dialTCPWith(ctx, network, addr, setSlowRcvBuf)
}

// dialTCPWith dials as dialTCP does, with control (if not nil) as the
// net.Dialer's Control.
func (r *runner) dialTCPWith(ctx context.Context, network, addr string, control func(network, address string, c syscall.RawConn) error) (net.Conn, error) {
	d := net.Dialer{Control: control}
	if loopbackV4(addr) {
		n := r.srcNext.Add(1)
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+n%loopbackSources))}
	}
	return d.DialContext(ctx, network, addr)
}

// loopbackV4 reports whether addr, a host:port, is an IPv4 loopback
// address, which connections may come from any 127.x address to.
func loopbackV4(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && ip.To4() != nil
}

// name is the name of client id, unique to the run.
func (r *runner) name(id int) string { return fmt.Sprintf("bench-%s-%d", r.runID, id) }

// newUser is the new-user event of client id.
func (r *runner) newUser(id int) []byte { return newUserFrame(r.name(id)) }

// measured reports whether a message sent at t (unix nanoseconds) is in
// the measured window.
func (r *runner) measured(t int64) bool {
	s := r.winStart.Load()
	return s != 0 && t >= s && t < r.winEnd.Load()
}

// joined records a client's connection.
func (r *runner) joined(c *client, d time.Duration) {
	c.state.Store(stateConnected)
	r.connect.Record(d)
	if c.replacement {
		r.nRejoined.Add(1)
		return
	}
	r.nJoined.Add(1)
	r.nodeJoined[c.node].Add(1)
	if c.slow {
		r.nSlow.Add(1)
	}
	r.connecting.Done()
}

// failed records a client that could not connect.
func (r *runner) failed(c *client, err error) {
	c.state.Store(stateFailed)
	if c.replacement {
		if r.phase.Load() == "closing" {
			return // cut short by the end of the run, not refused
		}
		r.nRejoinFailed.Add(1)
		r.noteErr("rejoin", err)
		return
	}
	r.nFailed.Add(1)
	r.noteErr("connect", err)
	r.connecting.Done()
}

// dropped records a client whose connection ended before the run did: a
// slow reader's counts as cut off.
func (r *runner) dropped(c *client, err error) {
	c.state.Store(stateDropped)
	if c.slow {
		r.nSlowCutOff.Add(1)
		r.noteErr(slowCutOffPhase, err)
		return
	}
	r.nDropped.Add(1)
	r.noteErr("dropped", err)
}

// noteErr counts an error by phase and kind.
func (r *runner) noteErr(phase string, err error) { r.noteKind(phase, errKind(err)) }

// noteKind counts a failure by phase and kind.
func (r *runner) noteKind(phase, kind string) {
	k := phase + ": " + kind
	r.errMu.Lock()
	r.errs[k]++
	r.errMu.Unlock()
}

// errKind names an error without what varies between connections
// (addresses, ports).
func errKind(err error) string {
	var (
		op *net.OpError
		ne net.Error
		ce *websocket.CloseError
		se *os.SyscallError
	)
	switch {
	case err == nil:
		return "closed"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure:
		return "connection closed by server"
	case ce != nil:
		return fmt.Sprintf("websocket close %d", ce.Code)
	case errors.As(err, &se):
		return se.Syscall + ": " + se.Err.Error()
	case errors.As(err, &op):
		return op.Op + ": " + op.Err.Error()
	}
	s := err.Error()
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// errors returns a copy of the error counts.
func (r *runner) errorCounts() map[string]int {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	m := make(map[string]int, len(r.errs))
	for k, v := range r.errs {
		m[k] = v
	}
	return m
}

// launch starts the clients, ConnectRate per second, until all are
// started or ctx is done.
func (r *runner) launch(ctx context.Context) {
	start := time.Now()
	for i := 0; i < len(r.clients); {
		due := min(int(time.Since(start).Seconds()*r.cfg.ConnectRate)+1, len(r.clients))
		for ; i < due; i++ {
			r.connecting.Add(1)
			r.readers.Add(1)
			go r.clients[i].run(ctx)
		}
		if i == len(r.clients) {
			return
		}
		wait := time.Duration(float64(i)/r.cfg.ConnectRate*float64(time.Second)) - time.Since(start)
		if !sleep(ctx, max(wait, 0)) {
			return
		}
	}
}

// closeAll closes every client, replacements included, once.
func (r *runner) closeAll() {
	r.closeOnce.Do(func() {
		r.churnMu.Lock()
		r.closed = true
		all := append(r.clients[:len(r.clients):len(r.clients)], r.extra...)
		r.churnMu.Unlock()
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range min(closeWorkers, len(all)) {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(all) {
						return
					}
					all[i].close(closeTimeout)
				}
			})
		}
		wg.Wait()
	})
}

// sleep waits for d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// sleepUntil waits until t or until ctx is done.
func sleepUntil(ctx context.Context, t time.Time) bool { return sleep(ctx, time.Until(t)) }

// totals sums the shards.
type totals struct {
	events, live, received, dups, late, echoes, history, malformed, serverErrors uint64
}

func (r *runner) totals() totals { return sumShards(r.shards) }

// sumShards sums some shards' counters.
func sumShards(shards []shard) totals {
	var t totals
	for i := range shards {
		s := &shards[i]
		t.events += s.events.Load()
		t.live += s.live.Load()
		t.received += s.received.Load() + s.crossReceived.Load()
		t.dups += s.dups.Load()
		t.late += s.late.Load()
		t.echoes += s.echoes.Load()
		t.history += s.history.Load()
		t.malformed += s.malformed.Load()
		t.serverErrors += s.serverErrors.Load()
	}
	return t
}

// latencies merges the shards' histograms.
func (r *runner) latencies() *Histogram {
	h := new(Histogram)
	for i := range r.shards {
		h.Merge(&r.shards[i].hist)
		h.Merge(&r.shards[i].crossHist)
	}
	return h
}

// nodeShards returns the shards of node k's clients.
func (r *runner) nodeShards(k int) []shard {
	return r.shards[k*r.perNode : (k+1)*r.perNode]
}

// pathStats returns the figures of some shards' measured deliveries: all
// of them, or those from a sender on the same node, or on another.
func pathStats(shards []shard, same, cross bool) PathStats {
	h := new(Histogram)
	var n uint64
	for i := range shards {
		s := &shards[i]
		if same {
			h.Merge(&s.hist)
			n += s.received.Load()
		}
		if cross {
			h.Merge(&s.crossHist)
			n += s.crossReceived.Load()
		}
	}
	return PathStats{
		Received: n, LatencyP50: h.Quantile(0.5), LatencyP90: h.Quantile(0.9),
		LatencyP99: h.Quantile(0.99), LatencyMax: h.Max(),
	}
}

// sent returns the messages sent in all and in the window.
func (r *runner) sent() (all, measured uint64) {
	for _, c := range r.clients[:r.cfg.Senders] {
		all += c.sent.Load()
		measured += c.sentMeasured.Load()
	}
	return all, measured
}

// settle waits until no client has received an event for quiet, at most
// Config.Settle, and reports whether the server went quiet.
func (r *runner) settle(ctx context.Context) bool {
	if r.cfg.Settle <= 0 {
		return true
	}
	r.phase.Store("settling")
	deadline := time.Now().Add(r.cfg.Settle)
	last, lastChange := r.totals().events, time.Now()
	for {
		now := time.Now()
		if n := r.totals().events; n != last {
			last, lastChange = n, now
		}
		switch {
		case now.Sub(lastChange) >= quiet:
			return true
		case now.After(deadline):
			return false
		}
		if !sleep(ctx, settlePoll) {
			return false
		}
	}
}
