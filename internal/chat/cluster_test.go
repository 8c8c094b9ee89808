package chat_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// This file runs several chat nodes in one process, each a Socket.IO
// server with a cluster adapter and a chat on a port of its own, over one
// PostgreSQL schema and one Redis (keys and channels of the test's own):
// what people on different nodes see must be what they would see on one.
// The tests need PARLEY_TEST_POSTGRES and PARLEY_TEST_REDIS;
// PARLEY_CLUSTER_DEBUG=1 logs the nodes.

// Short times for the tests: a dead node is reaped within about
// testNodeTTL and a third.
const (
	testNodeTTL    = 1500 * time.Millisecond
	testGapWait    = 100 * time.Millisecond
	testCheckEvery = 300 * time.Millisecond
	// clusterWait bounds what a test waits for from another node; the
	// death of a node is announced within 30 s at the defaults.
	clusterWait = 10 * time.Second
)

// testCluster is the shared part of a test's nodes.
type testCluster struct {
	t      *testing.T
	prefix string
	client func() redis.UniversalClient // a new client of the Redis, a node's
	open   func() store.Store
	nodes  []*chatNode
}

// newTestCluster makes a cluster in Redis at url ("" for the test Redis)
// and a schema of its own.
func newTestCluster(t *testing.T, url string) *testCluster {
	t.Helper()
	if url == "" {
		url = redistest.URL(t)
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1 // a cut connection is the node's to handle
	return newTestClusterOf(t, func() redis.UniversalClient { return redis.NewClient(opts) })
}

// newTestClusterOf makes a cluster in the Redis of the clients client
// makes, and a schema of its own.
func newTestClusterOf(t *testing.T, client func() redis.UniversalClient) *testCluster {
	t.Helper()
	open := pgtest.Factory(t)
	return &testCluster{t: t, prefix: redistest.Prefix(t), client: client, open: open}
}

// chatNode is one node: its Redis client (its own, so that a test can cut
// it), its cluster node, server and chat.
type chatNode struct {
	*testServer
	rc    redis.UniversalClient
	node  *cluster.Node
	sio   *socketio.Server
	ended bool
}

func clusterLogger() *slog.Logger {
	if os.Getenv("PARLEY_CLUSTER_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start starts a node with the chat configuration cfg (its Store and
// Cluster are the cluster's), and waits until every node counts it.
func (tc *testCluster) start(cfg chat.Config) *chatNode {
	t := tc.t
	t.Helper()
	rc := tc.client()
	log := clusterLogger()
	node, err := cluster.New(cluster.Config{
		Client: rc, StreamName: tc.prefix + ":stream", ChannelPrefix: tc.prefix,
		BlockTime: 200 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: time.Second,
		RequestTimeout: 2 * time.Second, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	pres, err := presence.New(presence.Config{Client: rc, Prefix: tc.prefix + ":{presence}"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = tc.open()
	if cfg.Rate == 0 {
		cfg.Rate = rate.Inf
	}
	cfg.Logger = log
	cfg.Cluster = &chat.ClusterConfig{Presence: pres, NodeTTL: testNodeTTL, GapWait: testGapWait, CheckEvery: testCheckEvery}
	sio := socketio.NewServer(socketio.Config{NewAdapter: node.NewAdapter, Logger: log})
	c, err := chat.New(cfg, sio.Of("/"))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sio)
	n := &chatNode{testServer: &testServer{Server: ts, chat: c, nsp: sio.Of("/"), store: cfg.Store}, rc: rc, node: node, sio: sio}
	t.Cleanup(n.stop)
	if err := node.Ready(wait.Context(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	tc.nodes = append(tc.nodes, n)
	for _, m := range tc.nodes {
		if m.ended {
			continue
		}
		wait.For(t, "every node counted", 5*time.Second, func() bool {
			got, err := m.node.ServerCount(context.Background(), "/")
			return err == nil && got == tc.live()
		})
	}
	return n
}

// live counts the nodes not stopped.
func (tc *testCluster) live() int {
	n := 0
	for _, m := range tc.nodes {
		if !m.ended {
			n++
		}
	}
	return n
}

// stop stops the node as a server stops: connections closed, then the
// chat, then its part in the cluster.
func (n *chatNode) stop() {
	if n.ended {
		return
	}
	n.ended = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.sio.Shutdown(ctx)
	n.Server.Close()
	_ = n.chat.Close()
	_ = n.node.Close(ctx)
	_ = n.rc.Close()
}

// kill stops the node as a crash would: its Redis connections go first,
// so that it says nothing more to the others, no goodbye, no lease.
func (n *chatNode) kill() {
	n.ended = true
	_ = n.rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = n.sio.Shutdown(ctx)
	n.Server.Close()
	_ = n.chat.Close()
	_ = n.node.Close(ctx)
}

// eventually polls cond until it holds, for up to clusterWait.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	wait.For(t, what, clusterWait, cond)
}

// hasPresence waits until p got exactly want, as presence() writes them.
func hasPresence(t *testing.T, p *person, who string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	eventually(t, who+"'s announcements", func() error {
		if got := p.presence(); !slices.Equal(nonNil(got), want) {
			return fmt.Errorf("%s got %q, want %q", who, got, want)
		}
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// listUsers asks p's node for the people of room.
func listUsers(p *person, room string) []string {
	p.t.Helper()
	var r roomReply
	p.ack(&r, chat.EventListUsers, room)
	if !r.OK {
		p.t.Fatalf("list-users %s: %+v", room, r)
	}
	return r.Users
}

// TestClusterChat checks that people on two nodes join, talk, type, list
// and leave as on one.
func TestClusterChat(t *testing.T) { testClusterChat(t, newTestCluster(t, "")) }

func testClusterChat(t *testing.T, tc *testCluster) {
	a := tc.start(chat.Config{})
	b := tc.start(chat.Config{})

	ann := join(t, a.Server, sioclient.TransportWebSocket, "Ann")
	bob := join(t, b.Server, sioclient.TransportPolling, "Bob")
	var r joinReply
	carol := connect(t, b.Server, sioclient.TransportUpgrade)
	carol.ack(&r, chat.EventNewUser, "Carol")
	if !r.OK || !slices.Equal(r.Users, []string{"Ann", "Bob", "Carol"}) {
		t.Fatalf("Carol joins on b: %+v; want the people of both nodes", r)
	}
	hasPresence(t, ann, "ann", "+Bob@general", "+Carol@general")
	hasPresence(t, bob, "bob", "+Carol@general")
	for _, p := range []*person{ann, bob} {
		if got := listUsers(p, chat.DefaultRoom); !slices.Equal(got, []string{"Ann", "Bob", "Carol"}) {
			t.Errorf("list-users general: %q", got)
		}
	}

	// Messages cross both ways, to everyone but the sender.
	sa := ann.say("hello from a", nil)
	sb := bob.say("hello from b", nil)
	for _, tt := range []struct {
		p    *person
		who  string
		want []int64
	}{{ann, "ann", []int64{sb.ID}}, {bob, "bob", []int64{sa.ID}}, {carol, "carol", []int64{sa.ID, sb.ID}}} {
		eventually(t, tt.who+"'s messages", func() error {
			if got := ids(tt.p.messages()); !slices.Equal(got, tt.want) {
				return fmt.Errorf("%s got %v, want %v", tt.who, got, tt.want)
			}
			return nil
		})
	}

	// Rooms: Bob makes one on b, Ann joins it on a; both list it with
	// its two people; typing crosses.
	bob.joinRoom("dev")
	rr := ann.joinRoom("dev")
	if !slices.Equal(rr.Users, []string{"Ann", "Bob"}) {
		t.Errorf("Ann joins dev on a: %+v", rr)
	}
	hasPresence(t, bob, "bob", "+Carol@general", "+Ann@dev")
	for _, p := range []*person{ann, bob, carol} {
		var lr struct {
			OK    bool `json:"ok"`
			Rooms []struct {
				Name  string `json:"name"`
				Users int    `json:"users"`
			} `json:"rooms"`
		}
		p.ack(&lr, chat.EventListRooms)
		var got []string
		for _, room := range lr.Rooms {
			got = append(got, fmt.Sprintf("%s:%d", room.Name, room.Users))
		}
		if want := []string{"dev:2", "general:3"}; !slices.Equal(got, want) {
			t.Errorf("list-rooms: %q, want %q", got, want)
		}
	}
	ann.emit(chat.EventTyping, map[string]any{"room": "dev", "typing": true})
	eventually(t, "bob hears ann type", func() error {
		if n := len(bob.got(chat.EventTyping)); n != 1 {
			return fmt.Errorf("%d typing events", n)
		}
		return nil
	})

	// Leaving: Bob leaves dev, then the chat; each is announced once.
	var lr roomReply
	bob.ack(&lr, chat.EventLeaveRoom, "dev")
	// Ann joined dev on a as Bob's arrival there went round the cluster:
	// node a may have read it from the stream after her join, and passed
	// it on to her, once.
	annHeard := func(want ...string) {
		t.Helper()
		eventually(t, "ann's announcements", func() error {
			got := nonNil(ann.presence())
			if len(got) > 2 && got[2] == "+Bob@dev" {
				got = slices.Delete(slices.Clone(got), 2, 3)
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("ann got %q, want %q", ann.presence(), want)
			}
			return nil
		})
	}
	annHeard("+Bob@general", "+Carol@general", "-Bob@dev")
	bob.leave()
	annHeard("+Bob@general", "+Carol@general", "-Bob@dev", "-Bob@general")
	// Carol connected as Bob's arrival went round the cluster (a node's
	// own announcements come back to it through the stream): she may
	// have heard it, once, before his departure.
	eventually(t, "carol's announcements", func() error {
		got := nonNil(carol.presence())
		if len(got) > 0 && got[0] == "+Bob@general" {
			got = got[1:]
		}
		if want := []string{"-Bob@general"}; !slices.Equal(got, want) {
			return fmt.Errorf("carol got %q, want %q", carol.presence(), want)
		}
		return nil
	})
	eventually(t, "the people of general", func() error {
		if got := listUsers(ann, chat.DefaultRoom); !slices.Equal(got, []string{"Ann", "Carol"}) {
			return fmt.Errorf("list-users general on a: %q", got)
		}
		return nil
	})
	// Bob's name is still his, on either node.
	var taken joinReply
	connect(t, a.Server, sioclient.TransportWebSocket).ack(&taken, chat.EventNewUser, "Bob")
	if taken.OK || taken.Code != chat.CodeNameTaken {
		t.Errorf("a stranger joins as Bob on a: %+v", taken)
	}
}

// TestClusterConcurrentWriters has people on two nodes write to one room
// at once: everyone, on either node, gets every message, in id order,
// each once.
func TestClusterConcurrentWriters(t *testing.T) {
	testClusterConcurrentWriters(t, newTestCluster(t, ""))
}

func testClusterConcurrentWriters(t *testing.T, tc *testCluster) {
	a := tc.start(chat.Config{})
	b := tc.start(chat.Config{})
	const (
		writers = 3 // per node
		each    = 40
	)
	var all, readers []*person
	for i := range writers {
		all = append(all, join(t, a.Server, sioclient.TransportWebSocket, fmt.Sprint("a", i)))
		all = append(all, join(t, b.Server, sioclient.TransportWebSocket, fmt.Sprint("b", i)))
	}
	readers = append(readers, join(t, a.Server, sioclient.TransportPolling, "ra"), join(t, b.Server, sioclient.TransportWebSocket, "rb"))

	var wg sync.WaitGroup
	errs := make(chan error, len(all))
	for _, p := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half without waiting for the acknowledgement, so that the
			// nodes' commits interleave more, half waiting.
			for i := range each {
				if i%2 == 0 {
					if err := p.so.Emit(chat.EventSendChatMessage, fmt.Sprint("m", i)); err != nil {
						errs <- err
						return
					}
					continue
				}
				if r, err := p.send(fmt.Sprint("m", i), nil); err != nil || !r.OK {
					errs <- fmt.Errorf("send: %v %+v", err, r)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := int64(len(all) * each)
	// A reader gets every id, one more each time.
	for i, p := range readers {
		eventually(t, fmt.Sprint("every message at reader ", i), func() error {
			got := ids(p.messages())
			for i := 1; i < len(got); i++ {
				if got[i] != got[i-1]+1 {
					return fmt.Errorf("ids %d then %d", got[i-1], got[i])
				}
			}
			if !slices.Equal(got, span(1, total)) {
				return fmt.Errorf("got %d messages of %d", len(got), total)
			}
			return nil
		})
	}
	// A writer gets the others' messages, its own aside, in order. (Its
	// own may come too, when a node that waited GapWait for one appended
	// it on its node's behalf, with no sender to leave out: see
	// stream.go. The page drops those by clientId.)
	for i, p := range all {
		eventually(t, fmt.Sprint("the others' messages at writer ", i), func() error {
			var others []chat.ChatMessage
			for _, m := range p.messages() {
				if m.UserID != p.id {
					others = append(others, m)
				}
			}
			got := ids(others)
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					return fmt.Errorf("ids %d then %d", got[i-1], got[i])
				}
			}
			if int64(len(got)) != total-each {
				return fmt.Errorf("got %d messages of the others, want %d", len(got), total-each)
			}
			return nil
		})
	}
}

// TestClusterTwoTabs checks that one identity with sockets on two nodes
// is one person: announced once, listed once, under the name it holds,
// gone when its last socket goes; and that the presence grace holds
// across nodes.
func TestClusterTwoTabs(t *testing.T) { testClusterTwoTabs(t, newTestCluster(t, "")) }

func testClusterTwoTabs(t *testing.T, tc *testCluster) {
	const grace = 500 * time.Millisecond
	a := tc.start(chat.Config{PresenceGrace: grace})
	b := tc.start(chat.Config{PresenceGrace: grace})
	watcher := join(t, a.Server, sioclient.TransportWebSocket, "Watcher")

	dana := join(t, a.Server, sioclient.TransportWebSocket, "Dana")
	// Her second tab, on b, asks for another name: her identity holds
	// Dana.
	tab2, r := joinWithToken(t, b.Server, sioclient.TransportPolling, "Danielle", dana.token)
	if !r.OK || r.ID != dana.id || r.Name != "Dana" {
		t.Fatalf("Dana's tab on b: %+v, want her identity %s under her name", r, dana.id)
	}
	if got := listUsers(watcher, chat.DefaultRoom); !slices.Equal(got, []string{"Dana", "Watcher"}) {
		t.Errorf("list-users: %q; Dana once", got)
	}
	hasPresence(t, watcher, "watcher", "+Dana@general")

	// The tab on a says goodbye: she is still on b.
	dana.leave()
	tab2.sync()
	watcher.sync()
	time.Sleep(2 * testGapWait) // what could come, would have
	hasPresence(t, watcher, "watcher", "+Dana@general")

	// Her connection to b drops; she comes back on a within the grace:
	// nobody hears of it, then or when b's grace ends.
	if err := tab2.c.Close(); err != nil {
		t.Fatal(err)
	}
	back, r := joinWithToken(t, a.Server, sioclient.TransportWebSocket, "Dana", dana.token)
	if !r.OK || r.ID != dana.id {
		t.Fatalf("Dana back on a: %+v", r)
	}
	time.Sleep(grace + 3*testGapWait)
	hasPresence(t, watcher, "watcher", "+Dana@general")
	if got := listUsers(watcher, chat.DefaultRoom); !slices.Equal(got, []string{"Dana", "Watcher"}) {
		t.Errorf("list-users after b's grace: %q", got)
	}

	// Her last socket says goodbye: she is gone, once.
	back.leave()
	hasPresence(t, watcher, "watcher", "+Dana@general", "-Dana@general")
}

// TestClusterNodeDeath stops a node as a crash would: the other
// announces its people gone within about a lease, but not one who was on
// the surviving node too.
func TestClusterNodeDeath(t *testing.T) { testClusterNodeDeath(t, newTestCluster(t, "")) }

func testClusterNodeDeath(t *testing.T, tc *testCluster) {
	a := tc.start(chat.Config{})
	b := tc.start(chat.Config{})
	watcher := join(t, b.Server, sioclient.TransportWebSocket, "Watcher")
	ann := join(t, a.Server, sioclient.TransportWebSocket, "Ann")
	ann.joinRoom("dev")
	eve := join(t, a.Server, sioclient.TransportWebSocket, "Eve")
	joinWithToken(t, b.Server, sioclient.TransportWebSocket, "Eve", eve.token) // Eve's tab on b
	watcher.joinRoom("dev")
	hasPresence(t, watcher, "watcher", "+Ann@general", "+Eve@general")

	start := time.Now()
	a.kill()
	eventually(t, "Ann announced gone", func() error {
		want := []string{"+Ann@general", "+Eve@general", "-Ann@dev", "-Ann@general"}
		got := watcher.presence()
		slices.Sort(got[2:min(len(got), 4)]) // the rooms go in either order
		if !slices.Equal(got, want) {
			return fmt.Errorf("watcher got %q, want %q", got, want)
		}
		return nil
	})
	took := time.Since(start)
	t.Logf("the dead node's people were announced gone after %v (lease %v)", took, testNodeTTL)
	if took < testNodeTTL/2 {
		t.Errorf("announced after %v, before the lease could have run out", took)
	}
	if got := listUsers(watcher, chat.DefaultRoom); !slices.Equal(got, []string{"Eve", "Watcher"}) {
		t.Errorf("list-users after a died: %q", got)
	}
}

// TestClusterFillsGaps stores messages that no node relays, as when Redis
// loses them: a later message shows the gap, which the node reads from
// the store before it delivers the later one; with no later message, the
// node finds them by comparing its rooms with the store.
func TestClusterFillsGaps(t *testing.T) { testClusterFillsGaps(t, newTestCluster(t, "")) }

func testClusterFillsGaps(t *testing.T, tc *testCluster) {
	a := tc.start(chat.Config{})
	b := tc.start(chat.Config{})
	ann := join(t, a.Server, sioclient.TransportWebSocket, "Ann")
	bob := join(t, b.Server, sioclient.TransportWebSocket, "Bob")
	direct := tc.open()

	appendDirect := func(n int) {
		t.Helper()
		msgs := make([]store.Message, n)
		for i := range msgs {
			msgs[i] = store.Message{Room: chat.DefaultRoom, Author: "Ghost", Text: "unrelayed"}
		}
		if _, err := direct.Append(context.Background(), msgs); err != nil {
			t.Fatal(err)
		}
	}
	ann.say("one", nil)  // 1
	appendDirect(3)      // 2..4, relayed by nobody
	ann.say("five", nil) // 5: bob's node waits for 2..4, reads them
	appendDirect(2)      // 6, 7: nothing after them
	for _, tt := range []struct {
		p    *person
		who  string
		want []int64
	}{{bob, "bob", span(1, 7)}, {ann, "ann", span(2, 4)}} {
		eventually(t, tt.who+"'s messages", func() error {
			got := ids(tt.p.messages())
			if tt.p == ann {
				got = slices.DeleteFunc(got, func(id int64) bool { return id > 4 })
			}
			if !slices.Equal(got, tt.want) {
				return fmt.Errorf("%s got %v, want %v", tt.who, got, tt.want)
			}
			return nil
		})
	}
	eventually(t, "ann's later messages", func() error {
		if got := ids(ann.messages()); !slices.Equal(got, []int64{2, 3, 4, 6, 7}) {
			return fmt.Errorf("ann got %v", got)
		}
		return nil
	})
}

// TestClusterRedisOutage stops Redis (a server of the test's own) while
// people talk: each node goes on delivering its own people's messages,
// and once Redis is back the other node delivers what it missed, in
// order, before what follows.
func TestClusterRedisOutage(t *testing.T) {
	rs := redistest.Server(t)
	tc := newTestCluster(t, rs.URL())
	a := tc.start(chat.Config{})
	b := tc.start(chat.Config{})
	ann := join(t, a.Server, sioclient.TransportWebSocket, "Ann")
	ann2 := join(t, a.Server, sioclient.TransportWebSocket, "Ann2")
	bob := join(t, b.Server, sioclient.TransportWebSocket, "Bob")
	ann.say("before", nil) // 1

	rs.Stop()
	for i := range 5 { // 2..6
		ann.say(fmt.Sprint("during ", i), nil)
	}
	eventually(t, "a delivers its own people's messages without Redis", func() error {
		if got := ids(ann2.messages()); !slices.Equal(got, span(1, 6)) {
			return fmt.Errorf("ann2 got %v", got)
		}
		return nil
	})
	rs.Start()
	ann.say("after", nil) // 7
	eventually(t, "bob's messages", func() error {
		if got := ids(bob.messages()); !slices.Equal(got, span(1, 7)) {
			return fmt.Errorf("bob got %v", got)
		}
		return nil
	})
	// Presence is written again once Redis is back (it restarted empty).
	eventually(t, "the people of general", func() error {
		got := listUsers(bob, chat.DefaultRoom)
		if want := []string{"Ann", "Ann2", "Bob"}; !slices.Equal(got, want) {
			return fmt.Errorf("list-users on b: %q", strings.Join(got, ","))
		}
		return nil
	})
}

// TestClusterSequences appends stored messages to the stream out of
// order, as two nodes storing messages of one room at once may: the
// stream takes each only after the one before, and once, so that a node's
// people get them in order, once; and one that comes after a gap the
// stream cannot fill any more (forced, as after Redis lost the room's
// sequence) has those before it read from the store.
func TestClusterSequences(t *testing.T) {
	tc := newTestCluster(t, "")
	a := tc.start(chat.Config{})
	bob := join(t, a.Server, sioclient.TransportWebSocket, "Bob")
	// Another node appends what the test stores, as it would its own.
	other := tc.start(chat.Config{})
	direct := tc.open()
	var in []store.Message
	for _, text := range []string{"one", "two", "three", "four", "five", "six"} {
		in = append(in, store.Message{Room: chat.DefaultRoom, Author: "Ghost", Text: text})
	}
	stored, err := direct.Append(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan socketio.SequenceResult, 16)
	emit := func(m store.Message, force bool) socketio.SequenceResult {
		t.Helper()
		err := other.nsp.To(chat.RoomKey(m.Room)).EmitInSequence(chat.SeqName(m.Room), m.ID, force,
			func(r socketio.SequenceResult) { results <- r }, chat.EventChatMessage, chat.WireMessage(m))
		if err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-results:
			return r
		case <-time.After(5 * time.Second):
			t.Fatal("no answer from the stream")
			return socketio.SequenceResult{}
		}
	}
	for i, tc := range []struct {
		m     store.Message
		force bool
		want  socketio.SequenceStatus
		last  int64
	}{
		{stored[0], false, socketio.SequenceAppended, 0},
		{stored[2], false, socketio.SequenceGap, 1},
		{stored[1], false, socketio.SequenceAppended, 0},
		{stored[1], false, socketio.SequencePresent, 2},
		{stored[2], false, socketio.SequenceAppended, 0},
		{stored[5], true, socketio.SequenceAppended, 0}, // 4 and 5 are read from the store
		{stored[4], false, socketio.SequencePresent, 6},
	} {
		if r := emit(tc.m, tc.force); r.Status != tc.want || r.Last != tc.last {
			t.Errorf("%d: append %d (force %v): %+v, want status %d, last %d", i, tc.m.ID, tc.force, r, tc.want, tc.last)
		}
	}
	eventually(t, "bob's messages", func() error {
		if got := ids(bob.messages()); !slices.Equal(got, span(1, 6)) {
			return fmt.Errorf("bob got %v", got)
		}
		return nil
	})
	time.Sleep(2 * testGapWait)
	bob.sync()
	if got := ids(bob.messages()); !slices.Equal(got, span(1, 6)) {
		t.Errorf("bob got %v in the end", got)
	}
}

// TestClusterNodeStops stops a node gracefully, as a deployment does: its
// people who reconnect to another node within the presence grace are no
// news; the others are announced gone once it ends.
func TestClusterNodeStops(t *testing.T) {
	const grace = 500 * time.Millisecond
	tc := newTestCluster(t, "")
	a := tc.start(chat.Config{PresenceGrace: grace})
	b := tc.start(chat.Config{PresenceGrace: grace})
	watcher := join(t, b.Server, sioclient.TransportWebSocket, "Watcher")
	ann := join(t, a.Server, sioclient.TransportWebSocket, "Ann")
	join(t, a.Server, sioclient.TransportPolling, "Zed")
	hasPresence(t, watcher, "watcher", "+Ann@general", "+Zed@general")

	a.stop()
	if _, r := joinWithToken(t, b.Server, sioclient.TransportWebSocket, "Ann", ann.token); !r.OK || r.ID != ann.id {
		t.Fatalf("Ann back on b: %+v", r)
	}
	hasPresence(t, watcher, "watcher", "+Ann@general", "+Zed@general", "-Zed@general")
	time.Sleep(testNodeTTL / 2) // a's reap is over; nothing more comes
	hasPresence(t, watcher, "watcher", "+Ann@general", "+Zed@general", "-Zed@general")
	if got := listUsers(watcher, chat.DefaultRoom); !slices.Equal(got, []string{"Ann", "Watcher"}) {
		t.Errorf("list-users after a stopped: %q", got)
	}
}

func TestClusterConfigNeedsPresence(t *testing.T) {
	sio := socketio.NewServer(socketio.Config{Logger: clusterLogger()})
	_, err := chat.New(chat.Config{Store: openStore(t, t.TempDir()+"/chat.db"), Cluster: &chat.ClusterConfig{}}, sio.Of("/"))
	if err == nil || !strings.Contains(err.Error(), "Presence") {
		t.Errorf("New with a cluster and no presence: %v", err)
	}
}
