package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// testServer is a Socket.IO server over httptest, shut down at the end of
// the test after the test's own cleanups.
type testServer struct {
	*socketio.Server
	URL string
}

func newTestServer(t testing.TB, cfg socketio.Config) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = siotest.DiscardLogger()
	}
	srv := socketio.NewServer(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	return &testServer{Server: srv, URL: hs.URL}
}

// dial connects a client in mode, closed at the end of the test.
func (ts *testServer) dial(t testing.TB, mode sioclient.Transport, opts *sioclient.Options) *sioclient.Client {
	t.Helper()
	o := sioclient.Options{}
	if opts != nil {
		o = *opts
	}
	o.Transport = mode
	c, err := sioclient.Dial(siotest.Context(t), ts.URL, &o)
	if err != nil {
		t.Fatalf("dial %s: %v", mode, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// connect joins nsp on c and returns the client socket and its server
// side. In upgrade mode it waits for the server to see the upgrade.
func (ts *testServer) connect(t testing.TB, c *sioclient.Client, nsp string, auth any) (*sioclient.Socket, *socketio.Socket) {
	t.Helper()
	so, err := c.Connect(siotest.Context(t), nsp, auth)
	if err != nil {
		t.Fatalf("connect %s: %v", nsp, err)
	}
	var ss *socketio.Socket
	wait.For(t, "server socket", 5*time.Second, func() bool {
		ss = ts.Of(nsp).Socket(so.ID())
		return ss != nil
	})
	if c.Engine().Transport() == sioclient.TransportWebSocket {
		wait.For(t, "upgrade on the server", 5*time.Second, func() bool { return ss.Transport() == "websocket" })
	}
	return so, ss
}

// inbox records the events a client socket receives.
type inbox chan *sioclient.Event

// record makes so record every event without a handler of its own.
func record(so *sioclient.Socket) inbox {
	in := make(inbox, 1000)
	so.OnAny(func(e *sioclient.Event) { in <- e })
	return in
}

// next returns the next event recorded.
func (in inbox) next(t testing.TB) *sioclient.Event {
	t.Helper()
	select {
	case e := <-in:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return nil
	}
}

// until returns the events recorded before the event called marker.
func (in inbox) until(t testing.TB, marker string) []string {
	t.Helper()
	var names []string
	for {
		e := in.next(t)
		if e.Name == marker {
			return names
		}
		names = append(names, e.Name)
	}
}

// serverEvents records the events the server sockets receive.
type serverEvents struct {
	mu     sync.Mutex
	events []*socketio.Event
}

func (r *serverEvents) add(e *socketio.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *serverEvents) wait(t testing.TB, n int) []*socketio.Event {
	t.Helper()
	var got []*socketio.Event
	wait.For(t, "server events", 5*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		got = append([]*socketio.Event(nil), r.events...)
		return len(got) >= n
	})
	return got
}

func TestConnect(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	type seen struct {
		nsp  string
		auth string
	}
	var mu sync.Mutex
	connected := map[string]seen{}
	for _, nsp := range []string{"/", "/custom"} {
		srv.Of(nsp).OnConnection(func(so *socketio.Socket) {
			mu.Lock()
			defer mu.Unlock()
			connected[so.ID()] = seen{so.Namespace().Name(), string(so.Handshake().Auth)}
		})
	}
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		c := srv.dial(t, mode, nil)
		main, mainSrv := srv.connect(t, c, "/", nil)
		custom, customSrv := srv.connect(t, c, "/custom", map[string]string{"token": "abc"})
		if main.ID() == custom.ID() || main.ID() == "" {
			t.Errorf("socket ids %q and %q", main.ID(), custom.ID())
		}
		var got []seen
		wait.For(t, "connection handlers", 5*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			got = []seen{connected[main.ID()], connected[custom.ID()]}
			return got[0].nsp != "" && got[1].nsp != ""
		})
		if want := []seen{{"/", "{}"}, {"/custom", `{"token":"abc"}`}}; got[0] != want[0] || got[1] != want[1] {
			t.Errorf("connections %+v, want %+v", got, want)
		}
		if mainSrv.Transport() != customSrv.Transport() {
			t.Errorf("one connection, two transports: %s, %s", mainSrv.Transport(), customSrv.Transport())
		}
		hs := customSrv.Handshake()
		if hs.Query().Get("EIO") != "4" || hs.Address == "" || hs.Time.IsZero() {
			t.Errorf("handshake %+v", hs)
		}
		// Leaving one namespace keeps the other.
		if err := custom.Disconnect(); err != nil {
			t.Fatal(err)
		}
		wait.For(t, "custom socket gone", 2*time.Second, func() bool { return !customSrv.Connected() })
		if !mainSrv.Connected() || !main.Connected() {
			t.Error("leaving /custom disconnected /")
		}
		// And it can be joined again.
		srv.connect(t, c, "/custom", nil)
	})
}

func TestInvalidNamespace(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		ctx := siotest.Context(t)
		ec, err := sioclient.DialEngine(ctx, srv.URL, &sioclient.Options{Transport: mode})
		if err != nil {
			t.Fatal(err)
		}
		defer ec.Close()
		if err := ec.SendMessage([]byte("0/nope,"), false); err != nil {
			t.Fatal(err)
		}
		p, err := ec.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := `4/nope,{"message":"Invalid namespace"}`; string(p.Data) != want {
			t.Errorf("answer %q, want %q", p.Data, want)
		}

		c := srv.dial(t, mode, nil)
		_, err = c.Connect(ctx, "/nope", nil)
		var ce *sioclient.ConnectError
		if !errors.As(err, &ce) || ce.Message != "Invalid namespace" || ce.Data != nil {
			t.Errorf("Connect: %v", err)
		}
		// The connection survives the refusal.
		srv.connect(t, c, "/", nil)
	})
}

func TestMiddleware(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	nsp := srv.Of("/private")
	var order []string
	var mu sync.Mutex
	nsp.Use(func(so *socketio.Socket) error {
		mu.Lock()
		order = append(order, "first")
		mu.Unlock()
		var auth struct{ Token string }
		if err := json.Unmarshal(so.Handshake().Auth, &auth); err != nil {
			return err
		}
		switch auth.Token {
		case "":
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 42}}
		case "plain":
			return errors.New("plain error")
		}
		so.SetData(auth.Token)
		return nil
	})
	nsp.Use(func(so *socketio.Socket) error {
		mu.Lock()
		order = append(order, "second")
		mu.Unlock()
		return nil
	})
	tokens := make(chan any, 10)
	nsp.OnConnection(func(so *socketio.Socket) { tokens <- so.Data() })

	t.Run("connect", func(t *testing.T) {
		siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
			c := srv.dial(t, mode, nil)
			ctx := siotest.Context(t)
			_, err := c.Connect(ctx, "/private", map[string]string{})
			var ce *sioclient.ConnectError
			if !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":42}` {
				t.Errorf("refusal: %v (data %s)", err, dataOf(ce))
			}
			_, err = c.Connect(ctx, "/private", map[string]string{"token": "plain"})
			if !errors.As(err, &ce) || !strings.Contains(ce.Message, "plain error") {
				t.Errorf("refusal with a plain error: %v", err)
			}
			so, ss := srv.connect(t, c, "/private", map[string]string{"token": "secret"})
			if ss.Data() != "secret" || !so.Connected() {
				t.Errorf("socket data %v", ss.Data())
			}
			select {
			case tok := <-tokens:
				if tok != "secret" {
					t.Errorf("connection handler ran for %v", tok)
				}
			case <-time.After(5 * time.Second):
				t.Error("connection handler not called")
			}
		})
	})
	if n := len(tokens); n != 0 {
		t.Errorf("connection handler called %d more times", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 3*3+3 || order[len(order)-1] != "second" {
		t.Errorf("middleware calls %v", order)
	}
}

func dataOf(ce *sioclient.ConnectError) string {
	if ce == nil {
		return ""
	}
	return string(ce.Data)
}

func TestConnectTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	srv := newTestServer(t, socketio.Config{ConnectTimeout: timeout})
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		ctx := siotest.Context(t)
		start := time.Now()
		idle, err := sioclient.DialEngine(ctx, srv.URL, &sioclient.Options{Transport: mode})
		if err != nil {
			t.Fatal(err)
		}
		defer idle.Close()
		c := srv.dial(t, mode, nil)
		srv.connect(t, c, "/", nil)
		select {
		case <-idle.Done():
		case <-ctx.Done():
			t.Fatal("idle connection still open")
		}
		if d := time.Since(start); d < timeout {
			t.Errorf("idle connection closed after %v, before ConnectTimeout", d)
		}
		if err := idle.Err(); !errors.Is(err, sioclient.ErrServerClosed) {
			t.Errorf("idle connection: %v", err)
		}
		// Well past the timeout, the connected client is still there.
		time.Sleep(timeout)
		select {
		case <-c.Done():
			t.Fatal("connected client closed by the connect timeout")
		default:
		}
	})
}

func TestShutdown(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	reasons := make(chan socketio.DisconnectReason, 10)
	srv.Of("/").OnConnection(func(so *socketio.Socket) {
		so.OnDisconnect(func(_ *socketio.Socket, r socketio.DisconnectReason) { reasons <- r })
	})
	var socks []*sioclient.Socket
	for _, mode := range siotest.Transports {
		c := srv.dial(t, mode, nil)
		so, _ := srv.connect(t, c, "/", nil)
		socks = append(socks, so)
	}
	if err := srv.Shutdown(siotest.Context(t)); err != nil {
		t.Fatal(err)
	}
	if n := srv.ConnectionCount(); n != 0 {
		t.Errorf("%d connections after Shutdown", n)
	}
	for _, so := range socks {
		<-so.Done()
		if r := so.Reason(); r != sioclient.ReasonTransportClose {
			t.Errorf("client reason %q", r)
		}
		if r := <-reasons; r != socketio.ReasonServerShutdown {
			t.Errorf("server reason %q", r)
		}
	}
}

// chanMap hands out one channel per key.
type chanMap struct {
	mu sync.Mutex
	m  map[string]chan socketio.DisconnectReason
}

func (c *chanMap) get(key string) chan socketio.DisconnectReason {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := c.m[key]
	if ch == nil {
		ch = make(chan socketio.DisconnectReason, 10)
		c.m[key] = ch
	}
	return ch
}

func contextWithTimeout(t testing.TB, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(siotest.Context(t), d)
}

// recorderOf returns the serverEvents an OnConnection handler attached to
// ss, waiting for the handler to have run.
func recorderOf(t testing.TB, ss *socketio.Socket) *serverEvents {
	t.Helper()
	var r *serverEvents
	wait.For(t, "connection handler", 5*time.Second, func() bool {
		r, _ = ss.Data().(*serverEvents)
		return r != nil
	})
	return r
}
