package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The polling link's HTTP/1.1 client reads answers with readPollResponse,
// which knows just what a long-polling session needs: the status, a body
// by Content-Length, chunks or the end of the connection, and whether the
// connection may carry the next request.

const (
	// maxHeaderLine bounds a line of an answer's head.
	maxHeaderLine = 8 << 10
	// maxHeaderLines bounds how many lines an answer's head has.
	maxHeaderLines = 100
)

// errBadResponse is an HTTP answer the polling client cannot read.
var errBadResponse = errors.New("bench: malformed HTTP response")

// pollResponse is one HTTP answer to a polling request.
type pollResponse struct {
	status int
	body   []byte
	// close: the connection cannot carry another request (Connection:
	// close, HTTP/1.0 without keep-alive, or a body up to its end).
	close bool
}

// readPollResponse reads one HTTP/1.1 answer from br, its body into buf's
// storage (grown as needed). A body beyond limit bytes is ErrFrameTooLarge,
// with the status set. After any error the connection is unusable.
func readPollResponse(br *bufio.Reader, buf []byte, limit int) (pollResponse, error) {
	var resp pollResponse
	line, err := readHeadLine(br)
	if err != nil {
		return resp, err
	}
	var http10 bool
	resp.status, http10, err = parseStatusLine(line)
	if err != nil {
		return resp, err
	}
	length := int64(-1)
	var chunked, closeTok, keepAlive bool
	for n := 0; ; n++ {
		if n == maxHeaderLines {
			return resp, fmt.Errorf("%w: more than %d header lines", errBadResponse, maxHeaderLines)
		}
		line, err := readHeadLine(br)
		if err != nil {
			return resp, noEOF(err)
		}
		if len(line) == 0 {
			break
		}
		name, value, err := splitHeader(line)
		if err != nil {
			return resp, err
		}
		if len(name) < len("connection") {
			continue // none of those below
		}
		switch {
		case asciiEqualFold(name, "content-length"):
			n, ok := parseLength(value)
			if !ok || (length >= 0 && n != length) {
				return resp, fmt.Errorf("%w: content-length %.20q", errBadResponse, value)
			}
			length = n
		case asciiEqualFold(name, "transfer-encoding"):
			if chunked || http10 || !asciiEqualFold(value, "chunked") {
				return resp, fmt.Errorf("%w: transfer-encoding %.20q", errBadResponse, value)
			}
			chunked = true
		case asciiEqualFold(name, "connection"):
			closeTok = closeTok || hasToken(value, "close")
			keepAlive = keepAlive || hasToken(value, "keep-alive")
		}
	}
	resp.close = closeTok || (http10 && !keepAlive)
	buf = buf[:0]
	switch {
	case resp.status == 204 || resp.status == 304:
		if chunked || length > 0 {
			return resp, fmt.Errorf("%w: a body with status %d", errBadResponse, resp.status)
		}
	case chunked:
		buf, err = readChunked(br, buf, limit)
	case length >= 0:
		if length > int64(limit) {
			return resp, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, length)
		}
		buf = grow(buf, int(length))
		_, err = io.ReadFull(br, buf)
		err = noEOF(err)
	default:
		resp.close = true
		buf, err = readToEOF(br, buf, limit)
	}
	resp.body = buf
	return resp, err
}

// parseStatusLine parses "HTTP/1.x NNN reason" and tells whether it is
// HTTP/1.0.
func parseStatusLine(line []byte) (status int, http10 bool, err error) {
	bad := func() (int, bool, error) {
		return 0, false, fmt.Errorf("%w: status line %.40q", errBadResponse, line)
	}
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return bad()
	}
	switch line[7] {
	case '0':
		http10 = true
	case '1':
	default:
		return bad()
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return bad()
		}
		status = status*10 + int(c-'0')
	}
	if status < 200 {
		return bad() // no 1xx: the client sends no Expect, asks no upgrade
	}
	for _, c := range line[min(len(line), 13):] {
		if byteClass[c]&classCTL != 0 {
			return bad()
		}
	}
	return status, http10, nil
}

// readHeadLine reads one line of an answer's head (or of a chunked body),
// without its CRLF (or bare LF). The line is valid until the next read of
// br. The error is io.EOF only if the connection ended before the line's
// first byte.
func readHeadLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Longer than br's buffer: gather it, up to maxHeaderLine.
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxHeaderLine {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
		if err == nil && len(line) > maxHeaderLine {
			err = fmt.Errorf("%w: a line of more than %d bytes", errBadResponse, maxHeaderLine)
		}
	}
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			err = fmt.Errorf("%w: a line of more than %d bytes", errBadResponse, maxHeaderLine)
		}
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readChunkLine reads a chunk's size line, which must end with CRLF.
func readChunkLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("%w: a chunk size line of more than %d bytes", errBadResponse, br.Size())
	case err != nil:
		return nil, noEOF(err)
	case len(line) < 2 || line[len(line)-2] != '\r':
		return nil, fmt.Errorf("%w: a chunk size line without CRLF", errBadResponse)
	}
	return line[:len(line)-2], nil
}

// splitHeader splits "Name: value" and trims the value.
func splitHeader(line []byte) (name, value []byte, err error) {
	i := 0
	for i < len(line) && byteClass[line[i]]&classToken != 0 {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ':' {
		return nil, nil, fmt.Errorf("%w: header line %.40q", errBadResponse, line)
	}
	name, value = line[:i], line[i+1:]
	for _, c := range value {
		if byteClass[c]&classCTL != 0 {
			return nil, nil, fmt.Errorf("%w: header value %.40q", errBadResponse, value)
		}
	}
	return name, trimSpace(value), nil
}

// trimSpace trims spaces and tabs off both ends of b.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// readChunked reads a chunked body, appending it to buf.
func readChunked(br *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	for {
		line, err := readChunkLine(br)
		if err != nil {
			return buf, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimRight(line, " \t")
		n, ok := parseHex(line)
		if !ok {
			return buf, fmt.Errorf("%w: chunk size %.20q", errBadResponse, line)
		}
		if n == 0 {
			break
		}
		if n > uint64(limit-len(buf)) {
			return buf, fmt.Errorf("%w: chunks of more than %d bytes", ErrFrameTooLarge, limit)
		}
		start := len(buf)
		buf = grow(buf, start+int(n))
		if _, err := io.ReadFull(br, buf[start:]); err != nil {
			return buf, noEOF(err)
		}
		if err := readCRLF(br, "a chunk"); err != nil {
			return buf, err
		}
	}
	// The servers measured send no trailer: the last chunk is followed by
	// CRLF alone. A trailer, or a bare LF, is refused rather than read
	// differently from net/http, which wants CRLF there too unless a
	// whole trailer block follows.
	return buf, readCRLF(br, "the last chunk (or a trailer)")
}

// readCRLF reads the CRLF that must come after what.
func readCRLF(br *bufio.Reader, after string) error {
	var crlf [2]byte
	if _, err := io.ReadFull(br, crlf[:]); err != nil {
		return noEOF(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return fmt.Errorf("%w: no CRLF after %s", errBadResponse, after)
	}
	return nil
}

// readToEOF reads a body that ends with the connection.
func readToEOF(br *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := br.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > limit:
			return buf[:limit], fmt.Errorf("%w: more than %d bytes", ErrFrameTooLarge, limit)
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		}
	}
}

// grow returns buf with length n, keeping its first bytes.
func grow(buf []byte, n int) []byte {
	if n <= cap(buf) {
		return buf[:n]
	}
	return append(buf[:cap(buf)], make([]byte, n-cap(buf))...)[:n]
}

// noEOF turns the end of the connection in the middle of an answer into
// io.ErrUnexpectedEOF, but keeps io.EOF before its first byte: that is a
// connection the server closed while idle.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseLength parses a Content-Length: decimal digits only.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseHex parses a chunk size: hexadecimal digits only.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// hasToken reports whether the comma-separated list v has token tok, in
// any case.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte{','})
		if asciiEqualFold(trimSpace(t), tok) {
			return true
		}
	}
	return false
}

// asciiEqualFold reports whether b is s, ignoring ASCII case; s is lower
// case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// The classes of bytes byteClass tells.
const (
	classToken = 1 << iota // may be in an HTTP token (RFC 9110)
	classCTL               // a control byte other than a tab
)

// byteClass is the classes of each byte.
var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0:
			t[c] = classToken
		case (c < ' ' && c != '\t') || c == 0x7f:
			t[c] = classCTL
		}
	}
	return t
}()
