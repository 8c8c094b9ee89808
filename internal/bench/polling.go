package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
)

// The read buffers of a polling link's connections: the GET's answers
// carry the deliveries, the POST's only "ok".
const (
	getReadBufferSize  = 4 << 10
	postReadBufferSize = 1 << 10
)

// pollLink is a client's HTTP long-polling session, over an HTTP/1.1
// client of its own, cheaper than net/http's: one keep-alive connection
// carries its GETs, which one goroutine makes, another its POSTs, which
// the server refuses to overlap and mu serialises. Requests are written
// whole from bytes prepared once; answers are read with readPollResponse
// into buffers kept across requests. close closes both connections,
// which ends a pending GET.
type pollLink struct {
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	target       pollTarget
	getReq       []byte // the whole GET request, with the session id
	postHead     []byte // the POST request up to its Content-Length's value
	writeTimeout time.Duration
	ctx          context.Context // canceled by close; bounds the dials
	cancel       context.CancelFunc

	// The poller's. get is written under connMu.
	deadline time.Time
	get      *pollConn
	body     []byte
	pending  []byte // packets that came with the open packet

	// mu serialises the POSTs and guards post (also written under
	// connMu), postReq and postBody.
	mu       sync.Mutex
	post     *pollConn
	postReq  []byte
	postBody []byte

	// connMu guards closed and the writes of get and post.
	connMu sync.Mutex
	closed bool
}

var _ link = (*pollLink)(nil)

// pollTarget is where a node's polling requests go.
type pollTarget struct {
	addr string      // host:port, to dial
	host string      // the Host header
	uri  string      // the handshake's request target
	tls  *tls.Config // for https; nil for http
}

// newPollTarget makes the target of pollURL, an http or https URL.
func newPollTarget(pollURL string) (pollTarget, error) {
	u, err := url.Parse(pollURL)
	if err != nil {
		return pollTarget{}, fmt.Errorf("polling URL: %w", err)
	}
	t := pollTarget{host: u.Host, uri: u.RequestURI()}
	port := u.Port()
	switch {
	case u.Scheme == "https":
		t.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}
		if port == "" {
			port = "443"
		}
	case port == "":
		port = "80"
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	return t, nil
}

// request returns a request without a body for target uri, whole.
func (t pollTarget) request(method, uri string) []byte {
	return []byte(method + " " + uri + " HTTP/1.1\r\nHost: " + t.host + "\r\n\r\n")
}

// postHead returns a POST to uri up to its Content-Length's value.
func (t pollTarget) postHead(uri string) []byte {
	return []byte("POST " + uri + " HTTP/1.1\r\nHost: " + t.host +
		"\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ")
}

// pollConn is one keep-alive HTTP/1.1 connection of a polling link, used
// by one goroutine at a time; only nc.Close may be called by another.
type pollConn struct {
	nc       net.Conn
	br       *bufio.Reader
	deadline time.Time // the last set
	used     bool      // it has carried an answer
}

// roundTrip writes req and reads the answer's body into buf's storage,
// by deadline (none if zero). idle reports that nothing of an answer came
// on a connection that had carried one: the server may have closed it
// while idle, before reading req.
func (pc *pollConn) roundTrip(req []byte, deadline time.Time, buf []byte) (resp pollResponse, idle bool, err error) {
	if !deadline.Equal(pc.deadline) {
		if err := pc.nc.SetDeadline(deadline); err != nil {
			return resp, false, err
		}
		pc.deadline = deadline
	}
	if _, err := pc.nc.Write(req); err != nil {
		return resp, pc.used, err
	}
	if _, err := pc.br.Peek(1); err != nil {
		return resp, pc.used, err
	}
	resp, err = readPollResponse(pc.br, buf, maxFrame)
	pc.used = true
	return resp, false, err
}

// dialPolling does client c's Engine.IO handshake over polling within ctx
// and returns the open packet. A slow reader needs nothing special: it
// stops polling.
func dialPolling(ctx context.Context, c *client) (link, []byte, error) {
	r := c.r
	target, err := newPollTarget(r.nodes.nodes[c.node].pollURL)
	if err != nil {
		return nil, nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &pollLink{
		dial:         r.dialTCP,
		target:       target,
		writeTimeout: r.cfg.WriteTimeout,
		ctx:          lctx,
		cancel:       cancel,
	}
	if d, ok := ctx.Deadline(); ok {
		l.deadline = d
	}
	stop := context.AfterFunc(ctx, l.shut)
	body, err := l.roundTrip(&l.get, http.MethodGet, target.request(http.MethodGet, target.uri), l.deadline, nil, getReadBufferSize)
	if !stop() || err != nil {
		l.shut()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	open, pending, _ := bytes.Cut(body, []byte{eioparser.PayloadSeparator})
	info, err := parseOpen(open)
	if err != nil {
		l.shut()
		return nil, nil, err
	}
	uri := target.uri + "&sid=" + url.QueryEscape(info.SID)
	l.getReq = target.request(http.MethodGet, uri)
	l.postHead = target.postHead(uri)
	// The open packet and pending are the handshake's body, which the
	// first poll reuses once they are handled.
	l.body = body[:0]
	l.pending = pending
	return l, open, nil
}

// roundTrip makes one request over the connection in slot, dialing it if
// there is none, and returns the body, read into buf's storage, of its
// 200 answer. A connection that failed, or that the server closes, is
// dropped, to be dialed again by the next request. A request that had no
// answer on a connection that had carried some is sent again once, on a
// new connection: the server had closed the idle connection.
func (l *pollLink) roundTrip(slot **pollConn, method string, req []byte, deadline time.Time, buf []byte, bufSize int) ([]byte, error) {
	for retried := false; ; retried = true {
		pc := *slot
		if pc == nil {
			var err error
			if pc, err = l.connect(slot, deadline, bufSize); err != nil {
				return buf, err
			}
		}
		resp, idle, err := pc.roundTrip(req, deadline, buf)
		if resp.body != nil {
			buf = resp.body
		}
		if err != nil || resp.close {
			l.drop(slot)
		}
		switch {
		case resp.status != 0 && resp.status != http.StatusOK:
			return buf, fmt.Errorf("%w: %s: HTTP %d", ErrStatus, method, resp.status)
		case err != nil && l.ctx.Err() != nil:
			return buf, fmt.Errorf("polling %s: %w", method, l.ctx.Err())
		case err != nil && idle && !retried && idleClosed(err):
			continue
		case err != nil:
			return buf, err
		}
		return buf, nil
	}
}

// idleClosed reports whether err is what a connection the server closed
// gives.
func idleClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// connect dials a connection into slot, by deadline.
func (l *pollLink) connect(slot **pollConn, deadline time.Time, bufSize int) (*pollConn, error) {
	ctx := l.ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	nc, err := l.dial(ctx, "tcp", l.target.addr)
	if err != nil {
		return nil, err
	}
	if l.target.tls != nil {
		tc := tls.Client(nc, l.target.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("polling TLS handshake: %w", err)
		}
		nc = tc
	}
	pc := &pollConn{nc: nc, br: bufio.NewReaderSize(nc, bufSize)}
	l.connMu.Lock()
	defer l.connMu.Unlock()
	if l.closed {
		nc.Close()
		return nil, fmt.Errorf("polling: %w", context.Canceled)
	}
	*slot = pc
	return pc, nil
}

// drop closes the connection in slot and empties it.
func (l *pollLink) drop(slot **pollConn) {
	l.connMu.Lock()
	pc := *slot
	*slot = nil
	l.connMu.Unlock()
	if pc != nil {
		pc.nc.Close()
	}
}

// shut cancels the link and closes its connections, which ends what is
// pending on them.
func (l *pollLink) shut() {
	l.cancel()
	l.connMu.Lock()
	defer l.connMu.Unlock()
	l.closed = true
	for _, pc := range []*pollConn{l.get, l.post} {
		if pc != nil {
			pc.nc.Close()
		}
	}
}

func (l *pollLink) readLoop(handle func(pkt []byte) bool) error {
	payload := l.pending
	l.pending = nil
	for {
		for len(payload) > 0 {
			var p []byte
			p, payload, _ = bytes.Cut(payload, []byte{eioparser.PayloadSeparator})
			if !handle(p) {
				return nil
			}
		}
		body, err := l.roundTrip(&l.get, http.MethodGet, l.getReq, l.deadline, l.body[:0], getReadBufferSize)
		l.body = body
		if err != nil {
			return err
		}
		payload = body
	}
}

func (l *pollLink) write(pkt []byte) error {
	return l.postPayload(pkt, l.writeTimeout)
}

// postPayload POSTs payload, within timeout.
func (l *pollLink) postPayload(payload []byte, timeout time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	req := append(l.postReq[:0], l.postHead...)
	req = strconv.AppendInt(req, int64(len(payload)), 10)
	req = append(req, "\r\n\r\n"...)
	req = append(req, payload...)
	l.postReq = req
	body, err := l.roundTrip(&l.post, http.MethodPost, req, time.Now().Add(timeout), l.postBody[:0], postReadBufferSize)
	l.postBody = body
	return err
}

func (l *pollLink) extend(d time.Duration) { l.deadline = time.Now().Add(d) }

func (l *pollLink) close(goodbye bool, timeout time.Duration) {
	if goodbye {
		// Leave the namespace, then close the session, which answers the
		// pending GET.
		_ = l.postPayload(goodbyePayload, timeout)
	}
	l.shut()
}

// goodbyePayload leaves the namespace and closes the session.
var goodbyePayload = []byte{eioMessage, sioDisconnect, eioparser.PayloadSeparator, eioClose}

// probe polls once: the server answers at once if it has closed the
// session (an error status, or a close packet) or has something queued;
// otherwise it holds the request, and after quiet the session is taken as
// open. limit does not apply.
func (l *pollLink) probe(quiet, _ time.Duration) error {
	deadline := time.Now().Add(quiet)
	body, err := l.roundTrip(&l.get, http.MethodGet, l.getReq, deadline, l.body[:0], getReadBufferSize)
	l.body = body
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && l.ctx.Err() == nil:
		return nil // held until quiet: still open
	case err != nil:
		return err
	}
	for payload := body; len(payload) > 0; {
		var p []byte
		p, payload, _ = bytes.Cut(payload, []byte{eioparser.PayloadSeparator})
		if len(p) > 0 && p[0] == eioClose {
			return ErrServerClose
		}
	}
	return nil
}
