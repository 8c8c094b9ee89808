package cluster_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// benchServer starts a node and its server for a benchmark, with
// connection state recovery on when recovery is set.
func benchServer(b *testing.B, cfg cluster.Config, recovery bool) (*socketio.Server, *cluster.Node, string) {
	b.Helper()
	if cfg.SessionKeyPrefix == "" {
		cfg.SessionKeyPrefix = sessionPrefix(cfg.ChannelPrefix) // the benchmark's own, deleted after
	}
	node, err := cluster.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	scfg := socketio.Config{NewAdapter: node.NewAdapter, Logger: siotest.DiscardLogger()}
	if recovery {
		withRecovery(&scfg)
	}
	srv := socketio.NewServer(scfg)
	hs := httptest.NewServer(srv)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
		_ = node.Close(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := node.Ready(ctx); err != nil {
		b.Fatal(err)
	}
	return srv, node, hs.URL
}

// recoveryModes runs a benchmark with connection state recovery off and
// on.
func recoveryModes(b *testing.B, f func(b *testing.B, recovery bool)) {
	for _, on := range []bool{false, true} {
		b.Run("recovery="+map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) { f(b, on) })
	}
}

// BenchmarkBroadcastPublish measures what a broadcast costs its caller on
// a node with no local socket: encoding the stream entry and queueing it.
// When the queue is full (the caller outruns Redis), the clock stops until
// it takes the broadcast.
func BenchmarkBroadcastPublish(b *testing.B) {
	recoveryModes(b, func(b *testing.B, recovery bool) {
		c := redistest.Client(b)
		cfg := testConfig(c, redistest.Prefix(b))
		srv, _, _ := benchServer(b, cfg, recovery)
		to := srv.Of("/").To("room:general")
		msg := map[string]any{"id": 12345, "room": "general", "name": "alice", "text": "hello world"}
		b.ReportAllocs()
		for b.Loop() {
			err := to.Emit("chat-message", msg)
			if errors.Is(err, cluster.ErrBacklog) {
				b.StopTimer()
				for errors.Is(err, cluster.ErrBacklog) {
					time.Sleep(time.Millisecond)
					err = to.Emit("chat-message", msg)
				}
				b.StartTimer()
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCrossNode measures broadcasts from one node to a socket on
// another, through Redis: from the first Emit until the client on the
// other node has them all. With recovery on, the broadcasting node reads
// its own broadcasts back from the stream too, and each delivery is kept
// for replay under its entry id.
func BenchmarkCrossNode(b *testing.B) {
	recoveryModes(b, func(b *testing.B, recovery bool) { benchDeliveries(b, recovery, false) })
}

// BenchmarkOwnNode measures broadcasts from one node to a socket of its
// own: at once without recovery; with recovery, once the node has read
// them back from the stream.
func BenchmarkOwnNode(b *testing.B) {
	recoveryModes(b, func(b *testing.B, recovery bool) { benchDeliveries(b, recovery, true) })
}

// benchDeliveries broadcasts b.N events from node 1 to a client of node 1
// (own) or 2, and waits until it has them all.
func benchDeliveries(b *testing.B, recovery, own bool) {
	c := redistest.Client(b)
	cfg := testConfig(c, redistest.Prefix(b))
	srv1, _, url1 := benchServer(b, cfg, recovery)
	_, _, url2 := benchServer(b, cfg, recovery)
	url := url2
	if own {
		url = url1
	}
	cl, err := sioclient.Dial(context.Background(), url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	got := make(chan struct{}, 1<<16)
	cl.Socket("/").OnAny(func(*sioclient.Event) { got <- struct{}{} })
	if _, err := cl.Connect(context.Background(), "/", nil); err != nil {
		b.Fatal(err)
	}
	nsp := srv1.Of("/")
	msg := map[string]any{"id": 12345, "room": "general", "name": "alice", "text": "hello world"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := nsp.Emit("chat-message", msg); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 { // stay within the queue and the client's inbox
			for range 1000 {
				<-got
			}
		}
	}
	for range b.N % 1000 {
		<-got
	}
}

// BenchmarkSessionChange measures what keeping live sockets' sessions
// costs when their rooms change: the Join, the keeper's SET of the
// session, queued to the publisher, and the publisher's pipeline to Redis
// (the clock runs until they are all done). Changes of one socket that
// come faster than the keeper writes are written once: a Join in turn on
// each of 100 sockets.
func BenchmarkSessionChange(b *testing.B) {
	c := redistest.Client(b)
	cfg := testConfig(c, redistest.Prefix(b))
	srv, node, url := benchServer(b, cfg, true)
	const n = 100
	var sockets []*socketio.Socket
	for range n {
		cl, err := sioclient.Dial(context.Background(), url, &sioclient.Options{Transport: sioclient.TransportWebSocket})
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		so, err := cl.Connect(context.Background(), "/", nil)
		if err != nil {
			b.Fatal(err)
		}
		var ss *socketio.Socket
		for ss == nil {
			ss = srv.Of("/").Socket(so.ID())
			time.Sleep(time.Millisecond)
		}
		sockets = append(sockets, ss)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		so := sockets[i%n]
		so.Join("room-" + strconv.Itoa(i%7))
	}
	for {
		s, c := node.SessionsPending()
		if s == 0 && c == 0 {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
}
