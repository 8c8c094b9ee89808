package adaptertest

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/test/wait"
)

// Connection state recovery across nodes.

// How a client leaves, and where it comes back, in testRecovery.
type recoveryWay int

const (
	// toAnotherNode: its connection to node 0 is lost; it comes back to
	// node 1.
	toAnotherNode recoveryWay = iota
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
		{group: "Recovery", name: "OnAnotherNode", needs: needRecovery, run: func(e *env) { testRecovery(e, toAnotherNode) }},
		{group: "Recovery", name: "OnTheSameNode", needs: needRecovery, run: func(e *env) { testRecovery(e, toTheSameNode) }},
		{group: "Recovery", name: "AfterItsNodeClosed", needs: needRecovery, run: func(e *env) { testRecovery(e, afterItsNodeClosed) }},
		{group: "Recovery", name: "OnANodeStartedSince", needs: needRecovery | needAddNode, run: func(e *env) { testRecovery(e, toANodeStartedSince) }},
		{group: "Recovery", name: "UnknownSession", needs: needRecovery, run: func(e *env) { testNotRecovered(e, true) }},
		{group: "Recovery", name: "UnknownOffset", needs: needRecovery, run: func(e *env) { testNotRecovered(e, false) }},
	}
}

// missedPlan is what is broadcast while the client of testRecovery is
// away: from nodes 1 and 2 in turn, to its room r, to every socket, to a
// room it is not in.
var missedPlan = []struct {
	from  int
	rooms []string // nil: every socket
	forX  bool     // whether the client is to get it
}{
	{1, []string{"r"}, true},
	{2, []string{"r"}, true},
	{1, nil, true},
	{2, []string{"other"}, false},
	{2, []string{"r"}, true},
	{1, []string{"other", "r"}, true},
	{1, []string{"r"}, true},
	{2, nil, true},
	{1, []string{"other"}, false},
	{2, []string{"r"}, true},
}

// liveSeq is the number of the event broadcast once the client is back.
const liveSeq = 100

// emitSeq broadcasts "seq" k from node from to rooms (every socket when
// nil).
func (e *env) emitSeq(from int, rooms []string, k int) {
	e.t.Helper()
	op := e.nsp(from).Except()
	if rooms != nil {
		op = e.nsp(from).To(rooms...)
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

// awayFrom0 connects x to node 0, in room r with data, and the witness w
// to node 2, in r and other; has "seq" 0 broadcast to r; and returns them
// with x's id, pid and offset.
func (e *env) awayFrom0() (x, w *client, sid, pid, offset string) {
	e.t.Helper()
	w = e.connect(2, "w", nil)
	w.ss().Join("r", "other")
	x = e.connect(0, "x", nil)
	if x.pid == "" {
		e.t.Fatal("no private session id (pid) in the CONNECT reply with recovery on")
	}
	xs := x.ss()
	xs.Join("r")
	xs.SetData(map[string]any{"label": "x", "n": 1})
	e.emitSeq(1, []string{"r"}, 0)
	x.await("seq", 1)
	w.await("seq", 1)
	if offset = x.lastOffset(); offset == "" {
		e.t.Fatalf("x's event has no offset: %s", x.got("seq")[0].Args)
	}
	return x, w, x.id, x.pid, offset
}

// testRecovery has a client leave node 0 as way says, broadcasts
// missedPlan meanwhile from nodes 1 and 2, and has the client come back
// with its pid and offset: it must be recovered (its pid, id, rooms and
// data back) and get every event it missed, once, in order, then the live
// ones.
func testRecovery(e *env, way recoveryWay) {
	x, w, sid, pid, offset := e.awayFrom0()
	if way == afterItsNodeClosed {
		e.closeNode(0)
		select {
		case <-x.so.Done():
		case <-time.After(patience):
			e.t.Fatal("x still connected after its node closed")
		}
	} else {
		_ = x.c.Close() // the server sees the transport close
		wait.For(e.t, "x's socket gone from node 0", patience, func() bool { return x.ss() == nil })
	}
	var want []int
	for i, p := range missedPlan {
		k := i + 1
		e.emitSeq(p.from, p.rooms, k)
		// The witness is in every room: once it has an event, the next is
		// made after it, and the order of the log is that of the plan.
		w.await("seq", k+1)
		if p.forX {
			want = append(want, k)
		}
	}
	to := 1
	switch way {
	case toTheSameNode:
		to = 0
	case toANodeStartedSince:
		to = e.addNode()
	}
	back := e.connect(to, "x", map[string]string{"pid": pid, "offset": offset})
	if back.pid != pid || back.id != sid {
		e.t.Fatalf("x back on %s as socket %s, pid %s: not recovered (was %s, pid %s)", nodeName(to), back.id, back.pid, sid, pid)
	}
	ss := back.ss()
	if !ss.Recovered() {
		e.t.Errorf("x's socket on %s is not Recovered", nodeName(to))
	}
	wait.For(e.t, "x back in r", patience, func() bool { return slices.Contains(ss.Rooms(), "r") })
	if data, err := json.Marshal(ss.Data()); err != nil || !sameJSON(data, []byte(`{"label":"x","n":1}`)) {
		e.t.Errorf("x's data back as %s (%v)", data, err)
	}
	back.await("seq", len(want))
	e.emitSeq(2, []string{"r"}, liveSeq)
	back.await("seq", len(want)+1)
	e.fence(1)
	e.fence(2)
	want = append(want, liveSeq)
	if got := back.seqs(); !slices.Equal(got, want) {
		e.t.Errorf("x got %v once back, want %v: every missed event once, in order, then the live one", got, want)
	}
}

// testNotRecovered has a client leave node 0 and come back to node 1 with
// a pid the cluster does not know (unknownPID) or with its own and an
// offset that is none of the cluster's: it must connect as a new socket,
// with nothing replayed.
func testNotRecovered(e *env, unknownPID bool) {
	x, w, sid, pid, offset := e.awayFrom0()
	_ = x.c.Close()
	wait.For(e.t, "x's socket gone from node 0", patience, func() bool { return x.ss() == nil })
	e.emitSeq(2, []string{"r"}, 1)
	w.await("seq", 2)
	auth := map[string]string{"pid": pid, "offset": "not-an-offset-of-the-log"}
	if unknownPID {
		auth = map[string]string{"pid": "unknown-pid-" + pid[:8], "offset": offset}
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
	e.emitSeq(2, nil, liveSeq)
	back.await("seq", 1)
	e.fence(2)
	e.fence(1)
	if got := back.seqs(); !slices.Equal(got, []int{liveSeq}) {
		e.t.Errorf("x got %v as a new socket, want only the live event %d", got, liveSeq)
	}
}
