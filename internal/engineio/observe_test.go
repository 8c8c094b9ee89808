package engineio_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/wait"
)

// countingObserver counts what an engineio.Observer hears: the sessions
// open on each transport, the upgrades, and the slow consumers.
type countingObserver struct {
	mu       sync.Mutex
	open     map[string]int
	opened   int
	upgrades int
	slow     int
}

func newCountingObserver() *countingObserver {
	return &countingObserver{open: make(map[string]int)}
}

func (o *countingObserver) SessionOpened(transport string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[transport]++
	o.opened++
}

func (o *countingObserver) SessionUpgraded() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open["polling"]--
	o.open["websocket"]++
	o.upgrades++
}

func (o *countingObserver) SessionClosed(transport string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[transport]--
}

func (o *countingObserver) SlowConsumer() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.slow++
}

// state returns the sessions open on polling and on WebSocket, the
// upgrades and the slow consumers.
func (o *countingObserver) state() (polling, websocket, upgrades, slow int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.open["polling"], o.open["websocket"], o.upgrades, o.slow
}

// waitState waits until the observer's state is want: the sessions open
// on polling and on WebSocket, the upgrades and the slow consumers.
func (o *countingObserver) waitState(t *testing.T, want [4]int) {
	t.Helper()
	wait.For(t, "the observer's counts", 5*time.Second, func() error {
		p, w, u, s := o.state()
		if got := [4]int{p, w, u, s}; got != want {
			return fmt.Errorf("polling, websocket, upgrades, slow consumers: %v, want %v", got, want)
		}
		return nil
	})
}

// TestObserverSessions checks what the Observer hears of sessions on each
// transport: opened, moved by an upgrade, closed by the client or by the
// server, with nothing left over once every session is closed.
func TestObserverSessions(t *testing.T) {
	t.Parallel()
	obs := newCountingObserver()
	ts := newTestServer(t, engineio.Config{Observer: obs}, false)
	ctx := wait.Context(t, 10*time.Second)
	var conns []*sioclient.EngineConn
	for _, mode := range []sioclient.Transport{
		sioclient.TransportWebSocket, sioclient.TransportWebSocket,
		sioclient.TransportPolling, sioclient.TransportPolling, sioclient.TransportPolling,
		sioclient.TransportUpgrade,
	} {
		conns = append(conns, dial(t, ctx, ts, mode, nil))
	}
	obs.waitState(t, [4]int{3, 3, 1, 0})
	if n := ts.SessionCount(); n != 6 {
		t.Errorf("SessionCount %d, want 6", n)
	}

	// The client closes one of each; the server closes one of each.
	_ = conns[0].Close()
	_ = conns[2].Close()
	obs.waitState(t, [4]int{2, 2, 1, 0})
	ts.session(t, conns[1].SID()).s.Close()
	ts.session(t, conns[3].SID()).s.Close()
	ts.session(t, conns[5].SID()).s.Close()
	obs.waitState(t, [4]int{1, 0, 1, 0})
	_ = conns[4].Close()
	obs.waitState(t, [4]int{0, 0, 1, 0})
	obs.mu.Lock()
	opened := obs.opened
	obs.mu.Unlock()
	if opened != 6 {
		t.Errorf("%d sessions opened, want 6", opened)
	}
}

// TestObserverSlowConsumer checks that a session closed for a full queue
// is heard as one slow consumer, and closed once, whatever the sends that
// found the queue full.
func TestObserverSlowConsumer(t *testing.T) {
	t.Parallel()
	for _, mode := range []sioclient.Transport{sioclient.TransportWebSocket, sioclient.TransportPolling} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			obs := newCountingObserver()
			ts := newTestServer(t, engineio.Config{Observer: obs, MaxQueueBytes: 4096}, false)
			ctx := wait.Context(t, 10*time.Second)
			ec := dial(t, ctx, ts, mode, nil)
			s := ts.session(t, ec.SID()).s
			big := eioparser.Packet{Type: eioparser.PacketMessage, Data: []byte(strings.Repeat("x", 8192))}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if err := s.Send(big); !errors.Is(err, engineio.ErrSlowConsumer) && !errors.Is(err, engineio.ErrClosed) {
						t.Errorf("Send: %v, want ErrSlowConsumer or ErrClosed", err)
					}
				})
			}
			wg.Wait()
			obs.waitState(t, [4]int{0, 0, 0, 1})
		})
	}
}

// deliveries records what a DeliveryObserver hears.
type deliveries struct {
	mu  sync.Mutex
	got []time.Duration
}

func (d *deliveries) Delivered(v time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, v)
}

func (d *deliveries) list() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.got...)
}

// TestTracker checks that a Tracker is heard once, when every copy of its
// message is written, over both transports, with the time from its start
// to the last write; that a message none of whose copies was written is
// not heard; and that the copies of a closed session count as settled.
func TestTracker(t *testing.T) {
	t.Parallel()
	msg := eioparser.Packet{Type: eioparser.PacketMessage, Data: []byte("hello")}
	t.Run("written", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, engineio.Config{}, false)
		ctx := wait.Context(t, 10*time.Second)
		var clients []*sioclient.EngineConn
		var sessions []*engineio.Session
		for _, mode := range []sioclient.Transport{sioclient.TransportWebSocket, sioclient.TransportPolling, sioclient.TransportWebSocket} {
			ec := dial(t, ctx, ts, mode, nil)
			clients = append(clients, ec)
			sessions = append(sessions, ts.session(t, ec.SID()).s)
		}
		var d deliveries
		start := time.Now().Add(-time.Second) // it arrived a second ago
		tr := engineio.NewTracker(start, &d)
		for _, s := range sessions {
			if err := s.SendTracked(tr, msg); err != nil {
				t.Fatal(err)
			}
		}
		for _, ec := range clients {
			if p := read(t, ctx, ec); string(p.Data) != "hello" {
				t.Fatalf("got %q", p.Data)
			}
		}
		// Written, but the sender has not released it.
		time.Sleep(20 * time.Millisecond)
		if got := d.list(); len(got) != 0 {
			t.Fatalf("heard %v before Release", got)
		}
		before := time.Since(start)
		tr.Release()
		got := d.list()
		if len(got) != 1 {
			t.Fatalf("heard %v, want one delivery", got)
		}
		if got[0] < time.Second || got[0] > before {
			t.Errorf("latency %v, want between 1s and %v", got[0], before)
		}
		tr.Release() // a second Release changes nothing
		if got := d.list(); len(got) != 1 {
			t.Errorf("heard %v after a second Release", got)
		}
	})
	t.Run("released first", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, engineio.Config{}, false)
		ctx := wait.Context(t, 10*time.Second)
		ec := dial(t, ctx, ts, sioclient.TransportPolling, nil)
		s := ts.session(t, ec.SID()).s
		var d deliveries
		tr := engineio.NewTracker(time.Now(), &d)
		// Released before its copy is written: heard once it is.
		if err := s.SendTracked(tr, msg); err != nil {
			t.Fatal(err)
		}
		tr.Release()
		read(t, ctx, ec)
		wait.For(t, "the delivery", 5*time.Second, func() bool { return len(d.list()) == 1 })
	})
	t.Run("dropped", func(t *testing.T) {
		t.Parallel()
		// A session whose client reads nothing keeps its copy queued; its
		// close drops it. None written: nothing heard.
		ts := newTestServer(t, engineio.Config{}, false)
		s := ts.session(t, pollHandshake(t, ts)).s
		var d deliveries
		tr := engineio.NewTracker(time.Now(), &d)
		if err := s.SendTracked(tr, msg); err != nil {
			t.Fatal(err)
		}
		tr.Release()
		ts.forget(s.ID())
		s.Close()
		time.Sleep(20 * time.Millisecond)
		if got := d.list(); len(got) != 0 {
			t.Errorf("heard %v of a message none of whose copies was written", got)
		}
	})
	t.Run("closed session", func(t *testing.T) {
		t.Parallel()
		// One copy is written, the other's session is closed without a
		// flush: the message is heard once both are settled.
		ts := newTestServer(t, engineio.Config{}, false)
		ctx := wait.Context(t, 10*time.Second)
		ec := dial(t, ctx, ts, sioclient.TransportWebSocket, nil)
		reader := ts.session(t, ec.SID()).s
		idle := ts.session(t, pollHandshake(t, ts)).s
		var d deliveries
		tr := engineio.NewTracker(time.Now(), &d)
		for _, s := range []*engineio.Session{reader, idle} {
			if err := s.SendTracked(tr, msg); err != nil {
				t.Fatal(err)
			}
		}
		tr.Release()
		read(t, ctx, ec)
		time.Sleep(20 * time.Millisecond)
		if got := d.list(); len(got) != 0 {
			t.Fatalf("heard %v with a copy still queued", got)
		}
		// A ping packet from the client side closes a session at once,
		// dropping its queue: the reference server's rule.
		code, _, _ := httpDo(t, "POST", pollURL(ts.URL, idle.ID()), "2", nil)
		if code != 200 {
			t.Fatalf("POST: %d", code)
		}
		wait.For(t, "the delivery", 5*time.Second, func() bool { return len(d.list()) == 1 })
	})
	t.Run("nil", func(t *testing.T) {
		var tr *engineio.Tracker
		tr.Release() // does nothing
		ts := newTestServer(t, engineio.Config{}, false)
		ctx := wait.Context(t, 10*time.Second)
		ec := dial(t, ctx, ts, sioclient.TransportWebSocket, nil)
		if err := ts.session(t, ec.SID()).s.SendTracked(nil, msg); err != nil {
			t.Fatal(err)
		}
		read(t, ctx, ec)
	})
}
