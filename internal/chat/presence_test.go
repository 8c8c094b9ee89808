package chat_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// netConns records the TCP connections of a client's WebSocket dialer, so
// that a test can cut them without a goodbye.
type netConns struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (nc *netConns) dialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				nc.mu.Lock()
				nc.conns = append(nc.conns, c)
				nc.mu.Unlock()
			}
			return c, err
		},
	}
}

// cut closes the connections; with reset, with a TCP RST rather than a
// FIN.
func (nc *netConns) cut(reset bool) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	for _, c := range nc.conns {
		if tc, ok := c.(*net.TCPConn); ok && reset {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

// blackHole is a TCP proxy to a test server that, once dropped, forwards
// nothing either way and closes nothing: a network gone silent. The server
// then stops hearing pongs.
type blackHole struct {
	ln      net.Listener
	target  string
	dropped atomic.Bool
	wg      sync.WaitGroup
	once    sync.Once

	mu    sync.Mutex
	conns []net.Conn
}

// newBlackHole starts a proxy to srv; the test's cleanup stops it.
func newBlackHole(t *testing.T, srv *testServer) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bh := &blackHole{ln: ln, target: srv.Listener.Addr().String()}
	bh.wg.Add(1)
	go bh.serve()
	t.Cleanup(bh.close)
	return bh
}

// URL is the proxy's URL.
func (bh *blackHole) URL() string { return "http://" + bh.ln.Addr().String() }

func (bh *blackHole) serve() {
	defer bh.wg.Done()
	for {
		in, err := bh.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", bh.target)
		if err != nil {
			in.Close()
			continue
		}
		bh.mu.Lock()
		bh.conns = append(bh.conns, in, out)
		bh.mu.Unlock()
		bh.wg.Add(2)
		go bh.pipe(out, in)
		go bh.pipe(in, out)
	}
}

// pipe copies from src to dst until src ends, dropping what it reads once
// the proxy is dropped; it closes dst only while the network works.
func (bh *blackHole) pipe(dst, src net.Conn) {
	defer bh.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !bh.dropped.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !bh.dropped.Load() {
				dst.Close()
			}
			return
		}
	}
}

func (bh *blackHole) drop() { bh.dropped.Store(true) }

// close stops the proxy and closes its connections; it may be called
// again.
func (bh *blackHole) close() {
	bh.once.Do(func() {
		bh.ln.Close()
		bh.mu.Lock()
		for _, c := range bh.conns {
			c.Close()
		}
		bh.mu.Unlock()
		bh.wg.Wait()
	})
}

// forceClose has the server close p's transport: "forced close".
func forceClose(t *testing.T, srv *testServer, p *person) {
	t.Helper()
	so := srv.nsp.Socket(p.so.ID())
	if so == nil {
		t.Fatal("no such socket on the server")
	}
	so.CloseTransport()
}

// dropper is a way of losing a connection, as opposed to closing it.
type dropper struct {
	name  string
	modes []sioclient.Transport
	// scfg configures the server.
	scfg socketio.Config
	// dial connects a client over tr and returns the function that drops
	// its connection.
	dial func(t *testing.T, srv *testServer, tr sioclient.Transport) (*person, func())
	// bug, when set, is why the server does not yet see this as a drop:
	// the tests that depend on it skip.
	bug string
}

// dialTCP connects a client over WebSocket whose TCP connection can be
// cut, with a reset or without.
func dialTCP(reset bool) func(t *testing.T, srv *testServer, tr sioclient.Transport) (*person, func()) {
	return func(t *testing.T, srv *testServer, tr sioclient.Transport) (*person, func()) {
		nc := &netConns{}
		p, err := dial(t, srv.URL, &sioclient.Options{Transport: tr, Dialer: nc.dialer()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p, func() { nc.cut(reset) }
	}
}

var droppers = []dropper{
	{
		// The client closes its connection, as a page does when it is
		// closed or reloaded: "transport close". It may come back.
		name:  "page closed",
		modes: siotest.Transports,
		dial: func(t *testing.T, srv *testServer, tr sioclient.Transport) (*person, func()) {
			p := connect(t, srv.Server, tr)
			return p, func() {
				if err := p.c.Close(); err != nil {
					t.Error(err)
				}
			}
		},
	},
	{
		// The server closes the transport: "forced close".
		name:  "forced close",
		modes: siotest.Transports,
		dial: func(t *testing.T, srv *testServer, tr sioclient.Transport) (*person, func()) {
			p := connect(t, srv.Server, tr)
			return p, func() { forceClose(t, srv, p) }
		},
	},
	{
		// The TCP connection is reset: "transport error".
		name:  "websocket reset",
		modes: []sioclient.Transport{sioclient.TransportWebSocket},
		dial:  dialTCP(true),
	},
	{
		// The TCP connection ends without a close frame, as when a
		// process dies: gorilla/websocket reports that as a *CloseError
		// with code 1006 (abnormal closure), which engineio's
		// readWebSocket takes for a close frame.
		name:  "websocket EOF without a close frame",
		modes: []sioclient.Transport{sioclient.TransportWebSocket},
		dial:  dialTCP(false),
	},
	{
		// A second poll overlaps the client's: "transport error", as in
		// the reference server. When the client's poll is not pending,
		// the second one is the poll, and takes what is queued: then try
		// again.
		name:  "overlapping poll",
		modes: []sioclient.Transport{sioclient.TransportPolling},
		dial: func(t *testing.T, srv *testServer, tr sioclient.Transport) (*person, func()) {
			p := connect(t, srv.Server, tr)
			return p, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				url := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + p.c.Engine().SID()
				for srv.nsp.Socket(p.so.ID()) != nil {
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
					if err != nil {
						t.Fatal(err)
					}
					resp, err := srv.Client().Do(req)
					if err != nil {
						t.Fatalf("overlapping poll: %v", err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					for wait := time.Now().Add(200 * time.Millisecond); srv.nsp.Socket(p.so.ID()) != nil && time.Now().Before(wait); {
						time.Sleep(5 * time.Millisecond)
					}
				}
			}
		},
	},
	{
		// The network goes silent: "ping timeout".
		name:  "ping timeout",
		modes: []sioclient.Transport{sioclient.TransportWebSocket, sioclient.TransportPolling},
		scfg:  socketio.Config{Engine: engineio.Config{PingInterval: 200 * time.Millisecond, PingTimeout: 300 * time.Millisecond}},
		dial: func(t *testing.T, srv *testServer, tr sioclient.Transport) (*person, func()) {
			bh := newBlackHole(t, srv)
			p, err := dial(t, bh.URL(), &sioclient.Options{Transport: tr}, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Before the client's Close, which would wait for its close
			// packet to be sent into the void.
			t.Cleanup(bh.close)
			return p, bh.drop
		},
	},
}

// forEachDropper runs f as a parallel subtest for each way of losing a
// connection, over each transport it applies to.
func forEachDropper(t *testing.T, f func(t *testing.T, d dropper, tr sioclient.Transport)) {
	for _, d := range droppers {
		for _, tr := range d.modes {
			t.Run(d.name+"/"+string(tr), func(t *testing.T) {
				if d.bug != "" {
					t.Skip("known bug: " + d.bug)
				}
				t.Parallel()
				f(t, d, tr)
			})
		}
	}
}

// joinDroppable connects as d wants, joins as name, and returns the
// function that drops the connection.
func joinDroppable(t *testing.T, srv *testServer, d dropper, tr sioclient.Transport, name string) (*person, func()) {
	t.Helper()
	p, drop := d.dial(t, srv, tr)
	var r joinReply
	p.ack(&r, chat.EventNewUser, name)
	if !r.OK {
		t.Fatalf("join %q: %+v", name, r)
	}
	p.id, p.token = r.ID, r.Token
	return p, drop
}

// gone waits until the server has let go of p's socket (p may not know
// yet).
func gone(t *testing.T, srv *testServer, p *person) {
	t.Helper()
	wait.For(t, "the server to notice the drop", 5*time.Second, func() bool { return srv.nsp.Socket(p.so.ID()) == nil })
}

// dropDisconnects returns the user-disconnected events p got, sorted.
func dropDisconnects(p *person) []string {
	var out []string
	for _, e := range p.presence() {
		if e[0] == '-' {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

func TestDroppedConnectionIsAnnouncedAfterTheGrace(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	forEachDropper(t, func(t *testing.T, d dropper, tr sioclient.Transport) {
		srv := startChat(t, chat.Config{PresenceGrace: grace}, d.scfg)
		alice, drop := joinDroppable(t, srv, d, tr, "Alice")
		alice.joinRoom("dev")
		bob := join(t, srv.Server, tr, "Bob")
		bob.joinRoom("dev")

		start := time.Now()
		drop()
		gone(t, srv, alice)
		// Alice stays listed until the grace has passed.
		var users roomReply
		bob.ack(&users, chat.EventListUsers, "dev")
		announced := len(dropDisconnects(bob)) > 0
		listed := slices.Contains(srv.chat.Online(), "Alice") && slices.Contains(users.Users, "Alice")
		if elapsed := time.Since(start); (announced || !listed) && elapsed < grace {
			t.Fatalf("%v after the drop, within the grace: announced %v, listed %v", elapsed, announced, listed)
		}

		bob.waitFor(chat.EventUserDisconnected, 2)
		if elapsed := time.Since(start); elapsed < grace {
			t.Errorf("announced %v after the drop, within the grace of %v", elapsed, grace)
		}
		bob.sync()
		if got, want := dropDisconnects(bob), []string{"-Alice@dev", "-Alice@general"}; !slices.Equal(got, want) {
			t.Errorf("bob heard %q, want %q", got, want)
		}
		if slices.Contains(srv.chat.Online(), "Alice") {
			t.Error("alice is still online after the grace")
		}
		// The name is still hers: her token takes it back, nobody else.
		var r joinReply
		connect(t, srv.Server, tr).ack(&r, chat.EventNewUser, "Alice")
		if r.OK || r.Error != chat.ErrNameTaken.Error() {
			t.Errorf("a stranger joins as Alice after her grace: %+v", r)
		}
		if _, r := joinWithToken(t, srv.Server, tr, "Alice", alice.token); !r.OK || r.ID != alice.id {
			t.Errorf("alice back after her grace: %+v", r)
		}
	})
}

func TestReturningWithinTheGraceIsNotAnnounced(t *testing.T) {
	t.Parallel()
	const grace = time.Second
	forEachDropper(t, func(t *testing.T, d dropper, tr sioclient.Transport) {
		srv := startChat(t, chat.Config{PresenceGrace: grace}, d.scfg)
		alice, drop := joinDroppable(t, srv, d, tr, "Alice")
		alice.joinRoom("dev")
		bob := join(t, srv.Server, tr, "Bob")
		bob.joinRoom("dev")
		// Carol's drop, later, marks the end of Alice's grace.
		carol := join(t, srv.Server, tr, "Carol")

		drop()
		gone(t, srv, alice)
		// Meanwhile the name is Alice's.
		stranger := connect(t, srv.Server, tr)
		var r joinReply
		stranger.ack(&r, chat.EventNewUser, "Alice")
		if r.OK || r.Error != chat.ErrNameTaken.Error() {
			t.Fatalf("someone else took alice's name within the grace: %+v", r)
		}
		bob.say("while alice was away", nil)

		alice2, r := joinWithToken(t, srv.Server, tr, "alice", alice.token)
		if !r.OK || r.Name != "Alice" || r.ID != alice.id || !slices.Equal(r.Users, []string{"Alice", "Bob", "Carol"}) {
			t.Fatalf("alice back: %+v", r)
		}
		// She hears both her rooms again.
		bob.say("to general", nil)
		bob.say("to dev", map[string]string{"room": "dev"})
		alice2.waitFor(chat.EventChatMessage, 3)
		alice2.sync()
		if got, want := alice2.texts(), []string{"general: Bob: while alice was away", "general: Bob: to general", "dev: Bob: to dev"}; !slices.Equal(got, want) {
			t.Errorf("alice back got %q, want %q", got, want)
		}

		forceClose(t, srv, carol)
		bob.waitFor(chat.EventUserDisconnected, 1)
		bob.sync()
		if got, want := bob.presence(), []string{"+Carol@general", "-Carol@general"}; !slices.Equal(got, want) {
			t.Errorf("bob heard %q, want %q: nothing of alice", got, want)
		}
		if !slices.Equal(srv.chat.Online(), []string{"Alice", "Bob"}) {
			t.Errorf("online: %q", srv.chat.Online())
		}
	})
}

func TestReturningAfterTheGraceIsAnnounced(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, chat.Config{PresenceGrace: 100 * time.Millisecond}, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		bob := join(t, srv.Server, tr, "Bob")
		forceClose(t, srv, alice)
		bob.waitFor(chat.EventUserDisconnected, 1)
		if _, r := joinWithToken(t, srv.Server, tr, "Alice", alice.token); !r.OK {
			t.Fatalf("alice back: %+v", r)
		}
		bob.waitFor(chat.EventUserConnected, 1)
		bob.sync()
		if got, want := bob.presence(), []string{"-Alice@general", "+Alice@general"}; !slices.Equal(got, want) {
			t.Errorf("bob heard %q, want %q", got, want)
		}
	})
}

func TestLeavingIsAnnouncedAtOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		grace time.Duration
		// join joins the server as Alice.
		join  func(t *testing.T, srv *testServer, tr sioclient.Transport) *person
		leave func(t *testing.T, srv *testServer, p *person)
	}{
		{"client leaves the namespace", 0, joinAlice, func(t *testing.T, _ *testServer, p *person) { p.leave() }},
		{"dropped, without a grace", -1, joinAlice, forceClose},
		{
			// A page that knows nothing of identities, and has no cookie:
			// it cannot come back as itself, so closing it is leaving.
			"page that keeps no token closed", 0,
			func(t *testing.T, srv *testServer, tr sioclient.Transport) *person {
				p := connect(t, srv.Server, tr)
				p.emit(chat.EventNewUser, "Alice") // the tutorial's way
				p.sync()
				return p
			},
			func(t *testing.T, _ *testServer, p *person) {
				if err := p.c.Close(); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// The default grace is 10 s: waitFor gives up after 5.
				srv := startChat(t, chat.Config{PresenceGrace: tc.grace}, socketio.Config{})
				alice := tc.join(t, srv, tr)
				alice.joinRoom("dev")
				bob := join(t, srv.Server, tr, "Bob")
				bob.joinRoom("dev")
				tc.leave(t, srv, alice)
				bob.waitFor(chat.EventUserDisconnected, 2)
				bob.sync()
				if got, want := dropDisconnects(bob), []string{"-Alice@dev", "-Alice@general"}; !slices.Equal(got, want) {
					t.Errorf("bob heard %q, want %q", got, want)
				}
				if slices.Contains(srv.chat.Online(), "Alice") {
					t.Error("alice is still online")
				}
			})
		}
	})
}

func joinAlice(t *testing.T, srv *testServer, tr sioclient.Transport) *person {
	return join(t, srv.Server, tr, "Alice")
}

// TestSecondTabIsTheSamePerson opens a second tab: the same token, the
// same person, while the first tab stays open.
func TestSecondTabIsTheSamePerson(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, tr sioclient.Transport) {
		srv := startChat(t, chat.Config{}, socketio.Config{})
		alice := join(t, srv.Server, tr, "Alice")
		alice.joinRoom("dev")
		bob := join(t, srv.Server, tr, "Bob")
		bob.joinRoom("dev")
		bob.say("before the second tab", map[string]string{"room": "dev"})

		// A made-up token is no token: the name is someone else's.
		if _, r := joinWithToken(t, srv.Server, tr, "Alice", "stolen"); r.OK || r.Error != chat.ErrNameTaken.Error() {
			t.Fatalf("wrong token: %+v", r)
		}

		tab2, r := joinWithToken(t, srv.Server, tr, "ALICE", alice.token)
		if !r.OK || r.Name != "Alice" || r.ID != alice.id || r.Room != chat.DefaultRoom || !slices.Equal(r.Users, []string{"Alice", "Bob"}) {
			t.Fatalf("second tab: %+v", r)
		}
		// Another name asked in the second tab: still Alice, one person.
		tab3, r := joinWithToken(t, srv.Server, tr, "Alicia", alice.token)
		if !r.OK || r.Name != "Alice" || r.ID != alice.id {
			t.Fatalf("third tab, asking for another name: %+v", r)
		}

		// The second tab hears her rooms, dev's history first; both tabs
		// hear what is said, and what the other tab says.
		bob.say("to general", nil)
		bob.say("to dev", map[string]string{"room": "dev"})
		tab2.waitFor(chat.EventChatMessage, 3)
		tab2.say("from tab 2", map[string]string{"room": "dev"})
		bob.waitFor(chat.EventChatMessage, 1)
		alice.waitFor(chat.EventChatMessage, 4)
		syncAll(alice, tab2, tab3, bob)
		if got, want := tab2.texts(), []string{"dev: Bob: before the second tab", "general: Bob: to general", "dev: Bob: to dev"}; !slices.Equal(got, want) {
			t.Errorf("tab 2 got %q, want %q", got, want)
		}
		if got, want := alice.texts(), []string{"dev: Bob: before the second tab", "general: Bob: to general", "dev: Bob: to dev", "dev: Alice: from tab 2"}; !slices.Equal(got, want) {
			t.Errorf("tab 1 got %q, want %q", got, want)
		}
		if msgs := alice.messages(); msgs[len(msgs)-1].UserID != alice.id {
			t.Errorf("tab 2's message reached tab 1 as %+v, without her id %q", msgs[len(msgs)-1], alice.id)
		}
		if got, want := bob.texts(), []string{"dev: Alice: from tab 2"}; !slices.Equal(got, want) {
			t.Errorf("bob got %q, want %q", got, want)
		}
		// Nobody heard of the tabs: Alice is listed once.
		if got := bob.presence(); len(got) != 0 {
			t.Errorf("bob heard %q, want nothing", got)
		}
		var users roomReply
		bob.ack(&users, chat.EventListUsers, "dev")
		if !slices.Equal(users.Users, []string{"Alice", "Bob"}) {
			t.Errorf("dev's users: %q", users.Users)
		}
		if got := srv.chat.Online(); !slices.Equal(got, []string{"Alice", "Bob"}) {
			t.Errorf("online: %q", got)
		}

		// Closing tabs is nothing while one is open; the last one leaving
		// is announced, once per room.
		if err := alice.c.Close(); err != nil {
			t.Fatal(err)
		}
		tab3.leave()
		gone(t, srv, alice)
		gone(t, srv, tab3)
		bob.sync()
		if got := bob.presence(); len(got) != 0 {
			t.Errorf("bob heard %q while a tab was open", got)
		}
		tab2.leave()
		bob.waitFor(chat.EventUserDisconnected, 2)
		bob.sync()
		if got, want := dropDisconnects(bob), []string{"-Alice@dev", "-Alice@general"}; !slices.Equal(got, want) {
			t.Errorf("bob heard %q, want %q", got, want)
		}
	})
}
