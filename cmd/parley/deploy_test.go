package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
	"github.com/parley-chat/parley/internal/test/redistest"
)

// clusterStore returns the --store of a cluster's nodes: the test
// PostgreSQL, in a schema of the test's own.
func clusterStore(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", pgtest.Schema(t))
	u.RawQuery = q.Encode()
	return u.String()
}

// startNodes starts two nodes as main does, with --redis redisURL and one
// PostgreSQL store.
func startNodes(t *testing.T, redisURL string) (*server, *server) {
	t.Helper()
	args := []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "5s", "--store", clusterStore(t), "--redis", redisURL}
	return startRun(t, args, env()), startRun(t, args, env())
}

// stopNodes stops nodes, each cleanly.
func stopNodes(t *testing.T, nodes ...*server) {
	t.Helper()
	for _, n := range nodes {
		if err := n.stop(t, 10*time.Second); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
}

// talk has Ann join on node n1 and Bob on n2: each is listed on the
// other's node, Ann hears Bob arrive, and what each says reaches the
// other.
func talk(t *testing.T, ctx context.Context, n1, n2 *server) (ann, bob *chatter) {
	t.Helper()
	ann = join(t, ctx, n1.URL, sioclient.TransportWebSocket, "Ann")
	joined := make(chan string, 4)
	ann.so.On("user-connected", func(e *sioclient.Event) {
		var name string
		_ = e.Bind(0, &name)
		joined <- name
	})
	bob = join(t, ctx, n2.URL, sioclient.TransportPolling, "Bob")
	if got := bob.ack(t, ctx, "list-users", "general"); !slices.Equal(got.Users, []string{"Ann", "Bob"}) {
		t.Errorf("list-users on the second node: %+v", got)
	}
	select {
	case name := <-joined:
		if name != "Bob" {
			t.Errorf("Ann saw %q join, want Bob", name)
		}
	case <-ctx.Done():
		t.Fatal("Ann did not see Bob join")
	}
	if r := ann.ack(t, ctx, "send-chat-message", "hello Bob"); !r.OK {
		t.Fatalf("send-chat-message: %+v", r)
	}
	if r := bob.ack(t, ctx, "send-chat-message", "hello Ann"); !r.OK {
		t.Fatalf("send-chat-message: %+v", r)
	}
	for _, tc := range []struct {
		who  *chatter
		want string
	}{{bob, "Ann: hello Bob"}, {ann, "Bob: hello Ann"}} {
		select {
		case m := <-tc.who.messages:
			if m != tc.want {
				t.Errorf("got %q, want %q", m, tc.want)
			}
		case <-ctx.Done():
			t.Fatalf("%q did not cross to the other node", tc.want)
		}
	}
	return ann, bob
}

// TestRunRedisCluster runs two nodes as main does over a Redis Cluster of
// three masters, --redis redis+cluster://h1,h2,h3, and one PostgreSQL
// store: people on the two nodes talk, and each node stops cleanly. It
// needs PARLEY_TEST_REDIS and PARLEY_TEST_POSTGRES.
func TestRunRedisCluster(t *testing.T) {
	lc := redistest.Cluster(t, 3)
	n1, n2 := startNodes(t, "redis+cluster://"+strings.Join(lc.Addrs, ","))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	talk(t, ctx, n1, n2)
	stopNodes(t, n1, n2)
}

// TestRunSentinel runs two nodes as main does over database 2 of a master
// found through three Sentinels, --redis
// redis+sentinel://s1,s2,s3/mymaster/2, as TestRunRedisCluster does over
// a Redis Cluster.
func TestRunSentinel(t *testing.T) {
	ls := redistest.Sentinel(t, redistest.SentinelConfig{Sentinels: 3})
	n1, n2 := startNodes(t, strings.TrimSuffix(ls.URL(), "/0")+"/2")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	talk(t, ctx, n1, n2)
	for db, want := range map[int]int64{0: 0, 2: 1} {
		c := redis.NewClient(&redis.Options{Addr: ls.Master.Addr, DB: db})
		n, err := c.Exists(ctx, wire.DefaultStreamName).Result()
		_ = c.Close()
		if err != nil || n != want {
			t.Errorf("the stream in database %d: %d, %v; want %d", db, n, err, want)
		}
	}
	stopNodes(t, n1, n2)
}

// TestRunSentinelFailover kills the master of two nodes' Redis (SIGKILL)
// while their people talk, and has Sentinel promote its replica: every
// message acknowledged, before, during and after the failover, reaches
// both people once, in the room's order, and the cluster's presence and
// requests work on.
func TestRunSentinelFailover(t *testing.T) {
	ls := redistest.Sentinel(t, redistest.SentinelConfig{Replicas: 1})
	n1, n2 := startNodes(t, ls.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	ann, bob := talk(t, ctx, n1, n2)
	annGot, bobGot := ann.ids(), bob.ids()

	acked := make(map[*chatter][]int64)
	say := func(who *chatter, text string) {
		t.Helper()
		msg, err := who.so.EmitWithAck(ctx, "send-chat-message", text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		var r struct {
			OK bool  `json:"ok"`
			ID int64 `json:"id"`
		}
		if err := msg.Bind(0, &r); err != nil || !r.OK {
			t.Fatalf("%s: ack %v, %v", text, msg.Args, err)
		}
		acked[who] = append(acked[who], r.ID)
	}
	for i := range 5 {
		say(ann, fmt.Sprint("before ", i))
		say(bob, fmt.Sprint("before ", i))
	}
	ls.InSync()
	ls.Failover(func() {
		// Stored and acknowledged while no server is master.
		for i := range 5 {
			say(ann, fmt.Sprint("during ", i))
			say(bob, fmt.Sprint("during ", i))
		}
	})
	for i := range 5 {
		say(bob, fmt.Sprint("after ", i))
		say(ann, fmt.Sprint("after ", i))
	}
	// Each gets every message the other had acknowledged, once, in id
	// order; and maybe some of their own (one appended to the stream on
	// its node's behalf has no sender to leave out: the page drops it by
	// its clientId), once too.
	annGot.waitFor(t, ctx, acked[bob], acked[ann])
	bobGot.waitFor(t, ctx, acked[ann], acked[bob])
	if got := bob.ack(t, ctx, "list-users", "general"); !slices.Equal(got.Users, []string{"Ann", "Bob"}) {
		t.Errorf("list-users after the failover: %+v", got)
	}
	stopNodes(t, n1, n2)
}

// idLog records the ids of the chat messages a chatter gets.
type idLog struct {
	mu      sync.Mutex
	ids     []int64
	changed chan struct{}
}

// ids starts recording the ids of the chat messages ch gets from now on,
// in the place of its messages.
func (ch *chatter) ids() *idLog {
	l := &idLog{changed: make(chan struct{}, 1)}
	ch.so.On("chat-message", func(e *sioclient.Event) {
		var m struct {
			ID      int64 `json:"id"`
			History bool  `json:"history"`
		}
		if err := e.Bind(0, &m); err != nil || m.History {
			return
		}
		l.mu.Lock()
		l.ids = append(l.ids, m.ID)
		l.mu.Unlock()
		select {
		case l.changed <- struct{}{}:
		default:
		}
	})
	return l
}

// waitFor waits until the log has every id of want, then checks that it
// has them in increasing order, once each, with nothing else but some of
// also.
func (l *idLog) waitFor(t *testing.T, ctx context.Context, want, also []int64) {
	t.Helper()
	for {
		l.mu.Lock()
		got := slices.Clone(l.ids)
		l.mu.Unlock()
		missing := slices.ContainsFunc(want, func(id int64) bool { return !slices.Contains(got, id) })
		if !missing {
			time.Sleep(200 * time.Millisecond) // would more come?
			l.mu.Lock()
			got = slices.Clone(l.ids)
			l.mu.Unlock()
			for i, id := range got {
				if i > 0 && id <= got[i-1] || !slices.Contains(want, id) && !slices.Contains(also, id) {
					t.Errorf("got the messages %v, want %v in order, once, and maybe some of %v", got, want, also)
					break
				}
			}
			return
		}
		select {
		case <-l.changed:
		case <-ctx.Done():
			t.Fatalf("got the messages %v, want %v", got, want)
		}
	}
}
