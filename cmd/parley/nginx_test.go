package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
	"github.com/parley-chat/parley/internal/test/nginxtest"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestNginxCluster runs three parley processes on one Redis (a
// redis-server of the test's own) and one PostgreSQL schema, behind an
// nginx configured as docs/cluster.md ("Behind nginx") says, and has
// people chat through nginx with the official socket.io-client
// (test/js/chat-peer.mjs), with the client's default transports: polling,
// then WebSocket. Each client comes from a loopback address of its own,
// which "hash $remote_addr" sends to the node the test chose, as the
// access log shows. Each scenario has a cluster of its own. It needs
// PARLEY_TEST_REDIS, PARLEY_TEST_POSTGRES, Node.js and nginx.
func TestNginxCluster(t *testing.T) {
	redistest.URL(t)
	pgtest.DSN(t)
	testjs.RequireNode(t)
	nginxtest.Binary(t)
	bin := buildParley(t)
	t.Run("chat across nodes", func(t *testing.T) { testNginxChat(t, bin) })
	t.Run("kill -9 of a node", func(t *testing.T) { testNginxKill(t, bin) })
	t.Run("Redis restarted", func(t *testing.T) { testNginxRedisRestart(t, bin) })
	t.Run("two nodes write one room", func(t *testing.T) { testNginxConcurrent(t, bin) })
}

// clusterNodes is how many parley processes a cluster has.
const clusterNodes = 3

// nginxCluster is three parley processes behind an nginx, the Redis and
// the schema they share, and the official clients of chat-peer.mjs.
type nginxCluster struct {
	t     *testing.T
	ctx   context.Context
	redis *redistest.LocalServer
	procs [clusterNodes]*process
	addrs [clusterNodes]string // host:port of each node
	ng    *nginxtest.Server
	fx    *testjs.Fixture
	spare [clusterNodes][]string // client addresses that nginx sends to each node, not given out yet
	from  map[string]string      // each client's address, by its name
}

// newNginxCluster starts a cluster, with d for the whole scenario.
func newNginxCluster(t *testing.T, bin string, d time.Duration) *nginxCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	c := &nginxCluster{t: t, ctx: ctx, from: make(map[string]string)}
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", pgtest.Schema(t))
	u.RawQuery = q.Encode()
	c.redis = redistest.Server(t)
	var upstreams []string
	for i := range clusterNodes {
		c.procs[i] = startParleyArgs(t, bin, "--store", u.String(), "--redis", c.redis.URL(), "--trusted-proxies", "127.0.0.1")
		c.addrs[i] = strings.TrimPrefix(c.procs[i].url, "http://")
		upstreams = append(upstreams, c.addrs[i])
	}
	c.ng = nginxtest.Start(t, upstreams)

	// Which client addresses go where: three for each node.
	node := make(map[string]int)
	for i, a := range c.addrs {
		node[a] = i
	}
	for b := 2; b < 200; b++ {
		full := true
		for _, s := range c.spare {
			full = full && len(s) >= 3
		}
		if full {
			break
		}
		from := fmt.Sprintf("127.0.0.%d", b)
		to := c.ng.Route(t, from, "/healthz")
		i, ok := node[to]
		if !ok {
			t.Fatalf("nginx sent %s to %s, which is none of the nodes %v", from, to, c.addrs)
		}
		c.spare[i] = append(c.spare[i], from)
	}
	for i, s := range c.spare {
		if len(s) < 3 {
			t.Fatalf("hash $remote_addr sends too few client addresses to node %d: %v", i, c.spare)
		}
	}
	c.fx, _ = testjs.Start(t, "chat-peer.mjs")
	return c
}

// call runs a command of the fixture, failing the test if it fails.
func (c *nginxCluster) call(op string, args ...any) json.RawMessage {
	c.t.Helper()
	r, err := c.fx.Call(c.ctx, op, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// peerWhere is where a client is (chat-peer.mjs's where).
type peerWhere struct {
	ID        string `json:"id"`
	Engine    string `json:"engine"`
	Transport string `json:"transport"`
	Recovered bool   `json:"recovered"`
}

// open connects the client name through nginx from an address that nginx
// sends to node, and checks that its session is there.
func (c *nginxCluster) open(name string, node int) peerWhere {
	c.t.Helper()
	if len(c.spare[node]) == 0 {
		c.t.Fatalf("no client address left for node %d", node)
	}
	from := c.spare[node][0]
	c.spare[node] = c.spare[node][1:]
	c.from[name] = from
	var w peerWhere
	if err := json.Unmarshal(c.call("open", name, c.ng.URL, map[string]any{"localAddress": from}), &w); err != nil {
		c.t.Fatal(err)
	}
	c.placed(name, w.Engine, node)
	return w
}

// placed checks in nginx's access log that the requests of the client
// name's Engine.IO session engine came from its address and went to node,
// every one, waiting for the first to be logged.
func (c *nginxCluster) placed(name, engine string, node int) {
	c.t.Helper()
	mine := func(es []nginxtest.Entry) []nginxtest.Entry {
		var out []nginxtest.Entry
		for _, e := range es {
			if strings.Contains(e.URI, "sid="+engine) {
				out = append(out, e)
			}
		}
		return out
	}
	if err := c.ng.WaitFor(5*time.Second, func(es []nginxtest.Entry) bool { return len(mine(es)) > 0 }); err != nil {
		c.t.Fatalf("%s: no request of session %s logged: %v", name, engine, err)
	}
	es, err := c.ng.AccessLog()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, e := range mine(es) {
		if e.Client != c.from[name] || e.Upstream() != c.addrs[node] {
			c.t.Fatalf("%s (from %s, session %s): a request of its went from %s to %s, want node %d, %s: %+v",
				name, c.from[name], engine, e.Client, e.Upstream(), node, c.addrs[node], e)
		}
	}
}

// join joins name as nick and returns the acknowledgement.
func (c *nginxCluster) join(name, nick string) (users []string) {
	c.t.Helper()
	var r struct {
		OK    bool     `json:"ok"`
		Users []string `json:"users"`
		Error string   `json:"error"`
	}
	if err := json.Unmarshal(c.call("emit", name, chat.EventNewUser, nick), &r); err != nil || !r.OK {
		c.t.Fatalf("%s: new-user %q: %v %+v", name, nick, err, r)
	}
	return r.Users
}

// peerSend is how one message's sending went (chat-peer.mjs's send).
type peerSend struct {
	Text  string `json:"text"`
	OK    bool   `json:"ok"`
	ID    int64  `json:"id"`
	Code  string `json:"code"`
	Error string `json:"error"`
}

// startSending has name send texts, one at a time, each once the one
// before is acknowledged and pause after it.
func (c *nginxCluster) startSending(name string, texts []string, pause time.Duration) {
	c.t.Helper()
	c.call("sendAll", name, texts, pause.Milliseconds())
}

// sent returns how far name's sending got, and whether it is done.
func (c *nginxCluster) sent(name string) ([]peerSend, bool) {
	c.t.Helper()
	var r struct {
		Done  bool       `json:"done"`
		Sends []peerSend `json:"sends"`
	}
	if err := json.Unmarshal(c.call("sent", name), &r); err != nil {
		c.t.Fatal(err)
	}
	return r.Sends, r.Done
}

// say has name send texts, one at a time, and returns each one's id; all
// must be acknowledged.
func (c *nginxCluster) say(name string, texts ...string) []int64 {
	c.t.Helper()
	c.startSending(name, texts, 0)
	var sends []peerSend
	c.until(fmt.Sprintf("%s sending %d messages", name, len(texts)), 30*time.Second, func() error {
		var done bool
		if sends, done = c.sent(name); !done {
			return fmt.Errorf("%d sent", len(sends))
		}
		return nil
	})
	ids := make([]int64, len(sends))
	for i, s := range sends {
		if !s.OK {
			c.t.Fatalf("%s: %q refused: %+v", name, s.Text, s)
		}
		ids[i] = s.ID
	}
	return ids
}

// peerState is what a client went through (chat-peer.mjs's state).
type peerState struct {
	Connected   bool                `json:"connected"`
	ID          string              `json:"id"`
	Engine      string              `json:"engine"`
	Recovered   bool                `json:"recovered"`
	Connects    []peerWhere         `json:"connects"`
	Disconnects []string            `json:"disconnects"`
	Events      [][]json.RawMessage `json:"events"`
}

func (c *nginxCluster) state(name string) peerState {
	c.t.Helper()
	var s peerState
	if err := json.Unmarshal(c.call("state", name), &s); err != nil {
		c.t.Fatal(err)
	}
	return s
}

// messages returns the live chat-messages of general that the client
// got, in order (not those sent as history when it connected).
func (s peerState) messages() []chat.ChatMessage {
	var out []chat.ChatMessage
	for _, e := range s.Events {
		var name string
		if len(e) < 2 || json.Unmarshal(e[0], &name) != nil || name != chat.EventChatMessage {
			continue
		}
		var m chat.ChatMessage
		if json.Unmarshal(e[1], &m) == nil && m.Room == "general" && !m.History {
			out = append(out, m)
		}
	}
	return out
}

// presence returns the names that event (user-connected or
// user-disconnected) announced in general, in order.
func (s peerState) presence(event string) []string {
	var out []string
	for _, e := range s.Events {
		var name, who, room string
		if len(e) < 3 || json.Unmarshal(e[0], &name) != nil || name != event ||
			json.Unmarshal(e[1], &who) != nil || json.Unmarshal(e[2], &room) != nil || room != "general" {
			continue
		}
		out = append(out, who)
	}
	return out
}

// texts returns the messages' texts.
func texts(msgs []chat.ChatMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Message
	}
	return out
}

// until polls cond every 50 ms until it returns nil, failing the test
// with its last error after d (or when the scenario's time is up).
func (c *nginxCluster) until(what string, d time.Duration, cond func() error) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || c.ctx.Err() != nil {
			c.t.Fatalf("%s: not within %v: %v", what, d, err)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-c.ctx.Done():
		}
	}
}

// holds checks that cond holds now and for the next d, polled every 50
// ms: nothing more comes that would break it.
func (c *nginxCluster) holds(what string, d time.Duration, cond func() error) {
	c.t.Helper()
	for end := time.Now().Add(d); ; {
		if err := cond(); err != nil {
			c.t.Fatalf("%s: %v", what, err)
		}
		if time.Now().After(end) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testNginxChat has three people on the three nodes join, talk and leave:
// each hears, once each, of the others joining, their messages, and of
// those who left before; and a browser's polling handshake, whose
// Origin is nginx's, is same-origin through nginx.
func testNginxChat(t *testing.T, bin string) {
	c := newNginxCluster(t, bin, 40*time.Second)
	names := []string{"Ann", "Bob", "Cy"}
	engines := make(map[string]string)
	for i, n := range names {
		engines[n] = c.open(n, i).Engine
	}
	for i, n := range names {
		users := c.join(n, n)
		if !slices.Equal(users, names[:i+1]) {
			t.Fatalf("%s joined on node %d with users %v, want %v", n, i, users, names[:i+1])
		}
		// Everyone else connected hears of it (a connection hears general
		// from the start) before the next one comes.
		for _, other := range names {
			if other == n {
				continue
			}
			c.until(other+" hears of "+n, 5*time.Second, func() error {
				if got := c.state(other).presence(chat.EventUserConnected); !slices.Contains(got, n) {
					return fmt.Errorf("heard of %v", got)
				}
				return nil
			})
		}
	}
	ids := make(map[string]int64)
	for _, n := range names {
		ids[n] = c.say(n, "hello from "+n)[0]
	}
	if got := []int64{ids["Ann"], ids["Bob"], ids["Cy"]}; !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("message ids %v, want 1, 2, 3", got)
	}
	others := func(n string) []string {
		var out []string
		for _, o := range names {
			if o != n {
				out = append(out, "hello from "+o)
			}
		}
		return out
	}
	for _, n := range names {
		c.until(n+" hears the others' messages", 5*time.Second, func() error {
			if got := texts(c.state(n).messages()); len(got) < 2 {
				return fmt.Errorf("heard %q", got)
			}
			return nil
		})
	}
	c.call("close", "Cy")
	for _, n := range []string{"Ann", "Bob"} {
		c.until(n+" hears that Cy left", 5*time.Second, func() error {
			if got := c.state(n).presence(chat.EventUserDisconnected); len(got) == 0 {
				return fmt.Errorf("heard of nobody leaving")
			}
			return nil
		})
	}
	c.call("close", "Bob")
	c.until("Ann hears that Bob left", 5*time.Second, func() error {
		if got := c.state("Ann").presence(chat.EventUserDisconnected); len(got) < 2 {
			return fmt.Errorf("heard of %v leaving", got)
		}
		return nil
	})

	// What each heard, exactly, and nothing more for a second.
	want := map[string]struct{ connected, disconnected []string }{
		"Ann": {[]string{"Bob", "Cy"}, []string{"Cy", "Bob"}},
		"Bob": {[]string{"Ann", "Cy"}, []string{"Cy"}},
		"Cy":  {[]string{"Ann", "Bob"}, nil},
	}
	c.holds("what each heard", time.Second, func() error {
		for _, n := range names {
			s := c.state(n)
			if got := s.presence(chat.EventUserConnected); !slices.Equal(got, want[n].connected) {
				return fmt.Errorf("%s heard %v join, want %v", n, got, want[n].connected)
			}
			if got := s.presence(chat.EventUserDisconnected); !slices.Equal(got, want[n].disconnected) {
				return fmt.Errorf("%s heard %v leave, want %v", n, got, want[n].disconnected)
			}
			if got := texts(s.messages()); !slices.Equal(got, others(n)) {
				return fmt.Errorf("%s heard %q, want %q", n, got, others(n))
			}
		}
		return nil
	})

	// The WebSockets of those who left are logged now that they are
	// closed: each went where its polling went.
	for i, n := range names[1:] {
		c.placed(n, engines[n], i+1)
		c.until(n+"'s WebSocket in the access log", 5*time.Second, func() error {
			es, err := c.ng.AccessLog()
			if err != nil {
				return err
			}
			for _, e := range es {
				if e.Status == http.StatusSwitchingProtocols && strings.Contains(e.URI, "sid="+engines[n]) {
					return nil
				}
			}
			return fmt.Errorf("no 101 for session %s", engines[n])
		})
		c.placed(n, engines[n], i+1)
	}

	// A page served through nginx: its Origin is nginx's, port included.
	for _, tc := range []struct {
		origin string
		want   int
	}{{c.ng.URL, http.StatusOK}, {"http://elsewhere.example", http.StatusForbidden}} {
		req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, c.ng.URL+"/socket.io/?EIO=4&transport=polling", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", tc.origin)
		resp, err := nginxtest.From(c.spare[0][0]).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("polling handshake from origin %s through nginx: %s, want %d", tc.origin, resp.Status, tc.want)
		}
	}
}

// testNginxKill has Alice chat on node 0, kills node 0 with SIGKILL, has
// Bob and Carol, on the other nodes, send 30 messages while she is away,
// and brings her back through nginx, which sends her to another node:
// her session is recovered there, with every one of the 30 messages, once
// each, in order.
func testNginxKill(t *testing.T, bin string) {
	c := newNginxCluster(t, bin, 40*time.Second)
	alice := c.open("Alice", 0)
	c.open("Bob", 1)
	c.open("Carol", 2)
	for _, n := range []string{"Alice", "Bob", "Carol"} {
		c.join(n, n)
	}
	c.say("Bob", "before")
	c.until("Alice hears Bob, over WebSocket", 5*time.Second, func() error {
		s := c.state("Alice")
		if got := texts(s.messages()); !slices.Equal(got, []string{"before"}) {
			return fmt.Errorf("heard %q", got)
		}
		var w peerWhere
		if err := json.Unmarshal(c.call("where", "Alice"), &w); err != nil {
			return err
		}
		if w.Transport != "websocket" {
			return fmt.Errorf("on %s", w.Transport)
		}
		return nil
	})

	// She reconnects by hand once the messages are sent, as she would by
	// herself, with the same session and offset.
	c.call("reconnection", "Alice", false)
	c.procs[0].stop(t, syscall.SIGKILL)
	c.until("Alice disconnected", 5*time.Second, func() error {
		if s := c.state("Alice"); s.Connected || len(s.Disconnects) == 0 {
			return fmt.Errorf("connected: %v, disconnects %v", s.Connected, s.Disconnects)
		}
		return nil
	})
	var missed []string
	var ids []int64
	for i := range 30 {
		from := []string{"Bob", "Carol"}[i%2]
		text := fmt.Sprintf("missed %d from %s", i, from)
		missed = append(missed, text)
		ids = append(ids, c.say(from, text)...)
	}
	if first := ids[0]; !slices.Equal(ids, idSpan(first, first+29)) {
		t.Errorf("the 30 messages got ids %v, want 30 in a row", ids)
	}
	c.call("reconnection", "Alice", true)
	var back peerWhere
	if err := json.Unmarshal(c.call("connect", "Alice"), &back); err != nil {
		t.Fatal(err)
	}
	s := c.state("Alice")
	t.Logf("Alice was disconnected (%v) and is back: %+v", s.Disconnects, back)
	// Node 0 is gone: nginx passed her to the next node after it.
	es, err := c.ng.AccessLog()
	if err != nil {
		t.Fatal(err)
	}
	where, passedOver := "", false
	for _, e := range es {
		if strings.Contains(e.URI, "sid="+back.Engine) {
			where = e.Upstream()
		}
		if e.Client == c.from["Alice"] && len(e.Upstreams) > 1 && e.Upstreams[0] == c.addrs[0] {
			passedOver = true
		}
	}
	t.Logf("Alice's new session went to %s; a request of hers was passed over from node 0, which is dead: %v", where, passedOver)
	switch where {
	case c.addrs[1]:
		c.placed("Alice", back.Engine, 1)
	case c.addrs[2]:
		c.placed("Alice", back.Engine, 2)
	default:
		t.Fatalf("Alice's new session %s went to %q, want node 1 or 2 of %v", back.Engine, where, c.addrs)
	}
	if !back.Recovered {
		t.Errorf("Alice's session was not recovered on the node nginx sent her to (%s)", where)
	}
	if back.ID != alice.ID {
		t.Errorf("Alice's socket is %s after the recovery, was %s", back.ID, alice.ID)
	}
	c.say("Bob", "after")
	want := append(append([]string{"before"}, missed...), "after")
	c.until("Alice gets what she missed, then what came after", 10*time.Second, func() error {
		if got := texts(c.state("Alice").messages()); !slices.Equal(got, want) {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	})
	msgs := c.state("Alice").messages()
	for i, m := range msgs[1:31] {
		if m.ID != ids[i] {
			t.Errorf("missed message %q has id %d, was acknowledged as %d", m.Message, m.ID, ids[i])
		}
	}
}

// testNginxRedisRestart has Bob and Carol, on nodes 1 and 2, send
// messages while Redis is stopped and started again (empty), with
// listeners on every node: every message acknowledged to its sender
// reaches everyone else in the room, once, in id order, and nobody's
// connection drops.
func testNginxRedisRestart(t *testing.T, bin string) {
	c := newNginxCluster(t, bin, 60*time.Second)
	senders := []string{"Bob", "Carol"}
	everyone := []string{"L0", "L1", "L2", "Bob", "Carol"}
	for i, n := range everyone[:3] {
		c.open(n, i)
	}
	c.open("Bob", 1)
	c.open("Carol", 2)
	for _, n := range everyone {
		c.join(n, n)
	}
	const each = 60
	for _, s := range senders {
		var ts []string
		for i := range each {
			ts = append(ts, fmt.Sprintf("%s %d", s, i))
		}
		c.startSending(s, ts, 40*time.Millisecond)
	}
	acked := func() int {
		n := 0
		for _, s := range senders {
			sends, _ := c.sent(s)
			for _, x := range sends {
				if x.OK {
					n++
				}
			}
		}
		return n
	}
	atLeast := func(n int) func() error {
		return func() error {
			if got := acked(); got < n {
				return fmt.Errorf("%d acknowledged", got)
			}
			return nil
		}
	}
	c.until("20 messages acknowledged", 10*time.Second, atLeast(20))
	c.redis.Stop()
	down := acked()
	t.Logf("Redis stopped after %d messages acknowledged", down)
	c.until("20 more acknowledged while Redis is down", 10*time.Second, atLeast(down+20))
	now := acked()
	t.Logf("%d messages acknowledged, %d of them while Redis is down; L0, on node 0, has %d of them",
		now, now-down, len(c.state("L0").messages()))
	c.redis.Start()
	t.Logf("Redis started again, empty")
	sends := make(map[string][]peerSend)
	c.until("the senders done", 30*time.Second, func() error {
		for _, s := range senders {
			var done bool
			if sends[s], done = c.sent(s); !done {
				return fmt.Errorf("%s has sent %d", s, len(sends[s]))
			}
		}
		return nil
	})
	byID := make(map[int64]string) // acknowledged: id → sender
	for _, s := range senders {
		for _, x := range sends[s] {
			if x.OK {
				byID[x.ID] = s
			} else {
				t.Logf("%s: %q not acknowledged: %+v", s, x.Text, x)
			}
		}
	}
	if len(byID) < 40 {
		t.Fatalf("only %d messages acknowledged", len(byID))
	}
	for _, n := range everyone {
		var want []int64
		for id, s := range byID {
			if s != n {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		c.until(n+" has every acknowledged message of the others", 20*time.Second, func() error {
			got := c.state(n).messages()
			have := make(map[int64]bool)
			for i, m := range got {
				if i > 0 && m.ID <= got[i-1].ID {
					return fmt.Errorf("id %d after %d", m.ID, got[i-1].ID)
				}
				have[m.ID] = true
			}
			var lost []int64
			for _, id := range want {
				if !have[id] {
					lost = append(lost, id)
				}
			}
			if len(lost) > 0 {
				return fmt.Errorf("%d of %d missing: %v", len(lost), len(want), lost)
			}
			return nil
		})
	}
	for _, n := range everyone {
		if s := c.state(n); !s.Connected || len(s.Disconnects) > 0 {
			t.Errorf("%s was disconnected: %v (connected: %v)", n, s.Disconnects, s.Connected)
		}
	}
}

// testNginxConcurrent has two senders, on nodes 0 and 1, send 200
// messages each to general at once, as fast as their acknowledgements
// (and the rate limit) allow: listeners on the three nodes get every
// id, each once, one after the other.
func testNginxConcurrent(t *testing.T, bin string) {
	c := newNginxCluster(t, bin, 60*time.Second)
	senders := []string{"S0", "S1"}
	listeners := []string{"L0", "L1", "L2"}
	for i, n := range senders {
		c.open(n, i)
	}
	for i, n := range listeners {
		c.open(n, i)
	}
	for _, n := range append(slices.Clone(senders), listeners...) {
		c.join(n, n)
	}
	const each = 200
	for _, s := range senders {
		var ts []string
		for i := range each {
			ts = append(ts, fmt.Sprintf("%s %d", s, i))
		}
		c.startSending(s, ts, 0)
	}
	sends := make(map[string][]peerSend)
	c.until("the senders done", 40*time.Second, func() error {
		for _, s := range senders {
			var done bool
			if sends[s], done = c.sent(s); !done {
				return fmt.Errorf("%s has sent %d", s, len(sends[s]))
			}
		}
		return nil
	})
	var all []int64
	mine := make(map[string][]int64)
	for _, s := range senders {
		for _, x := range sends[s] {
			if !x.OK {
				t.Fatalf("%s: %q refused: %+v", s, x.Text, x)
			}
			all = append(all, x.ID)
			mine[s] = append(mine[s], x.ID)
		}
	}
	slices.Sort(all)
	want := idSpan(all[0], all[0]+2*each-1)
	if !slices.Equal(all, want) {
		t.Fatalf("the %d messages were acknowledged with ids %v, want %d..%d", len(all), all, want[0], want[len(want)-1])
	}
	for _, n := range listeners {
		c.until(n+" gets every id, in order", 15*time.Second, func() error {
			got := messageIDs(c.state(n).messages())
			if !slices.Equal(got, want) {
				return fmt.Errorf("%d ids, want %d: %v", len(got), len(want), firstDifference(got, want))
			}
			return nil
		})
	}
	// A sender gets the other's messages, in order; its own only when its
	// node read them from the store to fill a gap (docs/cluster.md).
	for i, s := range senders {
		other := mine[senders[1-i]]
		c.until(s+" gets the other's messages, in order", 15*time.Second, func() error {
			got := messageIDs(c.state(s).messages())
			for j := 1; j < len(got); j++ {
				if got[j] <= got[j-1] {
					return fmt.Errorf("id %d after %d", got[j], got[j-1])
				}
			}
			for _, id := range other {
				if !slices.Contains(got, id) {
					return fmt.Errorf("id %d missing", id)
				}
			}
			return nil
		})
	}
}

// firstDifference says where got and want part.
func firstDifference(got, want []int64) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d, %d where %d was due", i, got[i], want[i])
		}
	}
	if len(got) < len(want) {
		return fmt.Sprintf("%d..%d missing", want[len(got)], want[len(want)-1])
	}
	return fmt.Sprintf("%d extra after %d", len(got)-len(want), want[len(want)-1])
}
