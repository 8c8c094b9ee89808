package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestRunCluster runs two nodes as main does, with --redis (a Redis of the
// test's own, whose default names it may use) and one PostgreSQL store:
// people on the two nodes talk, and each node stops cleanly. It needs
// PARLEY_TEST_REDIS and PARLEY_TEST_POSTGRES.
func TestRunCluster(t *testing.T) {
	rs := redistest.Server(t)
	n1, n2 := startNodes(t, rs.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	talk(t, ctx, n1, n2)
	stopNodes(t, n1, n2)
}

// TestRunClusterRefusals checks that --redis is refused at start without
// a shared store (TestRunClusterNoRedis: when Redis cannot be reached).
func TestRunClusterRefusals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"SQLite", []string{"--redis", "redis://127.0.0.1:1/0"}, "--redis needs a shared store"},
		{"memory", []string{"--redis", "redis://127.0.0.1:1/0", "--store", "memory"}, "--redis needs a shared store"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr lockedBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, append([]string{"--addr", "127.0.0.1:0"}, tt.args...), env(), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

// TestRunClusterNoRedis checks that a node that cannot reach Redis at
// start says so and stops. It needs PARLEY_TEST_POSTGRES.
func TestRunClusterNoRedis(t *testing.T) {
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, []string{"--addr", "127.0.0.1:0", "--store", clusterStore(t), "--redis", "redis://127.0.0.1:1/0?dial_timeout=200ms&max_retries=-1"}, env(), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "cannot reach Redis") {
		t.Fatalf("run = %v, want an error saying Redis cannot be reached", err)
	}
	if ctx.Err() != nil {
		t.Fatal("run returned only after its context ended")
	}
}

// TestRunClusterRecovery has the official client recovered on another
// node of a cluster of two (test/js/cluster-recovery.test.mjs), over one
// Redis server and over a Redis Cluster: it gets the chat messages it
// missed from the cluster's stream, once, in order, and is still the
// person it joined as.
func TestRunClusterRecovery(t *testing.T) {
	testjs.RequireNode(t)
	for _, tc := range []struct {
		name  string
		redis func(t *testing.T) string
	}{
		{"one server", func(t *testing.T) string { return redistest.Server(t).URL() }},
		// The sessions are in the slots of their ids, the stream in its
		// own.
		{"Redis Cluster", func(t *testing.T) string {
			return "redis+cluster://" + strings.Join(redistest.Cluster(t, 3).Addrs, ",")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n1, n2 := startNodes(t, tc.redis(t))
			testjs.Run(t, time.Minute, "cluster-recovery.test.mjs", "PARLEY_URL_A="+n1.URL, "PARLEY_URL_B="+n2.URL)
			stopNodes(t, n1, n2)
		})
	}
}
