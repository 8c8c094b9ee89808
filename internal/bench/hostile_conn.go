package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// WebSocket opcodes, as the hostile client reads and writes them.
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// rawFrameLimit bounds a frame the hostile client reads.
const rawFrameLimit = 8 << 20

// rawConn is one of the hostile client's connections: raw TCP, on which
// it writes what it likes, HTTP or WebSocket frames, and reads what the
// server answers. It is closed when the context it was dialed with ends.
// One goroutine reads; writes may come from another.
type rawConn struct {
	c    net.Conn
	br   *bufio.Reader
	stop func() bool
}

// dialRaw opens a TCP connection to the server, with control (if not nil)
// as the dialer's Control.
func (h *hostile) dialRaw(ctx context.Context, control func(network, address string, c syscall.RawConn) error) (*rawConn, error) {
	d := net.Dialer{Timeout: hostileStepTimeout, Control: control}
	c, err := d.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	rc := &rawConn{c: c, br: bufio.NewReaderSize(c, 16<<10)}
	rc.stop = context.AfterFunc(ctx, func() { _ = c.Close() })
	return rc, nil
}

// close closes the connection.
func (rc *rawConn) close() {
	rc.stop()
	_ = rc.c.Close()
}

// write writes b within hostileStepTimeout.
func (rc *rawConn) write(b []byte) error {
	_ = rc.c.SetWriteDeadline(time.Now().Add(hostileStepTimeout))
	_, err := rc.c.Write(b)
	return err
}

// readResponse reads an HTTP response's status and headers, within d.
func (rc *rawConn) readResponse(d time.Duration) (int, textproto.MIMEHeader, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(d))
	tp := textproto.NewReader(rc.br)
	line, err := tp.ReadLine()
	if err != nil {
		return 0, nil, err
	}
	_, status, ok := strings.Cut(line, " ")
	code, err := strconv.Atoi(strings.SplitN(status, " ", 2)[0])
	if !ok || err != nil {
		return 0, nil, fmt.Errorf("status line %.80q", line)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return code, nil, err
	}
	return code, hdr, nil
}

// wsKey is a fresh Sec-WebSocket-Key.
func wsKey() string {
	var k [16]byte
	_, _ = rand.Read(k[:])
	return base64.StdEncoding.EncodeToString(k[:])
}

// upgradeRequest is a WebSocket handshake of Engine.IO's endpoint, over
// proto (HTTP/1.1, HTTP/1.0), with extra header lines.
func (h *hostile) upgradeRequest(proto string, extra ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s?EIO=4&transport=websocket %s\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
		h.path, proto, h.addr, wsKey())
	for _, l := range extra {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// wsOpen opens a WebSocket to Engine.IO and reads its open packet.
func (h *hostile) wsOpen(ctx context.Context, control func(network, address string, c syscall.RawConn) error) (*rawConn, error) {
	rc, err := h.dialRaw(ctx, control)
	if err != nil {
		return nil, err
	}
	if err := rc.write(h.upgradeRequest("HTTP/1.1")); err != nil {
		rc.close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	code, _, err := rc.readResponse(hostileStepTimeout)
	if err == nil && code != 101 {
		err = fmt.Errorf("handshake answered %d", code)
	}
	if err == nil {
		var p []byte
		if _, p, err = rc.readFrame(hostileStepTimeout); err == nil && (len(p) == 0 || p[0] != eioOpen) {
			err = fmt.Errorf("%w: %.80q", ErrHandshake, p)
		}
	}
	if err != nil {
		rc.close()
		return nil, err
	}
	return rc, nil
}

// wsJoin opens a WebSocket and connects to namespace "/".
func (h *hostile) wsJoin(ctx context.Context) (*rawConn, error) {
	rc, err := h.wsOpen(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := rc.writeText(connectFrame); err != nil {
		rc.close()
		return nil, err
	}
	_, err = rc.readUntil(hostileStepTimeout, func(p []byte) bool {
		return len(p) >= 2 && p[0] == eioMessage && p[1] == sioConnect
	})
	if err != nil {
		rc.close()
		return nil, fmt.Errorf("connect to /: %w", err)
	}
	return rc, nil
}

// appendFrame appends a masked client frame.
func appendFrame(dst []byte, fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	dst = append(dst, b0)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n < 1<<16:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	dst = append(dst, key[:]...)
	for i, c := range payload {
		dst = append(dst, c^key[i&3])
	}
	return dst
}

// writeText writes one text frame.
func (rc *rawConn) writeText(p []byte) error { return rc.write(appendFrame(nil, true, opText, p)) }

// closePayload is a close frame's payload: code, then reason.
func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// readFrame reads the server's next frame, within d. Fragments are
// returned as they come.
func (rc *rawConn) readFrame(d time.Duration) (op byte, payload []byte, err error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(d))
	var hdr [2]byte
	if _, err := io.ReadFull(rc.br, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(rc.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(rc.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > rawFrameLimit {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(rc.br, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0] & 0x0F, payload, nil
}

// readUntil reads text frames, answering Engine.IO pings, until done
// returns true for one (it returns that packet), the server closes the
// connection, or d passes.
func (rc *rawConn) readUntil(d time.Duration, done func(p []byte) bool) ([]byte, error) {
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil, errStepTimeout
		}
		op, p, err := rc.readFrame(left)
		switch {
		case err != nil:
			return nil, err
		case op == opClose:
			return nil, fmt.Errorf("%w: close frame %s", errClosedByServer, closeCode(p))
		case op != opText:
			continue
		case len(p) == 1 && p[0] == eioPing:
			if err := rc.writeText([]byte{eioPong}); err != nil {
				return nil, err
			}
		case len(p) == 1 && p[0] == eioClose:
			return nil, fmt.Errorf("%w: engine.io close", errClosedByServer)
		case done(p):
			return p, nil
		}
	}
}

// closeCode formats a close frame's code.
func closeCode(p []byte) string {
	if len(p) < 2 {
		return "without a code"
	}
	return strconv.Itoa(int(binary.BigEndian.Uint16(p)))
}

// ended reports whether err shows the connection ended: end of file, a
// reset, a close frame or packet.
func ended(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, errClosedByServer) || errors.Is(err, net.ErrClosed)
}
