package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestBrowserServer drives, in headless Chromium, what the server tells
// the page and the page makes of it (test/js/browser-server.mjs): room
// names that look alike are one room, shown as first spelt; a room made
// is shown to the others at once; the page counts against the limits the
// server announces; and a store that starts over (a memory store's
// restart) is seen by the page, which shows what the new one holds.
func TestBrowserServer(t *testing.T) {
	testjs.RequireBrowser(t)
	plain := newTestApp(t, config{})
	strict := newTestApp(t, config{MaxNameLength: 12, MaxMessageLength: 100})
	restart := newRestartableApp(t, config{Store: "memory"})
	shots := os.Getenv("PARLEY_SHOTS") // to look at them; by default, gone with the test
	if shots == "" {
		shots = t.TempDir()
	}
	testjs.Run(t, 3*time.Minute, "browser-server.mjs",
		"PARLEY_URL="+plain.URL,
		"PARLEY_LIMITS_URL="+strict.URL, `PARLEY_LIMITS={"name":12,"message":100}`,
		"PARLEY_RESTART_URL="+restart.URL, "PARLEY_RESTART_CONTROL="+restart.control,
		"PARLEY_SHOTS="+shots)
}

// restartableApp is an app on a test server whose address outlives it: a
// POST to control shuts it down, as a restart of the process does, and
// serves a new one, made with the same config, in its place.
type restartableApp struct {
	URL, control string

	mu  sync.Mutex
	cur *app
}

func newRestartableApp(t *testing.T, cfg config) *restartableApp {
	t.Helper()
	cfg.MaxNameLength, cfg.MaxMessageLength = 32, 2000
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func() *app {
		a, err := newApp(context.Background(), cfg, log)
		if err != nil {
			t.Error(err)
			return nil
		}
		return a
	}
	ra := &restartableApp{cur: start()}
	if ra.cur == nil {
		t.FailNow()
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ra.mu.Lock()
		a := ra.cur
		ra.mu.Unlock()
		a.handler.ServeHTTP(w, r)
	}))
	ctl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST to restart", http.StatusMethodNotAllowed)
			return
		}
		next := start()
		if next == nil {
			http.Error(w, "cannot start", http.StatusInternalServerError)
			return
		}
		ra.mu.Lock()
		old := ra.cur
		ra.cur = next
		ra.mu.Unlock()
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		_ = old.sio.Shutdown(ctx)
		_ = old.close()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		ctl.Close()
		ts.Close()
		ra.mu.Lock()
		defer ra.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ra.cur.sio.Shutdown(ctx)
		_ = ra.cur.close()
	})
	ra.URL, ra.control = ts.URL, ctl.URL
	return ra
}
