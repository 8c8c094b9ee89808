package adaptertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// fetchCase is a fetchSockets made on node from, and the sockets of the
// mesh it must return, each once.
type fetchCase struct {
	name  string
	from  int
	fetch func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error)
	want  string
}

var fetchCases = []fetchCase{
	{name: "All", from: 0, want: "a0 b0 a1 b1 a2 b2",
		fetch: func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error) {
			return n.FetchSockets(ctx)
		}},
	{name: "Room", from: 1, want: "a0 a1 a2",
		fetch: func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error) {
			return n.To(red).FetchSockets(ctx)
		}},
	{name: "Rooms", from: 2, want: "a0 a1 a2 b1 b2",
		fetch: func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error) {
			return n.To(red, blue).FetchSockets(ctx)
		}},
	{name: "AllExceptRoom", from: 0, want: "a0 b0 a2",
		fetch: func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error) {
			return n.Except(blue).FetchSockets(ctx)
		}},
	{name: "RoomExceptSocketID", from: 1, want: "a1 b1",
		fetch: func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error) {
			return n.To(blue).Except(m.id("b2")).FetchSockets(ctx)
		}},
	{name: "SocketID", from: 0, want: "b2",
		fetch: func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error) {
			return n.To(m.id("b2")).FetchSockets(ctx)
		}},
	{name: "EmptyRoom", from: 2, want: "",
		fetch: func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error) {
			return n.To("nobody").FetchSockets(ctx)
		}},
	{name: "Local", from: 2, want: "a2 b2",
		fetch: func(m *mesh, n *socketio.Namespace, ctx context.Context) ([]socketio.RemoteSocket, error) {
			return n.Local().FetchSockets(ctx)
		}},
}

// fetchChecks are the checks of Adapter.FetchSockets.
func fetchChecks() []check {
	var list []check
	for _, fc := range fetchCases {
		list = append(list, check{group: "FetchSockets", name: fc.name, run: func(e *env) { testFetch(e, fc) }})
	}
	return append(list,
		check{group: "FetchSockets", name: "ActOnRemoteSocket", run: testActOnRemote},
		check{group: "FetchSockets", name: "Concurrent", run: testFetchConcurrent},
		check{group: "FetchSockets", name: "SilentMember", needs: needSilent, run: testFetchSilent},
	)
}

// testFetch makes the fetchSockets of fc and checks what it returns.
func testFetch(e *env, fc fetchCase) {
	m := newMesh(e)
	ctx, cancel := context.WithTimeout(context.Background(), e.patience)
	defer cancel()
	list, err := fc.fetch(m, e.nsp(fc.from), ctx)
	if err != nil {
		e.t.Fatalf("fetchSockets on %s: %v", nodeName(fc.from), err)
	}
	m.checkFetched(fmt.Sprintf("fetchSockets on %s", nodeName(fc.from)), list, m.get(fc.want))
}

// checkFetched checks that list describes the sockets of want, each once,
// as their servers see them.
func (m *mesh) checkFetched(what string, list []socketio.RemoteSocket, want []*client) {
	m.t.Helper()
	byID := make(map[string]*client)
	for _, cl := range m.clients {
		byID[cl.id] = cl
	}
	var got []string
	for i := range list {
		r := &list[i]
		cl := byID[r.ID]
		if cl == nil {
			m.t.Errorf("%s: socket %q is none of the mesh's", what, r.ID)
			continue
		}
		got = append(got, cl.label)
		if err := m.describes(r, cl); err != nil {
			m.t.Errorf("%s: %s: %v", what, cl.label, err)
		}
	}
	w := labels(want)
	slices.Sort(got)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		m.t.Errorf("%s returned %v, want %v", what, got, w)
	}
}

// describes checks that r describes the socket of cl as its server has
// it: id, rooms, data and handshake.
func (m *mesh) describes(r *socketio.RemoteSocket, cl *client) error {
	ss := cl.ss()
	if ss == nil {
		return fmt.Errorf("no server socket")
	}
	rooms, want := slices.Sorted(slices.Values(r.Rooms)), slices.Sorted(slices.Values(ss.Rooms()))
	if !slices.Equal(rooms, want) {
		return fmt.Errorf("rooms %v, want %v", rooms, want)
	}
	data, err := json.Marshal(ss.Data())
	if err != nil {
		return err
	}
	if !sameJSON(r.Data, data) {
		return fmt.Errorf("data %s, want %s", r.Data, data)
	}
	h, sh := &r.Handshake, ss.Handshake()
	auth, _ := json.Marshal(cl.auth)
	switch {
	case h.URL == nil:
		return fmt.Errorf("handshake without a URL")
	case h.URL.Query().Get(labelParam) != cl.label || h.URL.Query().Get("EIO") != "4":
		return fmt.Errorf("handshake URL %s, want the query %s=%s and EIO=4", h.URL, labelParam, cl.label)
	case h.Headers.Get(labelHeader) != cl.label:
		return fmt.Errorf("handshake header %s: %q, want %q", labelHeader, h.Headers.Get(labelHeader), cl.label)
	case !sameHeaders(h.Headers, sh.Headers):
		return fmt.Errorf("handshake headers %v, want %v", h.Headers, sh.Headers)
	case !sameJSON(h.Auth, auth):
		return fmt.Errorf("handshake auth %s, want %s", h.Auth, auth)
	case h.Time.Sub(sh.Time).Abs() > time.Second:
		return fmt.Errorf("handshake time %v, want %v", h.Time, sh.Time)
	case host(h.Address) != host(sh.Address):
		return fmt.Errorf("handshake address %q, want %q", h.Address, sh.Address)
	case h.Secure != sh.Secure:
		return fmt.Errorf("handshake secure %v, want %v", h.Secure, sh.Secure)
	}
	return nil
}

// sameHeaders reports whether got has every header of want, with the
// same values (joined by commas, as the reference joins them).
func sameHeaders(got, want http.Header) bool {
	for k, v := range want {
		if strings.Join(got.Values(k), ", ") != strings.Join(v, ", ") {
			return false
		}
	}
	return true
}

// host returns the host of a host:port address, or the address.
func host(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// fetchRounds is how many times testFetchConcurrent makes each of
// fetchCases.
const fetchRounds = 4

// testFetchConcurrent makes every fetchSockets of fetchCases, from every
// node, fetchRounds times, all at once: each gets its own answers.
func testFetchConcurrent(e *env) {
	m := newMesh(e)
	var wg sync.WaitGroup
	errs := make(chan error, fetchRounds*len(fetchCases)*len(e.cluster.Nodes))
	for range fetchRounds {
		for _, fc := range fetchCases {
			for from := range e.cluster.Nodes {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), e.patience)
					defer cancel()
					list, err := fc.fetch(m, e.nsp(from), ctx)
					if err != nil {
						errs <- fmt.Errorf("%s on %s: %w", fc.name, nodeName(from), err)
						return
					}
					want := fc.want
					if fc.name == "Local" {
						want = fmt.Sprintf("a%d b%d", from, from)
					}
					var got []string
					for _, r := range list {
						if cl := m.byID(r.ID); cl != nil {
							got = append(got, cl.label)
						} else {
							got = append(got, r.ID)
						}
					}
					w := strings.Fields(want)
					slices.Sort(got)
					slices.Sort(w)
					if !slices.Equal(got, w) {
						errs <- fmt.Errorf("%s on %s returned %v, want %v", fc.name, nodeName(from), got, w)
					}
				})
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Error(err)
	}
}

// testActOnRemote fetches another node's socket and acts on it through
// the RemoteSocket: emit, join, leave, disconnect.
func testActOnRemote(e *env) {
	m := newMesh(e)
	ctx, cancel := context.WithTimeout(context.Background(), e.patience)
	defer cancel()
	list, err := e.nsp(0).To(m.id("b2")).FetchSockets(ctx)
	if err != nil || len(list) != 1 {
		e.t.Fatalf("fetchSockets of b2: %d sockets, %v", len(list), err)
	}
	r := &list[0]
	if err := r.Emit("hello", "from node 0"); err != nil {
		e.t.Fatal(err)
	}
	e.expectOnce(0, "hello", m.get("b2"))
	if err := r.Join(joined); err != nil {
		e.t.Fatal(err)
	}
	if err := r.Leave(blue); err != nil {
		e.t.Fatal(err)
	}
	b2 := m.get("b2")[0]
	wait.For(e.t, "b2 in joined and out of blue", e.patience, func() bool {
		rooms := b2.ss().Rooms()
		return slices.Contains(rooms, joined) && !slices.Contains(rooms, blue)
	})
	if got := m.inRoom(blue); !slices.Equal(got, []string{"a1", "b1"}) {
		e.t.Errorf("blue holds %v, want [a1 b1]", got)
	}
	if err := r.Disconnect(false); err != nil {
		e.t.Fatal(err)
	}
	select {
	case <-b2.so.Done():
	case <-time.After(e.patience):
		e.t.Fatal("b2 not disconnected")
	}
	if r := b2.so.Reason(); r != sioclient.ReasonServerDisconnect {
		e.t.Errorf("b2 disconnected with reason %q", r)
	}
	e.fence(0)
	if live := labels(e.live()); !slices.Equal(live, strings.Fields("a0 b0 a1 b1 a2")) {
		e.t.Errorf("connected after b2's disconnection: %v", live)
	}
}

// testFetchSilent checks fetchSockets on a cluster with a member that
// never answers: it ends by the end of its context, with the sockets of
// the nodes that answered and an error.
func testFetchSilent(e *env) {
	m := newMesh(e)
	e.cluster.AddSilent(e.t)
	ctx, cancel := context.WithTimeout(context.Background(), requestWait)
	defer cancel()
	began := time.Now()
	list, err := e.nsp(1).FetchSockets(ctx)
	took := time.Since(began)
	if err == nil {
		e.t.Errorf("fetchSockets with a member that does not answer: no error")
	}
	if took > requestWait+time.Second {
		e.t.Errorf("fetchSockets with a member that does not answer took %v, for a context of %v", took, requestWait)
	}
	m.checkFetched("fetchSockets with a member that does not answer", list, m.clients)
}
