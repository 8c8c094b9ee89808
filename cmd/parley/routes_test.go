package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/socketio"
)

// TestSecurityHeaders checks the headers every response carries, whatever
// answers it: the page, its files, the client library, Engine.IO's polling
// answers and errors, the health check, and net/http's own 404 and 405.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	ts := newTestApp(t, config{})
	tests := []struct {
		name, method, path string
		status             int
		page               bool // the page's own files carry the CSP
	}{
		{"page", "GET", "/", http.StatusOK, true},
		{"page file", "GET", "/app.js", http.StatusOK, true},
		{"client library", "GET", "/socket.io/socket.io.js", http.StatusOK, false},
		{"polling handshake", "GET", "/socket.io/?EIO=4&transport=polling", http.StatusOK, false},
		{"engine.io error", "GET", "/socket.io/?EIO=3&transport=polling", http.StatusBadRequest, false},
		{"health check", "GET", "/healthz", http.StatusOK, false},
		{"not found", "GET", "/nope.html", http.StatusNotFound, true},
		{"method not allowed", "POST", "/", http.StatusMethodNotAllowed, false},
	}
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); tt.page && csp != contentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q, want %q", csp, contentSecurityPolicy)
			}
		})
	}
}

// TestContentSecurityPolicy checks what the page's policy allows it to
// connect to: its own origin only, which in browsers covers WebSocket to
// the same host and port (CSP Level 3, 'self'; see the browser test).
func TestContentSecurityPolicy(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(contentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src":     "'self'",
		"connect-src":     "'self'",
		"frame-ancestors": "'none'",
		"object-src":      "'none'",
		"base-uri":        "'none'",
	} {
		if got := directives[name]; got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
}

// TestAllowedHosts checks that a request naming a host parley does not
// answer for is refused with 421 on every route, before anything else, so
// that a page whose name was rebound to a parley's address (DNS rebinding)
// cannot use it; loopback names, IP addresses and --allowed-hosts are
// answered.
func TestAllowedHosts(t *testing.T) {
	t.Parallel()
	byDefault := newTestApp(t, config{})
	listed := newTestApp(t, config{AllowedHosts: []string{"chat.example.com", ".example.org"}})
	anyHost := newTestApp(t, config{AllowedHosts: []string{"*"}})
	// The test's requests come from 127.0.0.1: behind a trusted proxy
	// there, X-Forwarded-Host is the host to check.
	proxied := newTestApp(t, config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	paths := []string{"/", "/app.js", "/socket.io/socket.io.js", "/socket.io/?EIO=4&transport=polling", "/socket.io/?EIO=4&transport=websocket", "/healthz"}
	tests := []struct {
		name    string
		ts      *httptest.Server
		host    string
		fwdHost string
		allowed bool
	}{
		{"loopback address", byDefault, "127.0.0.1:3000", "", true},
		{"other address", byDefault, "192.0.2.7", "", true},
		{"ipv6 address", byDefault, "[::1]:3000", "", true},
		{"localhost", byDefault, "localhost:3000", "", true},
		{"localhost, trailing dot", byDefault, "LOCALHOST.:3000", "", true},
		{"under localhost", byDefault, "chat.localhost", "", true},
		{"rebound name", byDefault, "rebind.attacker.example:3000", "", false},
		{"name like localhost", byDefault, "localhost.attacker.example", "", false},
		{"listed", listed, "chat.example.com", "", true},
		{"listed, case and port", listed, "Chat.Example.COM:8443", "", true},
		{"listed domain", listed, "example.org", "", true},
		{"listed subdomain", listed, "a.b.example.org", "", true},
		{"not listed", listed, "chat.example.com.attacker.example", "", false},
		{"suffix without dot", listed, "badexample.org", "", false},
		{"localhost still", listed, "localhost", "", true},
		{"any", anyHost, "rebind.attacker.example", "", true},
		{"trusted proxy, forwarded host", proxied, "127.0.0.1:3000", "rebind.attacker.example", false},
		{"trusted proxy, forwarded localhost", proxied, "rebind.attacker.example", "localhost", true},
		{"untrusted forwarded host", byDefault, "127.0.0.1:3000", "rebind.attacker.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range paths {
				req, err := http.NewRequest(http.MethodGet, tt.ts.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = tt.host
				if tt.fwdHost != "" {
					req.Header.Set("X-Forwarded-Host", tt.fwdHost)
				}
				if strings.Contains(path, "websocket") {
					req.Header.Set("Connection", "Upgrade")
					req.Header.Set("Upgrade", "websocket")
					req.Header.Set("Sec-WebSocket-Version", "13")
					req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
				}
				resp, err := tt.ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusSwitchingProtocols {
					_, _ = io.Copy(io.Discard, resp.Body)
				}
				resp.Body.Close()
				refused := resp.StatusCode == http.StatusMisdirectedRequest
				if refused == tt.allowed {
					t.Errorf("GET %s, Host %q: %s, want allowed %v", path, tt.host, resp.Status, tt.allowed)
				}
				if refused && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("GET %s: the refusal lacks the security headers", path)
				}
			}
		})
	}
}

// TestHostPolicyMachineName checks that the machine's own name is
// answered by default.
func TestHostPolicyMachineName(t *testing.T) {
	p := newHostPolicy(nil, "Parley-Box")
	for host, want := range map[string]bool{"parley-box:3000": true, "PARLEY-BOX.": true, "parley-box.attacker.example": false, "": true} {
		if got := p.allowed(host); got != want {
			t.Errorf("allowed(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestTrustedProxyOrigin checks that the page's own origin, as a TLS
// terminating proxy in front of parley serves it, is the same origin when
// that proxy is trusted, and another one otherwise.
func TestTrustedProxyOrigin(t *testing.T) {
	t.Parallel()
	hosts := []string{"chat.example.com"}
	plain := newTestApp(t, config{AllowedHosts: hosts})
	proxied := newTestApp(t, config{AllowedHosts: hosts, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	for _, tt := range []struct {
		name string
		ts   *httptest.Server
		want int
	}{
		{"untrusted", plain, http.StatusForbidden},
		{"trusted", proxied, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tt.ts.URL+"/socket.io/?EIO=4&transport=polling", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "127.0.0.1:3000"
			req.Header.Set("Origin", "https://chat.example.com")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "chat.example.com")
			resp, err := tt.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("handshake through the proxy: %d %s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
}

// TestRoomAddress checks the client address that room creations count
// against: X-Forwarded-For from trusted proxies only, loopback exempt.
func TestRoomAddress(t *testing.T) {
	ps := proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote, xff string
		want              string
	}{
		{"direct", "192.0.2.1:5000", "", "192.0.2.1"},
		{"direct, forwarded-for ignored", "192.0.2.1:5000", "198.51.100.9", "192.0.2.1"},
		{"direct IPv6, by /64", "[2001:db8:1:2::99]:5000", "", "2001:db8:1:2::/64"},
		{"loopback, not listed", "127.0.0.1:5000", "198.51.100.9", ""},
		{"trusted proxy", "10.1.2.3:5000", "198.51.100.9", "198.51.100.9"},
		{"trusted proxy, the nearest hop", "10.1.2.3:5000", "203.0.113.5, 198.51.100.9", "198.51.100.9"},
		{"trusted proxy, IPv6 client", "10.1.2.3:5000", "2001:db8:7:8::1", "2001:db8:7:8::/64"},
		{"trusted loopback proxy", "[::1]:5000", "198.51.100.9", "198.51.100.9"},
		{"trusted proxy, nothing forwarded", "10.1.2.3:5000", "", ""},
		{"trusted proxy, garbage forwarded", "10.1.2.3:5000", "unknown", ""},
		{"no address", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &socketio.Handshake{Address: tc.remote, Headers: http.Header{}}
			if tc.xff != "" {
				h.Headers.Set("X-Forwarded-For", tc.xff)
			}
			if got := ps.roomAddress(h); got != tc.want {
				t.Errorf("roomAddress(%q, X-Forwarded-For %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
			}
		})
	}
}
