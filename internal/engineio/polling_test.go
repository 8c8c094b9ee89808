package engineio_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// pollAsync starts a GET on session sid and returns its status and body
// on a channel.
func pollAsync(t *testing.T, ts *testServer, sid string) <-chan [2]string {
	t.Helper()
	ch := make(chan [2]string, 1)
	go func() {
		resp, err := http.Get(pollURL(ts.URL, sid))
		if err != nil {
			ch <- [2]string{"error", err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- [2]string{resp.Status[:3], string(b)}
	}()
	return ch
}

func await(t *testing.T, ch <-chan [2]string) (string, string) {
	t.Helper()
	select {
	case r := <-ch:
		return r[0], r[1]
	case <-time.After(5 * time.Second):
		t.Fatal("poll never answered")
		return "", ""
	}
}

func TestDuplicateGET(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	sid := pollHandshake(t, srv)
	h := srv.session(t, sid)
	first := pollAsync(t, srv, sid)
	wait.For(t, "pending poll", 2*time.Second, h.s.PollPending)
	code, body, _ := httpDo(t, "GET", pollURL(srv.URL, sid), "", nil)
	if code != http.StatusBadRequest || body != `{"code":3,"message":"Bad request"}` {
		t.Errorf("second GET: %d %s", code, body)
	}
	if code, body := await(t, first); code != "200" || body != "1" {
		t.Errorf("first GET: %s %q, want 200 \"1\"", code, body)
	}
	h.waitClosed(t, eioparser.ReasonTransportError)
}

func TestOverlappingPOST(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	sid := pollHandshake(t, srv)
	h := srv.session(t, sid)

	// The first POST's body arrives slowly; the second comes meanwhile.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", pollURL(srv.URL, sid), pr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	defer func() {
		pw.Close()
		<-done
	}()
	if _, err := pw.Write([]byte("4first")); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "first POST being read", 2*time.Second, h.s.PostPending)
	code, body, _ := httpDo(t, "POST", pollURL(srv.URL, sid), "4second", nil)
	if code != http.StatusBadRequest || body != `{"code":3,"message":"Bad request"}` {
		t.Errorf("second POST: %d %s", code, body)
	}
	h.waitClosed(t, eioparser.ReasonTransportError)
	for _, m := range h.messages() {
		if m.data == "second" {
			t.Error("the overlapping POST was dispatched")
		}
	}
}

func TestPOSTTooLarge(t *testing.T) {
	srv := newTestServer(t, engineio.Config{MaxPayload: 100}, false)
	sid := pollHandshake(t, srv)
	h := srv.session(t, sid)

	code, body, _ := httpDo(t, "POST", pollURL(srv.URL, sid), "4"+strings.Repeat("x", 99), nil)
	if code != http.StatusOK {
		t.Fatalf("POST of MaxPayload bytes: %d %s", code, body)
	}
	code, body, _ = httpDo(t, "POST", pollURL(srv.URL, sid), "4"+strings.Repeat("x", 100), nil)
	if code != http.StatusRequestEntityTooLarge || body != `{"code":3,"message":"Payload too large"}` {
		t.Errorf("POST over MaxPayload: %d %s", code, body)
	}
	h.waitClosed(t, eioparser.ReasonTransportError)
	if n := len(h.messages()); n != 1 {
		t.Errorf("%d messages dispatched, want 1", n)
	}
	code, body, _ = httpDo(t, "GET", pollURL(srv.URL, sid), "", nil)
	if code == http.StatusOK && body != "1" {
		t.Errorf("GET after close: %d %q", code, body)
	}
}

// invalidPayloads are polling payloads the server must refuse.
var invalidPayloads = []struct {
	name, payload string
}{
	{"empty", ""},
	{"unknown type", "9"},
	{"type below range", "/x"},
	{"letter type", "x"},
	{"trailing separator", "4a\x1e"},
	{"leading separator", "\x1e4a"},
	{"empty packet between", "4a\x1e\x1e4b"},
	{"bad base64", "b!!!"},
	{"truncated base64", "bAAE"},
	{"valid then invalid", "4a\x1e7"},
}

func TestInvalidPayload(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	for _, tt := range invalidPayloads {
		t.Run(tt.name, func(t *testing.T) {
			sid := pollHandshake(t, srv)
			h := srv.session(t, sid)
			code, body, _ := httpDo(t, "POST", pollURL(srv.URL, sid), tt.payload, nil)
			if code != http.StatusBadRequest || body != `{"code":3,"message":"Bad request"}` {
				t.Errorf("POST %q: %d %s", tt.payload, code, body)
			}
			h.waitClosed(t, eioparser.ReasonParseError)
			if m := h.messages(); len(m) != 0 {
				t.Errorf("dispatched %+v from an invalid payload", m)
			}
		})
	}
}

// invalidFrames are WebSocket text frames the server must refuse.
var invalidFrames = []string{"", "9", "x", "b4AA==", "/"}

func TestInvalidFrame(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	for _, frame := range invalidFrames {
		t.Run(frame, func(t *testing.T) {
			ws, h := dialRawWebSocket(t, srv)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
				t.Fatal(err)
			}
			h.waitClosed(t, eioparser.ReasonParseError)
			expectClosed(t, ws)
		})
	}
}

// expectClosed reads ws until the server closes it.
func expectClosed(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the server did not close the connection")
		}
		if err != nil {
			return
		}
	}
}

// dialRawWebSocket opens a WebSocket session by hand, reads its open
// packet, and returns the connection, closed at the end of the test.
func dialRawWebSocket(t *testing.T, ts *testServer) (*websocket.Conn, *testSession) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "?EIO=4&transport=websocket"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	_, open, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return ws, ts.session(t, ts.track(string(open)))
}

// TestPOSTBodyTimeout checks that a POST whose body trickles in is cut
// once BodyTimeout has passed since its headers, with 408, and its session
// closed: a client sending a byte now and then must not hold a connection
// and a goroutine forever.
func TestPOSTBodyTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := newTestServer(t, engineio.Config{BodyTimeout: timeout}, false)
	sid := pollHandshake(t, srv)
	h := srv.session(t, sid)

	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", pollURL(srv.URL, sid), pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 1000
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer pw.Close()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, err := pw.Write([]byte("4")); err != nil {
				return
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	start := time.Now()
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case code := <-done:
		if code != http.StatusRequestTimeout && code != 0 {
			t.Errorf("trickled POST: status %d, want 408 or a closed connection", code)
		}
		t.Logf("trickled POST cut after %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatalf("a POST trickling its body is still read after %v (BodyTimeout %v)", time.Since(start).Round(time.Millisecond), timeout)
	}
	h.waitClosed(t, eioparser.ReasonTransportError)
}

// TestPollWriteTimeout checks that a long poll whose client stops reading
// its answer is cut after WriteTimeout, and its session closed, since what
// it held is lost: such a client must not hold a goroutine and its
// payload forever.
func TestPollWriteTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := newTestServer(t, engineio.Config{WriteTimeout: timeout, MaxQueueBytes: 64 << 20}, false)
	sid := pollHandshake(t, srv)
	h := srv.session(t, sid)
	// More than loopback's socket buffers hold, so that the write stalls.
	big := []byte(strings.Repeat("x", 4<<20))
	for range 4 {
		if err := h.s.Send(eioparser.Packet{Data: big}); err != nil {
			t.Fatal(err)
		}
	}
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", strings.TrimPrefix(srv.ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u := strings.TrimPrefix(pollURL(srv.URL, sid), srv.ts.URL)
	if _, err := c.Write([]byte("GET " + u + " HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	// The client never reads.
	h.waitClosed(t, eioparser.ReasonTransportError)
}
