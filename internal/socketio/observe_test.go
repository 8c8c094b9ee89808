package socketio_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// countingObserver counts what a socketio.Metrics hears.
type countingObserver struct {
	mu        sync.Mutex
	received  map[string]int // by namespace and event: "/ hello"
	sent      int
	recovered int
	missed    int
}

func newCountingObserver() *countingObserver {
	return &countingObserver{received: make(map[string]int)}
}

func (o *countingObserver) EventReceived(nsp, event string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.received[nsp+" "+event]++
}

func (o *countingObserver) EventsSent(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent += n
}

func (o *countingObserver) Recovery(recovered bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if recovered {
		o.recovered++
	} else {
		o.missed++
	}
}

// waitSent waits until the observer has heard of want events sent.
func (o *countingObserver) waitSent(t *testing.T, want int) {
	t.Helper()
	wait.For(t, "the events sent", 5*time.Second, func() error {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.sent != want {
			return fmt.Errorf("%d, want %d", o.sent, want)
		}
		return nil
	})
}

// eventCounter counts the events a client socket gets.
type eventCounter struct {
	mu sync.Mutex
	n  int
}

func (c *eventCounter) count(*sioclient.Event) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *eventCounter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestObserverEvents checks that the Observer hears of every event a
// client sends, handled or not, by name, and of every event queued for a
// socket, whichever way it was sent: broadcast (one per socket reached),
// to one socket, held while it connects, with an acknowledgement, in a
// Stream; and that what the clients received is what it heard of.
func TestObserverEvents(t *testing.T) {
	t.Parallel()
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		obs := newCountingObserver()
		srv := newTestServer(t, socketio.Config{Metrics: obs})
		nsp := srv.Of("/")
		nsp.OnConnection(func(so *socketio.Socket) {
			_ = so.Emit("hello") // held until the CONNECT reply
			so.Join("room")
		})
		nsp.On("known", func(so *socketio.Socket, e *socketio.Event) {
			if e.HasAck() {
				_ = e.Ack("acks are no events")
			}
		})
		const clients = 4
		counters := make([]*eventCounter, clients)
		var sockets []*socketio.Socket
		for i := range clients {
			c := srv.dial(t, mode, nil)
			counters[i] = &eventCounter{}
			c.Socket("/").OnAny(counters[i].count)
			_, ss := srv.connect(t, c, "/", nil)
			sockets = append(sockets, ss)
			if i == 0 {
				so := c.Socket("/")
				for range 3 {
					if _, err := so.EmitWithAck(siotest.Context(t), "known"); err != nil {
						t.Fatal(err)
					}
				}
				for range 2 {
					if err := so.Emit("unknown", 1); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		want := clients // the hellos
		obs.waitSent(t, want)

		if err := nsp.To("room").Emit("all"); err != nil {
			t.Fatal(err)
		}
		want += clients
		if err := sockets[0].To("room").Emit("others"); err != nil {
			t.Fatal(err)
		}
		want += clients - 1
		if err := sockets[1].Emit("one", "a string last"); err != nil {
			t.Fatal(err)
		}
		want++
		done := make(chan struct{})
		if err := sockets[2].EmitWithAck("asking", time.Second, func(*sioparser.Message, error) { close(done) }); err != nil {
			t.Fatal(err)
		}
		want++
		st := sockets[3].NewStream()
		for i := range 3 {
			if err := st.Emit("streamed", i); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SendNow(); err != nil {
			t.Fatal(err)
		}
		want += 3
		obs.waitSent(t, want)
		<-done
		wait.For(t, "the clients' events", 5*time.Second, func() error {
			got := 0
			for _, c := range counters {
				got += c.get()
			}
			if got != want {
				return fmt.Errorf("the clients got %d events, want %d", got, want)
			}
			return nil
		})
		wait.For(t, "the events received", 5*time.Second, func() error {
			obs.mu.Lock()
			defer obs.mu.Unlock()
			if len(obs.received) != 2 || obs.received["/ known"] != 3 || obs.received["/ unknown"] != 2 {
				return fmt.Errorf("received %v, want 3 known and 2 unknown", obs.received)
			}
			return nil
		})
	})
}

// TestObserverRecovery checks what the Observer hears of clients that ask
// for their state back: recovered, or missed when their session is
// unknown or the events they missed are no longer kept. A client that
// asks for nothing is not counted.
func TestObserverRecovery(t *testing.T) {
	t.Parallel()
	obs := newCountingObserver()
	srv := newTestServer(t, socketio.Config{Metrics: obs, Recovery: &socketio.RecoveryConfig{MaxPackets: 2}})
	nsp := srv.Of("/")
	nsp.OnConnection(func(so *socketio.Socket) { so.Join("room") })
	ctx := siotest.Context(t)
	counts := func() (recovered, missed int) {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.recovered, obs.missed
	}
	waitCounts := func(recovered, missed int) {
		t.Helper()
		wait.For(t, "the recoveries", 5*time.Second, func() error {
			if r, m := counts(); r != recovered || m != missed {
				return fmt.Errorf("recovered %d, missed %d; want %d, %d", r, m, recovered, missed)
			}
			return nil
		})
	}

	c := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, nil)
	if err := nsp.To("room").Emit("news", "one"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.event(ctx); err != nil {
		t.Fatal(err)
	}
	leave(t, srv, c)
	if err := nsp.To("room").Emit("news", "two"); err != nil {
		t.Fatal(err)
	}
	back := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, c.auth())
	if back.sid != c.sid {
		t.Fatalf("not recovered: %s, want %s", back.sid, c.sid)
	}
	waitCounts(1, 0)

	// An unknown session.
	dialRecovery(t, srv.URL, sioclient.TransportWebSocket, map[string]string{"pid": "nope", "offset": c.offset})
	waitCounts(1, 1)

	// Gone past what is kept: three events missed, two kept.
	if _, _, err := back.event(ctx); err != nil {
		t.Fatal(err)
	}
	leave(t, srv, back)
	for i := range 3 {
		if err := nsp.To("room").Emit("news", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	again := dialRecovery(t, srv.URL, sioclient.TransportWebSocket, back.auth())
	if again.sid == c.sid {
		t.Fatal("recovered past what is kept")
	}
	waitCounts(1, 2)
}
