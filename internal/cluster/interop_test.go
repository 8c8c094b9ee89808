package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/testjs"
	"github.com/parley-chat/parley/internal/test/wait"
)

// dialNode connects a client to the Node.js server at url.
func dialNode(t *testing.T, url string) *client {
	t.Helper()
	c, err := sioclient.Dial(siotest.Context(t), url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	in := make(chan *sioclient.Event, 1000)
	c.Socket("/").OnAny(func(e *sioclient.Event) { in <- e })
	so, err := c.Connect(siotest.Context(t), "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{so: so, in: in}
}

// expect returns the next event, which must be called name, skipping
// probes.
func (c *client) expect(t *testing.T, name string) *sioclient.Event {
	t.Helper()
	for {
		e := c.next(t)
		if e.Name == "probe" {
			continue
		}
		if e.Name != name {
			t.Fatalf("got %q, want %q", e.Name, name)
		}
		return e
	}
}

// expectAll returns once it has had events called names, in any order,
// and nothing else but probes.
func (c *client) expectAll(t *testing.T, names ...string) {
	t.Helper()
	left := slices.Clone(names)
	for len(left) > 0 {
		e := c.next(t)
		if e.Name == "probe" {
			continue
		}
		i := slices.Index(left, e.Name)
		if i < 0 {
			t.Fatalf("got %q, want one of %q", e.Name, left)
		}
		left = slices.Delete(left, i, i+1)
	}
}

// TestNodeInterop runs a parley node and a Node.js Socket.IO 4.8 server
// with @socket.io/redis-streams-adapter 0.3 (test/js/cluster-peer.mjs) on
// one Redis, with a client on each, and checks that broadcasts, the
// tutorial's chat, the operations on sockets and server-side events cross
// in both directions; then that parley re-encodes every message the
// Node.js server wrote byte for byte as it did.
func TestNodeInterop(t *testing.T) {
	testjs.RequireNode(t)
	rc := redistest.Client(t)
	prefix := redistest.Prefix(t)
	cfg := testConfig(rc, prefix)

	// Every PUB/SUB message, kept for the byte-for-byte check at the end.
	tap := rc.PSubscribe(context.Background(), prefix+"#*")
	defer tap.Close()
	if _, err := tap.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	tapped := tap.Channel(redis.WithChannelSize(10000))

	ps := startServer(t, cfg)
	fx, ready := testjs.Start(t, "cluster-peer.mjs",
		"PARLEY_REDIS_URL="+redistest.URL(t), "PARLEY_STREAM="+cfg.StreamName, "PARLEY_CHANNEL_PREFIX="+prefix)
	var r struct{ Port int }
	if err := json.Unmarshal(ready, &r); err != nil {
		t.Fatal(err)
	}
	nodeURL := fmt.Sprintf("http://127.0.0.1:%d", r.Port)
	ctx := wait.Context(t, 60*time.Second)
	call := func(op string, args ...any) json.RawMessage {
		t.Helper()
		res, err := fx.Call(ctx, op, args...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	nsp := ps.Of("/")
	nsp.On("chat message", func(so *socketio.Socket, e *socketio.Event) {
		_ = so.Broadcast().EmitRaw("chat message", e.Args, e.Attachments)
	})
	pingArgs := make(chan string, 10)
	nsp.OnServerSideEmit("ping", func(args *sioparser.Message, ack func(any) error) {
		s, _ := args.String(0)
		pingArgs <- s
		if ack != nil {
			_ = ack(map[string]any{"from": "parley", "arg": s})
		}
	})

	a := connect(t, ps) // on parley
	a.ss.SetData(map[string]string{"side": "parley"})
	b := dialNode(t, nodeURL) // on Node.js
	a.ss.Join("r")
	if _, err := b.so.EmitWithAck(ctx, "join", "r"); err != nil {
		t.Fatal(err)
	}

	// Both count two nodes; then a broadcast from each side reaches the
	// other (the Node.js reader starts at the stream's end once connected,
	// a moment after it says it is ready).
	wait.For(t, "two nodes on each side", 10*time.Second, func() bool {
		n, err := ps.node.ServerCount(ctx, "/")
		return err == nil && n == 2 && string(call("serverCount")) == "2"
	})
	wait.For(t, "parley's broadcasts reach Node.js", 10*time.Second, func() bool {
		_ = nsp.To("r").Emit("probe")
		select {
		case e := <-b.in:
			return e.Name == "probe"
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})

	t.Run("io.to(room).emit", func(t *testing.T) {
		if err := nsp.To("r").Emit("hello", "from parley", map[string]int{"n": 1}); err != nil {
			t.Fatal(err)
		}
		e := b.expect(t, "hello")
		if s, _ := e.String(0); s != "from parley" || string(e.Args[1]) != `{"n":1}` {
			t.Errorf("Node.js client got %s", e.Args)
		}
		a.expect(t, "hello") // a is in r too
		call("emitTo", "r", "hello", "from node", []any{1.5, nil, true})
		e = a.expect(t, "hello")
		if s, _ := e.String(0); s != "from node" || string(e.Args[1]) != `[1.5,null,true]` {
			t.Errorf("parley client got %s", e.Args)
		}
		b.expect(t, "hello") // b is in r too
	})

	t.Run("binary", func(t *testing.T) {
		call("emitBinary", "r", "bin", "héllo")
		e := a.expect(t, "bin")
		var b0 []byte
		if err := e.Bind(0, &b0); err != nil || string(b0) != "héllo" {
			t.Errorf("parley client got %q, %v", b0, err)
		}
		if v, err := e.Decode(1); err != nil || !bytes.Equal(v.(map[string]any)["nested"].([]byte), []byte{1, 2, 3}) {
			t.Errorf("parley client got %#v, %v", v, err)
		}
		b.expect(t, "bin")
		if err := nsp.To("r").Emit("bin", []byte{9, 8}, "text"); err != nil {
			t.Fatal(err)
		}
		e = b.expect(t, "bin")
		if err := e.Bind(0, &b0); err != nil || !bytes.Equal(b0, []byte{9, 8}) {
			t.Errorf("Node.js client got %v, %v", b0, err)
		}
		a.expect(t, "bin")
	})

	t.Run("broadcast with acknowledgements", func(t *testing.T) {
		// Node.js asks everyone in r for an answer: its own client and
		// parley's answer.
		a.so.On("question", func(e *sioclient.Event) { _ = e.Ack("parley's answer", []byte{1}) })
		b.so.On("question", func(e *sioclient.Event) { _ = e.Ack("node's answer") })
		res := call("emitWithAck", "r", "question", 42)
		var answers []string
		if err := json.Unmarshal(res, &answers); err != nil {
			t.Fatalf("answers %s: %v", res, err)
		}
		if slices.Sort(answers); !slices.Equal(answers, []string{"node's answer", "parley's answer"}) {
			t.Errorf("answers %q", answers)
		}
	})

	t.Run("tutorial chat", func(t *testing.T) {
		if err := b.so.Emit("chat message", "hi from node's client"); err != nil {
			t.Fatal(err)
		}
		if s, _ := a.expect(t, "chat message").String(0); s != "hi from node's client" {
			t.Errorf("parley client got %q", s)
		}
		if err := a.so.Emit("chat message", "hi from parley's client"); err != nil {
			t.Fatal(err)
		}
		if s, _ := b.expect(t, "chat message").String(0); s != "hi from parley's client" {
			t.Errorf("Node.js client got %q", s)
		}
	})

	t.Run("except", func(t *testing.T) {
		call("emitExcept", a.ss.ID(), "not-a")
		call("emitTo", "r", "marker")
		b.expect(t, "not-a")
		a.expect(t, "marker")
		if err := nsp.Except("r").Emit("nobody"); err != nil {
			t.Fatal(err)
		}
		if err := nsp.To(b.so.ID()).Emit("to-b-by-id"); err != nil {
			t.Fatal(err)
		}
		// The Node.js server delivers its own broadcast once Redis has it:
		// parley's may come first.
		b.expectAll(t, "marker", "to-b-by-id")
	})

	type described struct {
		ID    string
		Rooms []string
		Data  json.RawMessage
		Auth  json.RawMessage
		URL   string
	}
	fetchOnNode := func(room string) []described {
		t.Helper()
		var list []described
		if err := json.Unmarshal(call("fetchSockets", room), &list); err != nil {
			t.Fatal(err)
		}
		return list
	}

	t.Run("socketsJoin and fetchSockets", func(t *testing.T) {
		// parley makes both clients join r2; Node.js sees both in r2.
		if err := nsp.To("r").SocketsJoin("r2"); err != nil {
			t.Fatal(err)
		}
		var list []described
		wait.For(t, "both in r2, seen from Node.js", 5*time.Second, func() bool {
			list = fetchOnNode("r2")
			return len(list) == 2
		})
		for _, d := range list {
			switch d.ID {
			case a.ss.ID():
				if string(d.Data) != `{"side":"parley"}` || !slices.Contains(d.Rooms, "r2") || string(d.Auth) != "{}" ||
					!strings.HasPrefix(d.URL, "/socket.io/?EIO=4") {
					t.Errorf("Node.js described parley's client as %+v", d)
				}
			case b.so.ID():
				if !slices.Equal(d.Rooms, slices.Sorted(slices.Values([]string{b.so.ID(), "r", "r2"}))) {
					t.Errorf("Node.js's client in %v", d.Rooms)
				}
			default:
				t.Errorf("unknown socket %+v", d)
			}
		}
		// Node.js makes both join r3; parley sees both in r3.
		call("socketsJoin", "r", "r3")
		var fetched []socketio.RemoteSocket
		wait.For(t, "both in r3, seen from parley", 5*time.Second, func() bool {
			var err error
			fetched, err = nsp.To("r3").FetchSockets(ctx)
			return err == nil && len(fetched) == 2
		})
		for _, rs := range fetched {
			if rs.ID != b.so.ID() {
				continue
			}
			if string(rs.Data) != `{"side":"node"}` || !slices.Contains(rs.Rooms, "r3") || rs.Handshake.URL == nil ||
				rs.Handshake.URL.Query().Get("EIO") != "4" || rs.Handshake.Time.IsZero() || string(rs.Handshake.Auth) != "{}" {
				t.Errorf("parley described Node.js's client as %+v", rs)
			}
		}
		if !slices.Contains(a.ss.Rooms(), "r3") {
			t.Errorf("parley's client in %v", a.ss.Rooms())
		}
	})

	t.Run("socketsLeave", func(t *testing.T) {
		call("socketsLeave", "r", "r2")
		wait.For(t, "parley's client out of r2", 5*time.Second, func() bool { return !slices.Contains(a.ss.Rooms(), "r2") })
		if err := nsp.To("r").SocketsLeave("r3"); err != nil {
			t.Fatal(err)
		}
		wait.For(t, "Node.js's client out of r3", 5*time.Second, func() bool { return len(fetchOnNode("r3")) == 0 })
	})

	t.Run("serverSideEmit", func(t *testing.T) {
		replies, err := nsp.ServerSideEmitWithAck(ctx, "ping", "from parley")
		if err != nil {
			t.Fatal(err)
		}
		if replies.Len() != 1 || string(replies.Args[0]) != `{"from":"node","arg":"from parley"}` {
			t.Errorf("replies %s", replies.Args)
		}
		if ev, err := fx.Event(ctx, "server-side"); err != nil || !strings.Contains(string(ev), `"arg":"from parley"`) {
			t.Errorf("Node.js heard %s, %v", ev, err)
		}
		res := call("serverSideEmitWithAck", "ping", "from node")
		if string(res) != `[{"arg":"from node","from":"parley"}]` {
			t.Errorf("Node.js got replies %s", res)
		}
		if s := <-pingArgs; s != "from node" {
			t.Errorf("parley heard %q", s)
		}
		call("serverSideEmit", "ping", "no ack")
		select {
		case s := <-pingArgs:
			if s != "no ack" {
				t.Errorf("parley heard %q", s)
			}
		case <-time.After(5 * time.Second):
			t.Error("parley's handler not called")
		}
		if err := nsp.ServerSideEmit("ping", "no ack from parley"); err != nil {
			t.Fatal(err)
		}
		if ev, err := fx.Event(ctx, "server-side"); err != nil || !strings.Contains(string(ev), "no ack from parley") {
			t.Errorf("Node.js heard %s, %v", ev, err)
		}
	})

	t.Run("disconnectSockets", func(t *testing.T) {
		call("disconnectSockets", a.ss.ID())
		select {
		case <-a.so.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("parley's client not disconnected")
		}
		if err := nsp.To(b.so.ID()).DisconnectSockets(true); err != nil {
			t.Fatal(err)
		}
		select {
		case <-b.so.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Node.js's client not disconnected")
		}
	})

	// Byte for byte: every stream entry and PUB/SUB message the Node.js
	// server wrote decodes, and encodes again to what it wrote.
	t.Run("same bytes", func(t *testing.T) {
		entries, err := rc.XRange(ctx, cfg.StreamName, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		fromNode, types := 0, map[string]int{}
		for _, x := range entries {
			field := func(k string) string { s, _ := x.Values[k].(string); return s }
			e := wire.Entry{UID: field("uid"), Nsp: field("nsp"), Type: field("type"), Data: field("data")}
			if e.UID == ps.node.UID() {
				continue
			}
			fromNode++
			m, err := wire.DecodeEntry(e)
			if m != nil {
				types["stream "+m.Type.String()]++
			}
			if err != nil {
				t.Errorf("entry %+v: %v", e, err)
				continue
			}
			again, err := wire.EncodeEntry(m)
			if err != nil || again != e {
				t.Errorf("Node.js wrote %+v\nparley writes %+v (%v)", e, again, err)
			}
		}
		if fromNode < 5 {
			t.Errorf("%d entries from Node.js", fromNode)
		}
		payloads := 0
		for {
			var msg *redis.Message
			select {
			case msg = <-tapped:
			default:
			}
			if msg == nil {
				break
			}
			m, err := wire.DecodePayload([]byte(msg.Payload))
			if err != nil {
				t.Errorf("%s: %x: %v", msg.Channel, msg.Payload, err)
				continue
			}
			if m.UID == ps.node.UID() {
				continue
			}
			payloads++
			types["pubsub "+m.Type.String()]++
			again, err := wire.EncodePayload(m)
			if err != nil || string(again) != msg.Payload {
				t.Errorf("%v: Node.js published %x\nparley publishes %x (%v)", m.Type, msg.Payload, again, err)
			}
		}
		if payloads < 4 {
			t.Errorf("%d PUB/SUB messages from Node.js", payloads)
		}
		t.Logf("checked %d stream entries and %d PUB/SUB messages from Node.js: %v", fromNode, payloads, types)
	})
}
