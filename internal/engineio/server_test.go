package engineio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/siotest"
)

func TestHandshake(t *testing.T) {
	cfg := engineio.Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxPayload: 1234}
	srv := newTestServer(t, cfg, false)
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		ec := dial(t, siotest.Context(t), srv, mode, nil)
		open := ec.Open()
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(open.Raw, &keys); err != nil {
			t.Fatal(err)
		}
		got := make([]string, 0, len(keys))
		for k := range keys {
			got = append(got, k)
		}
		slices.Sort(got)
		if want := []string{"maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"}; !slices.Equal(got, want) {
			t.Errorf("open packet keys %v, want %v", got, want)
		}
		if len(open.SID) != 20 {
			t.Errorf("sid %q: want 20 characters", open.SID)
		}
		if open.PingInterval != 300 || open.PingTimeout != 200 || open.MaxPayload != 1234 {
			t.Errorf("open packet %s", open.Raw)
		}
		wantUpgrades := []string{"websocket"}
		if mode == sioclient.TransportWebSocket {
			wantUpgrades = []string{}
		}
		if !slices.Equal(open.Upgrades, wantUpgrades) || open.Upgrades == nil {
			t.Errorf("upgrades %#v, want %#v", open.Upgrades, wantUpgrades)
		}
		srv.session(t, open.SID)
		if n := srv.SessionCount(); n < 1 {
			t.Errorf("SessionCount %d", n)
		}
	})
}

func TestHandshakeDefaults(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	ec := dial(t, siotest.Context(t), srv, sioclient.TransportPolling, nil)
	open := ec.Open()
	if open.PingInterval != 25000 || open.PingTimeout != 20000 || open.MaxPayload != 1_000_000 {
		t.Errorf("open packet %s", open.Raw)
	}
}

func TestHandshakeWithoutWebSocket(t *testing.T) {
	srv := newTestServer(t, engineio.Config{DisableWebSocket: true}, false)
	ec := dial(t, siotest.Context(t), srv, sioclient.TransportPolling, nil)
	if up := ec.Open().Upgrades; len(up) != 0 {
		t.Errorf("upgrades %v with WebSocket disabled", up)
	}
}

func TestRequestErrors(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	noPoll := newTestServer(t, engineio.Config{DisablePolling: true}, false)
	noWS := newTestServer(t, engineio.Config{DisableWebSocket: true}, false)
	sid := pollHandshake(t, srv)
	const (
		transportUnknown = `{"code":0,"message":"Transport unknown"}`
		sidUnknown       = `{"code":1,"message":"Session ID unknown"}`
		badHandshake     = `{"code":2,"message":"Bad handshake method"}`
		badRequest       = `{"code":3,"message":"Bad request"}`
		badVersion       = `{"code":5,"message":"Unsupported protocol version"}`
	)
	tests := []struct {
		name   string
		url    string
		method string
		body   string
		want   string
	}{
		{"no EIO", srv.URL + "?transport=polling", "GET", "", badVersion},
		{"EIO 3", srv.URL + "?EIO=3&transport=polling", "GET", "", badVersion},
		{"EIO 5", srv.URL + "?EIO=5&transport=polling", "GET", "", badVersion},
		{"no transport", srv.URL + "?EIO=4", "GET", "", transportUnknown},
		{"unknown transport", srv.URL + "?EIO=4&transport=webtransport", "GET", "", transportUnknown},
		{"polling disabled", noPoll.URL + "?EIO=4&transport=polling", "GET", "", transportUnknown},
		{"websocket disabled", noWS.URL + "?EIO=4&transport=websocket", "GET", "", transportUnknown},
		{"websocket without upgrade", srv.URL + "?EIO=4&transport=websocket", "GET", "", badRequest},
		{"unknown sid GET", pollURL(srv.URL, "nope"), "GET", "", sidUnknown},
		{"unknown sid POST", pollURL(srv.URL, "nope"), "POST", "4hi", sidUnknown},
		{"POST handshake", srv.URL + "?EIO=4&transport=polling", "POST", "4hi", badHandshake},
		{"PUT handshake", srv.URL + "?EIO=4&transport=polling", "PUT", "", badHandshake},
		{"PUT with sid", pollURL(srv.URL, sid), "PUT", "", badRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, h := httpDo(t, tt.method, tt.url, tt.body, nil)
			if code != http.StatusBadRequest || body != tt.want {
				t.Errorf("%s %s: %d %s, want 400 %s", tt.method, tt.url, code, body, tt.want)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	sameOrigin := newTestServer(t, engineio.Config{}, false)
	listed := newTestServer(t, engineio.Config{AllowedOrigins: []string{"https://chat.example", "http://localhost:8080/"}}, false)
	star := newTestServer(t, engineio.Config{AllowedOrigins: []string{"*"}}, false)
	const forbidden = `{"code":4,"message":"Forbidden"}`
	self := "http://" + strings.TrimPrefix(sameOrigin.ts.URL, "http://")
	tests := []struct {
		name    string
		srv     *testServer
		method  string
		origin  string
		allowed bool
	}{
		{"same origin", sameOrigin, "GET", self, true},
		{"no origin", sameOrigin, "GET", "", true},
		{"other origin", sameOrigin, "GET", "https://evil.example", false},
		{"other port", sameOrigin, "GET", "http://127.0.0.1:1", false},
		{"listed", listed, "GET", "https://chat.example", true},
		{"listed case", listed, "GET", "HTTPS://CHAT.EXAMPLE", true},
		{"listed with slash", listed, "GET", "http://localhost:8080", true},
		{"not listed", listed, "GET", "https://chat.example.evil", false},
		{"wrong scheme", listed, "GET", "http://chat.example", false},
		{"star", star, "GET", "https://anything.example", true},
		{"star, null origin", star, "GET", "null", true},
		{"preflight listed", listed, "OPTIONS", "https://chat.example", true},
		{"preflight not listed", listed, "OPTIONS", "https://evil.example", false},
		{"preflight star", star, "OPTIONS", "https://anything.example", true},
		{"same host, other scheme", sameOrigin, "GET", "https://" + strings.TrimPrefix(sameOrigin.ts.URL, "http://"), false},
		{"same host, path", sameOrigin, "GET", self + "/chat", false},
		{"null origin", sameOrigin, "GET", "null", false},
		{"null origin, listed server", listed, "GET", "null", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			if tt.method == "OPTIONS" {
				h.Set("Access-Control-Request-Method", "POST")
				h.Set("Access-Control-Request-Headers", "content-type, x-token")
			}
			code, body, rh := httpDo(t, tt.method, tt.srv.URL+"?EIO=4&transport=polling", "", h)
			if !tt.allowed {
				if code != http.StatusForbidden || body != forbidden {
					t.Errorf("%d %s, want 403 %s", code, body, forbidden)
				}
				if v := rh.Get("Access-Control-Allow-Origin"); v != "" {
					t.Errorf("Access-Control-Allow-Origin %q on a refusal", v)
				}
				return
			}
			switch {
			case tt.method == "OPTIONS" && code != http.StatusNoContent:
				t.Errorf("preflight: %d, want 204", code)
			case tt.method == "GET" && (code != http.StatusOK || !strings.HasPrefix(body, "0{")):
				t.Errorf("handshake: %d %q", code, body)
			case tt.method == "GET":
				tt.srv.track(body)
			}
			if tt.origin == "" {
				if v := rh.Get("Access-Control-Allow-Origin"); v != "" {
					t.Errorf("Access-Control-Allow-Origin %q without Origin", v)
				}
				return
			}
			// Any origin is answered as the reference server answers it:
			// "*", without credentials. A listed or the same origin is
			// named, with credentials.
			want := http.Header{
				"Access-Control-Allow-Origin":      {tt.origin},
				"Access-Control-Allow-Credentials": {"true"},
			}
			if tt.srv == star {
				want = http.Header{
					"Access-Control-Allow-Origin":      {"*"},
					"Access-Control-Allow-Credentials": nil,
				}
			}
			if tt.method == "OPTIONS" {
				want["Access-Control-Allow-Methods"] = []string{"GET, POST, OPTIONS"}
				want["Access-Control-Allow-Headers"] = []string{"content-type, x-token"}
			}
			for k, v := range want {
				if got := rh.Values(k); !slices.Equal(got, v) {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if tt.srv != star && !slices.Contains(rh.Values("Vary"), "Origin") {
				t.Errorf("Vary %q lacks Origin", rh.Values("Vary"))
			}
		})
	}
}

func TestWebSocketOrigin(t *testing.T) {
	srv := newTestServer(t, engineio.Config{AllowedOrigins: []string{"https://chat.example"}}, false)
	tests := []struct {
		origin  string
		allowed bool
	}{
		{"https://chat.example", true},
		{"https://evil.example", false},
		{"", true},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			url := "ws" + strings.TrimPrefix(srv.URL, "http") + "?EIO=4&transport=websocket"
			ws, resp, err := websocket.DefaultDialer.Dial(url, h)
			if tt.allowed {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				_ = ws.Close()
				return
			}
			if err == nil {
				_ = ws.Close()
				t.Fatal("dial from a disallowed origin succeeded")
			}
			if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("dial: %v, %v; want 403", err, resp)
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	ctx := siotest.Context(t)
	var conns []*sioclient.EngineConn
	for _, mode := range siotest.Transports {
		for range 2 {
			conns = append(conns, dial(t, ctx, srv, mode, nil))
		}
	}
	for _, ec := range conns {
		srv.session(t, ec.SID())
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := srv.SessionCount(); n != 0 {
		t.Errorf("SessionCount %d after Shutdown", n)
	}
	for _, ec := range conns {
		select {
		case <-ec.Done():
		case <-ctx.Done():
			t.Fatalf("%s connection still open", ec.Transport())
		}
		if err := ec.Err(); !errors.Is(err, sioclient.ErrServerClosed) {
			t.Errorf("%s: Err %v, want ErrServerClosed", ec.Transport(), err)
		}
		srv.session(t, ec.SID()).waitClosed(t, eioparser.ReasonServerShutdown)
	}
	code, body, _ := httpDo(t, "GET", srv.URL+"?EIO=4&transport=polling", "", nil)
	if code != http.StatusBadRequest {
		t.Errorf("handshake after Shutdown: %d %s", code, body)
	}
}

// idleHandler ignores what its session receives.
type idleHandler struct{}

func (idleHandler) HandleMessage([]byte, bool)        {}
func (idleHandler) HandleClose(eioparser.CloseReason) {}

// TestSessionKnownOnceOpenSent checks that a session is registered before
// its open packet can reach the client: a WebSocket client that uses its
// sid the moment it reads it must not be told the session is unknown. The
// NewSession hook is held up a little, which is where the open packet used
// to leave ahead of the registration.
func TestSessionKnownOnceOpenSent(t *testing.T) {
	tried := make(chan struct{}) // closed once the client has used its sid
	srv := engineio.NewServer(engineio.Config{
		Logger: siotest.DiscardLogger(),
		NewSession: func(*engineio.Session) engineio.Handler {
			// A slow application hook: it returns once the client has
			// tried its sid, or after 200 ms when the client cannot have
			// it yet.
			select {
			case <-tried:
			case <-time.After(200 * time.Millisecond):
			}
			return idleHandler{}
		},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	url := hs.URL + "/engine.io/"
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, open, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("reading the open packet: %v", err)
	}
	var hello struct{ SID string }
	if err := json.Unmarshal(bytes.TrimPrefix(open, []byte("0")), &hello); err != nil || hello.SID == "" {
		t.Fatalf("open packet %q: %v", open, err)
	}
	// A polling request for a WebSocket session is a bad request, not one
	// for an unknown session.
	code, body, _ := httpDo(t, http.MethodGet, pollURL(url, hello.SID), "", nil)
	close(tried)
	if want := `{"code":3,"message":"Bad request"}`; code != http.StatusBadRequest || body != want {
		t.Errorf("request with the sid just received: %d %s, want 400 %s", code, body, want)
	}
}

// TestSessionKeepsFewHeaders checks that a session keeps, of its handshake
// request's headers, only those on engineio's list, so that large headers
// it has no use for are not held for the session's lifetime.
func TestSessionKeepsFewHeaders(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, false)
	junk := strings.Repeat("j", 8<<10)
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		h := http.Header{}
		h.Set("Cookie", "a=1")
		h.Set("User-Agent", "test-agent")
		h.Set("Accept-Language", "fr")
		h.Set("Authorization", "Bearer x")
		h.Set("X-Forwarded-For", "192.0.2.1")
		h.Set("X-Junk", junk)
		h.Set("X-Other", "other")
		ec := dial(t, siotest.Context(t), srv, mode, &sioclient.Options{Header: h})
		got := srv.session(t, ec.SID()).s.Request().Header
		for _, k := range []string{"Cookie", "User-Agent", "Accept-Language", "Authorization", "X-Forwarded-For"} {
			if got.Get(k) != h.Get(k) {
				t.Errorf("%s: %q, want %q", k, got.Get(k), h.Get(k))
			}
		}
		for _, k := range []string{"X-Junk", "X-Other", "Sec-Websocket-Key", "Connection"} {
			if v := got.Values(k); v != nil {
				t.Errorf("%s kept: %.40q", k, v)
			}
		}
	})
}

// TestNoSniff checks that every polling answer, error and POST reply says
// it must not be sniffed: they carry text a client chose, which a browser
// that sniffed could take for HTML.
func TestNoSniff(t *testing.T) {
	srv := newTestServer(t, engineio.Config{}, true) // the poll gets the echo
	sid := pollHandshake(t, srv)
	tests := []struct {
		name, method, url, body string
	}{
		{"handshake", "GET", srv.URL + "?EIO=4&transport=polling", ""},
		{"post", "POST", pollURL(srv.URL, sid), "4hello"},
		{"poll", "GET", pollURL(srv.URL, sid), ""},
		{"error", "GET", srv.URL + "?EIO=3&transport=polling", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body, h := httpDo(t, tt.method, tt.url, tt.body, nil)
			if tt.name == "handshake" {
				srv.track(body)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
		})
	}
}

// TestSameOrigin checks the same-origin rule: the Origin's scheme, host and
// port must be the request's own. The scheme is the connection's (no TLS
// here); X-Forwarded-Proto and X-Forwarded-Host say otherwise only from a
// proxy that TrustForwarded trusts.
func TestSameOrigin(t *testing.T) {
	plain := newTestServer(t, engineio.Config{}, false)
	proxied := newTestServer(t, engineio.Config{TrustForwarded: func(*http.Request) bool { return true }}, false)
	tests := []struct {
		name    string
		srv     *testServer
		host    string
		origin  string
		fwd     map[string]string
		allowed bool
	}{
		{"same", plain, "chat.example:8080", "http://chat.example:8080", nil, true},
		{"case", plain, "Chat.Example:8080", "http://chat.EXAMPLE:8080", nil, true},
		{"default port in Host", plain, "chat.example:80", "http://chat.example", nil, true},
		{"default port in Origin", plain, "chat.example", "http://chat.example:80", nil, true},
		{"other port", plain, "chat.example:8080", "http://chat.example:8081", nil, false},
		{"other host", plain, "chat.example", "http://chat.example.evil", nil, false},
		{"https page, plain request", plain, "chat.example", "https://chat.example", nil, false},
		{"https page, untrusted proxy", plain, "chat.example", "https://chat.example", map[string]string{"X-Forwarded-Proto": "https"}, false},
		{"https page, trusted proxy", proxied, "chat.example", "https://chat.example", map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"trusted proxy, last value", proxied, "chat.example", "https://chat.example", map[string]string{"X-Forwarded-Proto": "http, https"}, true},
		{"http page, trusted https proxy", proxied, "chat.example", "http://chat.example", map[string]string{"X-Forwarded-Proto": "https"}, false},
		{"trusted proxy, forwarded host", proxied, "127.0.0.1:3000", "https://chat.example", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "chat.example"}, true},
		{"untrusted forwarded host", plain, "127.0.0.1:3000", "http://chat.example", map[string]string{"X-Forwarded-Host": "chat.example"}, false},
		{"ipv6", plain, "[::1]:3000", "http://[::1]:3000", nil, true},
		{"userinfo", plain, "chat.example", "http://u@chat.example", nil, false},
		{"no scheme", plain, "chat.example", "chat.example", nil, false},
		{"ftp", plain, "chat.example", "ftp://chat.example", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tt.srv.URL+"?EIO=4&transport=polling", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			req.Header.Set("Origin", tt.origin)
			for k, v := range tt.fwd {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				tt.srv.track(string(body))
			}
			if got := resp.StatusCode == http.StatusOK; got != tt.allowed {
				t.Errorf("Host %q, Origin %q, %v: %d %s, want allowed %v", tt.host, tt.origin, tt.fwd, resp.StatusCode, body, tt.allowed)
			}
		})
	}
}

// TestRefusedOriginLogged checks that a refused cross-origin request is
// logged at info, with its origin.
func TestRefusedOriginLogged(t *testing.T) {
	var log lockedBuffer
	srv := newTestServer(t, engineio.Config{Logger: slog.New(slog.NewTextHandler(&log, nil))}, false)
	h := http.Header{"Origin": {"https://evil.example"}}
	if code, body, _ := httpDo(t, http.MethodGet, srv.URL+"?EIO=4&transport=polling", "", h); code != http.StatusForbidden {
		t.Fatalf("%d %s, want 403", code, body)
	}
	if got := log.String(); !strings.Contains(got, "level=INFO") || !strings.Contains(got, "origin=https://evil.example") {
		t.Errorf("log %q lacks an info line with the origin", got)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
