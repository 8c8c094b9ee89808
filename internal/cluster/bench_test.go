package cluster_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// benchServer starts a node and its server for a benchmark.
func benchServer(b *testing.B, cfg cluster.Config) (*socketio.Server, *cluster.Node, string) {
	b.Helper()
	node, err := cluster.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := socketio.NewServer(socketio.Config{NewAdapter: node.NewAdapter, Logger: siotest.DiscardLogger()})
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

// BenchmarkBroadcastPublish measures what a broadcast costs its caller on
// a node with no local socket: encoding the stream entry and queueing it.
// When the queue is full (the caller outruns Redis), the clock stops until
// it takes the broadcast.
func BenchmarkBroadcastPublish(b *testing.B) {
	c := redistest.Client(b)
	cfg := testConfig(c, redistest.Prefix(b))
	srv, _, _ := benchServer(b, cfg)
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
}

// BenchmarkCrossNode measures broadcasts from one node to a socket on
// another, through Redis: from the first Emit until the client on the
// other node has them all.
func BenchmarkCrossNode(b *testing.B) {
	c := redistest.Client(b)
	cfg := testConfig(c, redistest.Prefix(b))
	srv1, _, _ := benchServer(b, cfg)
	_, _, url2 := benchServer(b, cfg)
	cl, err := sioclient.Dial(context.Background(), url2, &sioclient.Options{Transport: sioclient.TransportWebSocket})
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
