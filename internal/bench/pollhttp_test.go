package bench

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Answers as the servers the generator meets send them.
const (
	parleyAnswer = "HTTP/1.1 200 OK\r\nX-Frame-Options: DENY\r\nContent-Type: text/plain; charset=UTF-8\r\nCache-Control: no-store\r\nContent-Length: 5\r\nDate: Mon, 07 Dec 2026 14:14:19 GMT\r\n\r\n42[1]"
	nodeAnswer   = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 2\r\nDate: Mon, 07 Dec 2026 14:14:19 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nok"
	chunkAnswer  = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\n42[\r\nA \r\n\"a\",\"b\"]\x1e2\r\n0\r\n\r\n"
)

func TestReadPollResponse(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		limit     int
		status    int
		body      string
		close     bool
		err       error // errors.Is; nil: none
		malformed bool  // errBadResponse
		rest      string
	}{
		{name: "parley", in: parleyAnswer + "HTTP", status: 200, body: "42[1]", rest: "HTTP"},
		{name: "node", in: nodeAnswer, status: 200, body: "ok"},
		{name: "chunked", in: chunkAnswer + "next", status: 200, body: "42[\"a\",\"b\"]\x1e2", rest: "next"},
		{name: "chunked, bare LF", in: "HTTP/1.1 200 OK\ntransfer-encoding: Chunked\n\n2\r\nok\r\n0\r\n\r\n", status: 200, body: "ok"},
		{name: "chunk size, bare LF", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n", status: 200, malformed: true},
		{name: "chunked over a length", in: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", status: 200, body: "ok"},
		{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", close: true},
		{name: "HTTP/1.0", in: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", close: true},
		{name: "HTTP/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "up to the end", in: "HTTP/1.1 200 OK\r\n\r\n42[1]\x1e3", status: 200, body: "42[1]\x1e3", close: true},
		{name: "no reason", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "same length twice", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length:  2 \r\n\r\nok", status: 200, body: "ok"},
		{name: "no content", in: "HTTP/1.1 204 No Content\r\n\r\nHTTP", status: 204, rest: "HTTP"},
		{name: "bad request", in: "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nbad request", status: 400, body: "bad request"},
		{name: "at the limit", in: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n1234", limit: 4, status: 200, body: "1234"},
		{name: "too long", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n12345", limit: 4, status: 200, err: ErrFrameTooLarge},
		{name: "too long, refused", in: "HTTP/1.1 400 Bad\r\nContent-Length: 5\r\n\r\n12345", limit: 4, status: 400, err: ErrFrameTooLarge},
		{name: "chunks too long", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n123\r\n2\r\n45\r\n0\r\n\r\n", limit: 4, status: 200, err: ErrFrameTooLarge},
		{name: "too long up to the end", in: "HTTP/1.1 200 OK\r\n\r\n12345", limit: 4, status: 200, close: true, err: ErrFrameTooLarge},
		{name: "closed while idle", in: "", err: io.EOF},
		{name: "cut in the head", in: "HTTP/1.1 200 OK\r\nContent-Le", status: 200, err: io.ErrUnexpectedEOF},
		{name: "cut in the status line", in: "HTTP/1.1 2", err: io.ErrUnexpectedEOF},
		{name: "cut in the body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n42", status: 200, err: io.ErrUnexpectedEOF},
		{name: "cut in a chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n42", status: 200, err: io.ErrUnexpectedEOF},
		{name: "cut before the trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", status: 200, err: io.ErrUnexpectedEOF},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH_9.6\r\n", malformed: true},
		{name: "HTTP/2", in: "HTTP/2.0 200 OK\r\n\r\n", malformed: true},
		{name: "status not a number", in: "HTTP/1.1 2x0 OK\r\n\r\n", malformed: true},
		{name: "status of 4 digits", in: "HTTP/1.1 2000 OK\r\n\r\n", malformed: true},
		{name: "continue", in: "HTTP/1.1 100 Continue\r\n\r\n", malformed: true},
		{name: "control in the reason", in: "HTTP/1.1 200 O\x00K\r\n\r\n", malformed: true},
		{name: "no colon", in: "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\nok", status: 200, malformed: true},
		{name: "space before the colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", status: 200, malformed: true},
		{name: "folded line", in: "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok", status: 200, malformed: true},
		{name: "control in a value", in: "HTTP/1.1 200 OK\r\nX-A: a\x01\r\nContent-Length: 2\r\n\r\nok", status: 200, malformed: true},
		{name: "bad length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", status: 200, malformed: true},
		{name: "empty length", in: "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", status: 200, malformed: true},
		{name: "two lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", status: 200, malformed: true},
		{name: "huge length", in: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", status: 200, malformed: true},
		{name: "another coding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 200, malformed: true},
		{name: "chunked twice", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 200, malformed: true},
		{name: "chunked in HTTP/1.0", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 200, malformed: true},
		{name: "bad chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", status: 200, malformed: true},
		{name: "no CRLF after a chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n", status: 200, malformed: true},
		{name: "bad trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a header\r\n\r\n", status: 200, malformed: true},
		{name: "a trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: t\r\n\r\n", status: 200, malformed: true},
		{name: "LF after the last chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nHTTP/1.1 200 OK\r\n\r\n", status: 200, malformed: true},
		{name: "body with no content", in: "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\nok", status: 204, malformed: true},
		{name: "line too long", in: "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", maxHeaderLine) + "\r\n\r\n", status: 200, malformed: true},
		{name: "long line", in: "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", 100) + "\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "too many lines", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: a\r\n", maxHeaderLines) + "\r\n", status: 200, malformed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 10
			}
			// A buffer smaller than some lines, and a body buffer to
			// reuse.
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 64)
			resp, err := readPollResponse(br, make([]byte, 3, 8), limit)
			switch {
			case tt.malformed && !errors.Is(err, errBadResponse):
				t.Fatalf("error %v, want %v", err, errBadResponse)
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("error %v, want %v", err, tt.err)
			case tt.err == nil && !tt.malformed && err != nil:
				t.Fatalf("error %v", err)
			}
			if resp.status != tt.status {
				t.Errorf("status %d, want %d", resp.status, tt.status)
			}
			if err != nil {
				return
			}
			if string(resp.body) != tt.body || resp.close != tt.close {
				t.Errorf("body %q, close %v; want %q, %v", resp.body, resp.close, tt.body, tt.close)
			}
			if rest, _ := io.ReadAll(br); string(rest) != tt.rest {
				t.Errorf("left %q, want %q", rest, tt.rest)
			}
		})
	}
}

// TestReadPollResponseReuse reads answers one after the other from one
// connection into one buffer, as a link does.
func TestReadPollResponseReuse(t *testing.T) {
	br := bufio.NewReader(strings.NewReader(parleyAnswer + chunkAnswer + nodeAnswer))
	var buf []byte
	for i, want := range []string{"42[1]", "42[\"a\",\"b\"]\x1e2", "ok"} {
		resp, err := readPollResponse(br, buf[:0], maxFrame)
		if err != nil || string(resp.body) != want {
			t.Fatalf("answer %d: %q, %v; want %q", i, resp.body, err, want)
		}
		buf = resp.body
	}
	if _, err := readPollResponse(br, buf[:0], maxFrame); err != io.EOF {
		t.Errorf("after the last: %v, want %v", err, io.EOF)
	}
}

// FuzzPollResponse checks that whatever readPollResponse reads, net/http
// reads the same way: the same status, body, closing, and as many bytes.
// What it refuses, net/http may take.
func FuzzPollResponse(f *testing.F) {
	for _, s := range []string{
		parleyAnswer, nodeAnswer, chunkAnswer,
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\n\r\n42[1]",
		"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbad request",
		"HTTP/1.1 204 No Content\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	const limit = 64
	f.Fuzz(func(t *testing.T, in []byte) {
		rd := bytes.NewReader(in)
		br := bufio.NewReaderSize(rd, 16)
		resp, err := readPollResponse(br, nil, limit)
		if err != nil {
			return
		}
		if len(resp.body) > limit || resp.status < 200 || resp.status > 999 {
			t.Fatalf("status %d, body of %d bytes", resp.status, len(resp.body))
		}
		used := len(in) - rd.Len() - br.Buffered()
		nrd := bytes.NewReader(in)
		nbr := bufio.NewReader(nrd)
		r, err := http.ReadResponse(nbr, &http.Request{Method: http.MethodGet})
		if err != nil {
			t.Fatalf("net/http: %v; parsed %d %q", err, resp.status, resp.body)
		}
		body, err := io.ReadAll(r.Body)
		switch {
		case err != nil:
			t.Fatalf("net/http body: %v; parsed %q", err, resp.body)
		case r.StatusCode != resp.status:
			t.Errorf("status %d, parsed %d", r.StatusCode, resp.status)
		case !bytes.Equal(body, resp.body):
			t.Errorf("body %q, parsed %q", body, resp.body)
		case r.Close != resp.close:
			t.Errorf("close %v, parsed %v", r.Close, resp.close)
		case len(in)-nrd.Len()-nbr.Buffered() != used:
			t.Errorf("net/http read %d bytes, parsed %d", len(in)-nrd.Len()-nbr.Buffered(), used)
		}
	})
}

func BenchmarkReadPollResponse(b *testing.B) {
	in := []byte(parleyAnswer)
	rd := bytes.NewReader(in)
	br := bufio.NewReader(rd)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(in)
		br.Reset(rd)
		resp, err := readPollResponse(br, buf[:0], maxFrame)
		if err != nil {
			b.Fatal(err)
		}
		buf = resp.body
	}
}
