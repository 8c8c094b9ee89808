package sioclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/eioparser"
)

// dialWebSocket dials the WebSocket endpoint, with the session id once
// there is one.
func (c *EngineConn) dialWebSocket(ctx context.Context) (*websocket.Conn, error) {
	ws, resp, err := c.opts.Dialer.DialContext(ctx, c.requestURL(TransportWebSocket), c.opts.Header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("sioclient: websocket dial: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("sioclient: websocket dial: %w", err)
	}
	return ws, nil
}

// readDeadline is ctx's deadline, or the write timeout from now.
func (c *EngineConn) readDeadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(c.opts.WriteTimeout)
}

// openWebSocket does the handshake over WebSocket and starts the reader.
func (c *EngineConn) openWebSocket(ctx context.Context) error {
	ws, err := c.dialWebSocket(ctx)
	if err != nil {
		return err
	}
	_ = ws.SetReadDeadline(c.readDeadline(ctx))
	mt, data, err := ws.ReadMessage()
	if err != nil || mt != websocket.TextMessage {
		_ = ws.Close()
		return fmt.Errorf("%w: reading open packet: %v", ErrHandshake, err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	p, err := eioparser.DecodeText(data)
	if err == nil {
		err = c.handshake(p)
	}
	if err != nil {
		_ = ws.Close()
		return err
	}
	c.transport = TransportWebSocket
	c.ws = ws
	c.wg.Add(1)
	go c.readWebSocket(ws)
	return nil
}

// readWebSocket reads frames until the connection ends.
func (c *EngineConn) readWebSocket(ws *websocket.Conn) {
	defer c.wg.Done()
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure {
				err = ErrServerClosed
			} else {
				err = fmt.Errorf("sioclient: websocket read: %w", err)
			}
			c.teardown(err)
			return
		}
		if mt == websocket.BinaryMessage {
			c.handle(eioparser.Packet{Type: eioparser.PacketMessage, Data: data, Binary: true})
			continue
		}
		p, err := eioparser.DecodeText(data)
		if err != nil {
			c.teardown(fmt.Errorf("sioclient: websocket read: %w", err))
			return
		}
		if c.handle(p) {
			return
		}
	}
}

// writeWebSocket writes a batch, one frame per entry.
func (c *EngineConn) writeWebSocket(ws *websocket.Conn, batch []outgoing) error {
	if err := ws.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout)); err != nil {
		return fmt.Errorf("sioclient: websocket write: %w", err)
	}
	for _, o := range batch {
		if err := writeFrame(ws, o); err != nil {
			return fmt.Errorf("sioclient: websocket write: %w", err)
		}
	}
	return nil
}

func writeFrame(ws *websocket.Conn, o outgoing) error {
	mt := websocket.TextMessage
	if o.pkt.Binary {
		mt = websocket.BinaryMessage
	}
	w, err := ws.NextWriter(mt)
	if err != nil {
		return err
	}
	if !o.raw && !o.pkt.Binary {
		if _, err := w.Write([]byte{byte(o.pkt.Type)}); err != nil {
			return err
		}
	}
	if _, err := w.Write(o.pkt.Data); err != nil {
		return err
	}
	return w.Close()
}

// Upgrade moves a polling connection to WebSocket: it probes a WebSocket
// connection, waits until the writer and the poll loop are idle, then sends
// the upgrade packet. Packets sent meanwhile are queued and go out over
// WebSocket, in order. If the probe fails the connection stays on polling;
// a failure after it ends the connection.
func (c *EngineConn) Upgrade(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.closed || c.closing:
		c.mu.Unlock()
		return ErrClosed
	case c.transport != TransportPolling || c.upgrading:
		c.mu.Unlock()
		return fmt.Errorf("%w: not on polling", ErrUpgrade)
	}
	c.upgrading = true
	c.mu.Unlock()

	ws, err := c.probe(ctx)
	if err != nil {
		c.mu.Lock()
		c.upgrading = false
		c.probeWS = nil
		c.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrUpgrade, err)
	}

	// Stop the writer and the poll loop; the server answers the pending
	// poll with a noop.
	c.mu.Lock()
	c.paused = true
	c.stopPoll = true
	for c.busy && !c.closed {
		c.cond.Wait()
	}
	c.mu.Unlock()
	select {
	case <-c.pollDone:
	case <-ctx.Done():
		c.teardown(fmt.Errorf("%w: waiting for the last poll: %w", ErrUpgrade, ctx.Err()))
		return c.Err()
	}
	if err := writeFrame(ws, outgoing{pkt: eioparser.Packet{Type: eioparser.PacketUpgrade}}); err != nil {
		c.teardown(fmt.Errorf("%w: %w", ErrUpgrade, err))
		return c.Err()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.err
	}
	c.transport = TransportWebSocket
	c.ws = ws
	c.probeWS = nil
	c.paused = false
	c.upgrading = false
	c.cond.Broadcast()
	c.wg.Add(1)
	go c.readWebSocket(ws)
	return nil
}

// probe dials the WebSocket for an upgrade and exchanges the probe.
func (c *EngineConn) probe(ctx context.Context) (*websocket.Conn, error) {
	ws, err := c.dialWebSocket(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = ws.Close()
		return nil, ErrClosed
	}
	c.probeWS = ws
	c.mu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if err := writeFrame(ws, outgoing{pkt: eioparser.Packet{Type: eioparser.PacketPing, Data: []byte("probe")}}); err != nil {
		_ = ws.Close()
		return nil, err
	}
	_ = ws.SetReadDeadline(c.readDeadline(ctx))
	mt, data, err := ws.ReadMessage()
	if err != nil {
		_ = ws.Close()
		return nil, err
	}
	if mt != websocket.TextMessage || string(data) != "3probe" {
		_ = ws.Close()
		return nil, fmt.Errorf("probe answered with %q", data)
	}
	_ = ws.SetReadDeadline(time.Time{})
	return ws, nil
}
