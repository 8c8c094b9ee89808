package engineio

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

var testLimits = pollLimits{path: "/socket.io/", maxHeader: 1024, maxBody: 100}

const pollGET = "GET /socket.io/?EIO=4&transport=polling&t=abc&sid=S1 HTTP/1.1\r\nHost: localhost:3000\r\n\r\n"

func TestParsePollRequest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want parseResult
		sid  string
		post bool
		cl   int
	}{
		{"get", pollGET, parseOK, "S1", false, 0},
		{"get with more behind", pollGET + "GET /", parseOK, "S1", false, 0},
		{"browser headers", "GET /socket.io/?EIO=4&transport=polling&t=P1&sid=abc-_ HTTP/1.1\r\nHost: chat.example\r\nConnection: keep-alive\r\nUser-Agent: Mozilla/5.0 (X11)\r\nAccept: */*\r\nOrigin: https://chat.example\r\nReferer: https://chat.example/\r\nAccept-Encoding: gzip, deflate\r\nCookie: a=b; c=d\r\n\r\n", parseOK, "abc-_", false, 0},
		{"post", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 5\r\n\r\n4hey!", parseOK, "S1", true, 5},
		{"post, body on its way", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n4he", parseIncomplete, "", true, 5},
		{"head on its way", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\n", parseIncomplete, "", false, 0},
		{"nothing yet", "", parseIncomplete, "", false, 0},
		{"connection close", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", parseOK, "S1", false, 0},

		{"handshake", "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"page", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"client script", "GET /socket.io/socket.io.js HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"upgrade", "GET /socket.io/?EIO=4&transport=websocket&sid=S1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", parseHandBack, "", false, 0},
		{"upgrade header alone", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", parseHandBack, "", false, 0},
		{"http/1.0", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.0\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"options", "OPTIONS /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"no host", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\n\r\n", parseHandBack, "", false, 0},
		{"two hosts", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", parseHandBack, "", false, 0},
		{"chunked", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n4\r\n0\r\n\r\n", parseHandBack, "", false, 0},
		{"post without length", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"post too large", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", parseHandBack, "", false, 0},
		{"two lengths", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n4", parseHandBack, "", false, 0},
		{"length with sign", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n4", parseHandBack, "", false, 0},
		{"get with a body", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx", parseHandBack, "", false, 0},
		{"expect", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n", parseHandBack, "", false, 0},
		{"folded header", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", parseHandBack, "", false, 0},
		{"space before colon", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost : h\r\n\r\n", parseHandBack, "", false, 0},
		{"bare line feed", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\nHost: h\n\n", parseHandBack, "", false, 0},
		{"escaped sid", "GET /socket.io/?EIO=4&transport=polling&sid=S%31 HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"two sids", "GET /socket.io/?EIO=4&transport=polling&sid=S1&sid=S2 HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"semicolon", "GET /socket.io/?EIO=4&transport=polling&sid=S1;x HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"other version", "GET /socket.io/?EIO=3&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"absolute form", "GET http://h/socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\n\r\n", parseHandBack, "", false, 0},
		{"control byte", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n", parseHandBack, "", false, 0},
		{"head too large", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nX-A: " + strings.Repeat("a", 1024) + "\r\n\r\n", parseHandBack, "", false, 0},
		{"head on its way, too large", "GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nX-A: " + strings.Repeat("a", 1024), parseHandBack, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, res := parsePollRequest([]byte(tt.in), testLimits)
			if res != tt.want {
				t.Fatalf("result %d, want %d", res, tt.want)
			}
			if res != parseOK {
				return
			}
			if req.sid != tt.sid || req.post != tt.post || req.contentLength != tt.cl {
				t.Errorf("sid %q post %v length %d, want %q %v %d", req.sid, req.post, req.contentLength, tt.sid, tt.post, tt.cl)
			}
			checkAsNetHTTP(t, []byte(tt.in), req)
		})
	}
}

// checkAsNetHTTP checks that net/http reads in as req says.
func checkAsNetHTTP(t *testing.T, in []byte, req pollRequest) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(in))
	r, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("taken, but net/http refuses it: %v\n%q", err, in)
	}
	q := r.URL.Query()
	switch {
	case r.Method != map[bool]string{false: http.MethodGet, true: http.MethodPost}[req.post]:
		t.Errorf("method %s, post %v", r.Method, req.post)
	case r.URL.Path != testLimits.path:
		t.Errorf("path %q", r.URL.Path)
	case q.Get("EIO") != "4" || q.Get("transport") != "polling" || q.Get("sid") != req.sid || len(q["sid"]) != 1:
		t.Errorf("query %v, sid %q", q, req.sid)
	case r.Host != string(req.host):
		t.Errorf("host %q, parsed %q", r.Host, req.host)
	case len(r.Header.Values("Origin")) > 1 || r.Header.Get("Origin") != string(req.origin):
		t.Errorf("origin %q, parsed %q", r.Header.Values("Origin"), req.origin)
	case r.ContentLength != int64(req.contentLength) && !(r.ContentLength == 0 && !req.post):
		t.Errorf("content length %d, parsed %d", r.ContentLength, req.contentLength)
	case r.Close != req.close:
		t.Errorf("close %v, parsed %v", r.Close, req.close)
	case !sameForwarded(forwardedValues(r.Header), req.forwarded):
		t.Errorf("forwarded %q, parsed %q", forwardedValues(r.Header), req.forwarded)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil || len(body) != req.contentLength {
		t.Errorf("body %q (%v), length %d", body, err, req.contentLength)
	}
	if used := len(in) - br.Buffered(); used != req.headerLen+req.contentLength {
		t.Errorf("net/http read %d bytes, parsed %d", used, req.headerLen+req.contentLength)
	}
}

func sameForwarded(a, b [3][]byte) bool {
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// FuzzPollRequest checks that whatever parsePollRequest takes, net/http
// reads the same way: the same method, path, session, host, origin, proxy
// headers, body and length. What it is unsure of goes to net/http.
func FuzzPollRequest(f *testing.F) {
	for _, s := range []string{
		pollGET,
		"POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nOrigin: http://h\r\n\r\n4hey!GET",
		"GET /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nHost: h\r\nConnection: close, keep-alive\r\nX-Forwarded-Host: a\r\nX-Forwarded-Host: b\r\nForwarded: for=x\r\n\r\n",
		"GET /socket.io/?sid=S1&transport=polling&EIO=4&x=&&y HTTP/1.1\r\nhOsT:\th \r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		req, res := parsePollRequest(in, testLimits)
		if res == parseOK {
			checkAsNetHTTP(t, in, req)
		}
	})
}

func BenchmarkParsePollRequest(b *testing.B) {
	in := []byte("GET /socket.io/?EIO=4&transport=polling&t=PxYz12&sid=AbCdEfGhIjKlMnOpQrSt HTTP/1.1\r\nHost: localhost:3000\r\nConnection: keep-alive\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36\r\nAccept: */*\r\nOrigin: http://localhost:3000\r\nReferer: http://localhost:3000/\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\nCookie: parley_guest=abcdefghijklmnopqrstuvwxyz0123456789\r\n\r\n")
	lim := pollLimits{path: "/socket.io/", maxHeader: 16 << 10, maxBody: 1 << 20}
	b.ReportAllocs()
	for b.Loop() {
		if _, res := parsePollRequest(in, lim); res != parseOK {
			b.Fatal(res)
		}
	}
}
