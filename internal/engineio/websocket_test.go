package engineio_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestWebSocketTooLarge(t *testing.T) {
	srv := newTestServer(t, engineio.Config{MaxPayload: 100}, false)
	ws, h := dialRawWebSocket(t, srv)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("4"+strings.Repeat("x", 99))); err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.BinaryMessage, make([]byte, 101)); err != nil {
		t.Fatal(err)
	}
	h.waitClosed(t, eioparser.ReasonTransportError)
	expectClosed(t, ws)
	if m := h.messages(); len(m) != 1 || len(m[0].data) != 99 {
		t.Errorf("messages %d, want the one of MaxPayload bytes", len(m))
	}
}

// probeByHand opens a polling session and runs the upgrade's probe on a
// WebSocket, leaving the upgrade packet unsent.
func probeByHand(t *testing.T, srv *testServer) (*websocket.Conn, *testSession) {
	t.Helper()
	sid := pollHandshake(t, srv)
	h := srv.session(t, sid)
	pending := pollAsync(t, srv, sid)
	wait.For(t, "pending poll", 2*time.Second, h.s.PollPending)

	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "?EIO=4&transport=websocket&sid=" + sid
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "3probe" {
		t.Fatalf("probe answer %q, %v", data, err)
	}
	if code, body := await(t, pending); code != "200" || body != "6" {
		t.Errorf("pending poll after the probe: %s %q, want a noop", code, body)
	}
	return ws, h
}

// readText reads one frame and returns it as "text:..." or "binary:...".
func readFrame(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if mt == websocket.BinaryMessage {
		return fmt.Sprintf("binary:%x", data)
	}
	return "text:" + string(data)
}

func TestUpgrade(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	ws, h := probeByHand(t, srv)
	sid := h.s.ID()

	// Messages sent during the upgrade wait for it: polls get noops.
	for _, p := range []eioparser.Packet{
		{Data: []byte("a")},
		{Data: []byte{0xca, 0xfe}, Binary: true},
		{Data: []byte("c")},
	} {
		if err := h.s.Send(p); err != nil {
			t.Fatal(err)
		}
	}
	if code, body, _ := httpDo(t, "GET", pollURL(srv.URL, sid), "", nil); code != 200 || body != "6" {
		t.Errorf("poll during the upgrade: %d %q, want a noop", code, body)
	}
	if code, body, _ := httpDo(t, "POST", pollURL(srv.URL, sid), "4during", nil); code != 200 {
		t.Errorf("POST during the upgrade: %d %s", code, body)
	}
	if tr := h.s.Transport(); tr != "polling" {
		t.Errorf("transport %q before the upgrade packet", tr)
	}

	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"text:4a", "binary:cafe", "text:4c"} {
		if got := readFrame(t, ws); got != want {
			t.Errorf("after the upgrade: %s, want %s", got, want)
		}
	}
	if tr := h.s.Transport(); tr != "websocket" {
		t.Errorf("transport %q after the upgrade", tr)
	}
	if code, body, _ := httpDo(t, "GET", pollURL(srv.URL, sid), "", nil); code != http.StatusBadRequest {
		t.Errorf("poll after the upgrade: %d %q", code, body)
	}
	if code, body, _ := httpDo(t, "POST", pollURL(srv.URL, sid), "4late", nil); code != http.StatusBadRequest {
		t.Errorf("POST after the upgrade: %d %q", code, body)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("4after")); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "message over WebSocket", 2*time.Second, func() bool { return len(h.messages()) == 2 })
	if m := h.messages(); m[0].data != "during" || m[1].data != "after" {
		t.Errorf("messages %+v", m)
	}
	if cl := h.closes(); len(cl) != 0 {
		t.Errorf("closed: %+v", cl)
	}
}

// TestUpgradeStream upgrades while both sides send numbered messages, and
// checks each arrives exactly once, in order.
func TestUpgradeStream(t *testing.T) {
	const n = 300
	srv := newTestServer(t, engineio.Config{}, false)
	ctx := siotest.Context(t)
	ec := dial(t, ctx, srv, sioclient.TransportPolling, nil)
	h := srv.session(t, ec.SID())

	sent := make(chan error, 1)
	go func() {
		for i := range n {
			if err := h.s.Send(eioparser.Packet{Data: []byte(strconv.Itoa(i))}); err != nil {
				sent <- err
				return
			}
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		sent <- nil
	}()
	upgraded := make(chan error, 1)
	for i := range n {
		if i == n/10 {
			go func() { upgraded <- ec.Upgrade(ctx) }()
		}
		if err := ec.SendMessage([]byte(strconv.Itoa(i)), false); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if err := <-upgraded; err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("server Send: %v", err)
	}
	for i := range n {
		if p := read(t, ctx, ec); string(p.Data) != strconv.Itoa(i) {
			t.Fatalf("client received %q, want %d", p.Data, i)
		}
	}
	wait.For(t, "client messages", 5*time.Second, func() bool { return len(h.messages()) >= n })
	for i, m := range h.messages() {
		if m.data != strconv.Itoa(i) {
			t.Fatalf("server received %q at %d", m.data, i)
		}
	}
	if tr := ec.Transport(); tr != sioclient.TransportWebSocket {
		t.Errorf("client transport %q", tr)
	}
}

func TestUpgradeFails(t *testing.T) {
	srv := newTestServer(t, engineio.Config{UpgradeTimeout: 100 * time.Millisecond}, true)
	tests := []struct {
		name   string
		frames []string
	}{
		{"bad probe", []string{"2nope"}},
		{"message instead of probe", []string{"4hi"}},
		{"upgrade without probe", []string{"5"}},
		{"probe timeout", nil},
		{"upgrade timeout", []string{"2probe"}},
		{"message instead of upgrade", []string{"2probe", "4hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sid := pollHandshake(t, srv)
			h := srv.session(t, sid)
			url := "ws" + strings.TrimPrefix(srv.URL, "http") + "?EIO=4&transport=websocket&sid=" + sid
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			for _, f := range tt.frames {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
					t.Fatal(err)
				}
			}
			expectClosed(t, ws)
			// The session goes on over polling.
			if code, body, _ := httpDo(t, "POST", pollURL(srv.URL, sid), "4still polling", nil); code != 200 {
				t.Fatalf("POST after a failed upgrade: %d %s", code, body)
			}
			if code, body, _ := httpDo(t, "GET", pollURL(srv.URL, sid), "", nil); code != 200 || body != "4still polling" {
				t.Errorf("GET after a failed upgrade: %d %q", code, body)
			}
			if tr := h.s.Transport(); tr != "polling" {
				t.Errorf("transport %q", tr)
			}
		})
	}
}

// TestUpgradeTwice checks that a second WebSocket for a session is refused
// without harm to the first.
func TestUpgradeTwice(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, true)
	ctx := siotest.Context(t)
	for _, mode := range []sioclient.Transport{sioclient.TransportWebSocket, sioclient.TransportUpgrade} {
		t.Run(string(mode), func(t *testing.T) {
			ec := dial(t, ctx, srv, mode, nil)
			url := "ws" + strings.TrimPrefix(srv.URL, "http") + "?EIO=4&transport=websocket&sid=" + ec.SID()
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
			expectClosed(t, ws)
			if err := ec.SendMessage([]byte("echo"), false); err != nil {
				t.Fatal(err)
			}
			if p := read(t, ctx, ec); string(p.Data) != "echo" {
				t.Errorf("echo %q", p.Data)
			}
		})
	}
}

// TestCloseDuringUpgrade closes a session between the probe and the
// upgrade packet: the queue and the close must still reach the client,
// and the session must go at once rather than when its heartbeat expires.
func TestCloseDuringUpgrade(t *testing.T) {
	for _, how := range []string{"Close", "Shutdown"} {
		t.Run(how, func(t *testing.T) {
			srv := newTestServer(t, engineio.Config{}, false)
			ws, h := probeByHand(t, srv)
			if err := h.s.Send(eioparser.Packet{Data: []byte("bye")}); err != nil {
				t.Fatal(err)
			}
			shut := make(chan error, 1)
			if how == "Close" {
				h.s.Close()
			} else {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					shut <- srv.Shutdown(ctx)
				}()
				wait.For(t, "close", 2*time.Second, func() bool { return len(h.closes()) > 0 })
			}
			if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
			var got []string
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					break
				}
				got = append(got, string(data))
			}
			if strings.Join(got, " ") != "4bye 1" {
				t.Errorf("after the upgrade packet: %q, want the queue then a close packet", got)
			}
			wait.For(t, "session removed", 2*time.Second, func() bool { return srv.SessionCount() == 0 })
			if how == "Shutdown" {
				if err := <-shut; err != nil {
					t.Errorf("Shutdown: %v", err)
				}
				h.waitClosed(t, eioparser.ReasonServerShutdown)
			} else {
				h.waitClosed(t, eioparser.ReasonForcedClose)
			}
		})
	}
}

// TestWebSocketHandshakeKeepsCookies checks that the cookies a handler in
// front of the server sets reach the client in the 101 response, which
// the server writes by hand, and that a value that would split the
// response is dropped.
func TestWebSocketHandshakeKeepsCookies(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "guest=abc; Path=/; HttpOnly; SameSite=Lax")
		w.Header().Add("Set-Cookie", "bad=x\r\nX-Injected: y")
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	url := "ws" + strings.TrimPrefix(front.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != "guest=abc; Path=/; HttpOnly; SameSite=Lax" {
		t.Errorf("Set-Cookie %q, want the one cookie", got)
	}
	if got := resp.Header.Get("X-Injected"); got != "" {
		t.Errorf("a cookie's value injected a header: %q", got)
	}
	if got := readFrame(t, ws); !strings.HasPrefix(got, "text:0{") {
		t.Errorf("first frame %q, want the open packet", got)
	}
}
