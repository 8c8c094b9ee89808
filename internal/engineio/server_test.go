package engineio_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
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
		{"preflight listed", listed, "OPTIONS", "https://chat.example", true},
		{"preflight not listed", listed, "OPTIONS", "https://evil.example", false},
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
			want := http.Header{
				"Access-Control-Allow-Origin":      {tt.origin},
				"Access-Control-Allow-Credentials": {"true"},
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
			if !slices.Contains(rh.Values("Vary"), "Origin") {
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
