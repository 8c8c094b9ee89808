package engineio_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/siotest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// TestPollingCount counts the sessions on polling: a polling one until it
// closes, an upgraded one no longer, a WebSocket one never.
func TestPollingCount(t *testing.T) {
	ts := newTestServer(t, engineio.Config{}, false)
	ctx := siotest.Context(t)
	polling := func(want int) func() bool {
		return func() bool { return ts.PollingCount() == want }
	}
	p := dial(t, ctx, ts, sioclient.TransportPolling, nil)
	wait.For(t, "one polling", 5*time.Second, polling(1))
	dial(t, ctx, ts, sioclient.TransportUpgrade, nil) // returns once upgraded
	dial(t, ctx, ts, sioclient.TransportWebSocket, nil)
	wait.For(t, "one polling, two upgraded or on WebSocket", 5*time.Second, polling(1))
	if n := ts.SessionCount(); n != 3 {
		t.Fatalf("%d sessions, want 3", n)
	}
	_ = p.Close()
	wait.For(t, "none polling", 5*time.Second, polling(0))
}

// TestTraffic counts each message once, received and sent, over each
// transport, with the bytes of its data.
func TestTraffic(t *testing.T) {
	siotest.Run(t, func(t *testing.T, mode sioclient.Transport) {
		ts := newTestServer(t, engineio.Config{}, true) // echo
		ctx := siotest.Context(t)
		ec := dial(t, ctx, ts, mode, nil)
		const n = 7
		msg := []byte("hello, traffic")
		for range n {
			if err := ec.SendMessage(msg, false); err != nil {
				t.Fatal(err)
			}
		}
		for range n {
			read(t, ctx, ec)
		}
		want := engineio.Traffic{PacketsIn: n, BytesIn: n * uint64(len(msg)), PacketsOut: n, BytesOut: n * uint64(len(msg))}
		wait.For(t, "the traffic counted", 5*time.Second, func() bool { return ts.Traffic() == want })
	})
}
