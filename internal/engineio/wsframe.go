package engineio

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// More WebSocket opcodes and close codes (RFC 6455, sections 5.2 and 7.4).
const (
	opContinuation = 0x0
	opPing         = 0x9

	closeProtocolError = 1002
	closeInvalidData   = 1007
	closeTooBig        = 1009
)

// wsProtocolError is a client's breach of RFC 6455: the connection is closed
// with code.
type wsProtocolError struct {
	code uint16
	msg  string
}

func (e *wsProtocolError) Error() string { return "websocket: " + e.msg }

func protocolError(msg string) error { return &wsProtocolError{closeProtocolError, msg} }

// frameReader parses the frames a client sends as they arrive, in pieces of
// any size. It keeps bytes only while a frame or a fragmented message is
// incomplete: between messages it holds no buffer.
type frameReader struct {
	maxMessage int
	pending    []byte // the start of an incomplete frame
	msg        []byte // the payload so far of a fragmented message
	msgOp      byte   // its opcode; 0 when none is under way
}

// feed parses data, calling fn for each complete message (opText or
// opBinary, reassembled) and control frame (opPing, opPong, opClose), in
// order. fn owns the payload it is given. feed stops at fn's first error and
// returns it; it returns a *wsProtocolError when data breaks the protocol.
// After an error the reader must not be fed again.
func (r *frameReader) feed(data []byte, fn func(op byte, payload []byte) error) error {
	buf := data
	if len(r.pending) > 0 {
		r.pending = append(r.pending, data...)
		buf = r.pending
	}
	for len(buf) > 0 {
		n, err := r.frame(buf, fn)
		if err != nil {
			r.pending = nil
			return err
		}
		if n == 0 {
			break
		}
		buf = buf[n:]
	}
	switch {
	case len(buf) == 0:
		r.pending = nil
	case len(r.pending) > 0:
		// buf is the tail of pending: move it to the front.
		r.pending = r.pending[:copy(r.pending, buf)]
	default:
		r.pending = append(make([]byte, 0, max(len(buf), 64)), buf...)
	}
	return nil
}

// frame parses the frame at the start of buf. It returns the number of bytes
// it took, 0 when the frame is incomplete.
func (r *frameReader) frame(buf []byte, fn func(op byte, payload []byte) error) (int, error) {
	if len(buf) < 2 {
		return 0, nil
	}
	b0, b1 := buf[0], buf[1]
	fin := b0&0x80 != 0
	op := b0 & 0x0F
	if b0&0x70 != 0 {
		return 0, protocolError("reserved bits set (no extension was negotiated)")
	}
	if b1&0x80 == 0 {
		return 0, protocolError("client frame not masked")
	}
	size := uint64(b1 & 0x7F)
	hdr := 2
	switch size {
	case 126:
		if len(buf) < 4 {
			return 0, nil
		}
		size = uint64(binary.BigEndian.Uint16(buf[2:]))
		hdr = 4
	case 127:
		if len(buf) < 10 {
			return 0, nil
		}
		size = binary.BigEndian.Uint64(buf[2:])
		if size>>63 != 0 {
			return 0, protocolError("frame length out of range")
		}
		hdr = 10
	}
	switch op {
	case opClose, opPing, opPong:
		if !fin {
			return 0, protocolError("fragmented control frame")
		}
		if size > 125 {
			return 0, protocolError("control frame longer than 125 bytes")
		}
	case opText, opBinary:
		if r.msgOp != 0 {
			return 0, protocolError("new message before the end of a fragmented one")
		}
	case opContinuation:
		if r.msgOp == 0 {
			return 0, protocolError("continuation frame without a message")
		}
	default:
		return 0, protocolError("unknown opcode")
	}
	if op < opClose && uint64(len(r.msg))+size > uint64(r.maxMessage) {
		return 0, &wsProtocolError{closeTooBig, "message too big"}
	}
	total := hdr + 4 + int(size)
	if len(buf) < total {
		return 0, nil
	}
	mask := binary.LittleEndian.Uint32(buf[hdr:])
	masked := buf[hdr+4 : total]

	if op >= opClose {
		payload := unmaskCopy(nil, masked, mask)
		if op == opClose {
			if err := checkClose(payload); err != nil {
				return 0, err
			}
		}
		return total, fn(op, payload)
	}
	if fin && op != opContinuation {
		payload := unmaskCopy(nil, masked, mask)
		if err := validUTF8(op, payload); err != nil {
			return 0, err
		}
		return total, fn(op, payload)
	}
	if op != opContinuation {
		r.msgOp = op
	}
	r.msg = unmaskCopy(r.msg, masked, mask)
	if !fin {
		return total, nil
	}
	op, payload := r.msgOp, r.msg
	r.msgOp, r.msg = 0, nil
	if err := validUTF8(op, payload); err != nil {
		return 0, err
	}
	return total, fn(op, payload)
}

func validUTF8(op byte, payload []byte) error {
	if op == opText && !utf8.Valid(payload) {
		return &wsProtocolError{closeInvalidData, "text message is not valid UTF-8"}
	}
	return nil
}

// unmaskCopy appends src, unmasked with the key mask (as read little-endian),
// to dst.
func unmaskCopy(dst, src []byte, mask uint32) []byte {
	start := len(dst)
	dst = append(dst, src...)
	b := dst[start:]
	key64 := uint64(mask) | uint64(mask)<<32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^key64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= byte(mask >> (8 * (i & 3)))
	}
	return dst
}

// checkClose checks a close frame's payload: nothing, or a code a peer may
// send and a UTF-8 reason (RFC 6455, 5.5.1 and 7.4).
func checkClose(p []byte) error {
	switch {
	case len(p) == 0:
		return nil
	case len(p) == 1:
		return protocolError("close frame with a one-byte payload")
	case !validCloseCode(binary.BigEndian.Uint16(p)):
		return protocolError(fmt.Sprintf("close code %d", binary.BigEndian.Uint16(p)))
	case !utf8.Valid(p[2:]):
		return &wsProtocolError{closeInvalidData, "close reason is not valid UTF-8"}
	}
	return nil
}

// validCloseCode reports whether a peer may send code in a close frame
// (RFC 6455, 7.4): one that the IANA registry assigns a meaning to, except
// 1004 (reserved), 1005 and 1006 (never sent, only reported) and 1015 (a
// TLS failure, reported locally), or one of the range left to libraries
// and applications, 3000-4999. Codes below 1000 are unused, 1016-2999 are
// reserved for extensions of the protocol, 5000 and up are undefined.
func validCloseCode(code uint16) bool {
	switch {
	case code >= 3000 && code <= 4999:
		return true
	case code < 1000 || code > 1014:
		return false
	}
	return code != 1004 && code != 1005 && code != 1006
}
