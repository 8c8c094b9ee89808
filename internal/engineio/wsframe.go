package engineio

import (
	"encoding/binary"
	"fmt"
	"math/bits"
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

// errInvalidUTF8 fails a text message that is not UTF-8.
var errInvalidUTF8 error = &wsProtocolError{closeInvalidData, "text message is not valid UTF-8"}

// maxHeaderLen is the longest header of a client frame: 2 bytes, a 64-bit
// length and the 4-byte masking key.
const maxHeaderLen = 14

// minMessageGrowth is the least a message buffer grows by, so that a
// message arriving in small pieces is not copied at each one.
const minMessageGrowth = 512

// frameReader parses the frames a client sends as they arrive, in pieces of
// any size. It keeps only what it still needs: the start of an incomplete
// frame header (in a small array of its own), the payload of an incomplete
// control frame, and the unmasked payload so far of an incomplete message,
// in a buffer that grows with what arrived, never to more than twice that
// or past the end of the message's last frame. Frames that arrive whole
// are handed out without being buffered. Between messages it holds no
// buffer.
type frameReader struct {
	maxMessage int

	hdr    [maxHeaderLen]byte // the start of an incomplete frame header
	hdrLen uint8

	// The frame whose payload is arriving, when inFrame.
	inFrame bool
	fin     bool
	op      byte
	left    int    // payload bytes still to come
	mask    uint32 // the masking key, turned to the next byte's position
	ctrl    []byte // a control frame's payload so far

	msg     []byte // the unmasked payload so far of a message
	msgOp   byte   // its opcode; 0 when none is under way
	checked int    // bytes at the start of msg known to be valid UTF-8
}

// feed parses data, calling fn for each complete message (opText or
// opBinary, reassembled) and control frame (opPing, opPong, opClose), in
// order. fn owns the payload it is given. feed stops at fn's first error and
// returns it; it returns a *wsProtocolError when data breaks the protocol:
// as soon as the bytes that break it arrive, before the frame or the
// message they belong to is complete. After an error the reader holds no
// buffer and must not be fed again.
func (r *frameReader) feed(data []byte, fn func(op byte, payload []byte) error) error {
	err := r.parse(data, fn)
	if err != nil {
		r.reset()
	}
	return err
}

// collect parses data as feed does, appending what it completes to dst,
// in order, and returns it, with the error that stopped it: none of it
// refers to data, which the caller may then reuse.
func (r *frameReader) collect(data []byte, dst []frameCopy) ([]frameCopy, error) {
	err := r.feed(data, func(op byte, payload []byte) error {
		dst = append(dst, frameCopy{op, payload})
		return nil
	})
	return dst, err
}

// reset drops what the reader holds: after an error, which ends reading.
func (r *frameReader) reset() { *r = frameReader{maxMessage: r.maxMessage} }

func (r *frameReader) parse(data []byte, fn func(op byte, payload []byte) error) error {
	for {
		if r.inFrame {
			n := min(len(data), r.left)
			if err := r.payload(data[:n]); err != nil {
				return err
			}
			data = data[n:]
			if r.left > 0 {
				return nil
			}
			if err := r.endFrame(fn); err != nil {
				return err
			}
			continue
		}
		if len(data) == 0 {
			return nil
		}
		h := data
		if r.hdrLen > 0 {
			n := copy(r.hdr[r.hdrLen:], data)
			h = r.hdr[:int(r.hdrLen)+n]
		}
		size, err := r.header(h)
		if err != nil {
			return err
		}
		if size == 0 {
			// Incomplete: all of data is in h, which fits in hdr.
			r.hdrLen = uint8(copy(r.hdr[:], h))
			return nil
		}
		data = data[size-int(r.hdrLen):]
		r.hdrLen = 0
		if r.left <= len(data) && (r.op >= opClose || r.fin && r.op != opContinuation) {
			// A control frame or a whole message, all here: no buffer.
			payload := unmaskCopy(nil, data[:r.left], r.mask)
			data = data[r.left:]
			if err := checkPayload(r.op, payload); err != nil {
				return err
			}
			if err := fn(r.op, payload); err != nil {
				return err
			}
			continue
		}
		r.inFrame = true
		switch {
		case r.op >= opClose:
			r.ctrl = make([]byte, 0, r.left)
		case r.op != opContinuation:
			r.msgOp = r.op
		}
	}
}

// header parses the frame header at the start of h into r's frame fields.
// It returns the header's length, 0 when it is incomplete. What breaks the
// protocol is reported as soon as the bytes that show it are there.
func (r *frameReader) header(h []byte) (int, error) {
	if len(h) < 2 {
		return 0, nil
	}
	b0, b1 := h[0], h[1]
	fin, op := b0&0x80 != 0, b0&0x0F
	if b0&0x70 != 0 {
		return 0, protocolError("reserved bits set (no extension was negotiated)")
	}
	if b1&0x80 == 0 {
		return 0, protocolError("client frame not masked")
	}
	size := uint64(b1 & 0x7F)
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
	n := 2
	switch size {
	case 126:
		if len(h) < 4 {
			return 0, nil
		}
		size, n = uint64(binary.BigEndian.Uint16(h[2:])), 4
	case 127:
		if len(h) < 10 {
			return 0, nil
		}
		size, n = binary.BigEndian.Uint64(h[2:]), 10
		if size>>63 != 0 {
			return 0, protocolError("frame length out of range")
		}
	}
	if op < opClose && uint64(len(r.msg))+size > uint64(r.maxMessage) {
		return 0, &wsProtocolError{closeTooBig, "message too big"}
	}
	if len(h) < n+4 {
		return 0, nil
	}
	r.fin, r.op, r.left = fin, op, int(size)
	r.mask = binary.LittleEndian.Uint32(h[n:])
	return n + 4, nil
}

// payload takes the next bytes of the current frame's payload.
func (r *frameReader) payload(src []byte) error {
	if r.op >= opClose {
		r.ctrl = unmaskCopy(r.ctrl, src, r.mask)
	} else {
		r.grow(len(src))
		r.msg = unmaskCopy(r.msg, src, r.mask)
	}
	r.mask = bits.RotateLeft32(r.mask, -8*(len(src)&3))
	r.left -= len(src)
	if r.op < opClose && r.msgOp == opText && len(src) > 0 {
		return r.checkUTF8(false)
	}
	return nil
}

// grow makes room in msg for n more bytes: at least twice its capacity,
// within the message's last frame when this is it.
func (r *frameReader) grow(n int) {
	need := len(r.msg) + n
	if need <= cap(r.msg) {
		return
	}
	c := min(max(2*cap(r.msg), need, minMessageGrowth), r.maxMessage)
	if r.fin {
		c = min(c, len(r.msg)+r.left)
	}
	b := make([]byte, len(r.msg), max(c, need))
	copy(b, r.msg)
	r.msg = b
}

// endFrame ends the current frame once its payload is complete, handing
// out a control frame, or a message when this frame was its last.
func (r *frameReader) endFrame(fn func(op byte, payload []byte) error) error {
	r.inFrame = false
	if r.op >= opClose {
		payload := r.ctrl
		r.ctrl = nil
		if err := checkPayload(r.op, payload); err != nil {
			return err
		}
		return fn(r.op, payload)
	}
	if !r.fin {
		return nil
	}
	if r.msgOp == opText {
		if err := r.checkUTF8(true); err != nil {
			return err
		}
	}
	op, payload := r.msgOp, r.msg
	r.msgOp, r.msg, r.checked = 0, nil, 0
	return fn(op, payload)
}

// checkUTF8 checks the text message's bytes that arrived since the last
// check. Unless the message is complete, a valid but incomplete sequence at
// its end waits for the next bytes.
func (r *frameReader) checkUTF8(complete bool) error {
	b := r.msg[r.checked:]
	if !complete {
		b = b[:len(b)-incompleteRune(b)]
	}
	if !utf8.Valid(b) {
		return errInvalidUTF8
	}
	r.checked += len(b)
	return nil
}

// incompleteRune returns the length of the valid start of a UTF-8 sequence
// that b ends with, 0 when b ends with a complete one or an invalid one.
func incompleteRune(b []byte) int {
	for i := 1; i <= min(utf8.UTFMax-1, len(b)); i++ {
		if c := b[len(b)-i]; c&0xC0 != 0x80 {
			if utf8.FullRune(b[len(b)-i:]) {
				return 0
			}
			return i
		}
	}
	return 0
}

// checkPayload checks the payload of a whole frame: a text message must be
// UTF-8, a close frame's payload valid.
func checkPayload(op byte, p []byte) error {
	switch op {
	case opText:
		if !utf8.Valid(p) {
			return errInvalidUTF8
		}
	case opClose:
		return checkClose(p)
	}
	return nil
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

// buffered returns the bytes the reader holds beyond itself, for tests:
// what it keeps of incomplete frames and messages.
func (r *frameReader) buffered() int { return cap(r.msg) + cap(r.ctrl) }

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
