package adaptertest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// The operations on sockets across nodes: socketsJoin, socketsLeave and
// disconnectSockets.

// joined is the room the SocketsJoin checks make sockets join.
const joined = "joined"

// roomCase is an operation on the rooms of the mesh's sockets made on node
// from, and the members of red, blue and joined after it.
type roomCase struct {
	group, name string
	from        int
	op          func(m *mesh, n *socketio.Namespace) error
	// want holds the labels of the rooms' members after: red, blue and
	// joined, those not given being as newMesh made them (joined empty).
	want map[string]string
}

var roomCases = []roomCase{
	{group: "SocketsJoin", name: "All", from: 1,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.SocketsJoin(joined) },
		want: map[string]string{joined: "a0 a1 a2 b0 b1 b2"}},
	{group: "SocketsJoin", name: "Room", from: 0,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.To(blue).SocketsJoin(joined) },
		want: map[string]string{joined: "a1 b1 b2"}},
	{group: "SocketsJoin", name: "RoomExceptRoom", from: 2,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.To(red).Except(blue).SocketsJoin(joined, blue) },
		want: map[string]string{joined: "a0 a2", blue: "a0 a1 a2 b1 b2"}},
	{group: "SocketsJoin", name: "SocketID", from: 0,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.To(m.id("b2")).SocketsJoin(joined) },
		want: map[string]string{joined: "b2"}},
	{group: "SocketsJoin", name: "AllExceptSocketID", from: 0,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.Except(m.id("a1")).SocketsJoin(joined) },
		want: map[string]string{joined: "a0 a2 b0 b1 b2"}},
	{group: "SocketsJoin", name: "Local", from: 2,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.Local().SocketsJoin(joined) },
		want: map[string]string{joined: "a2 b2"}},
	{group: "SocketsLeave", name: "Room", from: 0,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.To(blue).SocketsLeave(red) },
		want: map[string]string{red: "a0 a2"}},
	{group: "SocketsLeave", name: "AllExceptSocketID", from: 2,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.Except(m.id("a0")).SocketsLeave(red, blue) },
		want: map[string]string{red: "a0", blue: ""}},
	{group: "SocketsLeave", name: "SocketID", from: 1,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.To(m.id("a2")).SocketsLeave(red) },
		want: map[string]string{red: "a0 a1"}},
	{group: "SocketsLeave", name: "Local", from: 1,
		op:   func(m *mesh, n *socketio.Namespace) error { return n.Local().SocketsLeave(blue) },
		want: map[string]string{blue: "b2"}},
}

// roomChecks are the checks of AddSockets and DelSockets.
func roomChecks() []check {
	var list []check
	for _, rc := range roomCases {
		list = append(list, check{group: rc.group, name: rc.name, run: func(e *env) { testRooms(e, rc) }})
	}
	return append(list,
		check{group: "SocketsJoin", name: "BetweenBroadcasts", run: func(e *env) { testBetweenBroadcasts(e, opJoin) }},
		check{group: "SocketsLeave", name: "BetweenBroadcasts", run: func(e *env) { testBetweenBroadcasts(e, opLeave) }},
		check{group: "DisconnectSockets", name: "BetweenBroadcasts", run: func(e *env) { testBetweenBroadcasts(e, opDisconnect) }},
	)
}

// The operations of testBetweenBroadcasts.
type socketsOp int

const (
	opJoin socketsOp = iota
	opLeave
	opDisconnect
)

// testBetweenBroadcasts has node 1 broadcast to a room, then make a1 (one
// of its own sockets) and b2 (another node's) join it, leave it or
// disconnect, then broadcast to it again: each node, node 1 included,
// must apply the operation between the two broadcasts, as it was made.
func testBetweenBroadcasts(e *env, op socketsOp) {
	m := newMesh(e)
	n := e.nsp(1)
	moved := m.get("a1 b2")
	room, before, after := blue, m.get("a1 b1 b2"), m.get("b1")
	switch op {
	case opJoin:
		room, before, after = joined, nil, moved
	case opDisconnect:
		room, before, after = "", m.clients, m.get("a0 b0 b1 a2")
	}
	emit := func(event string) {
		e.t.Helper()
		op := n.Except()
		if room != "" {
			op = n.To(room)
		}
		if err := op.Emit(event); err != nil {
			e.t.Fatal(err)
		}
	}
	emit("before")
	var err error
	switch sel := n.To(moved[0].id, moved[1].id); op {
	case opJoin:
		err = sel.SocketsJoin(room)
	case opLeave:
		err = sel.SocketsLeave(room)
	case opDisconnect:
		err = sel.DisconnectSockets(false)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	emit("after")
	if op == opDisconnect {
		for _, cl := range moved {
			select {
			case <-cl.so.Done():
			case <-time.After(e.patience):
				e.t.Fatalf("%s not disconnected", cl.label)
			}
			if got := cl.count("before"); got != 1 {
				e.t.Errorf("%s got %d copies of the broadcast made before its disconnection, want 1", cl.label, got)
			}
			if got := cl.count("after"); got != 0 {
				e.t.Errorf("%s got the broadcast made after its disconnection", cl.label)
			}
		}
		before = m.get("a0 b0 b1 a2")
	}
	e.expectOnce(1, "before", before)
	e.expectOnce(1, "after", after)
}

// testRooms makes the operation of rc and checks the rooms after it: on
// the servers, and as a broadcast to them sees them.
func testRooms(e *env, rc roomCase) {
	m := newMesh(e)
	want := map[string]string{red: "a0 a1 a2", blue: "a1 b1 b2", joined: ""}
	for r, w := range rc.want {
		want[r] = w
	}
	if err := rc.op(m, e.nsp(rc.from)); err != nil {
		e.t.Fatalf("operation on %s: %v", nodeName(rc.from), err)
	}
	matches := func() error {
		for _, r := range []string{red, blue, joined} {
			w := strings.Fields(want[r])
			slices.Sort(w)
			if got := m.inRoom(r); !slices.Equal(got, w) {
				return fmt.Errorf("%s holds %v, want %v", r, got, w)
			}
		}
		return nil
	}
	wait.For(e.t, "the rooms after the operation", e.patience, matches)
	e.fence(rc.from)
	if err := matches(); err != nil {
		e.t.Fatalf("after a fence: %v", err)
	}
	// A broadcast from another node reaches the rooms as they are now.
	other := (rc.from + 1) % len(e.cluster.Nodes)
	for _, r := range []string{red, joined} {
		event := "after-" + r
		if err := e.nsp(other).To(r).Emit(event); err != nil {
			e.t.Fatal(err)
		}
		e.expectOnce(other, event, m.get(want[r]))
	}
}

// disconnectCase is a disconnectSockets made on node from, and the
// sockets of the mesh it disconnects.
type disconnectCase struct {
	name      string
	from      int
	closeConn bool
	op        func(m *mesh, n *socketio.Namespace, closeConn bool) error
	gone      string
}

var disconnectCases = []disconnectCase{
	{name: "Room", from: 0, gone: "a1 b1 b2",
		op: func(m *mesh, n *socketio.Namespace, c bool) error { return n.To(blue).DisconnectSockets(c) }},
	{name: "RoomExceptSocketID", from: 2, gone: "a0 a1",
		op: func(m *mesh, n *socketio.Namespace, c bool) error {
			return n.To(red).Except(m.id("a2")).DisconnectSockets(c)
		}},
	{name: "AllExceptRoomClosingConnections", from: 1, closeConn: true, gone: "b0 b1 b2",
		op: func(m *mesh, n *socketio.Namespace, c bool) error { return n.Except(red).DisconnectSockets(c) }},
	{name: "SocketID", from: 0, gone: "b1",
		op: func(m *mesh, n *socketio.Namespace, c bool) error { return n.To(m.id("b1")).DisconnectSockets(c) }},
	{name: "SocketIDClosingConnection", from: 0, closeConn: true, gone: "a2",
		op: func(m *mesh, n *socketio.Namespace, c bool) error { return n.To(m.id("a2")).DisconnectSockets(c) }},
	{name: "Local", from: 2, gone: "b2",
		op: func(m *mesh, n *socketio.Namespace, c bool) error { return n.Local().To(blue).DisconnectSockets(c) }},
}

// disconnectChecks are the checks of Adapter.DisconnectSockets.
func disconnectChecks() []check {
	var list []check
	for _, dc := range disconnectCases {
		list = append(list, check{group: "DisconnectSockets", name: dc.name, run: func(e *env) { testDisconnect(e, dc) }})
	}
	return list
}

// testDisconnect makes the disconnectSockets of dc and checks whom it
// disconnected, and whether their connections were closed.
func testDisconnect(e *env, dc disconnectCase) {
	m := newMesh(e)
	gone := m.get(dc.gone)
	if err := dc.op(m, e.nsp(dc.from), dc.closeConn); err != nil {
		e.t.Fatalf("disconnectSockets on %s: %v", nodeName(dc.from), err)
	}
	for _, cl := range gone {
		select {
		case <-cl.so.Done():
		case <-time.After(e.patience):
			e.t.Fatalf("%s not disconnected within %v", cl.label, e.patience)
		}
		if dc.closeConn {
			select {
			case <-cl.c.Done():
			case <-time.After(e.patience):
				e.t.Fatalf("%s's connection not closed within %v", cl.label, e.patience)
			}
		} else if r := cl.so.Reason(); r != sioclient.ReasonServerDisconnect {
			e.t.Errorf("%s disconnected with reason %q, want %q", cl.label, r, sioclient.ReasonServerDisconnect)
		}
		wait.For(e.t, cl.label+"'s socket gone from its server", e.patience, func() bool { return cl.ss() == nil })
	}
	e.fence(dc.from)
	for _, cl := range m.clients {
		if slices.Contains(gone, cl) {
			if !dc.closeConn {
				select {
				case <-cl.c.Done():
					e.t.Errorf("%s's connection closed, though only its socket was to be disconnected", cl.label)
				default:
				}
			}
			continue
		}
		if !cl.so.Connected() || cl.ss() == nil {
			e.t.Errorf("%s disconnected (%q), though not selected", cl.label, cl.so.Reason())
		}
	}
}
