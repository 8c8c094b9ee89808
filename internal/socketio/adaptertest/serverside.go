package adaptertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/test/wait"
)

// Server-side events between nodes: ServerSideEmit and
// ServerSideEmitWithAck.

// serverSideChecks are the checks of Adapter.ServerSideEmit and
// Adapter.ServerSideEmitWithAck.
func serverSideChecks() []check {
	return []check{
		{group: "ServerSideEmit", name: "OtherNodesOnce", run: func(e *env) { testServerSideEmit(e, false) }},
		{group: "ServerSideEmit", name: "Binary", needs: needBinary, run: func(e *env) { testServerSideEmit(e, true) }},
		{group: "ServerSideEmit", name: "WithAckOneReplyPerOtherNode", run: testServerSideAck},
		{group: "ServerSideEmit", name: "WithAckConcurrent", run: testServerSideConcurrent},
		{group: "ServerSideEmit", name: "WithAckUnanswered", run: testServerSideUnanswered},
		{group: "ServerSideEmit", name: "WithAckSilentMember", needs: needSilent, run: testServerSideSilent},
	}
}

// sideCall is a server-side event one node handled.
type sideCall struct {
	node int
	args *sioparser.Message
}

// sideLog keeps the server-side events each node handles.
type sideLog struct {
	mu    sync.Mutex
	calls []sideCall
}

// handle sets, on every node, a handler of event that logs it and, when
// asked for a reply, replies with reply(node, args) unless that is nil.
func (e *env) handle(event string, reply func(node int, args *sioparser.Message) any) *sideLog {
	l := &sideLog{}
	for i := range e.cluster.Nodes {
		e.nsp(i).OnServerSideEmit(event, func(args *sioparser.Message, ack func(any) error) {
			l.mu.Lock()
			l.calls = append(l.calls, sideCall{node: i, args: args})
			l.mu.Unlock()
			if ack == nil || reply == nil {
				return
			}
			if v := reply(i, args); v != nil {
				if err := ack(v); err != nil {
					e.t.Errorf("%s's reply to %q: %v", nodeName(i), event, err)
				}
			}
		})
	}
	return l
}

// nodes returns the nodes that handled an event, in order.
func (l *sideLog) nodes() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var list []int
	for _, c := range l.calls {
		list = append(list, c.node)
	}
	return list
}

// syncEvent is the event whose replies tell that the other nodes have
// handled what a node sent before it.
const syncEvent = "adaptertest:sync"

// testServerSideEmit sends a server-side event from node 1 and checks
// that every other node handles it once, with its arguments, and node 1
// does not.
func testServerSideEmit(e *env, binary bool) {
	calls := e.handle("ping", nil)
	e.handle(syncEvent, func(int, *sioparser.Message) any { return true })
	args := []any{1, "two", map[string]any{"three": []any{3.5, nil, true}}}
	if binary {
		args = append(args, []byte{0, 1, 255}, map[string]any{"b": []byte("é")})
	}
	if err := e.nsp(1).ServerSideEmit("ping", args...); err != nil {
		e.t.Fatalf("ServerSideEmit: %v", err)
	}
	// The replies to an event sent after it come once it is handled.
	ctx, cancel := context.WithTimeout(context.Background(), e.patience)
	defer cancel()
	if _, err := e.nsp(1).ServerSideEmitWithAck(ctx, syncEvent); err != nil {
		e.t.Fatalf("ServerSideEmitWithAck after ServerSideEmit: %v", err)
	}
	wait.For(e.t, "ping handled by nodes 0 and 2", e.patience, func() bool { return len(calls.nodes()) >= 2 })
	if got := slices.Sorted(slices.Values(calls.nodes())); !slices.Equal(got, []int{0, 2}) {
		e.t.Fatalf("ping from node 1 handled by nodes %v, want [0 2], once each", got)
	}
	calls.mu.Lock()
	defer calls.mu.Unlock()
	for _, c := range calls.calls {
		if err := checkPingArgs(c.args, binary); err != nil {
			e.t.Errorf("%s got ping with %v", nodeName(c.node), err)
		}
	}
}

// checkPingArgs checks the arguments of testServerSideEmit's event.
func checkPingArgs(m *sioparser.Message, binary bool) error {
	want := 3
	if binary {
		want = 5
	}
	if m.Len() != want {
		return fmt.Errorf("%d arguments, want %d", m.Len(), want)
	}
	var n int
	var s string
	var obj map[string][]any
	if m.Bind(0, &n) != nil || n != 1 || m.Bind(1, &s) != nil || s != "two" || m.Bind(2, &obj) != nil ||
		!slices.Equal(obj["three"], []any{3.5, nil, true}) {
		return fmt.Errorf("arguments %s", m.Args)
	}
	if !binary {
		return nil
	}
	var b []byte
	if err := m.Bind(3, &b); err != nil || !bytes.Equal(b, []byte{0, 1, 255}) {
		return fmt.Errorf("argument 3 %v (%v), want [0 1 255]", b, err)
	}
	v, err := m.Decode(4)
	mv, _ := v.(map[string]any)
	if bb, _ := mv["b"].([]byte); err != nil || string(bb) != "é" {
		return fmt.Errorf("argument 4 %#v (%v)", v, err)
	}
	return nil
}

// testServerSideAck sends a server-side event with a reply from each node
// in turn, and checks it gets one reply from each other node: binary
// ones too when the adapter carries them.
func testServerSideAck(e *env) {
	nodes := len(e.cluster.Nodes)
	e.handle("who", func(node int, args *sioparser.Message) any {
		var asker int
		_ = args.Bind(0, &asker)
		r := map[string]any{"node": node, "asker": asker}
		if e.f.Binary {
			r["bin"] = []byte{byte(node), 255}
		}
		return r
	})
	for from := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), e.patience)
		replies, err := e.nsp(from).ServerSideEmitWithAck(ctx, "who", from)
		cancel()
		if err != nil {
			e.t.Fatalf("ServerSideEmitWithAck from %s: %v", nodeName(from), err)
		}
		var got, want []int
		for i := range nodes {
			if i != from {
				want = append(want, i)
			}
		}
		for i := range replies.Len() {
			v, err := replies.Decode(i)
			r, _ := v.(map[string]any)
			nn, _ := r["node"].(json.Number)
			an, _ := r["asker"].(json.Number)
			node, err1 := nn.Int64()
			asker, err2 := an.Int64()
			if err != nil || err1 != nil || err2 != nil || int(asker) != from {
				e.t.Fatalf("reply %d to %s: %#v (%v)", i, nodeName(from), v, err)
			}
			if bin, _ := r["bin"].([]byte); e.f.Binary && !bytes.Equal(bin, []byte{byte(node), 255}) {
				e.t.Errorf("reply %d to %s: binary %v, want [%d 255]", i, nodeName(from), r["bin"], node)
			}
			got = append(got, int(node))
		}
		if slices.Sort(got); !slices.Equal(got, want) {
			e.t.Errorf("ServerSideEmitWithAck from %s: replies of nodes %v, want %v, once each", nodeName(from), got, want)
		}
	}
}

// testServerSideConcurrent sends many server-side events with replies
// from every node at once: each gets the replies to its own arguments, one
// per other node.
func testServerSideConcurrent(e *env) {
	e.handle("echo", func(node int, args *sioparser.Message) any {
		var k int
		_ = args.Bind(0, &k)
		return []int{node, k}
	})
	const count = 20
	nodes := len(e.cluster.Nodes)
	var wg sync.WaitGroup
	errs := make(chan error, count*nodes)
	for from := range nodes {
		for k := range count {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), e.patience)
				defer cancel()
				key := from*count + k
				replies, err := e.nsp(from).ServerSideEmitWithAck(ctx, "echo", key)
				if err != nil {
					errs <- fmt.Errorf("echo %d from %s: %w", key, nodeName(from), err)
					return
				}
				var got []int
				for i := range replyCount(replies) {
					var r []int
					if err := replies.Bind(i, &r); err != nil || len(r) != 2 || r[1] != key {
						errs <- fmt.Errorf("echo %d from %s: reply %s", key, nodeName(from), replies.Args[i])
						return
					}
					got = append(got, r[0])
				}
				var want []int
				for i := range nodes {
					if i != from {
						want = append(want, i)
					}
				}
				if slices.Sort(got); !slices.Equal(got, want) {
					errs <- fmt.Errorf("echo %d from %s: replies of nodes %v, want %v", key, nodeName(from), got, want)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Error(err)
	}
}

// testServerSideUnanswered sends a server-side event that node 2 does not
// reply to: the request ends by the end of its context, with node 1's
// reply and an error.
func testServerSideUnanswered(e *env) {
	e.handle("who", func(node int, _ *sioparser.Message) any {
		if node == 2 {
			return nil
		}
		return node
	})
	checkPartialReplies(e, "a node that does not reply", []int{1})
}

// testServerSideSilent sends a server-side event with a reply on a
// cluster with a member that never answers: the request ends by the end
// of its context, with the replies of the nodes and an error.
func testServerSideSilent(e *env) {
	e.handle("who", func(node int, _ *sioparser.Message) any { return node })
	e.cluster.AddSilent(e.t)
	checkPartialReplies(e, "a member that does not answer", []int{1, 2})
}

// checkPartialReplies asks "who" from node 0 within requestWait, and
// checks it ends in time with the replies of want and an error.
func checkPartialReplies(e *env, what string, want []int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestWait)
	defer cancel()
	began := time.Now()
	replies, err := e.nsp(0).ServerSideEmitWithAck(ctx, "who")
	took := time.Since(began)
	if err == nil {
		e.t.Errorf("ServerSideEmitWithAck with %s: no error", what)
	}
	if took > requestWait+time.Second {
		e.t.Errorf("ServerSideEmitWithAck with %s took %v, for a context of %v", what, took, requestWait)
	}
	if replies == nil {
		e.t.Fatalf("ServerSideEmitWithAck with %s: no replies, want those of nodes %v", what, want)
	}
	var got []int
	for i := range replies.Len() {
		var n int
		if err := replies.Bind(i, &n); err != nil {
			e.t.Fatalf("reply %d: %s: %v", i, replies.Args[i], err)
		}
		got = append(got, n)
	}
	if slices.Sort(got); !slices.Equal(got, want) {
		e.t.Errorf("ServerSideEmitWithAck with %s: replies of nodes %v, want %v", what, got, want)
	}
}

// replyCount returns the number of replies in m, 0 when m is nil.
func replyCount(m *sioparser.Message) int {
	if m == nil {
		return 0
	}
	return m.Len()
}
