package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/memory"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// readyz asks h for /readyz and returns the status and the body.
func readyz(t *testing.T, h http.Handler) (int, readyBody) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	req.Host = "127.0.0.1" // one the app answers for
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	var body readyBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return rec.Code, body
}

// checkReady checks a /readyz answer: 200 when nothing fails, 503 with
// what fails otherwise.
func checkReady(t *testing.T, h http.Handler, failing map[string]string) {
	t.Helper()
	code, body := readyz(t, h)
	wantCode := http.StatusOK
	if len(failing) > 0 {
		wantCode = http.StatusServiceUnavailable
	}
	if code != wantCode || body.Ready != (len(failing) == 0) || !maps.Equal(body.Failing, failing) {
		t.Errorf("/readyz: %d %+v, want %d with %v failing", code, body, wantCode, failing)
	}
}

// stuckStore is a store whose Room waits for its context, or, with
// deaf, for the test's end, whatever its context says.
type stuckStore struct {
	store.Store
	deaf <-chan struct{}
}

func (s stuckStore) Room(ctx context.Context, name string) (store.Room, error) {
	if s.deaf != nil {
		<-s.deaf
		return store.Room{}, context.Canceled
	}
	<-ctx.Done()
	return store.Room{}, ctx.Err()
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestReadyz checks /readyz with a store that answers, one that is
// closed, and ones that do not answer in time, whether they heed their
// context or not; and that it answers 503 once the shutdown starts.
func TestReadyz(t *testing.T) {
	t.Parallel()
	deaf := make(chan struct{})
	t.Cleanup(func() { close(deaf) })
	closed := memory.New(memory.Config{})
	_ = closed.Close()
	tests := []struct {
		name    string
		store   store.Store
		failing map[string]string
	}{
		{"answers", memory.New(memory.Config{}), nil},
		{"closed", closed, map[string]string{checkStore: "error"}},
		{"slow", stuckStore{}, map[string]string{checkStore: "timeout"}},
		{"deaf to its context", stuckStore{deaf: deaf}, map[string]string{checkStore: "timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rd := newReadiness(quietLog, storeCheck(tc.store))
			start := time.Now()
			checkReady(t, rd, tc.failing)
			if d := time.Since(start); d > readyTimeout+500*time.Millisecond {
				t.Errorf("answered after %v, want within %v", d, readyTimeout)
			}
			// Asked again while a deaf check still runs: no second run, the
			// same answer.
			checkReady(t, rd, tc.failing)
			rd.drain()
			checkReady(t, rd, map[string]string{checkShutdown: "shutting down"})
		})
	}
}

// TestReadyzRedis checks that /readyz fails, naming Redis, while the
// Redis of a cluster node is down, and is ready again once it is back.
func TestReadyzRedis(t *testing.T) {
	srv := redistest.Server(t)
	opts, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	rd := newReadiness(quietLog, storeCheck(memory.New(memory.Config{})), redisCheck(c))
	checkReady(t, rd, nil)
	srv.Stop()
	// Refused, or given up on within the second: either way, Redis.
	code, body := readyz(t, rd)
	if why := body.Failing[checkRedis]; code != http.StatusServiceUnavailable || len(body.Failing) != 1 || why != "error" && why != "timeout" {
		t.Errorf("/readyz with Redis stopped: %d %+v, want 503 naming redis", code, body)
	}
	srv.Start()
	wait.For(t, "ready again", 10*time.Second, func() bool {
		code, _ := readyz(t, rd)
		return code == http.StatusOK
	})
}

// TestReadyzApp checks /readyz of the whole app: ready, then, its store
// closed, not; and that /healthz, liveness, stays 200 all along.
func TestReadyzApp(t *testing.T) {
	t.Parallel()
	a, _ := newMetricsApp(t, config{})
	checkReady(t, a.handler, nil)
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	checkReady(t, a.handler, map[string]string{checkStore: "error"})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Host = "127.0.0.1"
	a.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz: %d, want 200", rec.Code)
	}
}

// TestReadyzShutdown checks that /readyz answers 503 from the moment the
// graceful shutdown starts, while the server still serves: here it waits
// for a polling client that stopped polling.
func TestReadyzShutdown(t *testing.T) {
	t.Parallel()
	s := startRun(t, []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "3s"}, env())
	_, body := s.get(t, "/readyz")
	if strings.TrimSpace(body) != `{"ready":true}` {
		t.Fatalf("/readyz: %q", body)
	}
	// A polling session that never polls again holds the shutdown up.
	_, hs := s.get(t, "/socket.io/?EIO=4&transport=polling")
	if !strings.HasPrefix(hs, `0{"sid":"`) {
		t.Fatalf("handshake: %q", hs)
	}
	start := time.Now()
	s.cancel()
	wait.For(t, "/readyz to answer 503", 2*time.Second, func() bool {
		resp, err := s.http.Get(s.URL + "/readyz")
		if err != nil {
			t.Fatalf("/readyz during the shutdown: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			return false
		}
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"shutdown"`) {
			t.Fatalf("/readyz during the shutdown: %s %q", resp.Status, b)
		}
		return true
	})
	if err := s.wait(t, 10*time.Second, start); err != nil {
		t.Logf("run: %v", err)
	}
}
