package adaptertest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// Namespaces: what is sent in one reaches its sockets alone, though the
// nodes share one broker.

// otherNsp is the namespace the checks of Namespaces add to "/".
const otherNsp = "/other"

// namespaceChecks are the checks of two namespaces on one cluster.
func namespaceChecks() []check {
	return []check{
		{group: "Namespaces", name: "Broadcast", run: testNamespaceBroadcast},
		{group: "Namespaces", name: "SocketsJoin", run: testNamespaceJoin},
		{group: "Namespaces", name: "DisconnectSockets", run: testNamespaceDisconnect},
		{group: "Namespaces", name: "FetchSockets", run: testNamespaceFetch},
		{group: "Namespaces", name: "ServerSideEmit", run: testNamespaceServerSide},
	}
}

// twoNamespaces makes otherNsp on every node, connects to each node a
// client of "/" (m<i>) and one of otherNsp (o<i>), all in room red, and
// waits until fetchSockets on otherNsp, from every node, returns every
// o<i>: the nodes' adapters of otherNsp, made after Start, have joined the
// cluster.
func twoNamespaces(e *env) (main, other []*client) {
	e.t.Helper()
	for i := range e.cluster.Nodes {
		e.cluster.Nodes[i].Server.Of(otherNsp)
	}
	for i := range e.cluster.Nodes {
		m := e.connectTo(i, "/", "m"+strconv.Itoa(i), nil)
		o := e.connectTo(i, otherNsp, "o"+strconv.Itoa(i), nil)
		m.ss().Join(red)
		o.ss().Join(red)
		main, other = append(main, m), append(other, o)
	}
	for i := range e.cluster.Nodes {
		wait.For(e.t, fmt.Sprintf("fetchSockets of %s on %s to return every socket", otherNsp, nodeName(i)), e.patience, func() error {
			list, err := e.fetchIDs(i, otherNsp, nil)
			if err != nil {
				return err
			}
			if len(list) != len(other) {
				return fmt.Errorf("%d sockets", len(list))
			}
			return nil
		})
	}
	return main, other
}

// fetchIDs returns the sorted ids of the sockets in rooms (every socket
// when nil) that fetchSockets on namespace nsp of node i returns.
func (e *env) fetchIDs(i int, nsp string, rooms []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestWait)
	defer cancel()
	list, err := e.cluster.Nodes[i].Server.Of(nsp).To(rooms...).FetchSockets(ctx)
	var ids []string
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids, err
}

// idsOf returns the sorted socket ids of clients.
func idsOf(list []*client) []string {
	var ids []string
	for _, cl := range list {
		ids = append(ids, cl.id)
	}
	slices.Sort(ids)
	return ids
}

// of returns namespace nsp of node i.
func (e *env) of(i int, nsp string) *socketio.Namespace { return e.cluster.Nodes[i].Server.Of(nsp) }

// testNamespaceBroadcast checks that broadcasts to every socket, to a room
// of the same name in both namespaces and to another namespace's socket id
// reach the sockets of their namespace alone.
func testNamespaceBroadcast(e *env) {
	main, other := twoNamespaces(e)
	for _, c := range []struct {
		event string
		from  int
		op    func() *socketio.BroadcastOperator
		want  []*client
	}{
		{"every-socket-of-other", 0, func() *socketio.BroadcastOperator { return e.of(0, otherNsp).Except() }, other},
		{"every-socket-of-main", 1, func() *socketio.BroadcastOperator { return e.of(1, "/").Except() }, main},
		{"red-of-other", 2, func() *socketio.BroadcastOperator { return e.of(2, otherNsp).To(red) }, other},
		{"a-main-socket-id-in-other", 0, func() *socketio.BroadcastOperator { return e.of(0, otherNsp).To(main[1].id) }, nil},
	} {
		if err := c.op().Emit(c.event); err != nil {
			e.t.Fatalf("%s: %v", c.event, err)
		}
		e.expectOnce(c.from, c.event, c.want)
	}
}

// testNamespaceJoin checks that socketsJoin in otherNsp moves its sockets
// alone.
func testNamespaceJoin(e *env) {
	main, other := twoNamespaces(e)
	if err := e.of(1, otherNsp).To(red).SocketsJoin(joined); err != nil {
		e.t.Fatal(err)
	}
	inJoined := func(list []*client) int {
		n := 0
		for _, cl := range list {
			if slices.Contains(cl.ss().Rooms(), joined) {
				n++
			}
		}
		return n
	}
	wait.For(e.t, "every socket of "+otherNsp+" in joined", e.patience, func() bool { return inJoined(other) == len(other) })
	e.fence(1)
	if n := inJoined(main); n != 0 {
		e.t.Errorf("%d sockets of / joined the room that those of %s were to join", n, otherNsp)
	}
}

// testNamespaceDisconnect checks that disconnectSockets in otherNsp
// disconnects its sockets alone.
func testNamespaceDisconnect(e *env) {
	main, other := twoNamespaces(e)
	if err := e.of(2, otherNsp).DisconnectSockets(false); err != nil {
		e.t.Fatal(err)
	}
	for _, cl := range other {
		select {
		case <-cl.so.Done():
		case <-time.After(e.patience):
			e.t.Fatalf("%s still connected", cl.label)
		}
	}
	e.fence(2)
	for _, cl := range main {
		if !cl.so.Connected() {
			e.t.Errorf("%s, of /, disconnected by a disconnectSockets of %s", cl.label, otherNsp)
		}
	}
}

// testNamespaceFetch checks that fetchSockets returns the sockets of its
// namespace alone, though those of the other are in rooms of the same
// names.
func testNamespaceFetch(e *env) {
	main, other := twoNamespaces(e)
	for i := range e.cluster.Nodes {
		for _, c := range []struct {
			nsp   string
			rooms []string
			want  []*client
		}{
			{otherNsp, []string{red}, other},
			{"/", []string{red}, main},
			{"/", nil, main},
			{otherNsp, []string{main[0].id}, nil},
		} {
			ids, err := e.fetchIDs(i, c.nsp, c.rooms)
			if err != nil {
				e.t.Fatalf("fetchSockets of %s on %s: %v", c.nsp, nodeName(i), err)
			}
			if want := idsOf(c.want); !slices.Equal(ids, want) {
				e.t.Errorf("fetchSockets of %s in %v on %s returned %v, want %v", c.nsp, c.rooms, nodeName(i), ids, want)
			}
		}
	}
}

// testNamespaceServerSide checks that a server-side event of otherNsp
// reaches the handlers of otherNsp alone.
func testNamespaceServerSide(e *env) {
	twoNamespaces(e)
	var mu sync.Mutex
	var mainCalls []int
	for i := range e.cluster.Nodes {
		e.of(i, "/").OnServerSideEmit("who", func(_ *sioparser.Message, ack func(any) error) {
			mu.Lock()
			mainCalls = append(mainCalls, i)
			mu.Unlock()
			if ack != nil {
				_ = ack(-1)
			}
		})
		e.of(i, otherNsp).OnServerSideEmit("who", func(_ *sioparser.Message, ack func(any) error) {
			if ack != nil {
				_ = ack(i)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.patience)
	defer cancel()
	replies, err := e.of(0, otherNsp).ServerSideEmitWithAck(ctx, "who")
	if err != nil {
		e.t.Fatal(err)
	}
	var got []int
	for i := range replyCount(replies) {
		var n int
		_ = replies.Bind(i, &n)
		got = append(got, n)
	}
	if slices.Sort(got); !slices.Equal(got, []int{1, 2}) {
		e.t.Errorf("ServerSideEmitWithAck of %s: replies %v, want [1 2], those of its handlers on nodes 1 and 2", otherNsp, got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(mainCalls) != 0 {
		e.t.Errorf("the handlers of / on nodes %v got a server-side event of %s", mainCalls, otherNsp)
	}
}
