package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestRunCluster runs two nodes as main does, with --redis (a Redis of the
// test's own, whose default names it may use) and one PostgreSQL store:
// people on the two nodes talk, and each node stops cleanly. It needs
// PARLEY_TEST_REDIS and PARLEY_TEST_POSTGRES.
func TestRunCluster(t *testing.T) {
	rs := redistest.Server(t)
	args := clusterArgs(t, rs)
	n1 := startRun(t, args, env())
	n2 := startRun(t, args, env())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ann := join(t, ctx, n1.URL, sioclient.TransportWebSocket, "Ann")
	joined := make(chan string, 4)
	ann.so.On("user-connected", func(e *sioclient.Event) {
		var name string
		_ = e.Bind(0, &name)
		joined <- name
	})
	bob := join(t, ctx, n2.URL, sioclient.TransportPolling, "Bob")
	if got := bob.ack(t, ctx, "list-users", "general"); !slices.Equal(got.Users, []string{"Ann", "Bob"}) {
		t.Errorf("list-users on the second node: %+v", got)
	}
	select {
	case name := <-joined:
		if name != "Bob" {
			t.Errorf("Ann saw %q join, want Bob", name)
		}
	case <-ctx.Done():
		t.Fatal("Ann did not see Bob join")
	}
	if r := ann.ack(t, ctx, "send-chat-message", "hello Bob"); !r.OK {
		t.Fatalf("send-chat-message: %+v", r)
	}
	if r := bob.ack(t, ctx, "send-chat-message", "hello Ann"); !r.OK {
		t.Fatalf("send-chat-message: %+v", r)
	}
	for _, tc := range []struct {
		who  *chatter
		want string
	}{{bob, "Ann: hello Bob"}, {ann, "Bob: hello Ann"}} {
		select {
		case m := <-tc.who.messages:
			if m != tc.want {
				t.Errorf("got %q, want %q", m, tc.want)
			}
		case <-ctx.Done():
			t.Fatalf("%q did not cross to the other node", tc.want)
		}
	}
	for _, n := range []*server{n1, n2} {
		if err := n.stop(t, 10*time.Second); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
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
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", pgtest.Schema(t))
	u.RawQuery = q.Encode()
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = run(ctx, []string{"--addr", "127.0.0.1:0", "--store", u.String(), "--redis", "redis://127.0.0.1:1/0?dial_timeout=200ms&max_retries=-1"}, env(), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "cannot reach Redis") {
		t.Fatalf("run = %v, want an error saying Redis cannot be reached", err)
	}
	if ctx.Err() != nil {
		t.Fatal("run returned only after its context ended")
	}
}

// TestRunClusterRecovery has the official client recovered on another
// node of a cluster of two (test/js/cluster-recovery.test.mjs): it gets
// the chat messages it missed from the cluster's stream, once, in order,
// and is still the person it joined as.
func TestRunClusterRecovery(t *testing.T) {
	testjs.RequireNode(t)
	rs := redistest.Server(t)
	args := clusterArgs(t, rs)
	n1 := startRun(t, args, env())
	n2 := startRun(t, args, env())
	testjs.Run(t, time.Minute, "cluster-recovery.test.mjs", "PARLEY_URL_A="+n1.URL, "PARLEY_URL_B="+n2.URL)
	for _, n := range []*server{n1, n2} {
		if err := n.stop(t, 10*time.Second); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
}

// clusterArgs returns the arguments of a node of a test's cluster: rs, and
// a PostgreSQL schema of the test's own.
func clusterArgs(t *testing.T, rs *redistest.LocalServer) []string {
	t.Helper()
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", pgtest.Schema(t))
	u.RawQuery = q.Encode()
	return []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "5s", "--store", u.String(), "--redis", rs.URL()}
}
