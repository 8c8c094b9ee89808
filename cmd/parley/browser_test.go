package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testjs"
)

// newTestApp serves the whole app on a loopback test server.
func newTestApp(t *testing.T, cfg config) *httptest.Server {
	t.Helper()
	if cfg.MaxNameLength == 0 {
		cfg.MaxNameLength = 32
	}
	if cfg.MaxMessageLength == 0 {
		cfg.MaxMessageLength = 2000
	}
	a, err := newApp(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a.handler)
	t.Cleanup(ts.Close)
	return ts
}

// TestBrowserChat has three people chat through the page in headless
// Chromium (test/js/browser-chat.mjs).
func TestBrowserChat(t *testing.T) {
	testjs.RequireBrowser(t)
	ts := newTestApp(t, config{})
	testjs.Run(t, 3*time.Minute, "browser-chat.mjs", "PARLEY_URL="+ts.URL, "PARLEY_SHOTS="+t.TempDir())
}
