package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/bench"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
	"github.com/parley-chat/parley/internal/test/redistest"
)

// TestBenchCluster runs parley bench against two nodes of a cluster (a
// Redis of the test's own and one PostgreSQL schema), with the senders on
// the first node and every other client on the second: each message must
// reach everyone, those on the second node through the hop between the
// nodes, and the result must count them as cross-node. It needs
// PARLEY_TEST_REDIS and PARLEY_TEST_POSTGRES.
func TestBenchCluster(t *testing.T) {
	rs := redistest.Server(t)
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", pgtest.Schema(t))
	u.RawQuery = q.Encode()
	args := []string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "5s", "--store", u.String(), "--redis", rs.URL(), "--log-level", "warn"}
	n1 := startRun(t, args, env())
	n2 := startRun(t, args, env())

	const clients, senders = 12, 3
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = runBench(ctx, []string{
		"--senders-url", n1.URL, "--url", n2.URL, "--clients", "12", "--senders", "3", "--rate", "10",
		"--warmup", "300ms", "--duration", "1500ms", "--json", "--quiet",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("runBench: %v\n%s", err, stderr.String())
	}
	t.Logf("\n%s", stderr.String())
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, stdout.String())
	}
	if rep.Connected != clients || rep.Dropped != 0 || rep.Sent == 0 || rep.Loss != 0 || rep.Duplicates != 0 {
		t.Fatalf("connected %d, dropped %d, sent %d, loss %d, duplicates %d: want all connected and every message delivered once",
			rep.Connected, rep.Dropped, rep.Sent, rep.Loss, rep.Duplicates)
	}
	if rep.SendersURL != n1.URL || rep.URL != n2.URL || len(rep.Nodes) != 2 {
		t.Fatalf("senders_url %q, url %q, nodes %+v", rep.SendersURL, rep.URL, rep.Nodes)
	}
	for i, want := range []bench.NodeReport{
		{URL: n2.URL, Clients: clients - senders, Senders: 0, Connected: clients - senders},
		{URL: n1.URL, Clients: senders, Senders: senders, Connected: senders},
	} {
		got := rep.Nodes[i]
		if got.URL != want.URL || got.Clients != want.Clients || got.Senders != want.Senders || got.Connected != want.Connected {
			t.Errorf("node %d: %+v, want %+v", i, got, want)
		}
	}
	// Every message reaches the other senders on the first node, and the
	// nine receivers on the second.
	if rep.SameNode == nil || rep.CrossNode == nil {
		t.Fatalf("no same_node or cross_node: %s", stdout.String())
	}
	if got, want := rep.CrossNode.Received, rep.Sent*(clients-senders); got != want {
		t.Errorf("cross-node deliveries %d, want sent %d × %d", got, rep.Sent, clients-senders)
	}
	if got, want := rep.SameNode.Received, rep.Sent*(senders-1); got != want {
		t.Errorf("same-node deliveries %d, want sent %d × %d", got, rep.Sent, senders-1)
	}
	if rep.Nodes[0].Received != rep.CrossNode.Received || rep.Nodes[1].Received != rep.SameNode.Received {
		t.Errorf("deliveries by node %d, %d; want %d, %d", rep.Nodes[0].Received, rep.Nodes[1].Received, rep.CrossNode.Received, rep.SameNode.Received)
	}
	if c := rep.CrossNode; c.LatencyP50MS <= 0 || c.LatencyP99MS < c.LatencyP50MS || c.LatencyMaxMS < c.LatencyP99MS {
		t.Errorf("cross-node latencies %+v", c)
	}
	for _, n := range []*server{n1, n2} {
		if err := n.stop(t, 10*time.Second); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
}
