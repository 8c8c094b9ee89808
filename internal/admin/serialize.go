package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"

	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/socketio"
)

// serializedSocket is a socket as the UI knows it (the reference's
// SerializedSocket).
type serializedSocket struct {
	ID        string          `json:"id"`
	ClientID  string          `json:"clientId"`
	Transport string          `json:"transport"`
	Nsp       string          `json:"nsp"`
	Data      json.RawMessage `json:"data"`
	Handshake handshake       `json:"handshake"`
	Rooms     []string        `json:"rooms"`
}

// handshake is what the UI shows of a socket's handshake: the reference's
// fields but auth, which holds credentials.
type handshake struct {
	Address string            `json:"address"`
	Headers map[string]string `json:"headers"`
	Query   map[string]string `json:"query"`
	Issued  int64             `json:"issued"`
	Secure  bool              `json:"secure"`
	Time    string            `json:"time"`
	URL     string            `json:"url"`
	XDomain bool              `json:"xdomain"`
}

// clientIDLength is how much of a connection's id the UI is told: its id
// lets a polling client act as the connection, so the reference, too,
// gives only the first 12 characters.
const clientIDLength = 12

// hiddenHeaders are the handshake headers the UI is not shown: they hold
// the clients' credentials (parley's guest token, a host application's
// token), which the reference would show.
var hiddenHeaders = map[string]bool{"cookie": true, "authorization": true}

// dateLayout is how JavaScript's Date.prototype.toString writes a time,
// as the reference's handshake.time is.
const dateLayout = "Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"

// serializeLocal describes a socket of this node.
func serializeLocal(so *socketio.Socket) serializedSocket {
	s := serialize(so.ID(), so.Namespace().Name(), so.Handshake(), so.Rooms(), dataOf(so))
	s.ClientID = shortID(so.ClientID())
	s.Transport = so.Transport()
	return s
}

// serializeRemote describes a socket that FetchSockets returned, of this
// node or another. Another node's socket has no connection id or
// transport on the wire: its client is taken to be the socket alone.
func serializeRemote(nsp *socketio.Namespace, r *socketio.RemoteSocket) serializedSocket {
	if so := nsp.Socket(r.ID); so != nil {
		return serializeLocal(so)
	}
	s := serialize(r.ID, nsp.Name(), &r.Handshake, r.Rooms, objectOf(r.Data))
	s.ClientID = shortID(r.ID)
	return s
}

func serialize(id, nsp string, h *socketio.Handshake, rooms []string, data json.RawMessage) serializedSocket {
	if rooms == nil {
		rooms = []string{}
	}
	hs := handshake{
		Address: displayAddress(h),
		Headers: make(map[string]string, len(h.Headers)),
		Query:   map[string]string{},
		Issued:  h.Time.UnixMilli(),
		Secure:  h.Secure,
		Time:    h.Time.Format(dateLayout),
		XDomain: h.Headers.Get("Origin") != "",
	}
	for k, v := range h.Headers {
		if k = strings.ToLower(k); !hiddenHeaders[k] {
			hs.Headers[k] = strings.Join(v, ", ")
		}
	}
	if h.URL != nil {
		hs.URL = h.URL.RequestURI()
		for k, v := range h.URL.Query() {
			hs.Query[k] = strings.Join(v, ",")
		}
	}
	return serializedSocket{ID: id, Nsp: nsp, Data: data, Handshake: hs, Rooms: rooms}
}

func shortID(id string) string {
	if len(id) > clientIDLength {
		return id[:clientIDLength]
	}
	return id
}

// displayAddress is the address the UI shows for a client, as the
// reference picks it: a proxy's Cf-Connecting-Ip or X-Forwarded-For, or
// the peer's IP address. It is shown, never trusted.
func displayAddress(h *socketio.Handshake) string {
	if v := h.Headers.Get("Cf-Connecting-Ip"); v != "" {
		return v
	}
	if v := h.Headers.Get("X-Forwarded-For"); v != "" {
		return v
	}
	if host, _, err := net.SplitHostPort(h.Address); err == nil {
		return host
	}
	return h.Address
}

// remoteAddress is the default Config.ClientAddress: the peer's IP
// address (an IPv6 /64), "" when it has none.
func remoteAddress(h *socketio.Handshake) string {
	key, _, ok := ratelimit.ParseAddr(h.Address)
	if !ok {
		return ""
	}
	if key.Addr().Is4() {
		return key.Addr().String()
	}
	return key.String()
}

// dataOf returns what SetData attached to so, as the UI shows data: a
// JSON object.
func dataOf(so *socketio.Socket) json.RawMessage {
	b, err := json.Marshal(so.Data())
	if err != nil {
		return json.RawMessage("{}")
	}
	return objectOf(b)
}

// objectOf returns data as a JSON object: itself when it is one, {} for
// null, and any other value as {"value": data}.
func objectOf(data json.RawMessage) json.RawMessage {
	d := bytes.TrimSpace(data)
	switch {
	case len(d) == 0 || bytes.Equal(d, []byte("null")):
		return json.RawMessage("{}")
	case d[0] == '{':
		return d
	}
	return json.RawMessage(append(append([]byte(`{"value":`), d...), '}'))
}

// allSockets describes every socket of every namespace, on every node:
// those that answered by the end of ctx.
func (a *Admin) allSockets(ctx context.Context) []serializedSocket {
	list := []serializedSocket{}
	for _, nsp := range a.srv.Namespaces() {
		sockets, err := nsp.FetchSockets(ctx)
		if err != nil {
			a.log.Warn("admin: some node did not tell its sockets", "nsp", nsp.Name(), "err", err)
		}
		for i := range sockets {
			list = append(list, serializeRemote(nsp, &sockets[i]))
		}
	}
	return list
}
