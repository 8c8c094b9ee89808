package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/redistest"
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
