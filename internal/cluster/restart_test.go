package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// TestRedisRestart kills the Redis of two nodes (a redis-server of the
// test's own, killed with SIGKILL) while one broadcasts, and starts it again,
// empty: what was broadcast meanwhile waited in the node's queue and
// reaches every socket once Redis is back, and the readers go on from the
// last entry they read, so that each socket gets every broadcast once, in
// order. With recovery on, the node's own sockets get its broadcasts from
// the stream, so they wait too; the live sessions, lost with Redis's data,
// are written again. When the queue is full, a broadcast is refused with
// ErrBacklog (with recovery on, it then reaches nobody).
func TestRedisRestart(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recovery bool
		queue    int // the publisher's bound; 0 for the default
	}{
		{"without recovery", false, 0},
		{"with recovery", true, 0},
		{"with recovery, queue full", true, 32 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := redistest.Server(t)
			rc := redis.NewClient(&redis.Options{Addr: rs.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
			t.Cleanup(func() { _ = rc.Close() }) // after the nodes' Close
			prefix := "parley-restart"
			cfg := recoveryConfig(rc, prefix)
			cfg.MaxQueueBytes = tc.queue
			var opts []func(*socketio.Config)
			if tc.recovery {
				opts = append(opts, withRecovery)
			}
			a, b := startServer(t, cfg, opts...), startServer(t, cfg, opts...)
			countNodes(t, 2, a, b)
			ca, cb := connect(t, a), connect(t, b)
			ctx := context.Background()
			emit := func(from, n int) {
				t.Helper()
				for i := from; i < from+n; i++ {
					if err := a.Of("/").Emit("seq", i); err != nil {
						t.Fatalf("broadcast %d: %v", i, err)
					}
				}
			}
			expect := func(c *client, from, n int) {
				t.Helper()
				for i := from; i < from+n; i++ {
					e := c.next(t)
					var got int
					if err := e.Bind(0, &got); err != nil || e.Name != "seq" || got != i {
						t.Fatalf("event %d: %q %s %v", i, e.Name, e.Args, err)
					}
				}
			}
			emit(0, 50)
			expect(ca, 0, 50)
			expect(cb, 0, 50)

			rs.Stop()
			queued := 50
			if tc.queue > 0 {
				// Until the queue is full: the next is refused, and
				// reaches nobody.
				queued = 0
				for {
					err := a.Of("/").Emit("seq", 50+queued)
					if errors.Is(err, cluster.ErrBacklog) {
						break
					}
					if err != nil || queued > 1000 {
						t.Fatalf("broadcast %d: %v", 50+queued, err)
					}
					queued++
				}
				if queued < 10 {
					t.Fatalf("%d broadcasts queued", queued)
				}
			} else {
				emit(50, queued)
			}
			if tc.recovery {
				select {
				case e := <-ca.in:
					t.Fatalf("with Redis away, a's own socket got %q %s", e.Name, e.Args)
				case <-time.After(300 * time.Millisecond):
				}
			} else {
				expect(ca, 50, 50) // at once, Redis or not
			}
			rs.Start()
			if !tc.recovery {
				expect(cb, 50, queued)
			} else {
				expect(ca, 50, queued)
				expect(cb, 50, queued)
			}
			emit(1000, 10)
			expect(ca, 1000, 10)
			expect(cb, 1000, 10)
			for _, c := range []*client{ca, cb} {
				select {
				case e := <-c.in:
					t.Fatalf("extra event %q %s", e.Name, e.Args)
				case <-time.After(200 * time.Millisecond):
				}
			}
			if tc.recovery {
				wait.For(t, "the sessions written again", 5*time.Second, func() bool {
					n, err := rc.Exists(ctx, sessionPrefix(prefix)+ca.ss.Session().PID, sessionPrefix(prefix)+cb.ss.Session().PID).Result()
					return err == nil && n == 2
				})
			}
			// Requests are answered again: the PUB/SUB connections are back.
			wait.For(t, "two nodes counted", 10*time.Second, func() bool {
				n, err := a.node.ServerCount(ctx, "/")
				return err == nil && n == 2
			})
			list, err := a.Of("/").FetchSockets(ctx)
			if err != nil || len(list) != 2 {
				t.Errorf("FetchSockets: %+v, %v", list, err)
			}
		})
	}
}
