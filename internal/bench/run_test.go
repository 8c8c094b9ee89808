package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// newParley serves a parley chat as cmd/parley wires it, with its history
// in a temporary SQLite file.
func newParley(t *testing.T) string {
	t.Helper()
	return newParleyEngine(t, engineio.Config{})
}

// newParleyEngine is newParley with an Engine.IO configuration.
func newParleyEngine(t *testing.T, eio engineio.Config) string {
	t.Helper()
	return newParleyServer(t, eio, nil)
}

// newParleyServer is newParleyEngine with the HTTP server's settings
// changed by configure, if not nil, before it starts.
func newParleyServer(t *testing.T, eio engineio.Config, configure func(*http.Server)) string {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	sio := socketio.NewServer(socketio.Config{Engine: eio, Recovery: &socketio.RecoveryConfig{}, Logger: log})
	c, err := chat.New(chat.Config{Store: st, Logger: log}, sio.Of("/"))
	if err != nil {
		_ = st.Close()
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio)
	ts := httptest.NewUnstartedServer(mux)
	if configure != nil {
		configure(ts.Config)
	}
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sio.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
		if err := c.Close(); err != nil {
			t.Errorf("closing the chat: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	})
	return ts.URL
}

// selfPID is this process's id where /proc describes it, so that runs
// measure the in-process server; 0 elsewhere.
func selfPID() int {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		return 0
	}
	return os.Getpid()
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunParley runs the generator against parley over each transport, one
// after the other on the same server, so that the second run's clients
// first get the first run's messages as history.
func TestRunParley(t *testing.T) {
	url := newParley(t)
	for _, tr := range []Transport{TransportWebSocket, TransportPolling} {
		t.Run(string(tr), func(t *testing.T) {
			var progress syncBuffer
			cfg := Config{
				URL:         url,
				Transport:   tr,
				Clients:     20,
				Senders:     3,
				Rate:        20,
				Duration:    2 * time.Second,
				Warmup:      500 * time.Millisecond,
				ConnectRate: 200,
				PID:         selfPID(),
				Progress:    &progress,
			}
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := res.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s%s", progress.String(), text.String())

			if res.Connected != 20 || res.ConnectFailures != 0 || res.Dropped != 0 || len(res.Errors) > 0 {
				t.Errorf("connected %d, failed %d, dropped %d, errors %v", res.Connected, res.ConnectFailures, res.Dropped, res.Errors)
			}
			// 3 senders × 20/s × 2.5 s, give or take the tick at each
			// edge; a polling sender slowed by the race detector may skip
			// some.
			if n := res.SentTotal + res.Unsent; res.SendersActive != 3 || n < 144 || n > 156 || res.Sent < 60 {
				t.Errorf("%d senders sent %d (%d in the window), %d unsent; want 3 sending about 150",
					res.SendersActive, res.SentTotal, res.Sent, res.Unsent)
			}
			if res.Expected != res.Sent*19 || res.Received != res.Expected || res.Loss != 0 {
				t.Errorf("expected %d (sent %d × 19), received %d, loss %d", res.Expected, res.Sent, res.Received, res.Loss)
			}
			if res.Duplicates != 0 || res.Reorders != 0 || res.Echoes != 0 || res.Malformed != 0 || res.ServerErrors != 0 {
				t.Errorf("duplicates %d, reorders %d, echoes %d, malformed %d, server errors %d",
					res.Duplicates, res.Reorders, res.Echoes, res.Malformed, res.ServerErrors)
			}
			if res.LatencyP50 <= 0 || res.LatencyP99 < res.LatencyP50 || res.LatencyMax < res.LatencyP99 {
				t.Errorf("latencies p50 %v, p99 %v, max %v", res.LatencyP50, res.LatencyP99, res.LatencyMax)
			}
			if res.DeliveriesPerSec <= 0 || res.ConnectP50 <= 0 || res.Measured < 2*time.Second*9/10 {
				t.Errorf("deliveries/s %g, connect p50 %v, measured %v", res.DeliveriesPerSec, res.ConnectP50, res.Measured)
			}
			if s := res.Server; selfPID() != 0 && (s == nil || s.CPU <= 0 || s.RSSPeakKiB <= 0 || s.RSSConnectedKiB <= 0) {
				t.Errorf("server stats %+v", s)
			}
			// Each join is announced to those already there.
			if res.SettleEvents < 20*19/2 {
				t.Errorf("%d events before the window, want at least the 190 user-connected", res.SettleEvents)
			}
			if !strings.Contains(progress.String(), "deliveries/s") {
				t.Errorf("no progress line")
			}
			checkJSON(t, res)
		})
	}
}

// checkJSON checks that the result's JSON line parses and says what the
// result does.
func checkJSON(t *testing.T, res *Result) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(b, '\n') {
		t.Errorf("JSON has a newline: %s", b)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("JSON line does not parse: %v\n%s", err, b)
	}
	for k, want := range map[string]float64{
		"clients":        float64(res.Clients),
		"connected":      float64(res.Connected),
		"received":       float64(res.Received),
		"expected":       float64(res.Expected),
		"loss":           float64(res.Loss),
		"latency_p99_ms": round(ms(res.LatencyP99)),
	} {
		if v, ok := got[k].(float64); !ok || v != want {
			t.Errorf("JSON %s = %v, want %v", k, got[k], want)
		}
	}
	if res.Server != nil {
		s, ok := got["server"].(map[string]any)
		if !ok || s["rss_peak_kib"] != float64(res.Server.RSSPeakKiB) || s["cpu_us_per_delivery"] == nil {
			t.Errorf("JSON server = %v", got["server"])
		}
	}
}

// TestRunIdle connects clients that send nothing, each announced to the
// others or not.
func TestRunIdle(t *testing.T) {
	for _, noJoin := range []bool{false, true} {
		t.Run(fmt.Sprintf("no-join=%v", noJoin), func(t *testing.T) {
			url := newParley(t)
			res, err := Run(context.Background(), Config{URL: url, Clients: 30, Idle: true, NoJoin: noJoin, Duration: 300 * time.Millisecond, PID: selfPID()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Connected != 30 || res.Sent != 0 || res.Received != 0 || res.Expected != 0 {
				t.Errorf("connected %d, sent %d, received %d, expected %d", res.Connected, res.Sent, res.Received, res.Expected)
			}
			// Each join is announced to those already connected: once
			// per pair, or twice when both connected before either
			// joined.
			if n := res.SettleEvents; noJoin && n != 0 || !noJoin && (n < 30*29/2 || n > 30*29) {
				t.Errorf("%d events before the window, want %s", n, map[bool]string{true: "none", false: "435 to 870"}[noJoin])
			}
			if s := res.Server; selfPID() != 0 && (s == nil || s.RSSEndKiB <= 0 || s.RSSBeforeKiB <= 0) {
				t.Errorf("server stats %+v", s)
			}
			checkJSON(t, res)
		})
	}
}

// TestRunCanceled ends a run early through its context.
func TestRunCanceled(t *testing.T) {
	url := newParley(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Config{URL: url, Clients: 10, Senders: 2, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("canceled run took %v", d)
	}
	if res.Connected != 10 {
		t.Errorf("connected %d", res.Connected)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"few clients take fewer senders", Config{Clients: 3}, true},
		{"idle", Config{Idle: true, Rate: -1}, true},
		{"bad scheme", Config{URL: "ws://127.0.0.1"}, false},
		{"no host", Config{URL: "http://"}, false},
		{"transport", Config{Transport: "carrier-pigeon"}, false},
		{"too many clients", Config{Clients: MaxClients + 1}, false},
		{"more senders than clients", Config{Clients: 5, Senders: 6}, false},
		{"rate too high", Config{Rate: MaxRate + 1}, false},
		{"negative rate", Config{Rate: -1}, false},
		{"too long", Config{Duration: MaxDuration + time.Second}, false},
		{"too much tracking", Config{Clients: MaxClients, Senders: MaxClients}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.withDefaults().validate()
			if (err == nil) != tt.ok {
				t.Errorf("validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
