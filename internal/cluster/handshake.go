package cluster

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
)

// handshakeJSON is the reference server's handshake object, as
// FETCH_SOCKETS_RESPONSE carries it.
type handshakeJSON struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  int64           `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth"`
}

// dateLayout is how JavaScript's Date.prototype.toString writes a time.
const dateLayout = "Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"

// handshakeValue describes h as the reference does: header names in lower
// case, repeated headers and query parameters joined as Node.js joins them.
func handshakeValue(h *socketio.Handshake) wire.Value {
	hj := handshakeJSON{
		Headers: make(map[string]any, len(h.Headers)),
		Time:    h.Time.Format(dateLayout),
		Address: h.Address,
		XDomain: h.Headers.Get("Origin") != "",
		Secure:  h.Secure,
		Issued:  h.Time.UnixMilli(),
		Query:   map[string]any{},
		Auth:    h.Auth,
	}
	if host, _, err := net.SplitHostPort(h.Address); err == nil {
		hj.Address = host
	}
	for k, v := range h.Headers {
		k = strings.ToLower(k)
		if k == "set-cookie" {
			hj.Headers[k] = v
		} else {
			hj.Headers[k] = strings.Join(v, ", ")
		}
	}
	if h.URL != nil {
		hj.URL = h.URL.RequestURI()
		for k, v := range h.URL.Query() {
			if len(v) == 1 {
				hj.Query[k] = v[0]
			} else {
				hj.Query[k] = v
			}
		}
	}
	if len(hj.Auth) == 0 {
		hj.Auth = json.RawMessage("{}")
	}
	b, err := json.Marshal(hj)
	if err != nil {
		b = []byte("{}")
	}
	return wire.Value{JSON: b}
}

// handshakeOf reads what it can of a handshake object.
func handshakeOf(v wire.Value) socketio.Handshake {
	var hj handshakeJSON
	_ = json.Unmarshal(jsonOf(v), &hj)
	h := socketio.Handshake{Auth: hj.Auth, Headers: http.Header{}, Address: hj.Address, Secure: hj.Secure}
	if len(h.Auth) == 0 {
		h.Auth = json.RawMessage("{}")
	}
	for k, v := range hj.Headers {
		switch v := v.(type) {
		case string:
			h.Headers.Add(k, v)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					h.Headers.Add(k, s)
				}
			}
		}
	}
	if u, err := url.ParseRequestURI(hj.URL); err == nil {
		h.URL = u
	} else {
		h.URL = &url.URL{Path: "/"}
	}
	if hj.Issued > 0 {
		h.Time = time.UnixMilli(hj.Issued)
	} else if t, err := time.Parse(dateLayout, hj.Time); err == nil {
		h.Time = t
	}
	return h
}

// infoOf describes a local socket for another node.
func infoOf(so *socketio.Socket) wire.SocketInfo {
	d := so.Describe()
	return wire.SocketInfo{ID: d.ID, Handshake: handshakeValue(&d.Handshake), Rooms: d.Rooms, Data: wire.Value{JSON: d.Data}}
}

// remoteOf describes another node's socket.
func remoteOf(s *wire.SocketInfo) socketio.RemoteSocket {
	return socketio.RemoteSocket{ID: s.ID, Rooms: s.Rooms, Handshake: handshakeOf(s.Handshake), Data: jsonOf(s.Data)}
}

// jsonOf returns v as plain JSON: its binary values, if any, as base64
// strings, as encoding/json writes a []byte.
func jsonOf(v wire.Value) json.RawMessage {
	if len(v.Attachments) == 0 {
		return v.JSON
	}
	m := sioparser.Message{Args: []json.RawMessage{v.JSON}, Attachments: v.Attachments}
	val, err := m.Decode(0)
	if err != nil {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(val)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
