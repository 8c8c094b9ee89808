package socketio_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestEvents(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	srv.Of("/").OnConnection(func(so *socketio.Socket) {
		got := new(serverEvents)
		so.SetData(got)
		so.On("chat", func(so *socketio.Socket, e *socketio.Event) {
			got.add(e)
			if err := e.Ack(); !errors.Is(err, socketio.ErrNoAck) {
				t.Errorf("Ack without request: %v", err)
			}
			_ = so.Emit("chat", "echo", e.Args[0])
		})
		so.On("sum", func(so *socketio.Socket, e *socketio.Event) {
			var a, b int
			if err := e.Bind(0, &a); err != nil {
				t.Error(err)
			}
			if err := e.Bind(1, &b); err != nil {
				t.Error(err)
			}
			if err := e.Ack(a+b, "done"); err != nil {
				t.Errorf("Ack: %v", err)
			}
			if err := e.Ack(0); !errors.Is(err, socketio.ErrAcked) {
				t.Errorf("second Ack: %v", err)
			}
		})
		so.OnAny(func(so *socketio.Socket, e *socketio.Event) { got.add(e) })
	})
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		c := srv.dial(t, mode, nil)
		so := c.Socket("/")
		in := record(so)
		so, ss := srv.connect(t, c, "/", nil)
		got := recorderOf(t, ss)
		ctx := siotest.Context(t)

		if err := so.Emit("chat", map[string]any{"text": "hi <b>", "n": 1.5}); err != nil {
			t.Fatal(err)
		}
		e := in.next(t)
		if e.Name != "chat" || string(e.Args[0]) != `"echo"` || string(e.Args[1]) != `{"n":1.5,"text":"hi <b>"}` {
			t.Errorf("echo %s %s", e.Name, e.Args)
		}
		if e.Ack != nil {
			t.Error("Ack set on an event without an ack id")
		}

		reply, err := so.EmitWithAck(ctx, "sum", 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		var sum int
		if err := reply.Bind(0, &sum); err != nil || sum != 5 {
			t.Errorf("sum %d, %v", sum, err)
		}
		if s, _ := reply.String(1); s != "done" {
			t.Errorf("ack arg 1 %q", s)
		}

		if err := so.Emit("other", nil, true); err != nil {
			t.Fatal(err)
		}
		evs := got.wait(t, 2)
		if evs[len(evs)-1].Name != "other" || string(evs[len(evs)-1].Args[0]) != "null" {
			t.Errorf("OnAny got %s %s", evs[len(evs)-1].Name, evs[len(evs)-1].Args)
		}
	})
}

// TestNamespaceHandlers checks the order in which handlers are looked up:
// the socket's own, the namespace's, then the socket's OnAny.
func TestNamespaceHandlers(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	nsp := srv.Of("/")
	reply := func(text string) socketio.EventHandler {
		return func(so *socketio.Socket, e *socketio.Event) { _ = e.Ack(text) }
	}
	nsp.On("shared", reply("namespace"))
	nsp.On("mine", reply("namespace"))
	nsp.OnConnection(func(so *socketio.Socket) {
		so.On("mine", reply("socket"))
		so.OnAny(reply("any"))
	})
	c := srv.dial(t, sioclient.TransportWebSocket, nil)
	so, _ := srv.connect(t, c, "/", nil)
	ctx := siotest.Context(t)
	for event, want := range map[string]string{"shared": "namespace", "mine": "socket", "other": "any"} {
		got, err := so.EmitWithAck(ctx, event)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := got.String(0); s != want {
			t.Errorf("%s answered by %q, want %q", event, s, want)
		}
	}
}

func TestServerEmitWithAck(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		c := srv.dial(t, mode, nil)
		so := c.Socket("/")
		so.On("question", func(e *sioclient.Event) {
			if e.Ack == nil {
				t.Error("no Ack on an event with an ack id")
				return
			}
			var n int
			_ = e.Bind(0, &n)
			_ = e.Ack(n*2, []byte{0xbe, 0xef})
		})
		silent := make(chan struct{}, 10)
		so.On("silent", func(e *sioclient.Event) { silent <- struct{}{} })
		so, ss := srv.connect(t, c, "/", nil)

		type result struct {
			m   *sioparser.Message
			err error
		}
		results := make(chan result, 1)
		h := func(m *sioparser.Message, err error) { results <- result{m, err} }

		t.Run("reply", func(t *testing.T) {
			if err := ss.EmitWithAck("question", time.Second, h, 21); err != nil {
				t.Fatal(err)
			}
			r := <-results
			var n int
			var b []byte
			if r.err != nil || r.m.Bind(0, &n) != nil || n != 42 || r.m.Bind(1, &b) != nil || !bytes.Equal(b, []byte{0xbe, 0xef}) {
				t.Errorf("ack %+v, %v", r.m, r.err)
			}
		})
		t.Run("timeout", func(t *testing.T) {
			start := time.Now()
			if err := ss.EmitWithAck("silent", 50*time.Millisecond, h); err != nil {
				t.Fatal(err)
			}
			<-silent
			r := <-results
			if !errors.Is(r.err, socketio.ErrAckTimeout) || r.m != nil {
				t.Errorf("ack %+v, %v; want ErrAckTimeout", r.m, r.err)
			}
			if d := time.Since(start); d < 50*time.Millisecond {
				t.Errorf("timed out after %v", d)
			}
		})
		t.Run("disconnect", func(t *testing.T) {
			if err := ss.EmitWithAck("silent", 0, h); err != nil {
				t.Fatal(err)
			}
			<-silent
			if err := so.Disconnect(); err != nil {
				t.Fatal(err)
			}
			r := <-results
			if !errors.Is(r.err, socketio.ErrDisconnected) {
				t.Errorf("ack %+v, %v; want ErrDisconnected", r.m, r.err)
			}
			if err := ss.EmitWithAck("silent", 0, h); !errors.Is(err, socketio.ErrDisconnected) {
				t.Errorf("EmitWithAck on a disconnected socket: %v", err)
			}
			if err := ss.Emit("x"); !errors.Is(err, socketio.ErrDisconnected) {
				t.Errorf("Emit on a disconnected socket: %v", err)
			}
		})
	})
}

func TestClientAckTimeout(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	srv.Of("/").OnConnection(func(so *socketio.Socket) {
		so.On("ignore", func(*socketio.Socket, *socketio.Event) {})
	})
	c := srv.dial(t, sioclient.TransportWebSocket, nil)
	so, _ := srv.connect(t, c, "/", nil)
	ctx, cancel := contextWithTimeout(t, 50*time.Millisecond)
	defer cancel()
	if _, err := so.EmitWithAck(ctx, "ignore"); err == nil {
		t.Error("EmitWithAck without an ack returned no error")
	}
}

func TestBinary(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	srv.Of("/").OnConnection(func(so *socketio.Socket) {
		got := new(serverEvents)
		so.SetData(got)
		so.On("upload", func(so *socketio.Socket, e *socketio.Event) {
			got.add(e)
			_ = e.AckRaw(e.Args, e.Attachments)
		})
		so.On("download", func(so *socketio.Socket, e *socketio.Event) {
			_ = so.Emit("file", []byte{1, 2, 3}, map[string]any{
				"name":  "a.bin",
				"parts": []any{[]byte{4}, []byte{}, "text"},
			})
		})
	})
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		c := srv.dial(t, mode, nil)
		so := c.Socket("/")
		in := record(so)
		so, ss := srv.connect(t, c, "/", nil)
		got := recorderOf(t, ss)
		ctx := siotest.Context(t)

		big := bytes.Repeat([]byte{0xab}, 100_000)
		reply, err := so.EmitWithAck(ctx, "upload", []byte{0, 1}, map[string]any{"blob": big, "list": []any{[]byte("x"), 7}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []*sioparser.Message{reply, &got.wait(t, 1)[0].Message} {
			var top []byte
			if err := m.Bind(0, &top); err != nil || !bytes.Equal(top, []byte{0, 1}) {
				t.Errorf("top-level binary %v, %v", top, err)
			}
			if len(m.Attachments) != 3 || !bytes.Equal(m.Attachments[1], big) || string(m.Attachments[2]) != "x" {
				t.Errorf("%d attachments", len(m.Attachments))
			}
			var nested struct {
				Blob json.RawMessage
				List []json.RawMessage
			}
			if err := m.Bind(1, &nested); err != nil {
				t.Fatal(err)
			}
			if b, ok := sioparser.ResolvePlaceholder(nested.Blob, m.Attachments); !ok || !bytes.Equal(b, big) {
				t.Errorf("nested blob: %s", nested.Blob)
			}
			if b, ok := sioparser.ResolvePlaceholder(nested.List[0], m.Attachments); !ok || string(b) != "x" {
				t.Errorf("nested list: %s", nested.List[0])
			}
		}

		if err := so.Emit("download"); err != nil {
			t.Fatal(err)
		}
		e := in.next(t)
		var top []byte
		if e.Name != "file" || e.Bind(0, &top) != nil || !bytes.Equal(top, []byte{1, 2, 3}) {
			t.Errorf("event %s %s", e.Name, e.Args)
		}
		var file struct {
			Name  string
			Parts []json.RawMessage
		}
		if err := e.Bind(1, &file); err != nil || file.Name != "a.bin" || len(file.Parts) != 3 {
			t.Fatalf("file %+v, %v", file, err)
		}
		for i, want := range []string{"\x04", ""} {
			if b, ok := sioparser.ResolvePlaceholder(file.Parts[i], e.Attachments); !ok || string(b) != want {
				t.Errorf("part %d: %s", i, file.Parts[i])
			}
		}
	})
}

func TestDisconnectReasons(t *testing.T) {
	srv := newTestServer(t, socketio.Config{
		Engine: engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 200 * time.Millisecond},
	})
	reasons := make(map[string]chan socketio.DisconnectReason)
	var mu chanMap
	mu.m = reasons
	srv.Of("/").OnConnection(func(so *socketio.Socket) {
		ch := mu.get(so.ID())
		so.OnDisconnect(func(so *socketio.Socket, r socketio.DisconnectReason) { ch <- r })
		so.SetData(true) // ready
	})
	tests := []struct {
		name         string
		opts         *sioclient.Options
		do           func(t *testing.T, c *sioclient.Client, so *sioclient.Socket, ss *socketio.Socket)
		serverReason socketio.DisconnectReason
		clientReason sioclient.DisconnectReason
	}{
		{"client namespace disconnect", nil,
			func(t *testing.T, c *sioclient.Client, so *sioclient.Socket, ss *socketio.Socket) {
				_ = so.Disconnect()
			},
			socketio.ReasonClientDisconnect, sioclient.ReasonClientDisconnect},
		{"server namespace disconnect", nil,
			func(t *testing.T, c *sioclient.Client, so *sioclient.Socket, ss *socketio.Socket) {
				ss.Disconnect(false)
			},
			socketio.ReasonServerDisconnect, sioclient.ReasonServerDisconnect},
		{"server disconnect closing the connection", nil,
			func(t *testing.T, c *sioclient.Client, so *sioclient.Socket, ss *socketio.Socket) {
				ss.Disconnect(true)
			},
			socketio.ReasonServerDisconnect, sioclient.ReasonServerDisconnect},
		{"transport close", nil,
			func(t *testing.T, c *sioclient.Client, so *sioclient.Socket, ss *socketio.Socket) { _ = c.Close() },
			socketio.ReasonTransportClose, sioclient.ReasonClientDisconnect},
		{"ping timeout", &sioclient.Options{NoPong: true},
			func(t *testing.T, c *sioclient.Client, so *sioclient.Socket, ss *socketio.Socket) {},
			socketio.ReasonPingTimeout, sioclient.ReasonTransportClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
				c := srv.dial(t, mode, tt.opts)
				so, ss := srv.connect(t, c, "/", nil)
				wait.For(t, "connection handler", 5*time.Second, func() bool { return ss.Data() != nil })
				ch := mu.get(ss.ID())
				tt.do(t, c, so, ss)
				select {
				case r := <-ch:
					if r != tt.serverReason {
						t.Errorf("server reason %q, want %q", r, tt.serverReason)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no disconnect on the server")
				}
				select {
				case <-so.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("no disconnect on the client")
				}
				if r := so.Reason(); r != tt.clientReason {
					t.Errorf("client reason %q, want %q", r, tt.clientReason)
				}
				if ss.Connected() || srv.Of("/").Socket(ss.ID()) != nil {
					t.Error("server socket still connected")
				}
				select {
				case r := <-ch:
					t.Errorf("second disconnect: %q", r)
				case <-time.After(10 * time.Millisecond):
				}
			})
		})
	}
}

func TestHandlerPanic(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	srv.Of("/").OnConnection(func(so *socketio.Socket) {
		so.On("boom", func(*socketio.Socket, *socketio.Event) { panic("boom") })
		so.On("echo", func(_ *socketio.Socket, e *socketio.Event) { _ = e.AckRaw(e.Args, nil) })
	})
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		ctx := siotest.Context(t)
		victim := srv.dial(t, mode, nil)
		bystander := srv.dial(t, mode, nil)
		vs, _ := srv.connect(t, victim, "/", nil)
		bs, _ := srv.connect(t, bystander, "/", nil)
		if err := vs.Emit("boom"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-victim.Done():
		case <-ctx.Done():
			t.Fatal("the panicking connection is still open")
		}
		if _, err := bs.EmitWithAck(ctx, "echo", "still alive"); err != nil {
			t.Errorf("other connection: %v", err)
		}
		fresh := srv.dial(t, mode, nil)
		fs, _ := srv.connect(t, fresh, "/", nil)
		if _, err := fs.EmitWithAck(ctx, "echo", 1); err != nil {
			t.Errorf("new connection: %v", err)
		}
	})
}

func TestInvalidPackets(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	tests := []struct {
		name string
		msgs []eioparser.Packet
	}{
		{"bad type", []eioparser.Packet{{Data: []byte("9")}}},
		{"bad json", []eioparser.Packet{{Data: []byte(`2["ev"`)}}},
		{"event without name", []eioparser.Packet{{Data: []byte(`2[1]`)}}},
		{"unexpected attachment", []eioparser.Packet{{Data: []byte{1}, Binary: true}}},
		{"text while attachments pending", []eioparser.Packet{{Data: []byte(`51-["ev",{"_placeholder":true,"num":0}]`)}, {Data: []byte(`2["ev"]`)}}},
		{"connect error from client", []eioparser.Packet{{Data: []byte(`4{"message":"x"}`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
				c := srv.dial(t, mode, nil)
				so, _ := srv.connect(t, c, "/", nil)
				for _, m := range tt.msgs {
					m.Type = eioparser.PacketMessage
					if err := c.Engine().Send(m); err != nil {
						t.Fatal(err)
					}
				}
				select {
				case <-so.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("connection still open")
				}
			})
		})
	}
}

func TestMessageDecode(t *testing.T) {
	m := &sioparser.Message{
		Args: []json.RawMessage{
			json.RawMessage(`{"data":{"_placeholder":true,"num":1},"n":12345678901234567890,"list":[{"_placeholder":true,"num":0},"x"]}`),
			json.RawMessage(`{"_placeholder":true,"num":7}`),
		},
		Attachments: [][]byte{{1}, {2, 3}},
	}
	v, err := m.Decode(0)
	if err != nil {
		t.Fatal(err)
	}
	got := v.(map[string]any)
	if b, ok := got["data"].([]byte); !ok || string(b) != "\x02\x03" {
		t.Errorf("data = %#v, want the second attachment", got["data"])
	}
	if n, ok := got["n"].(json.Number); !ok || n.String() != "12345678901234567890" {
		t.Errorf("n = %#v, want the exact number", got["n"])
	}
	if b, ok := got["list"].([]any)[0].([]byte); !ok || string(b) != "\x01" {
		t.Errorf("list[0] = %#v, want the first attachment", got["list"])
	}
	// A placeholder pointing past the attachments stays as it was.
	v, err = m.Decode(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.(map[string]any); !ok {
		t.Errorf("out-of-range placeholder = %#v, want the object", v)
	}
	if _, err := m.Decode(2); err == nil {
		t.Error("Decode(2) of 2 arguments: no error")
	}
}

// TestDisconnectReasonStrings pins the reasons to the reference server's
// strings, which applications and logs see.
func TestDisconnectReasonStrings(t *testing.T) {
	tests := []struct {
		r    socketio.DisconnectReason
		want string
	}{
		{socketio.ReasonTransportClose, "transport close"},
		{socketio.ReasonTransportError, "transport error"},
		{socketio.ReasonPingTimeout, "ping timeout"},
		{socketio.ReasonParseError, "parse error"},
		{socketio.ReasonForcedClose, "forced close"},
		{socketio.ReasonServerShutdown, "server shutting down"},
		{socketio.ReasonSlowConsumer, "slow consumer"},
		{socketio.ReasonServerDisconnect, "server namespace disconnect"},
		{socketio.ReasonClientDisconnect, "client namespace disconnect"},
	}
	for _, tt := range tests {
		if string(tt.r) != tt.want {
			t.Errorf("reason %q, want %q", tt.r, tt.want)
		}
	}
}

// TestBroadcastWhileReleasing broadcasts to a room a socket joined in its
// connection handler just as the server queues its CONNECT reply and what
// the handler sent: the broadcast comes after them. Queued before the
// CONNECT reply, it would be dropped by the client, which is not yet
// connected to the namespace.
func TestBroadcastWhileReleasing(t *testing.T) {
	tests := []struct {
		name     string
		recovery *socketio.RecoveryConfig
	}{
		{"without recovery", nil},
		{"with recovery", &socketio.RecoveryConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
				var wg sync.WaitGroup
				errc := make(chan error, 1)
				cfg := socketio.WithReleasing(socketio.Config{Recovery: tt.recovery}, func(so *socketio.Socket) {
					done := make(chan struct{})
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer close(done)
						errc <- so.Namespace().To("live").Emit("live", 2)
					}()
					select {
					case <-done: // it did not wait for the CONNECT reply
					case <-time.After(100 * time.Millisecond): // it waits, as it should
					}
				})
				srv := newTestServer(t, cfg)
				srv.Of("/").OnConnection(func(so *socketio.Socket) {
					so.Join("live")
					_ = so.Emit("hello", 1)
				})
				ctx := siotest.Context(t)
				ec, err := sioclient.DialEngine(ctx, srv.URL, &sioclient.Options{Transport: mode})
				if err != nil {
					t.Fatalf("dial %s: %v", mode, err)
				}
				defer func() { _ = ec.Close() }()
				if err := ec.SendMessage([]byte("0"), false); err != nil {
					t.Fatal(err)
				}
				c := &recoveryClient{ec: ec}
				var got []string
				for len(got) < 3 {
					p, err := c.packet(ctx)
					if err != nil {
						t.Fatalf("after %v: %v", got, err)
					}
					name := p.Type.String()
					if p.Type == sioparser.PacketEvent {
						if name, _, err = sioparser.EventName(p.Data); err != nil {
							t.Fatal(err)
						}
					}
					got = append(got, name)
				}
				wg.Wait()
				if err := <-errc; err != nil {
					t.Errorf("broadcast: %v", err)
				}
				if want := []string{sioparser.PacketConnect.String(), "hello", "live"}; !slices.Equal(got, want) {
					t.Errorf("client got %v, want %v", got, want)
				}
			})
		})
	}
}
