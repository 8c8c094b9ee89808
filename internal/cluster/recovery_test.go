package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/testjs"
	"github.com/parley-chat/parley/internal/test/wait"
)

// recoveryWindow is the recovery window of the tests' servers.
const recoveryWindow = 30 * time.Second

// recoveryConfig is testConfig with the sessions under the test's prefix
// and refreshed often.
func recoveryConfig(c redis.UniversalClient, prefix string) cluster.Config {
	cfg := testConfig(c, prefix)
	cfg.SessionKeyPrefix = sessionPrefix(prefix)
	cfg.SessionRefresh = 500 * time.Millisecond
	return cfg
}

// sessionPrefix is the prefix of the session keys of a test's cluster.
func sessionPrefix(prefix string) string { return prefix + ":session:" }

// withRecovery switches connection state recovery on, with the test
// events of serveTestEvents.
func withRecovery(cfg *socketio.Config) {
	cfg.Recovery = &socketio.RecoveryConfig{MaxDisconnectionDuration: recoveryWindow}
}

// startRecoveryServer starts a node and its server with recovery on and
// the test events.
func startRecoveryServer(t *testing.T, cfg cluster.Config) *server {
	t.Helper()
	s := startServer(t, cfg, withRecovery)
	serveTestEvents(s.Server)
	return s
}

// serveTestEvents sets the events the recovery tests' clients send:
//
//	"join" (room, ack)          join a room; the ack has the socket id
//	"burst" (room, from, n, ack) broadcast "seq" from..from+n-1 to room
//
// Each "seq" event carries its number i and the text String(i).
func serveTestEvents(srv *socketio.Server) {
	nsp := srv.Of("/")
	nsp.On("join", func(so *socketio.Socket, e *socketio.Event) {
		room, _ := e.String(0)
		so.Join(room)
		_ = e.Ack(so.ID())
	})
	nsp.On("burst", func(so *socketio.Socket, e *socketio.Event) {
		var room string
		var from, n int
		if e.Bind(0, &room) != nil || e.Bind(1, &from) != nil || e.Bind(2, &n) != nil {
			_ = e.Ack("bad arguments")
			return
		}
		for i := from; i < from+n; i++ {
			if err := nsp.To(room).Emit("seq", i, strconv.Itoa(i)); err != nil {
				_ = e.Ack(err.Error())
				return
			}
		}
		_ = e.Ack()
	})
}

// jsClients are official Socket.IO clients in a Node.js process
// (test/js/client-peer.mjs).
type jsClients struct {
	fx  *testjs.Fixture
	ctx context.Context
}

func startClients(t *testing.T) *jsClients {
	t.Helper()
	fx, _ := testjs.Start(t, "client-peer.mjs")
	return &jsClients{fx: fx, ctx: wait.Context(t, 2*time.Minute)}
}

// jsClient is one of them.
type jsClient struct {
	c    *jsClients
	name string
}

// clientState is what a client went through.
type clientState struct {
	Connected bool
	ID        string
	Connects  []struct {
		ID        string
		Recovered bool
	}
	Disconnects []string
	Events      [][]json.RawMessage
}

func (c *jsClients) call(t *testing.T, op string, args ...any) json.RawMessage {
	t.Helper()
	res, err := c.fx.Call(c.ctx, op, args...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// open starts a client of url, with its options.
func (c *jsClients) open(t *testing.T, name, url string, opts ...map[string]any) *jsClient {
	t.Helper()
	args := []any{name, url}
	if len(opts) > 0 {
		args = append(args, opts[0])
	}
	c.call(t, "open", args...)
	return &jsClient{c: c, name: name}
}

func (cl *jsClient) state(t *testing.T) clientState {
	t.Helper()
	var s clientState
	if err := json.Unmarshal(cl.c.call(t, "state", cl.name), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// emit emits an event and returns its acknowledgement.
func (cl *jsClient) emit(t *testing.T, event string, args ...any) json.RawMessage {
	t.Helper()
	return cl.c.call(t, "emit", append([]any{cl.name, event}, args...)...)
}

// waitConnects waits until the client has connected n times, and is
// connected, and returns its state.
func (cl *jsClient) waitConnects(t *testing.T, n int) clientState {
	t.Helper()
	var s clientState
	wait.For(t, fmt.Sprintf("%s connected %d times", cl.name, n), 15*time.Second, func() bool {
		s = cl.state(t)
		return len(s.Connects) >= n && s.Connected
	})
	if len(s.Connects) != n {
		t.Fatalf("%s connected %d times, want %d: %+v", cl.name, len(s.Connects), n, s)
	}
	return s
}

// waitDisconnects waits until the client has lost its connection n times.
func (cl *jsClient) waitDisconnects(t *testing.T, n int) {
	t.Helper()
	wait.For(t, fmt.Sprintf("%s disconnected %d times", cl.name, n), 10*time.Second, func() bool {
		return len(cl.state(t).Disconnects) >= n
	})
}

// seqs returns the numbers of the "seq" events the client got, in order,
// and their offsets.
func (s *clientState) seqs(t *testing.T) ([]int, []string) {
	t.Helper()
	var nums []int
	var offsets []string
	for _, e := range s.Events {
		var name string
		if json.Unmarshal(e[0], &name) != nil || name != "seq" {
			continue
		}
		var i int
		if err := json.Unmarshal(e[1], &i); err != nil {
			t.Fatalf("seq event %s: %v", e, err)
		}
		nums = append(nums, i)
		var off string
		if len(e) > 3 {
			_ = json.Unmarshal(e[3], &off)
		}
		offsets = append(offsets, off)
	}
	return nums, offsets
}

// waitSeqs waits until the client has had n "seq" events, then checks that
// they are 0..n-1, each once, in order, each with a stream id for offset,
// strictly increasing.
func (cl *jsClient) waitSeqs(t *testing.T, n int) {
	t.Helper()
	var s clientState
	wait.For(t, fmt.Sprintf("%s has %d events", cl.name, n), 15*time.Second, func() bool {
		s = cl.state(t)
		got, _ := s.seqs(t)
		return len(got) >= n
	})
	time.Sleep(100 * time.Millisecond) // would more come?
	s = cl.state(t)
	got, offsets := s.seqs(t)
	if len(got) != n {
		t.Fatalf("%s got %d events, want %d: %v", cl.name, len(got), n, got)
	}
	for i, g := range got {
		if g != i {
			t.Fatalf("%s's event %d is %d: %v", cl.name, i, g, got)
		}
	}
	checkOffsets(t, offsets)
}

// checkOffsets checks that offsets are stream ids, strictly increasing.
func checkOffsets(t *testing.T, offsets []string) {
	t.Helper()
	var prev [2]uint64
	for i, o := range offsets {
		ms, seq, ok := strings.Cut(o, "-")
		a, err1 := strconv.ParseUint(ms, 10, 64)
		b, err2 := strconv.ParseUint(seq, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("offset %d is %q, not a stream id", i, o)
		}
		if i > 0 && (a < prev[0] || a == prev[0] && b <= prev[1]) {
			t.Fatalf("offset %d, %s, is not after %d-%d", i, o, prev[0], prev[1])
		}
		prev = [2]uint64{a, b}
	}
}

// countNodes waits until every server counts n nodes.
func countNodes(t *testing.T, n int, servers ...*server) {
	t.Helper()
	for _, s := range servers {
		wait.For(t, "every node counted", 5*time.Second, func() bool {
			got, err := s.node.ServerCount(context.Background(), "/")
			return err == nil && got == n
		})
	}
}

// TestRecoveryAcrossNodes drops the official client's connection to node
// A, has events broadcast while it is away, and has it reconnect to
// another node: it gets recovered === true, its id and rooms back, and
// every event it missed once, in order, then the live ones; each event's
// offset is its stream entry's id. The other node has read the events
// itself (they are in its memory), or started after them (it reads them
// back from the stream).
func TestRecoveryAcrossNodes(t *testing.T) {
	testjs.RequireNode(t)
	for _, tc := range []struct {
		name  string
		fresh bool
	}{
		{"to a node that read the events", false},
		{"to a node started after them", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := redistest.Client(t)
			cfg := recoveryConfig(rc, redistest.Prefix(t))
			a, b := startRecoveryServer(t, cfg), startRecoveryServer(t, cfg)
			countNodes(t, 2, a, b)
			lb := newBalancer(t, a.url)
			js := startClients(t)
			alice := js.open(t, "alice", lb.URL())
			bob := js.open(t, "bob", b.url)
			first := alice.waitConnects(t, 1)
			bob.waitConnects(t, 1)
			alice.emit(t, "join", "room")
			bob.emit(t, "join", "room")
			bob.emit(t, "burst", "room", 0, 5)
			alice.waitSeqs(t, 5)

			lb.Switch("")
			alice.waitDisconnects(t, 1)
			bob.emit(t, "burst", "room", 5, 100)
			target := b
			if tc.fresh {
				target = startRecoveryServer(t, cfg)
				countNodes(t, 3, a, b, target)
			}
			lb.Switch(target.url)
			s := alice.waitConnects(t, 2)
			if c := s.Connects[1]; !c.Recovered || c.ID != first.Connects[0].ID {
				t.Fatalf("alice reconnected as %+v, was %+v", c, first.Connects[0])
			}
			alice.waitSeqs(t, 105)
			bob.emit(t, "burst", "room", 105, 10)
			alice.waitSeqs(t, 115)
			so := target.Of("/").Socket(s.ID)
			if so == nil || !slices.Contains(so.Rooms(), "room") || !so.Recovered() {
				t.Errorf("alice on the new node: %v", so)
			}
			if got := s.Disconnects; len(got) != 1 || got[0] != "transport close" {
				t.Errorf("alice's disconnections: %q", got)
			}
		})
	}
}

// sessionOf returns the session kept in Redis for pid, nil if none.
func sessionOf(t *testing.T, rc *redis.Client, prefix, pid string) *wire.Session {
	t.Helper()
	raw, err := rc.Get(context.Background(), sessionPrefix(prefix)+pid).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := wire.DecodeSession(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRecoveryKilledNode kills a node with SIGKILL while the official
// client is connected to it, has 30 events broadcast while it is away, and
// has it reconnect, through the balancer, to another node: the session the
// dead node kept in Redis while the socket lived lets it recover, with
// every missed event once, in order.
func TestRecoveryKilledNode(t *testing.T) {
	testjs.RequireNode(t)
	rc := redistest.Client(t)
	prefix := redistest.Prefix(t)
	cfg := recoveryConfig(rc, prefix)
	b := startRecoveryServer(t, cfg)
	a := startChild(t, redistest.URL(t), prefix)
	countNodes(t, 2, b)
	lb := newBalancer(t, a.url)
	js := startClients(t)
	alice := js.open(t, "alice", lb.URL())
	bob := js.open(t, "bob", b.url)
	first := alice.waitConnects(t, 1)
	bob.waitConnects(t, 1)
	alice.emit(t, "join", "room")
	bob.emit(t, "join", "room")
	bob.emit(t, "burst", "room", 0, 5)
	alice.waitSeqs(t, 5)
	// The session is in Redis, rooms and all, while alice is connected.
	wait.For(t, "alice's session in Redis", 5*time.Second, func() bool {
		keys, err := rc.Keys(context.Background(), sessionPrefix(prefix)+"*").Result()
		if err != nil || len(keys) != 2 {
			return false
		}
		for _, k := range keys {
			s := sessionOf(t, rc, prefix, strings.TrimPrefix(k, sessionPrefix(prefix)))
			if s != nil && s.SID == first.ID && slices.Contains(s.Rooms, "room") {
				return true
			}
		}
		return false
	})

	a.kill()
	lb.Switch("")
	alice.waitDisconnects(t, 1)
	bob.emit(t, "burst", "room", 5, 30)
	lb.Switch(b.url)
	s := alice.waitConnects(t, 2)
	if c := s.Connects[1]; !c.Recovered || c.ID != first.ID {
		t.Fatalf("alice reconnected as %+v, was %s", c, first.ID)
	}
	alice.waitSeqs(t, 35)
	bob.emit(t, "burst", "room", 35, 5)
	alice.waitSeqs(t, 40)
}

// TestSessionKept checks the session of a live socket in Redis: written
// when it connects, again when its rooms or data change and when it is
// lost (a Redis restarted without its data), with the recovery window and
// the refresh interval as its lifetime; kept for the window when the
// socket disconnects for a recoverable reason, deleted when it leaves for
// good.
func TestSessionKept(t *testing.T) {
	rc := redistest.Client(t)
	prefix := redistest.Prefix(t)
	cfg := recoveryConfig(rc, prefix)
	s1 := startRecoveryServer(t, cfg)
	ctx := context.Background()
	a := connect(t, s1)
	sess := a.ss.Session()
	if sess == nil || sess.PID == "" {
		t.Fatalf("session %+v", sess)
	}
	pid := sess.PID
	kept := func(what string, cond func(*wire.Session) bool) {
		t.Helper()
		wait.For(t, what, 5*time.Second, func() bool {
			s := sessionOf(t, rc, prefix, pid)
			return cond(s)
		})
	}
	kept("the session of a new socket", func(s *wire.Session) bool {
		return s != nil && s.SID == a.ss.ID() && slices.Equal(s.Rooms, []string{a.ss.ID()}) && strings.HasPrefix(s.Owner, s1.node.UID()+".")
	})
	a.ss.Join("r1")
	kept("its rooms", func(s *wire.Session) bool { return s != nil && slices.Contains(s.Rooms, "r1") })
	a.ss.SetData(map[string]string{"name": "zoë"})
	kept("its data", func(s *wire.Session) bool { return s != nil && string(s.Data.JSON) == `{"name":"zoë"}` })
	if ttl := rc.PTTL(ctx, sessionPrefix(prefix)+pid).Val(); ttl <= recoveryWindow-time.Second || ttl > recoveryWindow+cfg.SessionRefresh {
		t.Errorf("live session's lifetime %v", ttl)
	}
	if err := rc.Del(ctx, sessionPrefix(prefix)+pid).Err(); err != nil {
		t.Fatal(err)
	}
	kept("the session written again after it was lost", func(s *wire.Session) bool { return s != nil })

	// Lost connection: kept for the window.
	_ = a.c.Close()
	wait.For(t, "socket gone", 5*time.Second, func() bool { return s1.Of("/").Socket(a.ss.ID()) == nil })
	kept("the session of a lost connection", func(s *wire.Session) bool { return s != nil && slices.Contains(s.Rooms, "r1") })
	if ttl := rc.PTTL(ctx, sessionPrefix(prefix)+pid).Val(); ttl > recoveryWindow {
		t.Errorf("kept session's lifetime %v", ttl)
	}

	// Gone for good: deleted.
	b := connect(t, s1)
	bpid := b.ss.Session().PID
	wait.For(t, "b's session", 5*time.Second, func() bool { return sessionOf(t, rc, prefix, bpid) != nil })
	b.ss.Disconnect(false)
	wait.For(t, "b's session deleted", 5*time.Second, func() bool { return sessionOf(t, rc, prefix, bpid) == nil })
}

// TestSessionTakenOver checks that a client that comes back through
// another connection while its node still holds its old socket (the node
// has not seen the old connection die) gets its session back, on another
// node or on the same one; the old socket is disconnected, and its end
// leaves the session, now the new socket's, in Redis.
func TestSessionTakenOver(t *testing.T) {
	rc := redistest.Client(t)
	prefix := redistest.Prefix(t)
	cfg := recoveryConfig(rc, prefix)
	a, b := startRecoveryServer(t, cfg), startRecoveryServer(t, cfg)
	countNodes(t, 2, a, b)
	old := connect(t, a)
	old.ss.Join("r")
	if err := a.Of("/").To("r").Emit("e", 1); err != nil {
		t.Fatal(err)
	}
	e := old.next(t)
	var offset string
	if err := e.Bind(len(e.Args)-1, &offset); err != nil || e.Name != "e" {
		t.Fatalf("event %q %s: %v", e.Name, e.Args, err)
	}
	sid, pid := old.ss.ID(), old.ss.Session().PID
	wait.For(t, "the session in Redis", 5*time.Second, func() bool {
		s := sessionOf(t, rc, prefix, pid)
		return s != nil && slices.Contains(s.Rooms, "r")
	})

	for i, to := range []*server{b, b} {
		c, err := sioclient.Dial(siotest.Context(t), to.url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		so, err := c.Connect(siotest.Context(t), "/", map[string]string{"pid": pid, "offset": offset})
		if err != nil {
			t.Fatal(err)
		}
		if so.ID() != sid {
			t.Fatalf("take-over %d: socket %s, want %s", i, so.ID(), sid)
		}
		select {
		case <-old.so.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("take-over %d: the old socket is still connected", i)
		}
		var ss *socketio.Socket
		wait.For(t, "the new socket, in its rooms", 5*time.Second, func() bool {
			ss = to.Of("/").Socket(sid)
			return ss != nil && ss.Recovered() && slices.Contains(ss.Rooms(), "r")
		})
		old = &client{c: c, so: so, ss: ss}
		time.Sleep(200 * time.Millisecond) // for the old socket's end to reach Redis
		if s := sessionOf(t, rc, prefix, pid); s == nil || !strings.HasPrefix(s.Owner, to.node.UID()+".") {
			t.Fatalf("take-over %d: session %+v", i, s)
		}
	}
	if a.Of("/").Socket(sid) != nil {
		t.Error("the first node still has the socket")
	}
}

// TestRecoveryTrimmed trims the stream past the official client's offset
// while it is away: a node that started since cannot know what it missed,
// and connects it as a new socket (recovered === false), with nothing
// replayed; a node that read the events itself still has them, and
// recovers it.
func TestRecoveryTrimmed(t *testing.T) {
	testjs.RequireNode(t)
	for _, tc := range []struct {
		name      string
		fresh     bool
		recovered bool
	}{
		{"to a node that read the events", false, true},
		{"to a node started after them", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := redistest.Client(t)
			cfg := recoveryConfig(rc, redistest.Prefix(t))
			a, b := startRecoveryServer(t, cfg), startRecoveryServer(t, cfg)
			countNodes(t, 2, a, b)
			lb := newBalancer(t, a.url)
			js := startClients(t)
			alice := js.open(t, "alice", lb.URL())
			bob := js.open(t, "bob", b.url)
			first := alice.waitConnects(t, 1)
			bob.waitConnects(t, 1)
			alice.emit(t, "join", "room")
			bob.emit(t, "join", "room")
			bob.emit(t, "burst", "room", 0, 5)
			alice.waitSeqs(t, 5)
			lb.Switch("")
			alice.waitDisconnects(t, 1)
			bob.emit(t, "burst", "room", 5, 20)
			bob.waitSeqs(t, 25)
			if err := rc.XTrimMaxLen(context.Background(), cfg.StreamName, 3).Err(); err != nil {
				t.Fatal(err)
			}
			target := b
			if tc.fresh {
				target = startRecoveryServer(t, cfg)
			}
			lb.Switch(target.url)
			s := alice.waitConnects(t, 2)
			if c := s.Connects[1]; c.Recovered != tc.recovered || (c.ID == first.ID) != tc.recovered {
				t.Fatalf("alice reconnected as %+v, was %s", c, first.ID)
			}
			if tc.recovered {
				alice.waitSeqs(t, 25)
				return
			}
			time.Sleep(300 * time.Millisecond) // would a replay come?
			alice.emit(t, "join", "room")
			bob.emit(t, "burst", "room", 25, 1)
			wait.For(t, "a live event", 5*time.Second, func() bool {
				s = alice.state(t)
				nums, _ := s.seqs(t)
				return len(nums) == 6
			})
			if nums, _ := s.seqs(t); !slices.Equal(nums, []int{0, 1, 2, 3, 4, 25}) {
				t.Errorf("alice got %v", nums)
			}
		})
	}
}

// TestReadAfterGap checks that reading the stream back after an entry the
// stream no longer holds fails with ErrRecoveryGap, also in the middle of
// a replay, rather than going on after the gap.
func TestReadAfterGap(t *testing.T) {
	rc := redistest.Client(t)
	cfg := recoveryConfig(rc, redistest.Prefix(t))
	s := startRecoveryServer(t, cfg)
	sr := s.Of("/").Adapter().(socketio.SharedRecovery)
	ctx := context.Background()
	for i := range 10 {
		if err := s.Of("/").To("r").Emit("seq", i); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	wait.For(t, "ten entries", 5*time.Second, func() bool {
		x, err := rc.XRange(ctx, cfg.StreamName, "-", "+").Result()
		ids = ids[:0]
		for _, m := range x {
			ids = append(ids, m.ID)
		}
		return err == nil && len(ids) == 10
	})
	events, next, end, err := sr.ReadAfter(ctx, ids[0], 4)
	if err != nil || len(events) != 4 || next != ids[4] || end {
		t.Fatalf("ReadAfter(%s, 4) = %d events, %s, %v, %v", ids[0], len(events), next, end, err)
	}
	for i, e := range events {
		if e.Offset != ids[i+1] || !slices.Equal(e.Rooms, []string{"r"}) || !strings.HasPrefix(string(e.Packet.Data), `["seq",`) {
			t.Errorf("event %d: %+v %s", i, e, e.Packet.Data)
		}
	}
	if events, next, end, err = sr.ReadAfter(ctx, ids[8], 4); err != nil || len(events) != 1 || next != ids[9] || !end {
		t.Fatalf("ReadAfter(%s, 4) = %d events, %s, %v, %v", ids[8], len(events), next, end, err)
	}
	if err := rc.XTrimMaxLen(ctx, cfg.StreamName, 3).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := sr.ReadAfter(ctx, ids[4], 4); !errors.Is(err, socketio.ErrRecoveryGap) {
		t.Fatalf("ReadAfter after a trimmed entry: %v", err)
	}
	if events, _, _, err := sr.ReadAfter(ctx, ids[7], 4); err != nil || len(events) != 2 {
		t.Fatalf("ReadAfter(%s) = %d events, %v", ids[7], len(events), err)
	}
}

// TestRecoveryData checks what a restored socket's data is: what the
// application attached, as it was, when the node that kept the session
// restores it; its JSON encoding when another node does.
func TestRecoveryData(t *testing.T) {
	rc := redistest.Client(t)
	prefix := redistest.Prefix(t)
	cfg := recoveryConfig(rc, prefix)
	a, b := startRecoveryServer(t, cfg), startRecoveryServer(t, cfg)
	countNodes(t, 2, a, b)
	type data struct{ Name string }
	for _, to := range []*server{a, b} {
		c := connect(t, a)
		d := &data{Name: "zoë"}
		c.ss.SetData(d)
		if err := a.Of("/").To(c.ss.ID()).Emit("e", 1); err != nil {
			t.Fatal(err)
		}
		e := c.next(t)
		var offset string
		if err := e.Bind(len(e.Args)-1, &offset); err != nil {
			t.Fatal(err)
		}
		sid, pid := c.ss.ID(), c.ss.Session().PID
		_ = c.c.Close()
		wait.For(t, "the socket gone", 5*time.Second, func() bool { return a.Of("/").Socket(sid) == nil })

		c2, err := sioclient.Dial(siotest.Context(t), to.url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c2.Close() })
		// The session kept for the window (not the live one, which lives
		// longer) reaches Redis a moment after the socket is gone.
		wait.For(t, "the session kept", 5*time.Second, func() bool {
			ttl, err := rc.PTTL(context.Background(), sessionPrefix(prefix)+pid).Result()
			return err == nil && ttl > 0 && ttl <= recoveryWindow
		})
		so, err := c2.Connect(siotest.Context(t), "/", map[string]string{"pid": pid, "offset": offset})
		if err != nil || so.ID() != sid {
			t.Fatalf("connected as %v, %v; want %s", so.ID(), err, sid)
		}
		var ss *socketio.Socket
		wait.For(t, "the restored socket", 5*time.Second, func() bool {
			ss = to.Of("/").Socket(sid)
			return ss != nil
		})
		switch got := ss.Data().(type) {
		case *data:
			if to != a || got != d {
				t.Errorf("restored by %s: data %+v", to.url, got)
			}
		case json.RawMessage:
			if to != b || string(got) != `{"Name":"zoë"}` {
				t.Errorf("restored by %s: data %s", to.url, got)
			}
		default:
			t.Errorf("restored by %s: data %#v", to.url, got)
		}
	}
}

// TestOwnOperationsInOrder checks that with recovery on, a node's own
// sockets get its broadcasts and its operations on sockets in the order it
// made them, as the other nodes' sockets do, though its broadcasts reach
// them from the stream: a socket that leaves a room after a broadcast to it
// gets the broadcast, one that joins a room after one does not, one
// disconnected after one gets it first.
func TestOwnOperationsInOrder(t *testing.T) {
	rc := redistest.Client(t)
	a := startServer(t, recoveryConfig(rc, redistest.Prefix(t)), withRecovery)
	x := connect(t, a)
	x.ss.Join("r")
	n := a.Of("/")
	steps := []func() error{
		func() error { return n.To("r").Emit("before-leave") },
		func() error { return n.To(x.ss.ID()).SocketsLeave("r") },
		func() error { return n.To("r").Emit("after-leave") },
		func() error { return n.To("j").Emit("before-join") },
		func() error { return n.To(x.ss.ID()).SocketsJoin("j") },
		func() error { return n.To("j").Emit("after-join") },
		func() error { return n.Emit("before-disconnect") },
		func() error { return n.To(x.ss.ID()).DisconnectSockets(false) },
		func() error { return n.Emit("after-disconnect") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	select {
	case <-x.so.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("x not disconnected")
	}
	var got []string
	for len(x.in) > 0 {
		got = append(got, (<-x.in).Name)
	}
	if want := []string{"before-leave", "after-join", "before-disconnect"}; !slices.Equal(got, want) {
		t.Errorf("x got %v, want %v", got, want)
	}
}
