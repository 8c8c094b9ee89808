package bench

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/engineio"
)

// TestSlowReadersParley runs slow readers against parley: the healthy
// clients' figures leave them out, so that there is no loss.
func TestSlowReadersParley(t *testing.T) {
	for _, tr := range []Transport{TransportWebSocket, TransportPolling} {
		t.Run(string(tr), func(t *testing.T) {
			url := newParley(t)
			start := time.Now()
			res, err := Run(context.Background(), Config{
				URL:         url,
				Transport:   tr,
				Clients:     20,
				Senders:     2,
				Rate:        10,
				Duration:    time.Second,
				Warmup:      300 * time.Millisecond,
				ConnectRate: 200,
				SlowReaders: 0.5, // 9 of the 18 that do not send
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("run took %v", d)
			}
			t.Logf("slow readers %d, cut off %d, errors %v", res.SlowReaders, res.SlowCutOff, res.Errors)
			if res.Connected != 20 || res.SlowReaders != 9 || res.SlowCutOff > 9 || res.Dropped != 0 {
				t.Errorf("connected %d, slow readers %d (cut off %d), dropped %d; want 20, 9 (at most 9), 0",
					res.Connected, res.SlowReaders, res.SlowCutOff, res.Dropped)
			}
			// The 11 healthy clients hear each message but their own.
			if res.Sent == 0 || res.Expected != res.Sent*10 || res.Received != res.Expected || res.Loss != 0 {
				t.Errorf("expected %d (sent %d × 10), received %d, loss %d", res.Expected, res.Sent, res.Received, res.Loss)
			}
			if res.LatencyP50 <= 0 {
				t.Errorf("latency p50 %v", res.LatencyP50)
			}
			checkJSON(t, res)
		})
	}
}

// TestSlowCutOffParley has parley cut slow readers off as they do not
// answer its pings, and checks that each is counted: over WebSocket, a
// server that closes a connection to a reader which does not read may
// stop sending before its FIN, waiting for the window to open.
func TestSlowCutOffParley(t *testing.T) {
	url := newParleyEngine(t, engineio.Config{PingInterval: 500 * time.Millisecond, PingTimeout: time.Second})
	start := time.Now()
	res, err := Run(context.Background(), Config{
		URL:         url,
		Clients:     200,
		Senders:     4,
		Rate:        10,
		Warmup:      -1,
		Duration:    3 * time.Second,
		Drain:       time.Second,
		ConnectRate: 1000,
		SlowReaders: 0.3, // 59 of 196
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("run took %v", d)
	}
	t.Logf("slow readers %d, cut off %d, dropped %d, errors %v", res.SlowReaders, res.SlowCutOff, res.Dropped, res.Errors)
	if res.SlowReaders != 59 || res.SlowCutOff != 59 {
		t.Errorf("%d slow readers, %d cut off; want 59, all (errors %v)", res.SlowReaders, res.SlowCutOff, res.Errors)
	}
}

// blastServer serves WebSocket clients that do the Engine.IO handshake
// and connect, and sends each a kilobyte every 5 ms, from a small send
// buffer, for blastFor after it connects. With a write timeout, it closes
// a connection whose write blocks that long, as a server does with a slow
// consumer; without, it waits for it. It returns the server's URL.
func blastServer(t *testing.T, writeTimeout time.Duration) string {
	t.Helper()
	const blastFor = 2 * time.Second
	noop := []byte("6" + strings.Repeat(".", 1023)) // not an event: settling ignores it
	var wg sync.WaitGroup
	up := websocket.Upgrader{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer ws.Close()
		if tc, ok := ws.NetConn().(*net.TCPConn); ok {
			_ = tc.SetWriteBuffer(4096)
		}
		var mu sync.Mutex // one writer
		write := func(p []byte) error {
			mu.Lock()
			defer mu.Unlock()
			var d time.Time
			if writeTimeout > 0 {
				d = time.Now().Add(writeTimeout)
			}
			_ = ws.SetWriteDeadline(d)
			return ws.WriteMessage(websocket.TextMessage, p)
		}
		if write([]byte(openPacket)) != nil {
			return
		}
		connected := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var once sync.Once
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if string(data) == "40" {
					if write([]byte(`40{"sid":"s"}`)) != nil {
						return
					}
					once.Do(func() { close(connected) })
				}
			}
		}()
		select {
		case <-connected:
		case <-done:
			return
		}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for end := time.Now().Add(blastFor); time.Now().Before(end); {
			if write(noop) != nil {
				return // closes the connection
			}
			select {
			case <-tick.C:
			case <-done:
				return
			}
		}
		<-done
	}))
	t.Cleanup(func() {
		ts.Close()
		wg.Wait()
	})
	return ts.URL
}

// TestSlowCutOff checks that slow readers a server closes are counted as
// cut off, and those it keeps are not, and that healthy clients do not
// count as either.
func TestSlowCutOff(t *testing.T) {
	tests := []struct {
		name         string
		writeTimeout time.Duration
		wantCutOff   int
	}{
		{"server closes stuck readers", 500 * time.Millisecond, 2},
		{"server waits for stuck readers", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := blastServer(t, tt.writeTimeout)
			start := time.Now()
			res, err := Run(context.Background(), Config{
				URL:         url,
				Clients:     5,
				Senders:     1,
				Rate:        10,
				Warmup:      -1,
				Duration:    1500 * time.Millisecond,
				Drain:       200 * time.Millisecond,
				SlowReaders: 0.5, // 2 of 4
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("run took %v", d)
			}
			if res.Connected != 5 || res.SlowReaders != 2 || res.SlowCutOff != tt.wantCutOff || res.Dropped != 0 {
				t.Errorf("connected %d, slow readers %d, cut off %d, dropped %d; want 5, 2, %d, 0 (errors %v)",
					res.Connected, res.SlowReaders, res.SlowCutOff, res.Dropped, tt.wantCutOff, res.Errors)
			}
			if n := res.Errors[slowCutOffPhase+": connection closed by server"]; n != tt.wantCutOff {
				t.Errorf("errors %v, want %d slow readers closed by the server", res.Errors, tt.wantCutOff)
			}
			// The fake server relays nothing: all expected deliveries,
			// to the 3 healthy clients but the sender, are lost.
			if res.Expected != res.Sent*2 || res.Loss != res.Expected {
				t.Errorf("sent %d, expected %d, loss %d", res.Sent, res.Expected, res.Loss)
			}
		})
	}
}

func TestSlowReadersConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"none", Config{SlowReaders: 0}, true},
		{"half", Config{SlowReaders: 0.5}, true},
		{"all", Config{SlowReaders: 1}, true},
		{"negative", Config{SlowReaders: -0.1}, false},
		{"more than all", Config{SlowReaders: 1.1}, false},
		{"NaN", Config{SlowReaders: math.NaN()}, false},
		{"idle", Config{SlowReaders: 0.5, Idle: true}, false},
		{"idle without", Config{Idle: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.withDefaults().validate()
			if (err == nil) != tt.ok {
				t.Fatalf("validate = %v, want ok %v", err, tt.ok)
			}
			if err != nil && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "slow readers")) {
				t.Errorf("validate = %v, want %v about slow readers", err, ErrConfig)
			}
			if !tt.ok {
				if _, err := Run(context.Background(), tt.cfg); !errors.Is(err, ErrConfig) {
					t.Errorf("Run = %v, want %v", err, ErrConfig)
				}
			}
		})
	}
}

// TestSlowSpread checks that the slow readers are as many as the fraction
// says, spread over the receivers.
func TestSlowSpread(t *testing.T) {
	tests := []struct {
		clients, senders int
		fraction         float64
		want             int
	}{
		{20, 2, 0.5, 9},
		{1000, 10, 0.1, 99},
		{10, 10, 1, 0},
		{11, 1, 1, 10},
		{5, 1, 0, 0},
		{100, 0, 0.01, 1},
	}
	for _, tt := range tests {
		cfg := Config{Clients: tt.clients, Senders: tt.senders, SlowReaders: tt.fraction}
		n, m := slowCount(cfg), tt.clients-tt.senders
		got, longest, run := 0, 0, 0
		for i := range m {
			if isSlow(i, n, m) {
				got++
				run = 0
			} else if run++; run > longest {
				longest = run
			}
		}
		if n != tt.want || got != n {
			t.Errorf("%+v: %d slow readers (%d marked), want %d", tt, n, got, tt.want)
		}
		// Evenly spread: no longer run of healthy receivers than needed.
		if n > 0 && longest > (m+n-1)/n {
			t.Errorf("%+v: %d healthy receivers in a row", tt, longest)
		}
	}
}
