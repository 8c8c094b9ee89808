package socketio_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// TestPreparedEvent sends events prepared once to the sockets of a
// namespace, as they connect (from a connection handler, directly and
// through a Stream) and after: each client gets them whole, in order,
// binary attachments included, and a socket of another namespace gets
// ErrOtherNamespace.
func TestPreparedEvent(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	nsp := srv.Of("/")
	hello, err := nsp.PrepareEvent("hello", map[string]any{"n": 1}, "two")
	if err != nil {
		t.Fatal(err)
	}
	blob, err := nsp.PrepareEvent("blob", []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	// "2[...]" and, for blob, its placeholder and the attachment.
	if want := len(`2["hello",{"n":1},"two"]`); hello.Size() < want || blob.Size() < len(`51-["blob",{"_placeholder":true,"num":0}]`)+3 {
		t.Errorf("sizes %d and %d", hello.Size(), blob.Size())
	}
	failed := make(chan error, 100)
	nsp.OnConnection(func(so *socketio.Socket) {
		if err := so.EmitPrepared(hello); err != nil {
			failed <- err
		}
		st := so.NewStream()
		for _, pe := range []*socketio.PreparedEvent{blob, hello} {
			if err := st.EmitPrepared(pe); err != nil {
				failed <- err
			}
		}
		if ok, err := st.TrySend(); !ok || err != nil {
			failed <- fmt.Errorf("TrySend: %t, %v", ok, err)
		}
	})
	srv.Of("/other").OnConnection(func(so *socketio.Socket) {
		if err := so.EmitPrepared(hello); !errors.Is(err, socketio.ErrOtherNamespace) {
			failed <- fmt.Errorf("EmitPrepared to /other: %v", err)
		}
		if err := so.NewStream().EmitPrepared(hello); !errors.Is(err, socketio.ErrOtherNamespace) {
			failed <- fmt.Errorf("Stream.EmitPrepared to /other: %v", err)
		}
	})
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		cs := srv.dial(t, mode, nil).Socket("/")
		in := record(cs)
		if err := cs.Connect(siotest.Context(t), nil); err != nil {
			t.Fatal(err)
		}
		// Its handler has run once the client is connected.
		srv.connect(t, srv.dial(t, mode, nil), "/other", nil)
		select {
		case err := <-failed:
			t.Fatal(err)
		default:
		}
		check := func(e *sioclient.Event, want string) {
			t.Helper()
			var got string
			switch e.Name {
			case "hello":
				var first struct{ N int }
				var second string
				if e.Bind(0, &first) != nil || e.Bind(1, &second) != nil || first.N != 1 || second != "two" {
					t.Errorf("hello: %v", e.Args)
				}
				got = "hello"
			case "blob":
				var b []byte
				if err := e.Bind(0, &b); err != nil || string(b) != "\x01\x02\x03" {
					t.Errorf("blob: %v, %v", b, err)
				}
				got = "blob"
			}
			if got != want {
				t.Errorf("got %q, want %q", e.Name, want)
			}
		}
		for _, want := range []string{"hello", "blob", "hello"} {
			check(in.next(t), want)
		}
		// After the connection, too.
		so := nsp.Socket(cs.ID())
		if so == nil {
			t.Fatal("no server socket")
		}
		if err := so.EmitPrepared(blob); err != nil {
			t.Fatal(err)
		}
		check(in.next(t), "blob")
	})
}
