package engineio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// event is what a recorder saw of a session: a message or the close.
type event struct {
	data   string
	binary bool
	closed bool
	reason eioparser.CloseReason
	at     time.Time
}

// plainPollingEnv, set to anything, has the test servers leave every poll
// to net/http (no PollListener); make test runs the package both ways.
const plainPollingEnv = "PARLEY_TEST_PLAIN_POLLING"

// testServer is an Engine.IO server over httptest whose handler records
// each session's messages and closes, and echoes messages when echo is set.
type testServer struct {
	*engineio.Server
	ts   *httptest.Server
	URL  string
	echo bool

	mu       sync.Mutex
	sessions map[string]*testSession
	byHand   []string // sids of sessions opened by pollHandshake
}

type testSession struct {
	srv    *testServer
	s      *engineio.Session
	opened time.Time

	mu     sync.Mutex
	events []event
}

// newTestServer starts a server for cfg; its NewSession is replaced. The
// server is shut down at the end of the test, after the test's own
// cleanups.
func newTestServer(t testing.TB, cfg engineio.Config, echo bool) *testServer {
	t.Helper()
	ts := &testServer{echo: echo, sessions: make(map[string]*testSession)}
	if cfg.Logger == nil {
		cfg.Logger = siotest.DiscardLogger()
	}
	cfg.NewSession = func(s *engineio.Session) engineio.Handler {
		h := &testSession{srv: ts, s: s, opened: time.Now()}
		ts.mu.Lock()
		ts.sessions[s.ID()] = h
		ts.mu.Unlock()
		return h
	}
	ts.Server = engineio.NewServer(cfg)
	ts.ts = httptest.NewUnstartedServer(ts.Server)
	if os.Getenv(plainPollingEnv) == "" {
		// As parley serves: polls' connections taken over.
		ts.ts.Listener = ts.Server.PollListener(ts.ts.Listener)
	}
	ts.ts.Start()
	ts.URL = ts.ts.URL + "/engine.io/"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- ts.Shutdown(ctx) }()
		// A polling session closed with its queue flushed waits for a last
		// poll: make it for the sessions opened by hand.
		ts.mu.Lock()
		byHand := ts.byHand
		ts.mu.Unlock()
		for _, sid := range byHand {
			if req, err := http.NewRequestWithContext(ctx, http.MethodGet, pollURL(ts.URL, sid), nil); err == nil {
				if resp, err := http.DefaultClient.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
		if err := <-errc; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.ts.Close()
	})
	return ts
}

func (h *testSession) HandleMessage(data []byte, binary bool) {
	h.mu.Lock()
	h.events = append(h.events, event{data: string(data), binary: binary, at: time.Now()})
	h.mu.Unlock()
	if h.srv.echo {
		_ = h.s.Send(eioparser.Packet{Type: eioparser.PacketMessage, Data: data, Binary: binary})
	}
}

func (h *testSession) HandleClose(reason eioparser.CloseReason) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, event{closed: true, reason: reason, at: time.Now()})
}

// session returns the recorder of session sid, waiting for it to exist.
func (ts *testServer) session(t testing.TB, sid string) *testSession {
	t.Helper()
	var h *testSession
	wait.For(t, "session "+sid, 5*time.Second, func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		h = ts.sessions[sid]
		return h != nil
	})
	return h
}

// forget drops the recorder of session sid.
func (ts *testServer) forget(sid string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.sessions, sid)
}

// messages returns the messages received so far.
func (h *testSession) messages() []event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var msgs []event
	for _, e := range h.events {
		if !e.closed {
			msgs = append(msgs, e)
		}
	}
	return msgs
}

// closes returns the HandleClose calls so far.
func (h *testSession) closes() []event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var cl []event
	for _, e := range h.events {
		if e.closed {
			cl = append(cl, e)
		}
	}
	return cl
}

// waitClosed waits for HandleClose and checks it came once, with reason.
func (h *testSession) waitClosed(t *testing.T, reason eioparser.CloseReason) event {
	t.Helper()
	wait.For(t, "HandleClose", 5*time.Second, func() bool { return len(h.closes()) > 0 })
	// Give a second call the time to show up.
	time.Sleep(10 * time.Millisecond)
	cl := h.closes()
	if len(cl) != 1 {
		t.Errorf("HandleClose called %d times: %+v", len(cl), cl)
	}
	if cl[0].reason != reason {
		t.Errorf("close reason %q, want %q", cl[0].reason, reason)
	}
	return cl[0]
}

// dial connects a raw Engine.IO client in mode, closed at the end of the
// test. In upgrade mode, it returns once the server has seen the upgrade
// too.
func dial(t *testing.T, ctx context.Context, ts *testServer, mode sioclient.Transport, opts *sioclient.Options) *sioclient.EngineConn {
	t.Helper()
	o := sioclient.Options{}
	if opts != nil {
		o = *opts
	}
	o.Transport = mode
	ec, err := sioclient.DialEngine(ctx, ts.URL, &o)
	if err != nil {
		t.Fatalf("dial %s: %v", mode, err)
	}
	t.Cleanup(func() { _ = ec.Close() })
	if mode == sioclient.TransportUpgrade {
		s := ts.session(t, ec.SID()).s
		wait.For(t, "upgrade on the server", 5*time.Second, func() bool { return s.Transport() == "websocket" })
	}
	return ec
}

// read reads the next packet from ec.
func read(t *testing.T, ctx context.Context, ec *sioclient.EngineConn) eioparser.Packet {
	t.Helper()
	p, err := ec.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return p
}

// httpDo makes a request and returns the status and body.
func httpDo(t testing.TB, method, url string, body string, header http.Header) (int, string, http.Header) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// pollHandshake opens a polling session by hand and returns its sid.
func pollHandshake(t testing.TB, ts *testServer) string {
	t.Helper()
	code, body, _ := httpDo(t, http.MethodGet, ts.URL+"?EIO=4&transport=polling", "", nil)
	if code != http.StatusOK || !strings.HasPrefix(body, `0{"sid":"`) {
		t.Fatalf("handshake: %d %q", code, body)
	}
	return ts.track(body)
}

// track notes the session a handshake made by hand opened, so that the
// cleanup collects its last poll, and returns its sid.
func (ts *testServer) track(handshake string) string {
	sid, _, _ := strings.Cut(strings.TrimPrefix(handshake, `0{"sid":"`), `"`)
	ts.mu.Lock()
	ts.byHand = append(ts.byHand, sid)
	ts.mu.Unlock()
	return sid
}

// pollURL is the polling URL of session sid.
func pollURL(url, sid string) string {
	return url + "?EIO=4&transport=polling&sid=" + sid
}
