package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
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
