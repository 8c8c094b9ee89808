package adaptertest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
)

// broadcastCase is a broadcast made on node from, and the sockets of the
// mesh it must reach, each once.
type broadcastCase struct {
	name  string
	from  int
	needs need
	emit  func(m *mesh, n *socketio.Namespace, event string) error
	want  string // labels of the mesh
	// verify, when set, checks the arguments each client received.
	verify func(ev *sioclient.Event) error
}

// large is an argument of 256 KiB.
var large = strings.Repeat("0123456789abcdef", 16<<10)

// binaryArgs are the arguments of the binary broadcasts: a []byte, and
// one in a map.
var binaryArgs = []any{[]byte{0, 1, 2, 255}, map[string]any{"k": []byte("é"), "n": 1}}

// verifyBinary checks that an event carries binaryArgs.
func verifyBinary(ev *sioclient.Event) error {
	var b []byte
	if err := ev.Bind(0, &b); err != nil || !bytes.Equal(b, []byte{0, 1, 2, 255}) {
		return fmt.Errorf("argument 0 is %v (%v), want [0 1 2 255]", b, err)
	}
	v, err := ev.Decode(1)
	m, _ := v.(map[string]any)
	if k, _ := m["k"].([]byte); err != nil || string(k) != "é" {
		return fmt.Errorf("argument 1 is %#v (%v), want k: []byte(\"é\")", v, err)
	}
	return nil
}

var broadcastCases = []broadcastCase{
	{name: "All", from: 0, want: "a0 b0 a1 b1 a2 b2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Emit(ev, "x") }},
	{name: "Room", from: 2, want: "a0 a1 a2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.To(red).Emit(ev) }},
	{name: "Rooms", from: 0, want: "a0 a1 a2 b1 b2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.To(red, blue).Emit(ev) }},
	{name: "RoomExceptRoom", from: 1, want: "a0 a2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.To(red).Except(blue).Emit(ev) }},
	{name: "AllExceptRooms", from: 0, want: "b0",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Except(red, blue).Emit(ev) }},
	{name: "AllExceptSocketID", from: 0, want: "a0 b0 a1 b1 a2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Except(m.id("b2")).Emit(ev) }},
	{name: "SocketID", from: 2, want: "a0",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.To(m.id("a0")).Emit(ev) }},
	{name: "SocketIDsAndRoom", from: 0, want: "a0 a1 a2 b1 b2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error {
			return n.To(m.id("b1"), m.id("b2"), red, m.id("a1")).Emit(ev)
		}},
	{name: "RoomExceptSocketID", from: 0, want: "b1 b2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.To(blue).Except(m.id("a1")).Emit(ev) }},
	{name: "FromSocket", from: 1, want: "a0 b0 b1 a2 b2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return m.ss("a1").Broadcast().Emit(ev) }},
	{name: "FromSocketToItsRoom", from: 1, want: "b1 b2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return m.ss("a1").To(blue).Emit(ev) }},
	{name: "Local", from: 1, want: "a1 b1",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Local().Emit(ev) }},
	{name: "LocalRoom", from: 2, want: "a2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Local().To(red).Emit(ev) }},
	{name: "LocalExceptSocketID", from: 0, want: "b0",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Local().Except(m.id("a0")).Emit(ev) }},
	{name: "LocalToAnotherNodesSocket", from: 0, want: "",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Local().To(m.id("a1")).Emit(ev) }},
	{name: "EmptyRoom", from: 0, want: "",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.To("nobody").Emit(ev) }},
	{name: "Large", from: 2, want: "a0 b0 a1 b1 a2 b2",
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Emit(ev, large) },
		verify: func(ev *sioclient.Event) error {
			if s, _ := ev.String(0); s != large {
				return fmt.Errorf("argument of %d bytes, want %d", len(s), len(large))
			}
			return nil
		}},
	{name: "Binary", from: 1, needs: needBinary, want: "a0 b0 a1 b1 a2 b2", verify: verifyBinary,
		emit: func(m *mesh, n *socketio.Namespace, ev string) error { return n.Emit(ev, binaryArgs...) }},
	{name: "BinaryFromSocketToRoom", from: 2, needs: needBinary, want: "a0 a1 a2", verify: verifyBinary,
		emit: func(m *mesh, n *socketio.Namespace, ev string) error {
			return m.ss("b2").To(red).Emit(ev, binaryArgs...)
		}},
}

// broadcastChecks are the checks of Adapter.Broadcast.
func broadcastChecks() []check {
	var list []check
	for _, bc := range broadcastCases {
		list = append(list, check{group: "Broadcast", name: bc.name, needs: bc.needs, run: func(e *env) { testBroadcast(e, bc) }})
	}
	return append(list, check{group: "Broadcast", name: "Order", run: testOrder})
}

// testBroadcast makes the broadcast of bc and checks whom it reached.
func testBroadcast(e *env, bc broadcastCase) {
	m := newMesh(e)
	event := "bc-" + bc.name
	if err := bc.emit(m, e.nsp(bc.from), event); err != nil {
		e.t.Fatalf("broadcast from %s: %v", nodeName(bc.from), err)
	}
	want := m.get(bc.want)
	e.expectOnce(bc.from, event, want)
	if bc.verify == nil {
		return
	}
	for _, cl := range want {
		for _, ev := range cl.got(event) {
			if err := bc.verify(ev); err != nil {
				e.t.Errorf("%s: %v", cl.label, err)
			}
		}
	}
}

// orderCount is how many broadcasts each node makes in testOrder.
const orderCount = 200

// testOrder has every node make orderCount broadcasts at once, to every
// socket or to red, and checks that each socket gets those of each node
// in the order they were made, each once.
func testOrder(e *env) {
	m := newMesh(e)
	nodes := len(e.cluster.Nodes)
	var wg sync.WaitGroup
	errs := make(chan error, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := e.nsp(i)
			for k := range orderCount {
				op := n.Except()
				if k%2 == 1 {
					op = n.To(red)
				}
				if err := op.Emit("seq", i, k); err != nil {
					errs <- fmt.Errorf("broadcast %d from %s: %w", k, nodeName(i), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatal(err)
	}
	for _, cl := range m.clients {
		want := nodes * orderCount / 2
		if strings.HasPrefix(cl.label, "a") {
			want = nodes * orderCount
		}
		cl.await("seq", want)
	}
	for i := range nodes {
		e.fence(i)
	}
	for _, cl := range m.clients {
		next := make([]int, nodes) // the next k expected from each node
		step := 2
		if strings.HasPrefix(cl.label, "a") {
			step = 1
		}
		for j, ev := range cl.got("seq") {
			var from, k int
			if ev.Bind(0, &from) != nil || ev.Bind(1, &k) != nil || from < 0 || from >= nodes {
				e.t.Fatalf("%s: event %d is %s", cl.label, j, ev.Args)
			}
			if k != next[from] {
				e.t.Fatalf("%s: event %d is broadcast %d of %s, want %d: out of order, lost or repeated", cl.label, j, k, nodeName(from), next[from])
			}
			next[from] += step
		}
		for i, k := range next {
			if k < orderCount {
				e.t.Errorf("%s got %s's broadcasts up to %d of %d", cl.label, nodeName(i), k, orderCount)
			}
		}
	}
}
