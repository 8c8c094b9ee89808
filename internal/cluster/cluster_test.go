package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// testConfig is a node's configuration in tests: names of the test's own
// in Redis, and short waits.
func testConfig(c redis.UniversalClient, prefix string) cluster.Config {
	return cluster.Config{
		Client:            c,
		StreamName:        prefix + ":stream",
		ChannelPrefix:     prefix,
		BlockTime:         200 * time.Millisecond,
		HeartbeatInterval: 100 * time.Millisecond,
		HeartbeatTimeout:  time.Second,
		RequestTimeout:    2 * time.Second,
		Logger:            testLogger(),
	}
}

// server is a parley Socket.IO server on a port of its own, in a cluster.
type server struct {
	*socketio.Server
	node *cluster.Node
	url  string
}

// startServer starts a node of the cluster in prefix and its server,
// stopped when the test ends, and waits until the node hears the others.
func startServer(t *testing.T, cfg cluster.Config) *server {
	t.Helper()
	node, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(socketio.Config{NewAdapter: node.NewAdapter, Logger: siotest.DiscardLogger()})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
		if err := node.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := node.Ready(wait.Context(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	return &server{Server: srv, node: node, url: hs.URL}
}

// startCluster starts n servers of one cluster and waits until each
// counts them all.
func startCluster(t *testing.T, n int) []*server {
	t.Helper()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	var list []*server
	for range n {
		list = append(list, startServer(t, testConfig(c, prefix)))
	}
	for _, s := range list {
		wait.For(t, "every node counted", 5*time.Second, func() bool {
			got, err := s.node.ServerCount(context.Background(), "/")
			return err == nil && got == n
		})
	}
	return list
}

// client is a connected client socket that records what it receives.
type client struct {
	so *sioclient.Socket
	ss *socketio.Socket // its server side
	in chan *sioclient.Event
}

func connect(t *testing.T, s *server) *client {
	t.Helper()
	c, err := sioclient.Dial(siotest.Context(t), s.url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
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
	var ss *socketio.Socket
	wait.For(t, "server socket", 5*time.Second, func() bool {
		ss = s.Of("/").Socket(so.ID())
		return ss != nil
	})
	return &client{so: so, ss: ss, in: in}
}

// next returns the next event received.
func (c *client) next(t *testing.T) *sioclient.Event {
	t.Helper()
	select {
	case e := <-c.in:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return nil
	}
}

// TestBroadcast checks that two parley servers, on two ports with two
// nodes, see each other's broadcasts, to rooms, less exceptions, to socket
// ids, with binary arguments, in order.
func TestBroadcast(t *testing.T) {
	nodes := startCluster(t, 2)
	n1, n2 := nodes[0].Of("/"), nodes[1].Of("/")
	a := connect(t, nodes[0]) // in r
	b := connect(t, nodes[1]) // in r
	c := connect(t, nodes[1]) // in none
	a.ss.Join("r")
	b.ss.Join("r")
	// The reference's adapters take a room of 20 characters for a socket.
	for _, cl := range []*client{a, b, c} {
		if n := len(cl.ss.ID()); n != 20 {
			t.Errorf("socket id %q has %d characters", cl.ss.ID(), n)
		}
	}

	// Broadcasts from one node reach each socket in the order they were
	// made; those of two nodes interleave as they come. Each node ends
	// with a marker: once a socket has both, it has all.
	steps := []struct {
		event string
		emit  func() error
	}{
		{"all-from-1", func() error { return n1.Emit("all-from-1") }},
		{"r-from-2", func() error { return n2.To("r").Emit("r-from-2", "x") }},
		{"r-but-b", func() error { return n1.To("r").Except(b.ss.ID()).Emit("r-but-b") }},
		{"to-c", func() error { return n1.To(c.ss.ID()).Emit("to-c") }},
		{"a-broadcast", func() error { return a.ss.Broadcast().Emit("a-broadcast") }},
		{"b-to-r", func() error { return b.ss.To("r").Emit("b-to-r") }},
		{"local-1", func() error { return n1.Local().Emit("local-1") }},
		{"local-2", func() error { return n2.Local().Emit("local-2") }},
		{"end-1", func() error { return n1.Emit("end-1") }},
		{"end-2", func() error { return n2.Emit("end-2") }},
	}
	for _, s := range steps {
		if err := s.emit(); err != nil {
			t.Fatalf("%s: %v", s.event, err)
		}
	}
	from1 := []string{"all-from-1", "r-but-b", "to-c", "a-broadcast", "local-1"}
	want := map[*client][]string{
		a: {"all-from-1", "r-from-2", "r-but-b", "b-to-r", "local-1"},
		b: {"all-from-1", "r-from-2", "a-broadcast", "local-2"},
		c: {"all-from-1", "to-c", "a-broadcast", "local-2"},
	}
	for cl, w := range want {
		var got1, got2 []string
		for ends := 0; ends < 2; {
			switch e := cl.next(t); {
			case e.Name == "end-1" || e.Name == "end-2":
				ends++
			case slices.Contains(from1, e.Name):
				got1 = append(got1, e.Name)
			default:
				got2 = append(got2, e.Name)
			}
		}
		var w1, w2 []string
		for _, e := range w {
			if slices.Contains(from1, e) {
				w1 = append(w1, e)
			} else {
				w2 = append(w2, e)
			}
		}
		if !slices.Equal(got1, w1) || !slices.Equal(got2, w2) {
			t.Errorf("%s got %v from node 1 and %v from node 2, want %v and %v", cl.ss.ID(), got1, got2, w1, w2)
		}
	}

	// Binary arguments cross as binary.
	if err := n2.Emit("bin", []byte{0, 1, 2}, map[string]any{"k": []byte("é")}); err != nil {
		t.Fatal(err)
	}
	e := a.next(t)
	var b0 []byte
	if err := e.Bind(0, &b0); err != nil || e.Name != "bin" || string(b0) != "\x00\x01\x02" {
		t.Fatalf("bin: %q %v %v", e.Name, b0, err)
	}
	if v, err := e.Decode(1); err != nil || string(v.(map[string]any)["k"].([]byte)) != "é" {
		t.Errorf("bin arg 1: %#v %v", v, err)
	}

	// Many broadcasts from one node arrive in order.
	const count = 300
	for i := range count {
		if err := n2.To("r").Emit("seq", i); err != nil {
			t.Fatal(err)
		}
	}
	for i := range count {
		e := a.next(t)
		var got int
		if err := e.Bind(0, &got); err != nil || e.Name != "seq" || got != i {
			t.Fatalf("event %d: %q %d %v", i, e.Name, got, err)
		}
	}
}

// TestSocketOperations checks SocketsJoin, SocketsLeave and
// DisconnectSockets across nodes.
func TestSocketOperations(t *testing.T) {
	nodes := startCluster(t, 2)
	n1 := nodes[0].Of("/")
	a := connect(t, nodes[0])
	b := connect(t, nodes[1])
	c := connect(t, nodes[1])
	b.ss.Join("src")

	if err := n1.To("src").SocketsJoin("dst", "dst2"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "b in dst", 5*time.Second, func() bool { return slices.Contains(b.ss.Rooms(), "dst") })
	if slices.Contains(c.ss.Rooms(), "dst") || slices.Contains(a.ss.Rooms(), "dst") {
		t.Errorf("a or c joined dst: %v %v", a.ss.Rooms(), c.ss.Rooms())
	}
	if err := n1.Except(a.ss.ID()).SocketsLeave("dst2"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "b out of dst2", 5*time.Second, func() bool { return !slices.Contains(b.ss.Rooms(), "dst2") })

	// Joining by socket id, as a fetched remote socket does.
	if err := n1.To(c.ss.ID()).SocketsJoin("dst"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "c in dst", 5*time.Second, func() bool { return slices.Contains(c.ss.Rooms(), "dst") })

	if err := n1.To("dst").Except(b.ss.ID()).DisconnectSockets(false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.so.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("c not disconnected")
	}
	if !b.so.Connected() || !a.so.Connected() {
		t.Error("a or b disconnected")
	}
}

// TestFetchSockets checks that FetchSockets describes the sockets of every
// node, and that the described sockets can be acted on.
func TestFetchSockets(t *testing.T) {
	nodes := startCluster(t, 2)
	n1 := nodes[0].Of("/")
	a := connect(t, nodes[0])
	b := connect(t, nodes[1])
	b.ss.Join("r")
	b.ss.SetData(map[string]any{"name": "bob", "bin": []byte{1}})
	a.ss.Join("r")

	list, err := n1.To("r").FetchSockets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d sockets: %+v", len(list), list)
	}
	var rb *socketio.RemoteSocket
	for i := range list {
		if list[i].ID == b.ss.ID() {
			rb = &list[i]
		}
	}
	if rb == nil {
		t.Fatalf("b not among %+v", list)
	}
	if string(rb.Data) != `{"bin":"AQ==","name":"bob"}` || !slices.Contains(rb.Rooms, "r") || !slices.Contains(rb.Rooms, b.ss.ID()) {
		t.Errorf("b described as %+v (data %s)", rb, rb.Data)
	}
	h := rb.Handshake
	if h.URL == nil || h.URL.Query().Get("EIO") != "4" || h.Headers.Get("User-Agent") == "" || h.Time.IsZero() || string(h.Auth) != "{}" {
		t.Errorf("b's handshake %+v", h)
	}
	if err := rb.Emit("hi", "from n1"); err != nil {
		t.Fatal(err)
	}
	if e := b.next(t); e.Name != "hi" {
		t.Errorf("b got %q", e.Name)
	}
	if err := rb.Leave("r"); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "b out of r", 5*time.Second, func() bool { return !slices.Contains(b.ss.Rooms(), "r") })
	local, err := n1.Local().FetchSockets(context.Background())
	if err != nil || len(local) != 1 || local[0].ID != a.ss.ID() {
		t.Errorf("local sockets %+v, %v", local, err)
	}
}

// TestServerSideEmit checks server-side events between nodes, with and
// without replies.
func TestServerSideEmit(t *testing.T) {
	nodes := startCluster(t, 3)
	got := make(chan string, 10)
	for i, s := range nodes[1:] {
		s.Of("/").OnServerSideEmit("ping", func(args *sioparser.Message, ack func(any) error) {
			v, _ := args.String(0)
			got <- v
			if ack != nil {
				_ = ack(map[string]any{"node": i, "bin": []byte{byte(i)}})
			}
		})
	}
	n1 := nodes[0].Of("/")
	if err := n1.ServerSideEmit("ping", "no ack"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case v := <-got:
			if v != "no ack" {
				t.Errorf("handler got %q", v)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handler not called")
		}
	}
	replies, err := n1.ServerSideEmitWithAck(context.Background(), "ping", "ack")
	if err != nil {
		t.Fatal(err)
	}
	if replies.Len() != 2 || len(replies.Attachments) != 2 {
		t.Fatalf("replies %+v", replies)
	}
	var seen []int
	for i := range 2 {
		v, err := replies.Decode(i)
		if err != nil {
			t.Fatal(err)
		}
		m := v.(map[string]any)
		n, _ := m["node"].(json.Number).Int64()
		if bin := m["bin"].([]byte); len(bin) != 1 || int64(bin[0]) != n {
			t.Errorf("reply %d: %#v", i, m)
		}
		seen = append(seen, int(n))
	}
	if slices.Sort(seen); !slices.Equal(seen, []int{0, 1}) {
		t.Errorf("replies from %v", seen)
	}
}

// TestPeers checks that nodes hear each other's heartbeats and goodbyes.
func TestPeers(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	s1 := startServer(t, testConfig(c, prefix))
	node2, err := cluster.New(testConfig(c, prefix))
	if err != nil {
		t.Fatal(err)
	}
	srv2 := socketio.NewServer(socketio.Config{NewAdapter: node2.NewAdapter, Logger: siotest.DiscardLogger()})
	if err := node2.Ready(wait.Context(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "node 2 heard", 5*time.Second, func() bool { return slices.Contains(s1.node.Peers(), node2.UID()) })
	wait.For(t, "node 1 heard", 5*time.Second, func() bool { return slices.Contains(node2.Peers(), s1.node.UID()) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv2.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := node2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "node 2 gone", 2*time.Second, func() bool { return !slices.Contains(s1.node.Peers(), node2.UID()) })
	if n, err := s1.node.ServerCount(ctx, "/"); err != nil || n != 1 {
		t.Errorf("ServerCount = %d, %v", n, err)
	}
}

// TestRequestTimeout checks that a node that never answers makes a request
// fail in time, with the answers of the others.
func TestRequestTimeout(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	cfg := testConfig(c, prefix)
	cfg.RequestTimeout = 300 * time.Millisecond
	nodes := []*server{startServer(t, cfg), startServer(t, cfg)}
	// A silent subscriber of the public channel counts as a node.
	ps := c.Subscribe(context.Background(), wire.PublicChannel(prefix, "/"))
	defer ps.Close()
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	connect(t, nodes[1])
	wait.For(t, "three nodes counted", 5*time.Second, func() bool {
		n, err := nodes[0].node.ServerCount(context.Background(), "/")
		return err == nil && n == 3
	})
	start := time.Now()
	list, err := nodes[0].Of("/").FetchSockets(context.Background())
	if !errors.Is(err, cluster.ErrTimeout) || len(list) != 1 {
		t.Errorf("FetchSockets: %d sockets, %v", len(list), err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("FetchSockets took %v", d)
	}
}

// TestBacklog checks that with Redis unreachable, broadcasts still reach
// the local sockets, and are queued until the queue is full: then they
// are refused with ErrBacklog.
func TestBacklog(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	cfg := testConfig(c, "parley-test-unreachable")
	cfg.MaxQueueBytes = 4096
	node, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(socketio.Config{NewAdapter: node.NewAdapter, Logger: siotest.DiscardLogger()})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	s := &server{Server: srv, node: node, url: hs.URL}
	a := connect(t, s)
	var refused error
	sent := 0
	for i := range 100 {
		if err := srv.Of("/").Emit("e", i); err != nil {
			refused = err
			break
		}
		sent++
	}
	if !errors.Is(refused, cluster.ErrBacklog) || sent == 0 {
		t.Fatalf("after %d broadcasts: %v", sent, refused)
	}
	for i := range sent + 1 { // the refused one reached the local socket too
		if e := a.next(t); e.Name != "e" {
			t.Fatalf("event %d: %q", i, e.Name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := node.Close(ctx); err == nil {
		t.Error("Close sent everything to an unreachable Redis")
	}
}

// killConnections closes, on the Redis side, the connections whose client
// name is name (none when dryRun), and returns how many there were.
func killConnections(t *testing.T, c *redis.Client, name string, dryRun bool) int {
	t.Helper()
	ctx := context.Background()
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		var id string
		mine := false
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			if f == "name="+name {
				mine = true
			}
		}
		if mine && id != "" {
			if dryRun {
				n++
				continue
			}
			if err := c.ClientKillByFilter(ctx, "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// TestReaderResumes checks that when a node's connections to Redis are
// cut while others broadcast, it reads the stream on from the last entry
// it read: its sockets get every broadcast, once, in order.
func TestReaderResumes(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	s1 := startServer(t, testConfig(c, prefix))
	opts := *c.Options()
	opts.ClientName = prefix + "-cut"
	opts.MaxRetries = -1 // the node's own loops, not the client's retries, take the cut
	c2 := redis.NewClient(&opts)
	t.Cleanup(func() { _ = c2.Close() }) // after the node's Close
	s2 := startServer(t, testConfig(c2, prefix))
	b := connect(t, s2)
	const count = 400
	for i := range count {
		if i == count/4 || i == count/2 {
			// The stream reader's and the PUB/SUB connection, at least.
			wait.For(t, "node 2 connected", 5*time.Second, func() bool { return killConnections(t, c, opts.ClientName, true) >= 2 })
			killConnections(t, c, opts.ClientName, false)
		}
		if err := s1.Of("/").Emit("seq", i); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(10 * time.Millisecond) // let the reader read between the cuts
		}
	}
	for i := range count {
		e := b.next(t)
		var got int
		if err := e.Bind(0, &got); err != nil || got != i {
			t.Fatalf("event %d: %q %d %v", i, e.Name, got, err)
		}
	}
	select {
	case e := <-b.in:
		t.Fatalf("extra event %q %s", e.Name, e.Args)
	case <-time.After(300 * time.Millisecond):
	}
	// The PUB/SUB connection came back too: requests are answered.
	wait.For(t, "node 2 subscribed again", 5*time.Second, func() bool {
		n, err := s1.node.ServerCount(context.Background(), "/")
		return err == nil && n == 2
	})
	list, err := s1.Of("/").FetchSockets(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != b.ss.ID() {
		t.Errorf("FetchSockets: %+v, %v", list, err)
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("PARLEY_CLUSTER_DEBUG") == "" {
		return siotest.DiscardLogger()
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
