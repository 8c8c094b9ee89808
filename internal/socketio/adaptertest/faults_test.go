package adaptertest

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
)

// The suite fails broken adapters: each fault below is the hub adapter
// with one thing broken, and the checks it lists must fail with it, while
// they pass on the hub as it is.

// faultPatience is the patience of the runs of TestFaults: the faults
// fail each check sooner, and the checks pass the hub in milliseconds.
const faultPatience = 3 * time.Second

// broken is a hub adapter with some methods replaced by a fault's.
type broken struct {
	*hubAdapter
}

// fault is an adapter broken on purpose, and the checks that must fail
// with it: group/name, or WithRecovery/group/name for those run again with
// recovery on.
type fault struct {
	name  string
	wrap  func(n *socketio.Namespace, a *hubAdapter) socketio.Adapter
	fails []string
}

// notLocal is b for every node: the same broadcast without Local.
func notLocal(b *socketio.Broadcast) *socketio.Broadcast {
	return &socketio.Broadcast{Packet: b.Packet, Rooms: b.Rooms, Except: b.Except}
}

// dropsRemote keeps broadcasts to this node.
type dropsRemote struct{ broken }

func (a dropsRemote) Broadcast(b *socketio.Broadcast) error {
	return a.local.Broadcast(b)
}

// twice sends every broadcast twice.
type twice struct{ broken }

func (a twice) Broadcast(b *socketio.Broadcast) error {
	if !b.Local {
		_ = a.hubAdapter.Broadcast(notLocal(b))
	}
	return a.hubAdapter.Broadcast(b)
}

// noExcept forgets the rooms a broadcast leaves out.
type noExcept struct{ broken }

func (a noExcept) Broadcast(b *socketio.Broadcast) error {
	return a.hubAdapter.Broadcast(&socketio.Broadcast{Packet: b.Packet, Rooms: b.Rooms, Local: b.Local, Offset: b.Offset})
}

// leaksLocal sends the application's local broadcasts to every node.
type leaksLocal struct{ broken }

func (a leaksLocal) Broadcast(b *socketio.Broadcast) error {
	if b.Local && !a.isDelivery(b) {
		return a.hubAdapter.Broadcast(notLocal(b))
	}
	return a.hubAdapter.Broadcast(b)
}

// reorders swaps the "seq" broadcasts two by two.
type reorders struct {
	broken
	mu   *sync.Mutex
	held **socketio.Broadcast
}

func (a reorders) Broadcast(b *socketio.Broadcast) error {
	if b.Local || !strings.HasPrefix(string(b.Packet.Data), `["seq"`) {
		return a.hubAdapter.Broadcast(b)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if *a.held == nil {
		*a.held = b
		return nil
	}
	first := *a.held
	*a.held = nil
	_ = a.hubAdapter.Broadcast(b)
	return a.hubAdapter.Broadcast(first)
}

// opsStayLocal applies the operations on sockets to this node's alone.
type opsStayLocal struct{ broken }

func (a opsStayLocal) AddSockets(rooms, except, join []string) error {
	return a.local.AddSockets(rooms, except, join)
}

func (a opsStayLocal) DelSockets(rooms, except, leave []string) error {
	return a.local.DelSockets(rooms, except, leave)
}

func (a opsStayLocal) DisconnectSockets(rooms, except []string, closeConn bool) error {
	return a.local.DisconnectSockets(rooms, except, closeConn)
}

// opsNoExcept forgets the rooms an operation on sockets leaves out.
type opsNoExcept struct{ broken }

func (a opsNoExcept) AddSockets(rooms, _, join []string) error {
	return a.hubAdapter.AddSockets(rooms, nil, join)
}

func (a opsNoExcept) DelSockets(rooms, _, leave []string) error {
	return a.hubAdapter.DelSockets(rooms, nil, leave)
}

func (a opsNoExcept) DisconnectSockets(rooms, _ []string, closeConn bool) error {
	return a.hubAdapter.DisconnectSockets(rooms, nil, closeConn)
}

// keepsConnections never closes the connections of the sockets it
// disconnects.
type keepsConnections struct{ broken }

func (a keepsConnections) DisconnectSockets(rooms, except []string, _ bool) error {
	return a.hubAdapter.DisconnectSockets(rooms, except, false)
}

// fetchesLocal describes this node's sockets alone.
type fetchesLocal struct{ broken }

func (a fetchesLocal) FetchSockets(ctx context.Context, rooms, except []string) ([]socketio.RemoteSocket, error) {
	return a.local.FetchSockets(ctx, rooms, except)
}

// fetchHidesErrors returns what it has as if every node answered.
type fetchHidesErrors struct{ broken }

func (a fetchHidesErrors) FetchSockets(ctx context.Context, rooms, except []string) ([]socketio.RemoteSocket, error) {
	list, _ := a.hubAdapter.FetchSockets(ctx, rooms, except)
	return list, nil
}

// fetchLosesData describes the sockets without their data.
type fetchLosesData struct{ broken }

func (a fetchLosesData) FetchSockets(ctx context.Context, rooms, except []string) ([]socketio.RemoteSocket, error) {
	list, err := a.hubAdapter.FetchSockets(ctx, rooms, except)
	for i := range list {
		list[i].Data = json.RawMessage("null")
	}
	return list, err
}

// firstReply keeps the first reply to a server-side event.
type firstReply struct{ broken }

func (a firstReply) ServerSideEmitWithAck(ctx context.Context, args *sioparser.Message) (*sioparser.Message, error) {
	m, err := a.hubAdapter.ServerSideEmitWithAck(ctx, args)
	if m != nil && len(m.Args) > 1 {
		m.Args = m.Args[:1]
	}
	return m, err
}

// ackHidesErrors returns the replies it has as if every node answered.
type ackHidesErrors struct{ broken }

func (a ackHidesErrors) ServerSideEmitWithAck(ctx context.Context, args *sioparser.Message) (*sioparser.Message, error) {
	m, _ := a.hubAdapter.ServerSideEmitWithAck(ctx, args)
	return m, nil
}

// emitsToItself hands its server-side events to its own node too.
type emitsToItself struct{ broken }

func (a emitsToItself) ServerSideEmit(args *sioparser.Message) error {
	a.nsp.HandleServerSideEmit(args, nil)
	return a.hubAdapter.ServerSideEmit(args)
}

// forgetsSessions gives no session back.
type forgetsSessions struct{ broken }

func (a forgetsSessions) TakeSession(context.Context, string, string) (*socketio.SessionState, bool, error) {
	return nil, false, nil
}

// readsNothing reads the log without the events it holds.
type readsNothing struct{ broken }

func (a readsNothing) ReadAfter(ctx context.Context, offset string, limit int) ([]socketio.LoggedEvent, string, bool, error) {
	_, next, end, err := a.hubAdapter.ReadAfter(ctx, offset, limit)
	return nil, next, end, err
}

// anyOffset takes any offset for one of the log's.
type anyOffset struct{ broken }

func (a anyOffset) ParseOffset(offset string) (socketio.Offset, bool) {
	o, _ := a.hubAdapter.ParseOffset(offset)
	return o, true
}

func (a anyOffset) TakeSession(ctx context.Context, pid, offset string) (*socketio.SessionState, bool, error) {
	s, _, err := a.hubAdapter.TakeSession(ctx, pid, offset)
	return s, true, err
}

// faults are the broken adapters and the checks each must fail.
var faults = []fault{
	{name: "drops remote broadcasts",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return dropsRemote{broken{a}} },
		fails: []string{"Broadcast/All", "Broadcast/SocketID", "Broadcast/Order", "WithRecovery/Broadcast/Room", "Recovery/OnOtherNodes"}},
	{name: "sends broadcasts twice",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return twice{broken{a}} },
		fails: []string{"Broadcast/All", "Broadcast/Rooms", "WithRecovery/Broadcast/SocketID"}},
	{name: "ignores except",
		wrap: func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return noExcept{broken{a}} },
		fails: []string{"Broadcast/RoomExceptRoom", "Broadcast/AllExceptRooms", "Broadcast/AllExceptSocketID", "Broadcast/RoomExceptSocketID",
			"Broadcast/FromSocket", "Broadcast/FromSocketToItsRoom", "Broadcast/LocalExceptSocketID", "WithRecovery/Broadcast/FromSocket"}},
	{name: "sends local broadcasts to every node",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return leaksLocal{broken{a}} },
		fails: []string{"Broadcast/Local", "Broadcast/LocalRoom", "Broadcast/LocalToAnotherNodesSocket", "WithRecovery/Broadcast/Local"}},
	{name: "reorders broadcasts",
		wrap: func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter {
			var held *socketio.Broadcast
			return reorders{broken{a}, new(sync.Mutex), &held}
		},
		fails: []string{"Broadcast/Order", "WithRecovery/Broadcast/Order"}},
	{name: "applies operations on sockets to its own node's",
		wrap: func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return opsStayLocal{broken{a}} },
		fails: []string{"SocketsJoin/All", "SocketsJoin/SocketID", "SocketsLeave/Room", "SocketsLeave/SocketID", "DisconnectSockets/Room",
			"DisconnectSockets/SocketID", "FetchSockets/ActOnRemoteSocket", "Namespaces/SocketsJoin", "Recovery/OnOtherNodes"}},
	{name: "ignores the except of operations on sockets",
		wrap: func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return opsNoExcept{broken{a}} },
		fails: []string{"SocketsJoin/RoomExceptRoom", "SocketsJoin/AllExceptSocketID", "SocketsLeave/AllExceptSocketID",
			"DisconnectSockets/RoomExceptSocketID", "DisconnectSockets/AllExceptRoomClosingConnections"}},
	{name: "never closes connections",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return keepsConnections{broken{a}} },
		fails: []string{"DisconnectSockets/AllExceptRoomClosingConnections", "DisconnectSockets/SocketIDClosingConnection"}},
	{name: "fetches its own node's sockets",
		wrap: func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return fetchesLocal{broken{a}} },
		fails: []string{"FetchSockets/All", "FetchSockets/Room", "FetchSockets/Rooms", "FetchSockets/AllExceptRoom", "FetchSockets/SocketID",
			"FetchSockets/ActOnRemoteSocket", "FetchSockets/SilentMember", "NodeClose/GoneFromTheOthers", "Namespaces/FetchSockets"}},
	{name: "fetches without an error when a node does not answer",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return fetchHidesErrors{broken{a}} },
		fails: []string{"FetchSockets/SilentMember"}},
	{name: "fetches sockets without their data",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return fetchLosesData{broken{a}} },
		fails: []string{"FetchSockets/All", "FetchSockets/Rooms", "FetchSockets/SocketID"}},
	{name: "keeps the first reply",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return firstReply{broken{a}} },
		fails: []string{"ServerSideEmit/WithAckOneReplyPerOtherNode", "ServerSideEmit/WithAckSilentMember", "Namespaces/ServerSideEmit"}},
	{name: "replies without an error when a node does not answer",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return ackHidesErrors{broken{a}} },
		fails: []string{"ServerSideEmit/WithAckUnanswered", "ServerSideEmit/WithAckSilentMember"}},
	{name: "hands server-side events to its own node",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return emitsToItself{broken{a}} },
		fails: []string{"ServerSideEmit/OtherNodesOnce", "ServerSideEmit/Binary"}},
	{name: "gives no session back",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return forgetsSessions{broken{a}} },
		fails: []string{"Recovery/OnOtherNodes", "Recovery/OnTheSameNode", "Recovery/AfterItsNodeClosed", "Recovery/OnANodeStartedSince"}},
	{name: "reads the log without its events",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return readsNothing{broken{a}} },
		fails: []string{"Recovery/OnANodeStartedSince"}},
	{name: "takes any offset for one of the log's",
		wrap:  func(_ *socketio.Namespace, a *hubAdapter) socketio.Adapter { return anyOffset{broken{a}} },
		fails: []string{"Recovery/UnknownOffset"}},
}

// recorder is a testing.TB that records failures instead of failing the
// test, so that a check can be run to see whether it fails. It embeds
// the real test for what it does not override (TempDir, Context...).
type recorder struct {
	testing.TB

	mu       sync.Mutex
	failed   bool
	skipped  bool
	logs     []string
	cleanups []func()
}

func (r *recorder) Helper() {}

func (r *recorder) log(failed bool, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = r.failed || failed
	r.logs = append(r.logs, s)
}

func (r *recorder) Log(args ...any)                 { r.log(false, fmt.Sprint(args...)) }
func (r *recorder) Logf(format string, args ...any) { r.log(false, fmt.Sprintf(format, args...)) }
func (r *recorder) Error(args ...any)               { r.log(true, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) {
	r.log(true, fmt.Sprintf(format, args...))
}
func (r *recorder) Fail()    { r.log(true, "Fail") }
func (r *recorder) FailNow() { r.Fail(); runtime.Goexit() }
func (r *recorder) Fatal(args ...any) {
	r.Error(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) SkipNow() {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) {
	r.Log(args...)
	r.SkipNow()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.Logf(format, args...)
	r.SkipNow()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// goexits runs f on a goroutine of its own, which Fatal may end, and
// waits for it.
func goexits(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// runRecorded runs check c against f with a recorder, then its cleanups,
// last first, and returns the recorder.
func runRecorded(t *testing.T, f Factory, c check) *recorder {
	r := &recorder{TB: t}
	goexits(func() { runCheck(r, f, c) })
	for {
		r.mu.Lock()
		n := len(r.cleanups)
		var last func()
		if n > 0 {
			last = r.cleanups[n-1]
			r.cleanups = r.cleanups[:n-1]
		}
		r.mu.Unlock()
		if last == nil {
			return r
		}
		goexits(last)
	}
}

// checksByName returns every check, its recovery variants included, by
// the name a fault lists it by.
func checksByName() map[string]check {
	m := make(map[string]check)
	for _, c := range checks() {
		m[c.group+"/"+c.name] = c
	}
	for _, c := range recoveryVariants() {
		m["WithRecovery/"+c.group+"/"+c.name] = c
	}
	return m
}

// TestFaults runs, for each fault, the checks it lists: each must pass on
// the hub and fail with the fault.
func TestFaults(t *testing.T) {
	byName := checksByName()
	sem := make(chan struct{}, 8) // clusters running at once
	run := func(t *testing.T, wrap func(*socketio.Namespace, *hubAdapter) socketio.Adapter, c check) *recorder {
		sem <- struct{}{}
		defer func() { <-sem }()
		f := hubFactory(wrap)
		f.Patience = faultPatience
		return runRecorded(t, f, c)
	}
	// Each listed check passes on the hub itself, with the same patience.
	var baseline sync.Map // name -> *recorder
	baselineOf := func(t *testing.T, name string) *recorder {
		v, _ := baseline.LoadOrStore(name, sync.OnceValue(func() *recorder { return run(t, nil, byName[name]) }))
		return v.(func() *recorder)()
	}
	for _, ft := range faults {
		t.Run(ft.name, func(t *testing.T) {
			t.Parallel()
			var wg sync.WaitGroup
			for _, name := range ft.fails {
				c, ok := byName[name]
				if !ok {
					t.Errorf("no check %s", name)
					continue
				}
				wg.Go(func() {
					if r := baselineOf(t, name); r.Failed() || r.Skipped() {
						t.Errorf("%s fails, or is skipped, on the hub as it is: %s", name, strings.Join(r.logs, "; "))
						return
					}
					r := run(t, ft.wrap, c)
					switch {
					case r.Skipped():
						t.Errorf("%s skipped with the fault: %s", name, strings.Join(r.logs, "; "))
					case !r.Failed():
						t.Errorf("%s passes with the fault", name)
					default:
						t.Logf("%s fails: %s", name, firstLine(r.logs))
					}
				})
			}
			wg.Wait()
		})
	}
}

// firstLine returns the first failure of a recorder's logs.
func firstLine(logs []string) string {
	if len(logs) == 0 {
		return ""
	}
	s, _, _ := strings.Cut(logs[0], "\n")
	return s
}

// TestRecorder checks the recorder TestFaults relies on: a check that
// fails is seen to fail, one that passes to pass, and Fatal ends the check
// but not the test.
func TestRecorder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		run    func(e *env)
		failed bool
	}{
		{"passes", func(e *env) { e.t.Log("fine") }, false},
		{"errors", func(e *env) { e.t.Errorf("bad %d", 1) }, true},
		{"fatal", func(e *env) { e.t.Fatal("bad"); panic("not reached") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleaned := false
			f := Factory{Start: func(tb testing.TB, n int, cfg socketio.Config) *Cluster {
				c := &Cluster{}
				for range n {
					srv := socketio.NewServer(cfg)
					stop := func() error { return srv.Shutdown(context.Background()) }
					tb.Cleanup(func() { _ = stop() })
					c.Nodes = append(c.Nodes, &Node{Server: srv, URL: "http://127.0.0.1:1", Close: stop})
				}
				tb.Cleanup(func() { cleaned = true })
				return c
			}}
			r := runRecorded(t, f, check{group: "G", name: tc.name, run: tc.run})
			if r.Failed() != tc.failed || !cleaned {
				t.Errorf("failed %v, cleaned up %v; want %v, true (logs %q)", r.Failed(), cleaned, tc.failed, r.logs)
			}
			if !slices.Contains(r.logs, "fine") && !tc.failed {
				t.Errorf("logs %q", r.logs)
			}
		})
	}
}
