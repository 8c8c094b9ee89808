package engineio

import (
	"bytes"
	"net/http"
	"strconv"
)

// pollRequest is a long-polling request read off a connection the server
// took over (see takeover.go): the few things of it the server uses.
type pollRequest struct {
	post          bool
	sid           string
	host          []byte    // the Host header
	origin        []byte    // the Origin header, nil without one
	forwarded     [3][]byte // the values of forwardedHeaders, see forwardedValues
	contentLength int
	close         bool // Connection: close
	headerLen     int  // request line and headers, with the blank line
}

// parseResult says what parsePollRequest made of a connection's bytes.
type parseResult uint8

const (
	// parseIncomplete: the request's headers (or a POST's body) have not
	// all arrived.
	parseIncomplete parseResult = iota
	// parseOK: a long-polling request the server answers itself.
	parseOK
	// parseHandBack: anything else, for net/http to serve.
	parseHandBack
)

// pollLimits bound what parsePollRequest accepts.
type pollLimits struct {
	path      string // the endpoint's path, such as "/socket.io/"
	maxHeader int    // request line and headers together
	maxBody   int    // a POST's body
}

// parsePollRequest reads the request at the head of buf. It is strict:
// it accepts only what it is sure net/http would read the same way, the
// requests of Engine.IO clients polling a session (GET or POST of
// path?EIO=4&transport=polling&sid=…, HTTP/1.1, a Host, a POST's body
// sized by Content-Length), and hands anything else back, whole, to
// net/http: another path or method, a handshake, an upgrade, a chunked
// body, an Expect, a folded or duplicated header, a percent-encoded sid,
// bare line feeds, HTTP/1.0. A POST is complete only once its body is in
// buf too.
func parsePollRequest(buf []byte, lim pollLimits) (pollRequest, parseResult) {
	var req pollRequest
	end := headerEnd(buf)
	if end < 0 {
		if len(buf) >= lim.maxHeader || bytes.IndexByte(buf, '\n') >= 0 && !validPrefix(buf) {
			return req, parseHandBack
		}
		return req, parseIncomplete
	}
	req.headerLen = end + 4
	if req.headerLen > lim.maxHeader {
		return req, parseHandBack
	}
	head := buf[:end]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if !req.requestLine(line, lim.path) {
		return req, parseHandBack
	}
	if !req.headers(rest) {
		return req, parseHandBack
	}
	if req.post {
		if req.contentLength < 0 || req.contentLength > lim.maxBody {
			return req, parseHandBack
		}
		if len(buf)-req.headerLen < req.contentLength {
			return req, parseIncomplete
		}
	}
	return req, parseOK
}

// headerEnd returns the index of the blank line's "\r\n\r\n" that ends
// the headers, or -1: faster than bytes.Index, which stops at every
// carriage return.
func headerEnd(buf []byte) int {
	for i := 3; i < len(buf); {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j
		if buf[i-1] == '\r' && buf[i-2] == '\n' && buf[i-3] == '\r' {
			return i - 3
		}
		i++
	}
	return -1
}

// validPrefix reports whether buf, which holds no blank line yet but at
// least one line feed, may still be the head of a request this parser
// takes: every line feed follows a carriage return. A bare one is handed
// back at once.
func validPrefix(buf []byte) bool {
	for i, c := range buf {
		if c == '\n' && (i == 0 || buf[i-1] != '\r') {
			return false
		}
	}
	return true
}

// requestLine reads "GET /path?query HTTP/1.1".
func (req *pollRequest) requestLine(line []byte, path string) bool {
	var target []byte
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		target = line[4:]
	case bytes.HasPrefix(line, []byte("POST ")):
		req.post = true
		target = line[5:]
	default:
		return false
	}
	target, ok := bytes.CutSuffix(target, []byte(" HTTP/1.1"))
	if !ok || len(target) == 0 {
		return false
	}
	for _, c := range target {
		// Visible ASCII only; '#' and '%' are left to net/http, and so
		// is ';', which Go's query parsing refuses.
		if c <= ' ' || c >= 0x7f || c == '#' || c == '%' || c == ';' {
			return false
		}
	}
	p, query, _ := bytes.Cut(target, []byte("?"))
	if string(p) != path {
		return false
	}
	return req.query(query)
}

// query reads the query: EIO=4, transport=polling and a sid, each once;
// other keys (a client's own, the cache-busting t) are left alone, but
// none may hold a '+' (a space), so that every value reads as it is
// written.
func (req *pollRequest) query(q []byte) bool {
	var eio, transport, sid int
	for len(q) > 0 {
		var kv []byte
		kv, q, _ = bytes.Cut(q, []byte("&"))
		if bytes.IndexByte(kv, '+') >= 0 {
			return false
		}
		k, v, _ := bytes.Cut(kv, []byte("="))
		switch string(k) {
		case "EIO":
			eio++
			if string(v) != "4" {
				return false
			}
		case "transport":
			transport++
			if string(v) != "polling" {
				return false
			}
		case "sid":
			sid++
			req.sid = string(v)
		}
	}
	return eio == 1 && transport == 1 && sid == 1 && req.sid != ""
}

// refusedHeaders are the headers that make a request net/http's to
// serve: a body not sized by Content-Length, an upgrade, an expectation.
var refusedHeaders = [][]byte{[]byte("transfer-encoding"), []byte("upgrade"), []byte("expect"), []byte("te"), []byte("trailer"), []byte("content-encoding")}

// refused reports whether name is one of refusedHeaders.
func refused(name []byte) bool {
	for _, h := range refusedHeaders {
		if bytes.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// forwardedHeaders are the headers by which a trusted proxy says how a
// client reached it: a request on a connection taken over must carry the
// same as the request it was taken over with, or the origin and host
// checks made then would not hold for it.
var forwardedHeaders = [][]byte{[]byte("forwarded"), []byte("x-forwarded-host"), []byte("x-forwarded-proto")}

// forwardedHeader returns the index of name in forwardedHeaders, or -1.
func forwardedHeader(name []byte) int {
	for i, h := range forwardedHeaders {
		if bytes.EqualFold(name, h) {
			return i
		}
	}
	return -1
}

// forwardedValues returns, for each of forwardedHeaders, its values in h
// as pollRequest.forwarded holds them: each after a colon, one per line.
func forwardedValues(h http.Header) (out [3][]byte) {
	for i, name := range forwardedHeaders {
		for _, v := range h.Values(string(name)) {
			if out[i] != nil {
				out[i] = append(out[i], '\n')
			}
			out[i] = append(append(out[i], ':'), v...)
		}
	}
	return out
}

// headers reads the header lines.
func (req *pollRequest) headers(rest []byte) bool {
	var hosts, lengths, origins int
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || !validValue(value) {
			return false
		}
		for _, c := range name {
			if !isTokenChar(c) {
				return false // a space before the colon, a folded line…
			}
		}
		value = trimOWS(value)
		switch {
		case bytes.EqualFold(name, []byte("host")):
			hosts++
			req.host = value
		case bytes.EqualFold(name, []byte("origin")):
			origins++
			req.origin = value
		case bytes.EqualFold(name, []byte("content-length")):
			lengths++
			n, err := strconv.ParseUint(string(value), 10, 31)
			if err != nil || len(value) > 1 && value[0] == '0' {
				return false
			}
			req.contentLength = int(n)
		case bytes.EqualFold(name, []byte("connection")):
			for t := range bytes.SplitSeq(value, []byte(",")) {
				switch t = trimOWS(t); {
				case bytes.EqualFold(t, []byte("close")):
					req.close = true
				case len(t) == 0, bytes.EqualFold(t, []byte("keep-alive")):
				default:
					return false // upgrade, or a hop-by-hop header named
				}
			}
		case refused(name):
			return false
		case forwardedHeader(name) >= 0:
			f := &req.forwarded[forwardedHeader(name)]
			if *f != nil {
				*f = append(*f, '\n')
			}
			*f = append(append(*f, ':'), value...)
		}
	}
	if hosts != 1 || len(req.host) == 0 || origins > 1 || lengths > 1 {
		return false
	}
	if req.post != (lengths == 1) || !req.post && req.contentLength != 0 {
		return false
	}
	return true
}

// validValue reports whether a header value holds only what net/http
// takes as it is: visible ASCII, spaces and tabs. Bytes past ASCII are
// left to net/http.
func validValue(v []byte) bool {
	for _, c := range v {
		if c < ' ' && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}

// trimOWS trims the optional white space around a header value.
func trimOWS(v []byte) []byte {
	return bytes.Trim(v, " \t")
}

// isTokenChar reports whether c may be in a header name (RFC 9110 tchar).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}
