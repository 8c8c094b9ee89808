package sioclient

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/sioparser"
)

// Client is a Socket.IO connection: namespaces multiplexed over one
// EngineConn. It is safe for concurrent use.
type Client struct {
	ec       *EngineConn
	reasm    *sioparser.PacketReassembler // used by the read loop only
	loopDone chan struct{}

	mu      sync.Mutex
	sockets map[string]*Socket // by namespace
}

// Dial opens a Socket.IO connection to rawURL (see DialEngine). It joins no
// namespace: call Connect, or Socket then Socket.Connect.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Client, error) {
	ec, err := DialEngine(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	c := &Client{
		ec:       ec,
		reasm:    sioparser.NewPacketReassembler(ec.opts.MaxAttachmentBytes),
		loopDone: make(chan struct{}),
		sockets:  make(map[string]*Socket),
	}
	go c.readLoop()
	return c, nil
}

// Engine returns the underlying Engine.IO connection, for sending raw
// packets. Reading from it would steal the Client's packets.
func (c *Client) Engine() *EngineConn { return c.ec }

// Done is closed when the connection has ended and every handler has
// returned.
func (c *Client) Done() <-chan struct{} { return c.loopDone }

// Close disconnects every socket (reason ReasonClientDisconnect), closes
// the connection (see EngineConn.Close) and waits for the read loop to
// end. It must not be called from a handler.
func (c *Client) Close() error {
	c.mu.Lock()
	sockets := make([]*Socket, 0, len(c.sockets))
	for _, so := range c.sockets {
		sockets = append(sockets, so)
	}
	c.mu.Unlock()
	for _, so := range sockets {
		so.end(ReasonClientDisconnect)
	}
	err := c.ec.Close()
	<-c.loopDone
	return err
}

// Socket returns the socket of namespace nsp, creating it unconnected on
// first use, so that handlers can be set before Socket.Connect.
func (c *Client) Socket(nsp string) *Socket {
	if nsp == "" {
		nsp = "/"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	so := c.sockets[nsp]
	if so == nil {
		so = &Socket{c: c, nsp: nsp, handlers: make(map[string]Handler)}
		c.sockets[nsp] = so
	}
	return so
}

// Connect joins namespace nsp with auth (nil for none) and returns its
// socket. A refusal is returned as a *ConnectError.
func (c *Client) Connect(ctx context.Context, nsp string, auth any) (*Socket, error) {
	so := c.Socket(nsp)
	if err := so.Connect(ctx, auth); err != nil {
		return nil, err
	}
	return so, nil
}

// SendPacket encodes p and sends it with its attachments, as they are: for
// protocol tests.
func (c *Client) SendPacket(p *sioparser.Packet) error {
	msgs := make([]eioparser.Packet, 0, 1+len(p.Attachments))
	msgs = append(msgs, eioparser.Packet{Type: eioparser.PacketMessage, Data: sioparser.EncodePacket(nil, p)})
	for _, a := range p.Attachments {
		msgs = append(msgs, eioparser.Packet{Type: eioparser.PacketMessage, Data: a, Binary: true})
	}
	return c.ec.Send(msgs...)
}

// readLoop decodes and dispatches packets until the connection ends.
func (c *Client) readLoop() {
	defer close(c.loopDone)
	reason := ReasonTransportClose
	for {
		m, err := c.ec.Read(context.Background())
		if err != nil {
			break
		}
		var p *sioparser.Packet
		if m.Binary {
			p, err = c.reasm.AddBinary(m.Data)
		} else {
			p, err = c.reasm.AddText(m.Data)
		}
		if err != nil {
			reason = ReasonParseError
			c.ec.teardown(fmt.Errorf("sioclient: %w", err))
			break
		}
		if p != nil {
			c.dispatch(p)
		}
	}
	c.mu.Lock()
	sockets := make([]*Socket, 0, len(c.sockets))
	for _, so := range c.sockets {
		sockets = append(sockets, so)
	}
	c.mu.Unlock()
	for _, so := range sockets {
		so.end(reason)
	}
}

// dispatch hands one packet to its socket.
func (c *Client) dispatch(p *sioparser.Packet) {
	c.mu.Lock()
	so := c.sockets[p.Namespace]
	c.mu.Unlock()
	if so == nil {
		return
	}
	switch p.Type {
	case sioparser.PacketConnect:
		so.onConnect(p)
	case sioparser.PacketConnectError:
		so.onConnectError(p)
	case sioparser.PacketDisconnect:
		so.end(ReasonServerDisconnect)
	case sioparser.PacketEvent, sioparser.PacketBinaryEvent:
		so.onEvent(p)
	case sioparser.PacketAck, sioparser.PacketBinaryAck:
		so.onAck(p)
	}
}

// encodeEvent encodes an event or ack whose arguments are args; with
// attachments, its type becomes the binary one.
func encodeEvent(t sioparser.PacketType, nsp string, args []any) (*sioparser.Packet, error) {
	data, atts, err := sioparser.AppendEventArgs(nil, nil, args...)
	if err != nil {
		return nil, fmt.Errorf("sioclient: %w", err)
	}
	p := &sioparser.Packet{Type: t, Namespace: nsp, Data: data, Attachments: atts}
	if len(atts) > 0 {
		if t == sioparser.PacketEvent {
			p.Type = sioparser.PacketBinaryEvent
		} else {
			p.Type = sioparser.PacketBinaryAck
		}
	}
	return p, nil
}

// rawJSON returns v as JSON, as is when it is a json.RawMessage or []byte.
func rawJSON(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sioclient: encoding auth: %w", err)
	}
	return b, nil
}
