package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/testjs"
	"github.com/parley-chat/parley/internal/test/wait"
)

// The cluster over the deployments of Redis beyond one server: a Redis
// Cluster, and a master found through Sentinel. The Redis of these tests
// is their own, and the nodes use the default names.

// ownRedisConfig is recoveryConfig with the default names, for a Redis of
// the test's own.
func ownRedisConfig(c redis.UniversalClient) cluster.Config {
	cfg := recoveryConfig(c, "")
	cfg.StreamName, cfg.ChannelPrefix, cfg.SessionKeyPrefix = "", "", ""
	return cfg
}

// startPair starts two nodes of cfg, with recovery on and sequences used
// as the chat does, and waits until each counts both.
func startPair(t *testing.T, cfg cluster.Config) (*server, *server) {
	t.Helper()
	a, b := startRecoveryServer(t, cfg), startRecoveryServer(t, cfg)
	for _, s := range []*server{a, b} {
		s.Of("/").Adapter().(socketio.Sequencer).UseSequences(func(_ string, _ []json.RawMessage, _ []string, deliver func(*socketio.Tracker)) { deliver(nil) })
	}
	countNodes(t, 2, a, b)
	return a, b
}

// TestRedisCluster runs two nodes over a Redis Cluster of three masters,
// with PUB/SUB sharded and not: broadcasts cross, requests are answered,
// the sequence script appends in order (its two keys are in one slot),
// and the official client recovers on the other node, its session in
// whatever slot its id hashes to, away from the stream's.
func TestRedisCluster(t *testing.T) {
	lc := redistest.Cluster(t, 3)
	cc := lc.Client(t)
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			cfg := ownRedisConfig(cc)
			cfg.ShardedPubSub = sharded
			a, b := startPair(t, cfg)
			t.Run("broadcasts", func(t *testing.T) { checkBroadcasts(t, a, b) })
			t.Run("requests", func(t *testing.T) { checkRequests(t, a, b) })
			t.Run("sequence", func(t *testing.T) { checkSequence(t, cc, a, b) })
			t.Run("recovery", func(t *testing.T) { checkRecovery(t, cc, a, b) })
		})
	}
	t.Run("slots", func(t *testing.T) {
		// The names in Redis hash as Redis says; a stream and the keys
		// of its sequences share its slot (the script touches both).
		ctx := wait.Context(t, 5*time.Second)
		names := []string{
			wire.DefaultStreamName, cluster.SeqKey(wire.DefaultStreamName, "room:x"),
			"s-3", cluster.SeqKey("s-3", "room:x"), "{t}:s", cluster.SeqKey("{t}:s", "room:y"),
			wire.PublicChannel(wire.DefaultChannelPrefix, "/"), wire.PrivateChannel(wire.DefaultChannelPrefix, "/", "0123456789abcdef"),
			wire.SessionKey(wire.DefaultSessionKeyPrefix, "pid"), "foo{}{bar}", "foo{{bar}}zap", "",
		}
		for _, k := range names {
			want, err := cc.ClusterKeySlot(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got := cluster.Slot(k); int64(got) != want {
				t.Errorf("Slot(%q) = %d, Redis says %d", k, got, want)
			}
		}
		for i := 0; i+1 < 6; i += 2 {
			if a, b := cluster.Slot(names[i]), cluster.Slot(names[i+1]); a != b {
				t.Errorf("stream %q in slot %d, its sequence's key %q in %d", names[i], a, names[i+1], b)
			}
		}
	})
	t.Run("counted on every master", func(t *testing.T) {
		a := startRecoveryServer(t, ownRedisConfig(cc))
		countNodes(t, 1, a)
		// A subscriber of the public channel is counted on the master it
		// is connected to, whichever that is.
		ch := wire.PublicChannel(wire.DefaultChannelPrefix, "/")
		for _, addr := range lc.Addrs {
			c := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { _ = c.Close() })
			ps := c.Subscribe(context.Background(), ch)
			t.Cleanup(func() { _ = ps.Close() })
			if _, err := ps.Receive(wait.Context(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		countNodes(t, 1+len(lc.Addrs), a)
	})
}

// TestSentinel runs two nodes over a master found through Sentinel, as
// TestRedisCluster does over a Redis Cluster.
func TestSentinel(t *testing.T) {
	ls := redistest.Sentinel(t, redistest.SentinelConfig{})
	c := ls.Client(t)
	a, b := startPair(t, ownRedisConfig(c))
	t.Run("broadcasts", func(t *testing.T) { checkBroadcasts(t, a, b) })
	t.Run("requests", func(t *testing.T) { checkRequests(t, a, b) })
	t.Run("sequence", func(t *testing.T) { checkSequence(t, c, a, b) })
	t.Run("recovery", func(t *testing.T) { checkRecovery(t, c, a, b) })
}

// TestSentinelFailover kills the master of two nodes found through
// Sentinel (SIGKILL) while they broadcast, and has Sentinel promote its
// replica: the nodes find the new master, every broadcast made before,
// during and after the failover reaches both nodes' sockets once, in
// order, sequences go on, and requests are answered again.
func TestSentinelFailover(t *testing.T) {
	ls := redistest.Sentinel(t, redistest.SentinelConfig{Replicas: 1})
	a, b := startPair(t, ownRedisConfig(ls.Client(t)))
	ca, cb := connect(t, a), connect(t, b)
	ca.ss.Join("r")
	cb.ss.Join("r")
	emit := func(s *server, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := s.Of("/").To("r").Emit("seq", i); err != nil {
				t.Fatalf("broadcast %d: %v", i, err)
			}
		}
	}
	seq := func(s *server, id int64) socketio.SequenceResult {
		t.Helper()
		done := make(chan socketio.SequenceResult, 1)
		if err := s.Of("/").To("r").EmitInSequence("room:failover", id, false, func(r socketio.SequenceResult) { done <- r }, "seq", -id); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			return r
		case <-time.After(15 * time.Second):
			t.Fatalf("append %d: no answer", id)
			return socketio.SequenceResult{}
		}
	}
	emit(a, 0, 10)
	for _, c := range []*client{ca, cb} {
		expectSeqs(t, c, numbers(0, 10)) // before b's: two nodes' go in any order
	}
	if r := seq(b, 1); r.Status != socketio.SequenceAppended {
		t.Fatalf("append 1: %+v", r)
	}
	emit(b, 10, 20)
	for _, c := range []*client{ca, cb} {
		expectSeqs(t, c, append([]int{-1}, numbers(10, 20)...))
	}
	ls.InSync()
	ls.Failover(func() {
		// Queued while no server is master: sent to the new one.
		emit(a, 20, 30)
		emit(b, 30, 40)
	})
	if r := seq(a, 2); r.Status != socketio.SequenceAppended {
		t.Fatalf("append 2 after the failover: %+v", r)
	}
	emit(b, 40, 50)
	for _, c := range []*client{ca, cb} {
		// a's and b's broadcasts made during the failover interleave as
		// they come; each node's in order.
		got := collectSeqs(t, c, 31)
		var fromA, fromB, rest []int
		for _, n := range got {
			switch {
			case n >= 20 && n < 30:
				fromA = append(fromA, n)
			case n >= 30 && n < 40:
				fromB = append(fromB, n)
			default:
				rest = append(rest, n)
			}
		}
		if !slices.Equal(fromA, numbers(20, 30)) || !slices.Equal(fromB, numbers(30, 40)) || !slices.Equal(rest, append([]int{-2}, numbers(40, 50)...)) {
			t.Errorf("after the failover, %s got %v", c.ss.ID(), got)
		}
		if i, j := slices.Index(got, -2), slices.Index(got, 29); i < j {
			t.Errorf("%s got a's sequence %d before its broadcast %d: %v", c.ss.ID(), -2, 29, got)
		}
	}
	noMore(t, ca, cb)
	checkRequests(t, a, b)
}

// numbers returns from..to-1.
func numbers(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// collectSeqs returns the numbers of the next n "seq" events of c.
func collectSeqs(t *testing.T, c *client, n int) []int {
	t.Helper()
	var got []int
	for len(got) < n {
		select {
		case e := <-c.in:
			var i int
			if e.Name != "seq" || e.Bind(0, &i) != nil {
				t.Fatalf("%s got %s %v after %v", c.ss.ID(), e.Name, e.Args, got)
			}
			got = append(got, i)
		case <-time.After(15 * time.Second):
			t.Fatalf("%s got %v, want %d events", c.ss.ID(), got, n)
		}
	}
	return got
}

// expectSeqs checks that the next "seq" events of c are want.
func expectSeqs(t *testing.T, c *client, want []int) {
	t.Helper()
	if got := collectSeqs(t, c, len(want)); !slices.Equal(got, want) {
		t.Errorf("%s got %v, want %v", c.ss.ID(), got, want)
	}
}

// noMore checks that the clients get nothing more.
func noMore(t *testing.T, clients ...*client) {
	t.Helper()
	time.Sleep(200 * time.Millisecond)
	for _, c := range clients {
		select {
		case e := <-c.in:
			t.Errorf("%s got %s %v more", c.ss.ID(), e.Name, e.Args)
		default:
		}
	}
}

// checkBroadcasts checks that the broadcasts of each of two nodes reach
// the sockets of both, in order, once, but those left out.
func checkBroadcasts(t *testing.T, a, b *server) {
	ca, cb, cb2 := connect(t, a), connect(t, b), connect(t, b)
	for _, c := range []*client{ca, cb, cb2} {
		c.ss.Join("r")
	}
	for i := range 50 {
		s := a
		if i%2 == 1 {
			s = b
		}
		if err := s.Of("/").To("r").Except(cb2.ss.ID()).Emit("seq", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Of("/").To(cb2.ss.ID()).Emit("seq", 50); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{ca, cb} {
		got := collectSeqs(t, c, 50)
		var odd, even []int
		for _, n := range got {
			if n%2 == 0 {
				even = append(even, n)
			} else {
				odd = append(odd, n)
			}
		}
		for k, list := range [][]int{even, odd} {
			for i, n := range list {
				if n != 2*i+k {
					t.Fatalf("%s got %v", c.ss.ID(), got)
				}
			}
		}
	}
	expectSeqs(t, cb2, []int{50})
	noMore(t, ca, cb, cb2)
}

// checkRequests checks FetchSockets and ServerSideEmitWithAck across two
// nodes.
func checkRequests(t *testing.T, a, b *server) {
	ca, cb := connect(t, a), connect(t, b)
	ca.ss.Join("q")
	cb.ss.Join("q")
	ctx := wait.Context(t, 10*time.Second)
	countNodes(t, 2, a, b)
	list, err := a.Of("/").To("q").FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	if want := []string{ca.ss.ID(), cb.ss.ID()}; !sameSet(ids, want) {
		t.Errorf("FetchSockets: %v, want %v", ids, want)
	}
	b.Of("/").OnServerSideEmit("ping", func(m *sioparser.Message, ack func(any) error) {
		v, _ := m.String(0)
		if ack != nil {
			_ = ack("pong " + v)
		}
	})
	replies, err := a.Of("/").ServerSideEmitWithAck(ctx, "ping", "a")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := replies.String(0); replies.Len() != 1 || !ok || v != "pong a" {
		t.Errorf("ServerSideEmitWithAck: %d replies, %q", replies.Len(), v)
	}
}

// sameSet reports whether x and y hold the same strings.
func sameSet(x, y []string) bool {
	x, y = slices.Clone(x), slices.Clone(y)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// checkSequence appends a sequence from two nodes, out of order, twice,
// and after Redis lost the script (SCRIPT FLUSH, on every master): the
// stream takes each once, in order, and both nodes' sockets get them.
func checkSequence(t *testing.T, c redis.UniversalClient, a, b *server) {
	ca, cb := connect(t, a), connect(t, b)
	seq := "room:" + t.Name()
	results := make(chan socketio.SequenceResult, 1)
	emit := func(s *server, id int64) socketio.SequenceResult {
		t.Helper()
		if err := s.Of("/").To().EmitInSequence(seq, id, false, func(r socketio.SequenceResult) { results <- r }, "seq", int(id)); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-results:
			return r
		case <-time.After(5 * time.Second):
			t.Fatalf("append %d: no answer", id)
			return socketio.SequenceResult{}
		}
	}
	for i, tc := range []struct {
		on    *server
		id    int64
		flush bool
		want  socketio.SequenceStatus
	}{
		{a, 1, true, socketio.SequenceAppended},
		{b, 3, false, socketio.SequenceGap},
		{b, 2, false, socketio.SequenceAppended},
		{a, 2, false, socketio.SequencePresent},
		{a, 3, true, socketio.SequenceAppended},
	} {
		if tc.flush {
			if err := c.ScriptFlush(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if r := emit(tc.on, tc.id); r.Status != tc.want {
			t.Errorf("%d: append %d: %+v, want status %d", i, tc.id, r, tc.want)
		}
	}
	for _, cl := range []*client{ca, cb} {
		expectSeqs(t, cl, []int{1, 2, 3})
	}
	noMore(t, ca, cb)
}

// checkRecovery has several official clients lose their connection to
// node a, events broadcast meanwhile, and come back on node b: each is
// recovered, with every event it missed once, in order. Their sessions
// are in Redis while they are connected, in the slots of their ids.
func checkRecovery(t *testing.T, c redis.UniversalClient, a, b *server) {
	testjs.RequireNode(t)
	lb := newBalancer(t, a.url)
	js := startClients(t)
	const n = 6
	var people []*jsClient
	var firsts []clientState
	for i := range n {
		p := js.open(t, fmt.Sprintf("p%d", i), lb.URL())
		firsts = append(firsts, p.waitConnects(t, 1))
		p.emit(t, "join", "room")
		people = append(people, p)
	}
	bob := js.open(t, "bob", b.url)
	bob.waitConnects(t, 1)
	bob.emit(t, "burst", "room", 0, 5)
	for _, p := range people {
		p.waitSeqs(t, 5)
	}
	wait.For(t, "the sessions in Redis", 5*time.Second, func() error {
		got, err := sessionsPerServer(c)
		if err != nil {
			return err
		}
		total := 0
		for _, k := range got {
			total += k
		}
		if total < n+1 {
			return fmt.Errorf("sessions per server: %v", got)
		}
		t.Logf("sessions per server: %v", got)
		return nil
	})

	lb.Switch("")
	for _, p := range people {
		p.waitDisconnects(t, 1)
	}
	bob.emit(t, "burst", "room", 5, 20)
	lb.Switch(b.url)
	for i, p := range people {
		s := p.waitConnects(t, 2)
		if c := s.Connects[1]; !c.Recovered || c.ID != firsts[i].ID {
			t.Fatalf("%s reconnected as %+v, was %s", p.name, c, firsts[i].ID)
		}
		p.waitSeqs(t, 25)
	}
}

// sessionsPerServer counts the session keys of each server of c (each
// master of a Redis Cluster).
func sessionsPerServer(c redis.UniversalClient) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var mu sync.Mutex
	out := make(map[string]int)
	count := func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, wire.DefaultSessionKeyPrefix+"*").Result()
		mu.Lock()
		out[c.Options().Addr] = len(keys)
		mu.Unlock()
		return err
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		return out, cc.ForEachMaster(ctx, count)
	}
	return out, count(ctx, c.(*redis.Client))
}
