package adaptertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// What each client sends in its handshake: its label, as a query
// parameter, a header and the CONNECT payload's "label", so that
// FetchSockets can be checked to describe each socket as it connected.
// The header is one of those a server keeps (engineio.Session.Request).
const (
	labelParam  = "client"
	labelHeader = "Accept-Language"
)

// fenceEvent is the event of the suite's fences (see env.fence).
const fenceEvent = "adaptertest:fence"

// client is a client of one namespace of one node, connected over
// WebSocket with sioclient, that keeps what it receives.
type client struct {
	e       *env
	label   string
	node    int
	nsp     string // its namespace
	c       *sioclient.Client
	so      *sioclient.Socket
	id, pid string
	auth    map[string]string // the CONNECT payload

	mu     sync.Mutex
	events []*sioclient.Event // all but fences
	fences map[int64]int      // fence token -> times received
	offset string             // what the official client would send back
}

// connect connects a client labelled label to the main namespace of node
// i. extra is added to the CONNECT payload (a recovery's pid and offset).
func (e *env) connect(i int, label string, extra map[string]string) *client {
	e.t.Helper()
	return e.connectTo(i, "/", label, extra)
}

// connectTo connects a client labelled label to namespace nsp of node i.
func (e *env) connectTo(i int, nsp, label string, extra map[string]string) *client {
	t := e.t
	t.Helper()
	opts := &sioclient.Options{
		Transport: sioclient.TransportWebSocket,
		Query:     url.Values{labelParam: {label}},
		Header:    http.Header{labelHeader: {label}},
	}
	ctx := wait.Context(t, e.patience)
	c, err := sioclient.Dial(ctx, e.cluster.Nodes[i].URL, opts)
	if err != nil {
		t.Fatalf("%s: dialling %s: %v", label, nodeName(i), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cl := &client{e: e, label: label, node: i, nsp: nsp, c: c, fences: make(map[int64]int), auth: map[string]string{"label": label}}
	for k, v := range extra {
		cl.auth[k] = v
	}
	cl.so = c.Socket(nsp)
	cl.so.OnAny(cl.record)
	if err := cl.so.Connect(ctx, cl.auth); err != nil {
		t.Fatalf("%s: connecting to %s of %s: %v", label, nsp, nodeName(i), err)
	}
	cl.id, cl.pid = cl.so.ID(), cl.so.PID()
	if len(cl.id) != 20 {
		t.Errorf("%s's socket id %q has %d characters, want 20", label, cl.id, len(cl.id))
	}
	if cl.ss() == nil {
		t.Fatalf("%s: %s has no socket %s once the client is connected", label, nodeName(i), cl.id)
	}
	e.mu.Lock()
	e.clients = append(e.clients, cl)
	e.mu.Unlock()
	return cl
}

// record keeps an event, and the offset the official client would take
// from it: with recovery on (the socket has a pid), its last argument when
// that is a string (the event's name, when it has no arguments).
func (cl *client) record(ev *sioclient.Event) {
	recovery := cl.so.PID() != ""
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if recovery {
		var s string
		switch n := len(ev.Args); {
		case n == 0:
			cl.offset = ev.Name
		case json.Unmarshal(ev.Args[n-1], &s) == nil:
			cl.offset = s
		}
	}
	if ev.Name == fenceEvent {
		var token int64
		if ev.Bind(0, &token) == nil {
			cl.fences[token]++
		}
		return
	}
	cl.events = append(cl.events, ev)
}

// lastOffset returns the offset the client would reconnect with.
func (cl *client) lastOffset() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.offset
}

// ss returns the client's socket on its node's server, nil if it has none.
func (cl *client) ss() *socketio.Socket {
	return cl.e.cluster.Nodes[cl.node].Server.Of(cl.nsp).Socket(cl.id)
}

// got returns the events called name the client received, in order.
func (cl *client) got(name string) []*sioclient.Event {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var list []*sioclient.Event
	for _, ev := range cl.events {
		if ev.Name == name {
			list = append(list, ev)
		}
	}
	return list
}

// count returns the number of events called name the client received.
func (cl *client) count(name string) int { return len(cl.got(name)) }

// await waits until the client has received n events called name.
func (cl *client) await(name string, n int) {
	cl.e.t.Helper()
	wait.For(cl.e.t, fmt.Sprintf("%s to receive %d %q", cl.label, n, name), cl.e.patience, func() bool { return cl.count(name) >= n })
}

// live returns the clients that are connected, to nodes still running.
func (e *env) live() []*client {
	e.mu.Lock()
	list := slices.Clone(e.clients)
	e.mu.Unlock()
	var out []*client
	for _, cl := range list {
		if !e.isClosed(cl.node) && cl.so.Connected() {
			out = append(out, cl)
		}
	}
	return out
}

// fence broadcasts a marker from node from to every socket, in every
// namespace the clients use, and waits until every connected client has
// it, once: then whatever node from sent before it has reached every
// node, and been handled there.
func (e *env) fence(from int) {
	e.t.Helper()
	token := e.fences.Add(1)
	var namespaces []string
	for _, cl := range e.live() {
		if !slices.Contains(namespaces, cl.nsp) {
			namespaces = append(namespaces, cl.nsp)
		}
	}
	for _, nsp := range namespaces {
		if err := e.cluster.Nodes[from].Server.Of(nsp).Emit(fenceEvent, token); err != nil {
			e.t.Fatalf("fence from %s: %v", nodeName(from), err)
		}
	}
	for _, cl := range e.live() {
		wait.For(e.t, fmt.Sprintf("%s to receive fence %d from %s", cl.label, token, nodeName(from)), e.patience, func() bool {
			cl.mu.Lock()
			defer cl.mu.Unlock()
			return cl.fences[token] > 0
		})
	}
	for _, cl := range e.live() {
		cl.mu.Lock()
		n := cl.fences[token]
		cl.mu.Unlock()
		if n != 1 {
			e.t.Errorf("%s received fence %d from %s %d times, want once", cl.label, token, nodeName(from), n)
		}
	}
}

// expectOnce checks that the event called name, sent from node from,
// reaches each client of want exactly once and no other connected client.
func (e *env) expectOnce(from int, name string, want []*client) {
	e.t.Helper()
	for _, cl := range want {
		cl.await(name, 1)
	}
	e.fence(from)
	var got []string
	for _, cl := range e.live() {
		for range cl.count(name) {
			got = append(got, cl.label)
		}
	}
	wantLabels := labels(want)
	slices.Sort(got)
	slices.Sort(wantLabels)
	if !slices.Equal(got, wantLabels) {
		e.t.Errorf("%q from %s reached %v, want %v (each label once per copy received)", name, nodeName(from), got, wantLabels)
	}
}

// mesh is the sockets most checks use: two on each node, a<i> and b<i>,
// each with data {"label": its label, "node": i}, in the rooms red (every
// a<i>) and blue (a1 and every b<i> but b0): a1 is in both, b0 in none.
type mesh struct {
	*env
	clients []*client          // a0 b0 a1 b1 ...
	byLabel map[string]*client // "a0" -> a0
}

// Rooms of a mesh.
const (
	red  = "red"
	blue = "blue"
)

// newMesh connects the mesh's clients and puts their sockets in rooms.
func newMesh(e *env) *mesh {
	e.t.Helper()
	m := &mesh{env: e, byLabel: make(map[string]*client)}
	for i := range e.cluster.Nodes {
		for _, side := range []string{"a", "b"} {
			cl := e.connect(i, side+strconv.Itoa(i), nil)
			ss := cl.ss()
			ss.SetData(map[string]any{"label": cl.label, "node": i})
			if side == "a" {
				ss.Join(red)
			}
			if side == "b" && i > 0 || cl.label == "a1" {
				ss.Join(blue)
			}
			m.clients = append(m.clients, cl)
			m.byLabel[cl.label] = cl
		}
	}
	return m
}

// get returns the clients of labels ("a0 b2"), in that order.
func (m *mesh) get(labels string) []*client {
	var list []*client
	for _, l := range strings.Fields(labels) {
		cl := m.byLabel[l]
		if cl == nil {
			m.t.Fatalf("no client %s in the mesh", l)
		}
		list = append(list, cl)
	}
	return list
}

// byID returns the mesh's client whose socket id is id, nil if none.
func (m *mesh) byID(id string) *client {
	for _, cl := range m.clients {
		if cl.id == id {
			return cl
		}
	}
	return nil
}

// id returns the socket id of the client labelled label.
func (m *mesh) id(label string) string { return m.get(label)[0].id }

// ss returns the server socket of the client labelled label.
func (m *mesh) ss(label string) *socketio.Socket {
	ss := m.get(label)[0].ss()
	if ss == nil {
		m.t.Fatalf("%s has no server socket", label)
	}
	return ss
}

// inRoom returns the labels of the mesh's connected clients whose
// sockets are in room, sorted.
func (m *mesh) inRoom(room string) []string {
	var list []string
	for _, cl := range m.clients {
		if ss := cl.ss(); ss != nil && slices.Contains(ss.Rooms(), room) {
			list = append(list, cl.label)
		}
	}
	slices.Sort(list)
	return list
}
