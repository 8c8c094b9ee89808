package sioclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/parley-chat/parley/internal/eioparser"
)

// openPolling does the handshake over polling and starts the poll loop.
func (c *EngineConn) openPolling(ctx context.Context) error {
	body, err := c.roundTrip(ctx, http.MethodGet, nil)
	if err != nil {
		return err
	}
	packets, err := eioparser.DecodePayload(body)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	if err := c.handshake(packets[0]); err != nil {
		return err
	}
	c.transport = TransportPolling
	c.pollDone = make(chan struct{})
	for _, p := range packets[1:] {
		if c.handle(p) {
			close(c.pollDone)
			return c.Err()
		}
	}
	c.wg.Add(1)
	go c.pollLoop()
	return nil
}

// pollLoop sends GET requests, one at a time, until the connection ends or
// an upgrade stops it.
func (c *EngineConn) pollLoop() {
	defer c.wg.Done()
	defer close(c.pollDone)
	for {
		c.mu.Lock()
		stop := c.stopPoll || c.closed
		c.mu.Unlock()
		if stop {
			return
		}
		body, err := c.roundTrip(c.ctx, http.MethodGet, nil)
		if err != nil {
			c.teardown(err)
			return
		}
		packets, err := eioparser.DecodePayload(body)
		if err != nil {
			c.teardown(fmt.Errorf("sioclient: poll: %w", err))
			return
		}
		for _, p := range packets {
			if c.handle(p) {
				return
			}
		}
	}
}

// writePolling sends a batch as POST requests: packets together in one
// payload, raw entries each on their own.
func (c *EngineConn) writePolling(batch []outgoing) error {
	var payload []byte
	flush := func() error {
		if len(payload) == 0 {
			return nil
		}
		_, err := c.roundTrip(c.ctx, http.MethodPost, payload)
		payload = payload[:0]
		return err
	}
	for _, o := range batch {
		if !o.raw {
			payload = eioparser.AppendPayloadPacket(payload, o.pkt)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if _, err := c.roundTrip(c.ctx, http.MethodPost, o.pkt.Data); err != nil {
			return err
		}
	}
	return flush()
}

// roundTrip makes one polling request and returns the body of its 200
// answer.
func (c *EngineConn) roundTrip(ctx context.Context, method string, body []byte) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.requestURL(TransportPolling), r)
	if err != nil {
		return nil, fmt.Errorf("sioclient: %s: %w", method, err)
	}
	for k, vs := range c.opts.Header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sioclient: %s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Method: method, Code: resp.StatusCode, Body: string(data)}
	}
	if err != nil {
		return nil, fmt.Errorf("sioclient: %s: reading body: %w", method, err)
	}
	return data, nil
}
