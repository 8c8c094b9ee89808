package cluster_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/socketio/adaptertest"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// TestAdapterConformance runs the adapter conformance suite against the
// Redis adapter, each cluster under a key prefix of its own on the test
// Redis.
func TestAdapterConformance(t *testing.T) {
	redistest.URL(t)
	adaptertest.Run(t, adaptertest.Factory{Start: startRedisCluster, Binary: true, Recovery: true})
}

// startRedisCluster starts n nodes on the test Redis, under a prefix of
// their own, and waits until each counts them all.
func startRedisCluster(tb testing.TB, n int, scfg socketio.Config) *adaptertest.Cluster {
	tb.Helper()
	rc := redistest.Client(tb)
	prefix := redistest.Prefix(tb)
	cfg := recoveryConfig(rc, prefix)
	// Close waits up to BlockTime for the stream reader: a short one
	// keeps each check's end short.
	cfg.BlockTime = 50 * time.Millisecond
	var (
		mu    sync.Mutex
		nodes []*cluster.Node
		stops []func() error
	)
	// The nodes close at once, each waiting for its reader.
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		var wg sync.WaitGroup
		for _, stop := range stops {
			wg.Go(func() {
				if err := stop(); err != nil {
					tb.Errorf("closing a node: %v", err)
				}
			})
		}
		wg.Wait()
	})
	// counted waits until every node counts want nodes.
	counted := func(tb testing.TB, want int) {
		tb.Helper()
		mu.Lock()
		list := append([]*cluster.Node(nil), nodes...)
		mu.Unlock()
		for _, node := range list {
			wait.For(tb, "every node counted", 5*time.Second, func() bool {
				got, err := node.ServerCount(context.Background(), "/")
				return err == nil && got == want
			})
		}
	}
	start := func(tb testing.TB) *adaptertest.Node {
		tb.Helper()
		node, err := cluster.New(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		sc := scfg
		sc.NewAdapter = node.NewAdapter
		srv := socketio.NewServer(sc)
		hs := httptest.NewServer(srv)
		var once sync.Once
		var closeErr error
		stop := func() error {
			once.Do(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				closeErr = srv.Shutdown(ctx)
				hs.Close()
				if err := node.Close(ctx); closeErr == nil {
					closeErr = err
				}
			})
			return closeErr
		}
		mu.Lock()
		nodes = append(nodes, node)
		stops = append(stops, stop)
		mu.Unlock()
		if err := node.Ready(wait.Context(tb, 5*time.Second)); err != nil {
			tb.Fatal(err)
		}
		return &adaptertest.Node{Server: srv, URL: hs.URL, Close: stop}
	}
	c := &adaptertest.Cluster{}
	for range n {
		c.Nodes = append(c.Nodes, start(tb))
	}
	counted(tb, n)
	members := n
	// A silent member: a subscriber of the namespace's public channel
	// that never answers, as a node that hangs looks to the others.
	c.AddSilent = func(tb testing.TB) {
		tb.Helper()
		ps := rc.Subscribe(context.Background(), wire.PublicChannel(prefix, "/"))
		tb.Cleanup(func() { _ = ps.Close() })
		if _, err := ps.Receive(wait.Context(tb, 5*time.Second)); err != nil {
			tb.Fatal(err)
		}
		members++
		counted(tb, members)
	}
	c.AddNode = func(tb testing.TB) *adaptertest.Node {
		tb.Helper()
		nd := start(tb)
		members++
		counted(tb, members)
		return nd
	}
	return c
}
