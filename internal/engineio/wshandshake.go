package engineio

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/netpoll"
)

// acceptGUID is the key suffix of the opening handshake (RFC 6455, 1.3).
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// handshakeTimeout bounds the write of the handshake response.
const handshakeTimeout = 10 * time.Second

// accept upgrades r to a WebSocket connection (RFC 6455, 4.2), answering
// the client itself when the request is not a valid opening handshake: a
// GET of HTTP/1.1 or later (4.1) asking for an upgrade to WebSocket,
// version 13, with exactly one key. No extension or subprotocol is
// negotiated. The request's origin has been checked already.
func (srv *Server) accept(w http.ResponseWriter, r *http.Request) (*wsConn, error) {
	keys := r.Header.Values("Sec-WebSocket-Key")
	switch {
	case r.Method != http.MethodGet, !isUpgradeRequest(r):
		writeError(w, errBadRequest)
		return nil, fmt.Errorf("websocket handshake: not an upgrade request")
	case !r.ProtoAtLeast(1, 1):
		writeError(w, errBadRequest)
		return nil, fmt.Errorf("websocket handshake: %s", r.Proto)
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		w.Header().Set("Sec-WebSocket-Version", "13")
		writeError(w, requestError{http.StatusUpgradeRequired, errBadRequest.code, "Unsupported WebSocket version"})
		return nil, fmt.Errorf("websocket handshake: version %q", r.Header.Get("Sec-WebSocket-Version"))
	case len(keys) != 1 || !validKey(keys[0]):
		writeError(w, errBadRequest)
		return nil, fmt.Errorf("websocket handshake: invalid key %q", keys)
	}
	key := keys[0]
	h, ok := w.(http.Hijacker)
	if !ok {
		writeError(w, errBadRequest)
		return nil, fmt.Errorf("websocket handshake: connection cannot be taken over")
	}
	nc, brw, err := h.Hijack()
	if err != nil {
		return nil, fmt.Errorf("websocket handshake: hijack: %w", err)
	}
	ws := newWSConn(nc, srv.cfg.MaxPayload)
	if tc, ok := nc.(interface{ SetWriteBuffer(int) error }); ok && srv.cfg.SendBuffer > 0 {
		if err := tc.SetWriteBuffer(srv.cfg.SendBuffer); err != nil {
			srv.log.Debug("setting the send buffer", logKeyError, err)
		}
	}
	// A client may send frames right behind its request: they sit in
	// net/http's reader, which is dropped along with its 4 KiB buffer.
	if n := brw.Reader.Buffered(); n > 0 {
		ws.early, _ = brw.Reader.Peek(n)
		ws.early = append([]byte(nil), ws.early...)
	}
	resp := make([]byte, 0, 160)
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = append(resp, acceptKey(key)...)
	resp = append(resp, "\r\n"...)
	resp = appendSetCookies(resp, w.Header())
	resp = append(resp, "\r\n"...)
	if err := ws.writeFrames(resp, handshakeTimeout); err != nil {
		ws.close()
		return nil, fmt.Errorf("websocket handshake: write response: %w", err)
	}
	return ws, nil
}

// appendSetCookies appends to resp the Set-Cookie header lines that a
// handler in front of the server set on h, which the response written by
// hand would otherwise lose: a browser keeps the cookies of a WebSocket
// handshake's response as it does those of any other. A value that would
// break the response (a line break in it) is dropped.
func appendSetCookies(resp []byte, h http.Header) []byte {
	for _, v := range h.Values("Set-Cookie") {
		if strings.ContainsAny(v, "\r\n") {
			continue
		}
		resp = append(resp, "Set-Cookie: "...)
		resp = append(resp, v...)
		resp = append(resp, "\r\n"...)
	}
	return resp
}

func newWSConn(nc net.Conn, maxMessage int) *wsConn {
	ws := &wsConn{nc: nc, reader: frameReader{maxMessage: maxMessage}}
	// The raw connection serves the poller's non-blocking reads and
	// writes; without a poller, plain reads and writes do.
	if sc, ok := nc.(syscall.Conn); ok && netpoll.Supported {
		if rc, err := sc.SyscallConn(); err == nil {
			ws.rc = rc
		}
	}
	return ws
}

// isUpgradeRequest reports whether r asks for a WebSocket connection.
func isUpgradeRequest(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

// validKey reports whether key is a Sec-WebSocket-Key: 16 bytes in base64.
func validKey(key string) bool {
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

// acceptKey returns the Sec-WebSocket-Accept value for key.
func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// headerHasToken reports whether the comma-separated header name lists
// token, ignoring case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
