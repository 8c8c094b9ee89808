package engineio_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// keepAliveConn is one keep-alive connection to a test server, on which a test
// writes requests by hand and reads the answers.
type keepAliveConn struct {
	t    *testing.T
	ts   *testServer
	c    net.Conn
	br   *bufio.Reader
	path string // the endpoint's path, "/engine.io/"
}

func dialKeepAlive(t *testing.T, ts *testServer) *keepAliveConn {
	t.Helper()
	if os.Getenv(plainPollingEnv) != "" {
		t.Skip("polls are left to net/http in this run")
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAliveConn{t: t, ts: ts, c: c, br: bufio.NewReader(c), path: strings.TrimPrefix(ts.URL, ts.ts.URL)}
}

// send writes a request.
func (rc *keepAliveConn) send(req string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, req); err != nil {
		rc.t.Fatal(err)
	}
}

// get is the request of a poll of sid, with extra header lines.
func (rc *keepAliveConn) get(sid, extra string) string {
	return "GET " + rc.path + "?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n"
}

// post is the request of a POST of body to sid.
func (rc *keepAliveConn) post(sid, body string) string {
	return "POST " + rc.path + "?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// answer reads one answer.
func (rc *keepAliveConn) answer() (*http.Response, string) {
	rc.t.Helper()
	resp, body, err := rc.readAnswer()
	if err != nil {
		rc.t.Fatal(err)
	}
	return resp, body
}

// readAnswer reads one answer, and can be called off the test's goroutine.
func (rc *keepAliveConn) readAnswer() (*http.Response, string, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		return nil, "", fmt.Errorf("reading an answer: %w", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, "", fmt.Errorf("reading an answer's body: %w", err)
	}
	return resp, string(b), nil
}

// takeOver opens a session on a new keep-alive connection and has the
// connection taken over by a poll, answered with data.
func takeOver(t *testing.T, srv *testServer, data string) (*keepAliveConn, string, *testSession) {
	t.Helper()
	rc := dialKeepAlive(t, srv)
	sid := rc.handshake()
	h := srv.session(t, sid)
	rc.send(rc.get(sid, ""))
	wait.For(t, "the poll to wait", 5*time.Second, h.s.PollPending)
	if err := h.s.Send(eioparser.Packet{Data: []byte(data)}); err != nil {
		t.Fatal(err)
	}
	if _, body := rc.answer(); body != "4"+data {
		t.Fatalf("poll: %q, want %q", body, "4"+data)
	}
	return rc, sid, h
}

// handshake opens a session on the connection.
func (rc *keepAliveConn) handshake() string {
	rc.t.Helper()
	rc.send("GET " + rc.path + "?EIO=4&transport=polling HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, body := rc.answer()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, `0{"sid":"`) {
		rc.t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}
	return rc.ts.track(body)
}

// TestTakeOverOneConnection follows one keep-alive connection through a
// session: the handshake (net/http's), a poll that takes the connection
// over and waits, its answer, a POST and polls answered by the server
// itself, then a request of another kind, handed back to net/http on the
// same connection.
func TestTakeOverOneConnection(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	rc := dialKeepAlive(t, srv)
	sid := rc.handshake()
	h := srv.session(t, sid)

	rc.send(rc.get(sid, ""))
	wait.For(t, "the poll to wait", 5*time.Second, h.s.PollPending)
	if n := srv.TakenCount(); n != 1 {
		t.Fatalf("%d connections taken over, want 1", n)
	}
	if err := h.s.Send(eioparser.Packet{Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	resp, body := rc.answer()
	if resp.StatusCode != http.StatusOK || body != "4hello" {
		t.Fatalf("poll: %d %q", resp.StatusCode, body)
	}

	// Answered by the server itself from now on.
	rc.send(rc.post(sid, "4one\x1e4two"))
	resp, body = rc.answer()
	if resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("post: %d %q", resp.StatusCode, body)
	}
	wait.For(t, "the posted messages", 5*time.Second, func() bool { return len(h.messages()) == 2 })
	if err := h.s.Send(eioparser.Packet{Data: []byte("a")}, eioparser.Packet{Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	rc.send(rc.get(sid, ""))
	resp, body = rc.answer()
	if resp.StatusCode != http.StatusOK || body != "4a\x1e4b" {
		t.Fatalf("poll with a queue: %d %q", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/plain; charset=UTF-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	rc.send(rc.get("unknown", ""))
	resp, body = rc.answer()
	if resp.StatusCode != http.StatusBadRequest || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("unknown sid: %d %q", resp.StatusCode, body)
	}

	// A request the server leaves to net/http, on the same connection:
	// net/http's answer says the version is missing, which no request
	// the server answers itself can hear.
	rc.send("GET " + rc.path + "?transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, body = rc.answer()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":5`) {
		t.Fatalf("handed back: %d %q", resp.StatusCode, body)
	}
	wait.For(t, "the connection handed back", 5*time.Second, func() bool { return srv.TakenCount() == 0 })
	// And taken over again by the next poll that reaches net/http.
	rc.send(rc.get(sid, ""))
	wait.For(t, "the poll to wait again", 5*time.Second, h.s.PollPending)
	wait.For(t, "the connection taken over again", 5*time.Second, func() bool { return srv.TakenCount() == 1 })
	h.s.Close()
	resp, body = rc.answer()
	if resp.StatusCode != http.StatusOK || body != "1" {
		t.Fatalf("poll of a closed session: %d %q", resp.StatusCode, body)
	}
}

// TestTakenPollCut checks that a client that closes its connection while
// its poll waits, as a browser tab that goes away, ends its session as a
// transport error, as over net/http.
func TestTakenPollCut(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	rc := dialKeepAlive(t, srv)
	sid := rc.handshake()
	h := srv.session(t, sid)
	rc.send(rc.get(sid, ""))
	wait.For(t, "the poll to wait", 5*time.Second, h.s.PollPending)
	rc.c.Close()
	h.waitClosed(t, eioparser.ReasonTransportError)
	srv.forget(sid)
	wait.For(t, "the connection closed", 5*time.Second, func() bool { return srv.TakenCount() == 0 })
}

// TestTakenPipelined checks requests sent behind a waiting poll: they are
// handled once it is answered, in order, not as a duplicate poll.
func TestTakenPipelined(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	rc := dialKeepAlive(t, srv)
	sid := rc.handshake()
	h := srv.session(t, sid)
	rc.send(rc.get(sid, ""))
	wait.For(t, "the poll to wait", 5*time.Second, h.s.PollPending)
	// A POST and a poll behind the waiting one, in one write.
	rc.send(rc.post(sid, "4behind") + rc.get(sid, ""))
	time.Sleep(50 * time.Millisecond)
	if len(h.messages()) != 0 || len(h.closes()) != 0 {
		t.Fatalf("handled before the poll ahead was answered: %v %v", h.messages(), h.closes())
	}
	if err := h.s.Send(eioparser.Packet{Data: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	if _, body := rc.answer(); body != "4first" {
		t.Fatalf("first poll: %q", body)
	}
	if resp, body := rc.answer(); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("post behind: %d %q", resp.StatusCode, body)
	}
	wait.For(t, "the poll behind to wait", 5*time.Second, h.s.PollPending)
	if err := h.s.Send(eioparser.Packet{Data: []byte("second")}); err != nil {
		t.Fatal(err)
	}
	if _, body := rc.answer(); body != "4second" {
		t.Fatalf("second poll: %q", body)
	}
	if m := h.messages(); len(m) != 1 || m[0].data != "behind" {
		t.Fatalf("messages %v", m)
	}
}

// TestTakenOtherHost checks that a poll naming another host than the
// request its connection was taken over with goes to net/http: the checks
// the handlers in front made of the first do not hold for it.
func TestTakenOtherHost(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	rc, _, _ := takeOver(t, srv, "x")
	rc.send(strings.Replace(rc.get("unknown", ""), "Host: localhost", "Host: elsewhere", 1))
	resp, _ := rc.answer()
	// net/http's error answers carry no Cache-Control; the server's own do.
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Cache-Control") != "" {
		t.Fatalf("other host: %d, Cache-Control %q: answered on the taken connection", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// TestTakenConnectionClose checks that a poll that says Connection: close
// is answered so, and its connection closed after.
func TestTakenConnectionClose(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	rc := dialKeepAlive(t, srv)
	sid := rc.handshake()
	h := srv.session(t, sid)
	rc.send(rc.get(sid, ""))
	wait.For(t, "the poll to wait", 5*time.Second, h.s.PollPending)
	if err := h.s.Send(eioparser.Packet{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	rc.answer()
	if err := h.s.Send(eioparser.Packet{Data: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	rc.send(rc.get(sid, "Connection: close\r\n"))
	resp, body := rc.answer()
	if body != "4y" || !resp.Close {
		t.Fatalf("answer %q, close %v", body, resp.Close)
	}
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := rc.br.ReadByte(); err != io.EOF {
		t.Fatalf("after the answer: %v %v, want EOF", n, err)
	}
}

// BenchmarkPollRoundTrip is one delivery over long-polling, as a client on
// one keep-alive connection sees it: a message queued, the poll that
// collects it written and its answer read. "taken" is the server's own
// path (PollListener), "net/http" the same without it.
func BenchmarkPollRoundTrip(b *testing.B) {
	for _, mode := range []string{"taken", "net/http"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "net/http" {
				b.Setenv(plainPollingEnv, "1")
			}
			srv := newTestServer(b, engineio.Config{}, false)
			c, err := net.Dial("tcp", strings.TrimPrefix(srv.ts.URL, "http://"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			path := strings.TrimPrefix(srv.URL, srv.ts.URL)
			roundTrip := func(req string) string {
				if _, err := io.WriteString(c, req); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return string(body)
			}
			hs := roundTrip("GET " + path + "?EIO=4&transport=polling HTTP/1.1\r\nHost: localhost\r\n\r\n")
			sid := srv.track(hs)
			h := srv.session(b, sid)
			get := "GET " + path + "?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
			msg := eioparser.Packet{Data: []byte("hello")}
			b.ReportAllocs()
			for b.Loop() {
				if err := h.s.Send(msg); err != nil {
					b.Fatal(err)
				}
				if body := roundTrip(get); body != "4hello" {
					b.Fatalf("answer %q", body)
				}
			}
		})
	}
}

// TestTakenBusyWhileSwept keeps a taken connection busy with requests, some
// arriving in pieces, across several sweeps of the idle and header
// timeouts: under the race detector, it checks that the sweep looks at no
// connection's buffers while the goroutine handling it changes them.
func TestTakenBusyWhileSwept(t *testing.T) {
	srv := newTestServer(t, engineio.WithSweepEvery(engineio.Config{}, 50*time.Microsecond), false)
	const conns = 4
	var wg sync.WaitGroup
	posted := make([]int, conns)
	sessions := make([]*testSession, conns)
	for c := range conns {
		rc, sid, h := takeOver(t, srv, "taken")
		sessions[c] = h
		wg.Go(func() {
			posts := 0
			defer func() { posted[c] = posts }()
			for end := time.Now().Add(time.Second); time.Now().Before(end); posts++ {
				req := rc.post(sid, "4m")
				if posts%2 == 1 {
					// The head in two writes: a partial request waits
					// in the connection's buffer.
					if _, err := io.WriteString(rc.c, req[:20]); err != nil {
						t.Errorf("connection %d: %v", c, err)
						return
					}
					req = req[20:]
				}
				if _, err := io.WriteString(rc.c, req); err != nil {
					t.Errorf("connection %d: %v", c, err)
					return
				}
				resp, body, err := rc.readAnswer()
				if err != nil {
					t.Errorf("connection %d, post %d: %v", c, posts, err)
					return
				}
				if resp.StatusCode != http.StatusOK || body != "ok" {
					t.Errorf("connection %d, post %d: %d %q", c, posts, resp.StatusCode, body)
					return
				}
			}
		})
	}
	wg.Wait()
	for c, h := range sessions {
		wait.For(t, "every posted message", 5*time.Second, func() bool { return len(h.messages()) == posted[c] })
	}
	if n := srv.TakenCount(); n != conns {
		t.Errorf("%d connections taken over after the posts, want %d", n, conns)
	}
}
