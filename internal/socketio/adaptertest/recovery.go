package adaptertest

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/test/wait"
)

// Connection state recovery across nodes.

// How a client leaves, and where it comes back, in testRecovery.
type recoveryWay int

const (
	// toOtherNodes: its connection to node 0 is lost and it comes back
	// to node 1; then that one is lost and it comes back to node 2.
	toOtherNodes recoveryWay = iota
	// toTheSameNode: its connection to node 0 is lost; it comes back to
	// node 0.
	toTheSameNode
	// afterItsNodeClosed: node 0 closes; it comes back to node 1.
	afterItsNodeClosed
	// toANodeStartedSince: its connection to node 0 is lost; it comes
	// back to a node started after the events it missed, which has them
	// from the broker alone.
	toANodeStartedSince
)

// recoveryChecks are the checks of connection state recovery.
func recoveryChecks() []check {
	return []check{
		{group: "Recovery", name: "OnOtherNodes", needs: needRecovery, run: func(e *env) { testRecovery(e, toOtherNodes) }},
		{group: "Recovery", name: "OnTheSameNode", needs: needRecovery, run: func(e *env) { testRecovery(e, toTheSameNode) }},
		{group: "Recovery", name: "AfterItsNodeClosed", needs: needRecovery, run: func(e *env) { testRecovery(e, afterItsNodeClosed) }},
		{group: "Recovery", name: "OnANodeStartedSince", needs: needRecovery | needAddNode, run: func(e *env) { testRecovery(e, toANodeStartedSince) }},
		{group: "Recovery", name: "UnknownSession", needs: needRecovery, run: func(e *env) { testNotRecovered(e, unknownSession) }},
		{group: "Recovery", name: "UnknownOffset", needs: needRecovery, run: func(e *env) { testNotRecovered(e, unknownOffset) }},
		{group: "Recovery", name: "NoneAfterDisconnectSockets", needs: needRecovery, run: func(e *env) { testNotRecovered(e, disconnectedByAnotherNode) }},
	}
}

// Placeholders for socket ids in missedPlan.
const (
	idOfX = "$x"
	idOfW = "$w"
)

// missedPlan is what is broadcast while the client x of testRecovery is
// away, from nodes 1 and 2 in turn. x is in r, j and j2 (and, before its
// second hop, leaves j2); the witness w is in r, other, j and gone, and
// gets each broadcast but those of another namespace, so that the suite
// can wait for each to be in the log before making the next. Whether x is
// to get one follows from its rooms.
var missedPlan = []struct {
	from       int
	to, except []string // to nil: every socket
	nsp        string   // its namespace when not "/"
}{
	{1, []string{"r"}, nil, ""},
	{2, []string{"r"}, nil, ""},
	{1, nil, nil, ""},
	{2, []string{"other"}, nil, ""},
	{1, []string{"j"}, nil, ""},    // joined through another node
	{2, []string{"gone"}, nil, ""}, // left through another node
	{2, []string{idOfX, idOfW}, nil, ""},
	{1, nil, []string{idOfX}, ""},
	{1, []string{"r"}, []string{"j2"}, ""},
	{2, []string{"r"}, nil, ""},
	{1, nil, nil, otherNsp},
	{1, []string{"other", "j2"}, nil, ""},
	{2, []string{"r"}, nil, otherNsp},
	{2, nil, nil, ""},
}

// reaches reports whether a broadcast to the sockets in any of to (every
// socket when nil) but those in any of except reaches a socket in rooms.
func reaches(to, except, rooms []string) bool {
	for _, r := range except {
		if slices.Contains(rooms, r) {
			return false
		}
	}
	if to == nil {
		return true
	}
	for _, r := range to {
		if slices.Contains(rooms, r) {
			return true
		}
	}
	return false
}

// ids replaces the placeholders of rooms by the socket ids of x and w.
func ids(rooms []string, x, w *client) []string {
	if rooms == nil {
		return nil
	}
	out := make([]string, len(rooms))
	for i, r := range rooms {
		switch r {
		case idOfX:
			r = x.id
		case idOfW:
			r = w.id
		}
		out[i] = r
	}
	return out
}

// emitSeq broadcasts "seq" k from node from to the sockets in any of to
// (every socket when nil) but those in any of except.
func (e *env) emitSeq(from int, to, except []string, k int) {
	e.t.Helper()
	e.emitSeqIn(from, "/", to, except, k)
}

// emitSeqIn is emitSeq in namespace nsp.
func (e *env) emitSeqIn(from int, nsp string, to, except []string, k int) {
	e.t.Helper()
	op := e.of(from, nsp).Except(except...)
	if to != nil {
		op = op.To(to...)
	}
	if err := op.Emit("seq", k); err != nil {
		e.t.Fatalf("broadcast %d from %s: %v", k, nodeName(from), err)
	}
}

// seqs returns the numbers of the "seq" events a client got, in order,
// and checks that each carries an offset: a string as its last argument.
func (cl *client) seqs() []int {
	cl.e.t.Helper()
	var list []int
	for _, ev := range cl.got("seq") {
		var k int
		var offset string
		if ev.Len() != 2 || ev.Bind(0, &k) != nil || ev.Bind(1, &offset) != nil || offset == "" {
			cl.e.t.Fatalf("%s: seq event %s, want a number and an offset", cl.label, ev.Args)
		}
		list = append(list, k)
	}
	return list
}

// awayFrom0 connects the witness w to node 2, in r, other, j and gone, and
// x to node 0, in r (joined on its node), j and j2 (joined through node
// 1) and not gone (joined on its node, left through node 2), with data;
// has "seq" 0 broadcast to r; and returns them with x's offset.
func (e *env) awayFrom0() (x, w *client, offset string) {
	e.t.Helper()
	w = e.connect(2, "w", nil)
	w.ss().Join("r", "other", "j", "gone")
	x = e.connect(0, "x", nil)
	if x.pid == "" {
		e.t.Fatal("no private session id (pid) in the CONNECT reply with recovery on")
	}
	xs := x.ss()
	xs.Join("r", "gone")
	xs.SetData(map[string]any{"label": "x", "hop": 0})
	if err := e.nsp(1).To(x.id).SocketsJoin("j", "j2"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.nsp(2).To(x.id).SocketsLeave("gone"); err != nil {
		e.t.Fatal(err)
	}
	wait.For(e.t, "x in r, j and j2, not in gone", e.patience, func() bool {
		rooms := xs.Rooms()
		return slices.Contains(rooms, "j") && slices.Contains(rooms, "j2") && !slices.Contains(rooms, "gone")
	})
	e.emitSeq(1, []string{"r"}, nil, 0)
	x.await("seq", 1)
	w.await("seq", 1)
	if offset = x.lastOffset(); offset == "" {
		e.t.Fatalf("x's event has no offset: %s", x.got("seq")[0].Args)
	}
	return x, w, offset
}

// testRecovery has a client leave node 0 as way says, broadcasts
// missedPlan meanwhile from nodes 1 and 2, and has the client come back
// with its pid and offset: it must be recovered (its pid, id, rooms and
// data back) and get every event it missed, once, in order, then the live
// ones. With toOtherNodes, its rooms and data then change, it is lost
// again, and comes back again, as it then was.
func testRecovery(e *env, way recoveryWay) {
	x, w, offset := e.awayFrom0()
	sid, pid := x.id, x.pid
	rooms := []string{sid, "r", "j", "j2"}
	hops := []int{1}
	switch way {
	case toOtherNodes:
		hops = []int{1, 2}
	case toTheSameNode:
		hops = []int{0}
	}
	k, seen := 1, 1 // the next event's number, the events w has
	for hop, to := range hops {
		if way == afterItsNodeClosed {
			e.closeNode(x.node)
			select {
			case <-x.so.Done():
			case <-time.After(e.patience):
				e.t.Fatal("x still connected after its node closed")
			}
		} else {
			_ = x.c.Close() // the server sees the transport close
			wait.For(e.t, fmt.Sprintf("x's socket gone from %s", nodeName(x.node)), e.patience, func() bool { return x.ss() == nil })
		}
		var want []int
		for _, p := range missedPlan {
			if p.nsp != "" {
				e.emitSeqIn(p.from, p.nsp, p.to, p.except, k)
				k++
				continue
			}
			to, except := ids(p.to, x, w), ids(p.except, x, w)
			e.emitSeq(p.from, to, except, k)
			// The witness gets each: once it has one, the next is made
			// after it, and the order of the log is that of the plan.
			seen++
			w.await("seq", seen)
			if reaches(to, except, rooms) {
				want = append(want, k)
			}
			k++
		}
		if way == toANodeStartedSince {
			to = e.addNode()
		}
		what := fmt.Sprintf("x back on %s (hop %d)", nodeName(to), hop+1)
		back := e.connect(to, "x", map[string]string{"pid": pid, "offset": offset})
		if back.pid != pid || back.id != sid {
			e.t.Fatalf("%s as socket %s, pid %s: not recovered (was %s, pid %s)", what, back.id, back.pid, sid, pid)
		}
		ss := back.ss()
		if !ss.Recovered() {
			e.t.Errorf("%s: its socket is not Recovered", what)
		}
		wantRooms := slices.Sorted(slices.Values(rooms))
		wait.For(e.t, fmt.Sprintf("%s in %v", what, wantRooms), e.patience, func() error {
			if got := slices.Sorted(slices.Values(ss.Rooms())); !slices.Equal(got, wantRooms) {
				return fmt.Errorf("in %v", got)
			}
			return nil
		})
		wantData := fmt.Sprintf(`{"label":"x","hop":%d}`, hop)
		if data, err := json.Marshal(ss.Data()); err != nil || !sameJSON(data, []byte(wantData)) {
			e.t.Errorf("%s: data %s (%v), want %s", what, data, err, wantData)
		}
		back.await("seq", len(want))
		e.emitSeq(2, []string{"j"}, nil, k)
		want = append(want, k)
		k++
		seen++
		back.await("seq", len(want))
		e.fence(1)
		e.fence(2)
		if got := back.seqs(); !slices.Equal(got, want) {
			e.t.Fatalf("%s got %v, want %v: every missed event once, in order, then the live one", what, got, want)
		}
		x, offset = back, back.lastOffset()
		// Before the next hop, its data changes on its node, and it leaves
		// j2 through another.
		ss.SetData(map[string]any{"label": "x", "hop": hop + 1})
		if err := e.nsp((to + 1) % len(e.cluster.Nodes)).To(sid).SocketsLeave("j2"); err != nil {
			e.t.Fatal(err)
		}
		rooms = []string{sid, "r", "j"}
		wait.For(e.t, "x out of j2", e.patience, func() bool { return !slices.Contains(ss.Rooms(), "j2") })
	}
}

// Why a client is not recovered, in testNotRecovered.
type notRecovered int

const (
	// unknownSession: it comes back with a pid nobody gave.
	unknownSession notRecovered = iota
	// unknownOffset: it comes back with an offset that is none of the
	// log's.
	unknownOffset
	// disconnectedByAnotherNode: another node disconnected its socket
	// (disconnectSockets), which ends a session for good.
	disconnectedByAnotherNode
)

// testNotRecovered has a client leave node 0 as why says and come back
// to node 1 with a pid and offset that cannot recover it: it must connect
// as a new socket, with nothing replayed.
func testNotRecovered(e *env, why notRecovered) {
	x, w, offset := e.awayFrom0()
	sid, pid := x.id, x.pid
	if why == disconnectedByAnotherNode {
		if err := e.nsp(2).To(x.id).DisconnectSockets(false); err != nil {
			e.t.Fatal(err)
		}
	} else {
		_ = x.c.Close()
	}
	wait.For(e.t, "x's socket gone from node 0", e.patience, func() bool { return x.ss() == nil })
	e.emitSeq(2, []string{"r"}, nil, 1)
	w.await("seq", 2)
	auth := map[string]string{"pid": pid, "offset": offset}
	switch why {
	case unknownSession:
		auth["pid"] = "unknown-pid-" + pid[:8]
	case unknownOffset:
		auth["offset"] = "not-an-offset-of-the-log"
	}
	back := e.connect(1, "x", auth)
	if back.id == sid || back.pid == pid || back.pid == "" {
		e.t.Fatalf("x back with %v as socket %s, pid %q: recovered, or no new pid (was %s, pid %s)", auth, back.id, back.pid, sid, pid)
	}
	ss := back.ss()
	if ss.Recovered() {
		e.t.Error("x's new socket is Recovered")
	}
	if rooms := ss.Rooms(); !slices.Equal(rooms, []string{back.id}) {
		e.t.Errorf("x's new socket is in %v, want its own room only", rooms)
	}
	e.emitSeq(2, nil, nil, liveSeq)
	back.await("seq", 1)
	e.fence(2)
	e.fence(1)
	if got := back.seqs(); !slices.Equal(got, []int{liveSeq}) {
		e.t.Errorf("x got %v as a new socket, want only the live event %d", got, liveSeq)
	}
}

// liveSeq is the number of the event testNotRecovered broadcasts once the
// client is back.
const liveSeq = 100
