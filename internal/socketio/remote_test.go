package socketio_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// TestSocketOperations checks the operations on sockets that a cluster
// carries to every node, on one node with the in-memory adapter.
func TestSocketOperations(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	nsp := srv.Of("/")
	var clients []*sioclient.Socket
	var servers []*socketio.Socket
	var inboxes []inbox
	for range 3 {
		c := srv.dial(t, sioclient.TransportWebSocket, nil)
		in := record(c.Socket("/"))
		so, ss := srv.connect(t, c, "/", nil)
		clients, servers, inboxes = append(clients, so), append(servers, ss), append(inboxes, in)
	}
	a, b, c := servers[0], servers[1], servers[2]
	a.Join("r1")
	b.Join("r1")
	a.SetData(map[string]any{"name": "alice"})

	// SocketsJoin: the sockets of r1 but b join r2; Local does the same.
	if err := nsp.To("r1").Except(b.ID()).SocketsJoin("r2"); err != nil {
		t.Fatal(err)
	}
	if err := nsp.Local().To(c.ID()).SocketsJoin("r2", "r3"); err != nil {
		t.Fatal(err)
	}
	ids := func(list []socketio.RemoteSocket) []string {
		var out []string
		for _, r := range list {
			out = append(out, r.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	ctx := context.Background()
	got, err := nsp.To("r2").FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := sorted(a.ID(), c.ID()); !slices.Equal(ids(got), want) {
		t.Errorf("r2 holds %v, want %v", ids(got), want)
	}
	all, err := nsp.FetchSockets(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("FetchSockets: %d sockets, %v", len(all), err)
	}
	for _, r := range all {
		if r.ID != a.ID() {
			continue
		}
		if string(r.Data) != `{"name":"alice"}` || !slices.Contains(r.Rooms, "r2") || r.Handshake.URL == nil {
			t.Errorf("a described as %+v", r)
		}
		// A fetched socket's methods act on the socket.
		if err := r.Emit("to-a", 1); err != nil {
			t.Fatal(err)
		}
		if e := inboxes[0].next(t); e.Name != "to-a" {
			t.Errorf("a got %q", e.Name)
		}
		if err := r.Leave("r2"); err != nil {
			t.Fatal(err)
		}
	}
	if slices.Contains(a.Rooms(), "r2") {
		t.Errorf("a still in r2: %v", a.Rooms())
	}

	// SocketsLeave, then DisconnectSockets of the whole namespace but r3.
	if err := nsp.SocketsLeave("r1"); err != nil {
		t.Fatal(err)
	}
	if n := len(nsp.To("r1").Sockets()); n != 0 {
		t.Errorf("%d sockets left in r1", n)
	}
	if err := nsp.Except("r3").DisconnectSockets(false); err != nil {
		t.Fatal(err)
	}
	<-clients[0].Done()
	<-clients[1].Done()
	wait.For(t, "one socket left", 5*time.Second, func() bool { return nsp.SocketCount() == 1 })
	if !c.Connected() {
		t.Error("c was disconnected")
	}

	// A Local broadcast reaches this node's sockets.
	if err := nsp.Local().Emit("local", "x"); err != nil {
		t.Fatal(err)
	}
	if e := inboxes[2].next(t); e.Name != "local" {
		t.Errorf("c got %q", e.Name)
	}
}

// TestServerSideEmit checks server-side events on one node: no other node
// gets them, and an adapter hands what other nodes send to the handlers.
func TestServerSideEmit(t *testing.T) {
	srv := newTestServer(t, socketio.Config{})
	nsp := srv.Of("/")
	if err := nsp.ServerSideEmit("hello", 1, []byte{2}); err != nil {
		t.Fatal(err)
	}
	replies, err := nsp.ServerSideEmitWithAck(context.Background(), "ping")
	if err != nil || replies.Len() != 0 {
		t.Fatalf("replies %+v, %v", replies, err)
	}

	got := make(chan []any, 1)
	nsp.OnServerSideEmit("ping", func(args *sioparser.Message, ack func(any) error) {
		var vals []any
		for i := range args.Len() {
			v, _ := args.Decode(i)
			vals = append(vals, v)
		}
		got <- vals
		if ack != nil {
			if err := ack(map[string]any{"pong": []byte{9}}); err != nil {
				t.Error(err)
			}
			if err := ack("again"); err != socketio.ErrAcked {
				t.Errorf("second ack: %v", err)
			}
		}
	})
	args := &sioparser.Message{
		Args:        []json.RawMessage{json.RawMessage(`"ping"`), json.RawMessage(`7`), json.RawMessage(`{"_placeholder":true,"num":0}`)},
		Attachments: [][]byte{{1, 2}},
	}
	var reply json.RawMessage
	var atts [][]byte
	if !nsp.HandleServerSideEmit(args, func(r json.RawMessage, a [][]byte) { reply, atts = r, a }) {
		t.Fatal("no handler ran")
	}
	if v := <-got; len(v) != 2 || v[0] != json.Number("7") || string(v[1].([]byte)) != "\x01\x02" {
		t.Errorf("handler got %#v", v)
	}
	if string(reply) != `{"pong":{"_placeholder":true,"num":0}}` || len(atts) != 1 || atts[0][0] != 9 {
		t.Errorf("reply %s %v", reply, atts)
	}
	if nsp.HandleServerSideEmit(&sioparser.Message{Args: []json.RawMessage{json.RawMessage(`"other"`)}}, nil) {
		t.Error("a handler ran for an event without one")
	}
}
