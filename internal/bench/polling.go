package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
)

// pollLink is a client's HTTP long-polling session. One goroutine polls;
// POSTs, which the server refuses to overlap, are serialised by mu.
type pollLink struct {
	client       *http.Client
	url          string // the endpoint with the session id
	writeTimeout time.Duration
	ctx          context.Context // canceled by close
	cancel       context.CancelFunc

	// The poller's.
	deadline time.Time
	body     bytes.Buffer
	pending  []byte // packets that came with the open packet

	mu sync.Mutex
}

var _ link = (*pollLink)(nil)

// newHTTPClient returns the HTTP client of a run's polling connections,
// with room for each client's pending GET and its POST.
func newHTTPClient(clients int, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         dial,
		MaxIdleConnsPerHost: 2*clients + 16,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// dialPolling does client c's Engine.IO handshake over polling within ctx
// and returns the open packet. A slow reader needs nothing special: it
// stops polling.
func dialPolling(ctx context.Context, c *client) (link, []byte, error) {
	r := c.r
	pollURL := r.nodes.nodes[c.node].pollURL
	body, err := pollRequest(ctx, r.http, http.MethodGet, pollURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	open, pending, _ := bytes.Cut(body, []byte{eioparser.PayloadSeparator})
	info, err := parseOpen(open)
	if err != nil {
		return nil, nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &pollLink{
		client:       r.http,
		url:          pollURL + "&sid=" + url.QueryEscape(info.SID),
		writeTimeout: r.cfg.WriteTimeout,
		ctx:          lctx,
		cancel:       cancel,
		pending:      pending,
	}
	if d, ok := ctx.Deadline(); ok {
		l.deadline = d
	}
	return l, open, nil
}

// pollRequest makes one request and returns the body of its 200 answer.
func pollRequest(ctx context.Context, c *http.Client, method, endpoint string, body []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := doPoll(ctx, c, method, endpoint, body, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// doPoll makes one request and reads the body of its 200 answer into buf.
func doPoll(ctx context.Context, c *http.Client, method, endpoint string, body []byte, buf *bytes.Buffer) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxFrame+1))
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: %s: HTTP %d", ErrStatus, method, resp.StatusCode)
	case err != nil:
		return err
	case buf.Len() > maxFrame:
		return ErrFrameTooLarge
	}
	return nil
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
		ctx, cancel := context.WithDeadline(l.ctx, l.deadline)
		err := doPoll(ctx, l.client, http.MethodGet, l.url, nil, &l.body)
		cancel()
		if err != nil {
			return err
		}
		payload = l.body.Bytes()
	}
}

func (l *pollLink) write(pkt []byte) error {
	return l.post(pkt, l.writeTimeout)
}

func (l *pollLink) post(payload []byte, timeout time.Duration) error {
	// The transport may read the body after Do has returned an error:
	// give it its own copy.
	payload = bytes.Clone(payload)
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(l.ctx, timeout)
	defer cancel()
	var buf bytes.Buffer
	return doPoll(ctx, l.client, http.MethodPost, l.url, payload, &buf)
}

func (l *pollLink) extend(d time.Duration) { l.deadline = time.Now().Add(d) }

func (l *pollLink) close(goodbye bool, timeout time.Duration) {
	if goodbye {
		// Leave the namespace, then close the session, which answers the
		// pending GET.
		_ = l.post(goodbyePayload, timeout)
	}
	l.cancel()
}

// goodbyePayload leaves the namespace and closes the session.
var goodbyePayload = []byte{eioMessage, sioDisconnect, eioparser.PayloadSeparator, eioClose}

// probe polls once: the server answers at once if it has closed the
// session (an error status, or a close packet) or has something queued;
// otherwise it holds the request, and after quiet the session is taken as
// open. limit does not apply.
func (l *pollLink) probe(quiet, _ time.Duration) error {
	ctx, cancel := context.WithTimeout(l.ctx, quiet)
	defer cancel()
	err := doPoll(ctx, l.client, http.MethodGet, l.url, nil, &l.body)
	switch {
	case err != nil && ctx.Err() != nil && l.ctx.Err() == nil:
		return nil // held: still open
	case err != nil:
		return err
	}
	for payload := l.body.Bytes(); len(payload) > 0; {
		var p []byte
		p, payload, _ = bytes.Cut(payload, []byte{eioparser.PayloadSeparator})
		if len(p) > 0 && p[0] == eioClose {
			return ErrServerClose
		}
	}
	return nil
}
