package sioclient_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

var transports = []sioclient.Transport{
	sioclient.TransportWebSocket,
	sioclient.TransportPolling,
	sioclient.TransportUpgrade,
}

// newServer starts a Socket.IO server whose "/" namespace echoes "echo"
// through its ack, and answers "ask" by asking the client for an ack.
func newServer(t *testing.T) string {
	t.Helper()
	srv := socketio.NewServer(socketio.Config{})
	srv.Of("/").OnConnection(func(so *socketio.Socket) {
		so.On("echo", func(so *socketio.Socket, e *socketio.Event) {
			_ = e.AckRaw(e.Args, e.Attachments)
		})
		so.On("ask", func(so *socketio.Socket, e *socketio.Event) {
			_ = so.EmitWithAck("question", time.Second, func(reply *sioparser.Message, err error) {
				if err != nil {
					return
				}
				_ = so.EmitRaw("answer", reply.Args, reply.Attachments)
			}, 42)
		})
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL
}

func TestClient(t *testing.T) {
	url := newServer(t)
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := sioclient.Dial(ctx, url, &sioclient.Options{Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got, want := c.Engine().Transport(), sioclient.TransportWebSocket; tr != sioclient.TransportPolling && got != want {
				t.Errorf("transport %q, want %q", got, want)
			}

			so := c.Socket("/")
			answers := make(chan *sioclient.Event, 1)
			so.On("question", func(e *sioclient.Event) {
				if err := e.Ack("yes", []byte{1, 2}); err != nil {
					t.Errorf("Ack: %v", err)
				}
				if err := e.Ack("again"); err == nil {
					t.Error("second Ack succeeded")
				}
			})
			so.On("answer", func(e *sioclient.Event) { answers <- e })
			if err := so.Connect(ctx, map[string]any{"token": "t"}); err != nil {
				t.Fatal(err)
			}
			if so.ID() == "" || !so.Connected() {
				t.Fatalf("after Connect: id %q, connected %v", so.ID(), so.Connected())
			}

			reply, err := so.EmitWithAck(ctx, "echo", "hi", []byte("bin"))
			if err != nil {
				t.Fatal(err)
			}
			var s string
			var b []byte
			if err := reply.Bind(0, &s); err != nil || s != "hi" {
				t.Errorf("ack arg 0 = %q, %v", s, err)
			}
			if err := reply.Bind(1, &b); err != nil || !bytes.Equal(b, []byte("bin")) {
				t.Errorf("ack arg 1 = %q, %v", b, err)
			}

			if err := so.Emit("ask"); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-answers:
				if s, _ := e.String(0); s != "yes" {
					t.Errorf("answer %q", s)
				}
				if err := e.Bind(1, &b); err != nil || !bytes.Equal(b, []byte{1, 2}) {
					t.Errorf("answer arg 1 = %v, %v", b, err)
				}
			case <-ctx.Done():
				t.Fatal("no answer")
			}

			if err := so.Disconnect(); err != nil {
				t.Fatal(err)
			}
			if so.Reason() != sioclient.ReasonClientDisconnect {
				t.Errorf("reason %q", so.Reason())
			}
			if err := so.Emit("late"); !errors.Is(err, sioclient.ErrDisconnected) {
				t.Errorf("Emit after Disconnect: %v", err)
			}
		})
	}
}

func TestConnectError(t *testing.T) {
	url := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Connect(ctx, "/nope", nil)
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
		t.Fatalf("Connect: %v", err)
	}
}

func TestEngineRaw(t *testing.T) {
	ts := httptest.NewServer(engineio.NewServer(engineio.Config{
		NewSession: func(s *engineio.Session) engineio.Handler { return echo{s} },
	}))
	defer ts.Close()
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ec, err := sioclient.DialEngine(ctx, ts.URL+"/engine.io/", &sioclient.Options{Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			if err := ec.SendMessage([]byte("hello"), false); err != nil {
				t.Fatal(err)
			}
			if err := ec.SendMessage([]byte{0, 1}, true); err != nil {
				t.Fatal(err)
			}
			for _, want := range []eioparser.Packet{
				{Type: eioparser.PacketMessage, Data: []byte("hello")},
				{Type: eioparser.PacketMessage, Data: []byte{0, 1}, Binary: true},
			} {
				p, err := ec.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if p.Type != want.Type || p.Binary != want.Binary || !bytes.Equal(p.Data, want.Data) {
					t.Errorf("read %+v, want %+v", p, want)
				}
			}
			if err := ec.Close(); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(ec.Err(), sioclient.ErrClosed) {
				t.Errorf("Err after Close: %v", ec.Err())
			}
			if _, err := ec.Read(ctx); !errors.Is(err, sioclient.ErrClosed) {
				t.Errorf("Read after Close: %v", err)
			}
		})
	}
}

type echo struct{ s *engineio.Session }

func (h echo) HandleMessage(data []byte, binary bool) {
	_ = h.s.Send(eioparser.Packet{Type: eioparser.PacketMessage, Data: data, Binary: binary})
}
func (echo) HandleClose(eioparser.CloseReason) {}

// TestDisconnectReasonStrings pins the reasons to the JavaScript client's
// strings.
func TestDisconnectReasonStrings(t *testing.T) {
	tests := []struct {
		r    sioclient.DisconnectReason
		want string
	}{
		{sioclient.ReasonServerDisconnect, "io server disconnect"},
		{sioclient.ReasonClientDisconnect, "io client disconnect"},
		{sioclient.ReasonTransportClose, "transport close"},
		{sioclient.ReasonTransportError, "transport error"},
		{sioclient.ReasonParseError, "parse error"},
	}
	for _, tt := range tests {
		if string(tt.r) != tt.want {
			t.Errorf("reason %q, want %q", tt.r, tt.want)
		}
	}
}

// TestPID checks the private session id a socket gets with recovery on:
// none without, one with, the same again when the client comes back with
// it and the offset of its last event, and a new one when the server does
// not know the session.
func TestPID(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name     string
		recovery bool
	}{{"recovery off", false}, {"recovery on", true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := socketio.Config{}
			if tc.recovery {
				cfg.Recovery = &socketio.RecoveryConfig{}
			}
			srv := socketio.NewServer(cfg)
			ts := httptest.NewServer(srv)
			t.Cleanup(func() {
				_ = srv.Shutdown(ctx)
				ts.Close()
			})
			dial := func(auth any) (*sioclient.Client, *sioclient.Socket) {
				t.Helper()
				c, err := sioclient.Dial(ctx, ts.URL, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = c.Close() })
				so, err := c.Connect(ctx, "/", auth)
				if err != nil {
					t.Fatal(err)
				}
				return c, so
			}
			c, first := dial(nil)
			if !tc.recovery {
				if first.PID() != "" {
					t.Fatalf("pid %q with recovery off", first.PID())
				}
				return
			}
			if len(first.PID()) != 20 || first.PID() == first.ID() {
				t.Fatalf("pid %q, id %q", first.PID(), first.ID())
			}
			offsets := make(chan string, 1)
			first.On("e", func(e *sioclient.Event) {
				off, _ := e.String(len(e.Args) - 1)
				offsets <- off
			})
			if err := srv.Of("/").Emit("e", 1); err != nil {
				t.Fatal(err)
			}
			var offset string
			select {
			case offset = <-offsets:
			case <-ctx.Done():
				t.Fatal("no event")
			}
			sid, pid := first.ID(), first.PID()
			_ = c.Close()
			wait.For(t, "the socket gone", 5*time.Second, func() bool { return srv.Of("/").Socket(sid) == nil })
			_, back := dial(map[string]string{"pid": pid, "offset": offset})
			if back.PID() != pid || back.ID() != sid {
				t.Errorf("back as %s/%s, want %s/%s", back.ID(), back.PID(), sid, pid)
			}
			_, other := dial(map[string]string{"pid": "unknown-pid", "offset": offset})
			if other.PID() == "" || other.PID() == pid || other.ID() == sid {
				t.Errorf("unknown session answered with %s/%s", other.ID(), other.PID())
			}
		})
	}
}
