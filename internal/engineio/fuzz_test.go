package engineio_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/engineio"
)

// specPayloads are payloads from the protocol's examples, and edge cases:
// eioparser's FuzzDecodePayload seeds, here sent to a live server.
var specPayloads = []string{
	"4hello\x1e4€\x1ebAQIDBA==",
	"4hello",
	"4€",
	"bAQIDBA==",
	"0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}",
	"1", "2", "3", "2probe", "3probe", "5", "6",
	"4", "b", "4\x1e4", "40/admin,{\"token\":\"abc\"}", "42[\"chat\",\"hi\"]",
	"451-[\"ev\",{\"_placeholder\":true,\"num\":0}]\x1ebAQI=",
	"", "\x1e", "4a\x1e", "\x1e4a", "b!", "bAQ", "bAR=", "9", "4a\x1e\x1e4b",
}

// handshakeUntracked opens a polling session by hand, which the caller
// must close and collect.
func handshakeUntracked(t *testing.T, ts *testServer) string {
	t.Helper()
	code, body, _ := httpDo(t, http.MethodGet, ts.URL+"?EIO=4&transport=polling", "", nil)
	if code != http.StatusOK || !strings.HasPrefix(body, `0{"sid":"`) {
		t.Fatalf("handshake: %d %q", code, body)
	}
	sid, _, _ := strings.Cut(strings.TrimPrefix(body, `0{"sid":"`), `"`)
	return sid
}

// FuzzServer feeds arbitrary bytes to a live server as a POST body and as
// WebSocket frames: it must not panic, must answer POSTs with 200, 400 or
// 413, and must go on serving.
func FuzzServer(f *testing.F) {
	for _, s := range specPayloads {
		f.Add([]byte(s))
	}
	f.Add(bytes.Repeat([]byte("4x"), 600))
	srv := newTestServer(f, engineio.Config{MaxPayload: 1000, PingInterval: time.Second, PingTimeout: time.Second}, true)
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "?EIO=4&transport=websocket"
	f.Fuzz(func(t *testing.T, input []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()

		sid := handshakeUntracked(t, srv)
		req, err := http.NewRequestWithContext(ctx, "POST", pollURL(srv.URL, sid), bytes.NewReader(input))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("POST %q: status %d", input, resp.StatusCode)
		}
		// End the session: collect the last poll.
		srv.session(t, sid).s.Close()
		httpDo(t, "GET", pollURL(srv.URL, sid), "", nil)
		srv.forget(sid)

		for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			ws, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if _, _, err := ws.ReadMessage(); err != nil {
				t.Fatalf("open packet: %v", err)
			}
			_ = ws.WriteMessage(mt, input)
			_ = ws.WriteMessage(websocket.TextMessage, []byte("1"))
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					break
				}
			}
			_ = ws.Close()
		}

		// Still serving?
		sid = handshakeUntracked(t, srv)
		srv.session(t, sid).s.Close()
		httpDo(t, "GET", pollURL(srv.URL, sid), "", nil)
		srv.forget(sid)
	})
}
