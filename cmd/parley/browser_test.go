package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// newTestApp serves the whole app on a loopback test server.
func newTestApp(t *testing.T, cfg config) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newTestHandler(t, cfg))
	t.Cleanup(ts.Close)
	return ts
}

// newTestHandler returns the whole app's handler, closed at the end of the
// test.
func newTestHandler(t *testing.T, cfg config) http.Handler {
	t.Helper()
	if cfg.MaxNameLength == 0 {
		cfg.MaxNameLength = 32
	}
	if cfg.MaxMessageLength == 0 {
		cfg.MaxMessageLength = 2000
	}
	if cfg.NameReserve == 0 {
		cfg.NameReserve = defaultNameReserve
	}
	if cfg.PresenceGrace == 0 {
		cfg.PresenceGrace = defaultPresenceGrace
	}
	if cfg.Store == "" {
		cfg.Store = filepath.Join(t.TempDir(), "parley.db")
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.close() })
	return a.handler
}

// TestBrowserChat has three people chat through the page in headless
// Chromium (test/js/browser-chat.mjs).
func TestBrowserChat(t *testing.T) {
	testjs.RequireBrowser(t)
	// A closed page is told after the grace: the script waits 10 s.
	ts := newTestApp(t, config{PresenceGrace: 2 * time.Second})
	testjs.Run(t, 3*time.Minute, "browser-chat.mjs", "PARLEY_URL="+ts.URL, "PARLEY_SHOTS="+t.TempDir())
}

// TestTutorialPage runs the tutorial's own page, unchanged, against parley
// from another origin that --origins allows, and checks that an origin it
// does not allow is refused.
func TestTutorialPage(t *testing.T) {
	testjs.RequireBrowser(t)
	// The pages' servers are started once their handler is set; their
	// listeners give their origins before that.
	page := func() *httptest.Server {
		ts := httptest.NewUnstartedServer(nil)
		t.Cleanup(ts.Close)
		return ts
	}
	allowed, blocked := page(), page()
	allowedURL := "http://" + allowed.Listener.Addr().String()
	parley := newTestApp(t, config{Origins: []string{allowedURL}})
	// The tutorial page connects to http://localhost:3000: point it at the
	// server under test, by name as the tutorial does.
	parleyURL := strings.Replace(parley.URL, "127.0.0.1", "localhost", 1)
	fixture := tutorialFixture(t, parleyURL)
	allowed.Config.Handler = fixture
	blocked.Config.Handler = fixture
	allowed.Start()
	blocked.Start()

	// The page served by parley's own origin, as a proxy in front of both
	// would serve it: its requests carry the guest cookie, which keeps its
	// name across reloads.
	same := page()
	sameURL := "http://" + same.Listener.Addr().String()
	app := newTestHandler(t, config{PresenceGrace: 2 * time.Second})
	mux := http.NewServeMux()
	mux.Handle("/tutorial/", http.StripPrefix("/tutorial", tutorialFixture(t, sameURL)))
	mux.Handle("/", app)
	same.Config.Handler = mux
	same.Start()

	testjs.Run(t, 2*time.Minute, "tutorial-page.mjs",
		"PARLEY_TUTORIAL_URL="+allowed.URL+"/index.html",
		"PARLEY_BLOCKED_URL="+blocked.URL+"/index.html",
		"PARLEY_SAME_ORIGIN_URL="+sameURL+"/tutorial/index.html",
		"PARLEY_GRACE_MS=2000")
}

// tutorialFixture serves test/js/tutorial with the tutorial's server address
// replaced by serverURL.
func tutorialFixture(t *testing.T, serverURL string) http.Handler {
	dir := filepath.Join(testjs.Dir(t), "tutorial")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(name, ".js") {
			w.Header().Set("Content-Type", "text/javascript")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		_, _ = w.Write([]byte(strings.ReplaceAll(string(body), "http://localhost:3000", serverURL)))
	})
}

// TestBrowserRooms drives rooms, history after a reload, scrollback,
// presence, typing and reconnection without loss through the page in
// headless Chromium (test/js/browser-rooms.mjs).
func TestBrowserRooms(t *testing.T) {
	testjs.RequireBrowser(t)
	ts := newTestApp(t, config{})
	testjs.Run(t, 3*time.Minute, "browser-rooms.mjs", "PARLEY_URL="+ts.URL, "PARLEY_SHOTS="+t.TempDir())
}

// TestBrowserDirectory has the page gather long lists in pages: rooms
// past one answer of list-rooms, people past one answer of list-users,
// on a store that holds more rooms than --max-rooms
// (test/js/browser-directory.mjs).
func TestBrowserDirectory(t *testing.T) {
	testjs.RequireBrowser(t)
	const rooms = 1200
	path := filepath.Join(t.TempDir(), "parley.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]store.Message, rooms)
	for i := range msgs {
		msgs[i] = store.Message{Room: fmt.Sprintf("room %04d", i), Author: "maker", Text: "first"}
	}
	if _, err := st.Append(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	ts := newTestApp(t, config{Store: path, MaxRooms: 1000})
	testjs.Run(t, 2*time.Minute, "browser-directory.mjs", "PARLEY_URL="+ts.URL, "PARLEY_ROOMS="+fmt.Sprint(rooms), "PARLEY_SHOTS="+t.TempDir())
}

// TestBrowserIdentity checks in headless Chromium that the page marks its
// own messages by identity, not by name, and that two tabs of one browser
// are one person (test/js/browser-identity.mjs).
func TestBrowserIdentity(t *testing.T) {
	testjs.RequireBrowser(t)
	const grace, reserve = 500 * time.Millisecond, time.Second
	ts := newTestApp(t, config{PresenceGrace: grace, NameReserve: reserve})
	testjs.Run(t, time.Minute, "browser-identity.mjs", "PARLEY_URL="+ts.URL, fmt.Sprintf("PARLEY_WAIT_MS=%d", (grace+reserve+time.Second).Milliseconds()))
}

// TestBrowserCSP checks in headless Chromium that the page's
// Content-Security-Policy lets it connect over WebSocket to its own server
// and blocks a WebSocket to another origin (test/js/browser-csp.mjs).
func TestBrowserCSP(t *testing.T) {
	testjs.RequireBrowser(t)
	ts := newTestApp(t, config{})
	// The same server by another name is another origin.
	other := "ws://" + strings.Replace(hostPort(ts.URL), "127.0.0.1", "localhost", 1) + "/socket.io/?EIO=4&transport=websocket"
	testjs.Run(t, time.Minute, "browser-csp.mjs", "PARLEY_URL="+ts.URL, "PARLEY_OTHER_WS="+other)
}
