package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// slotCount is the number of hash slots of a Redis Cluster.
const slotCount = 16384

// LocalCluster is a Redis Cluster that a test started (see Cluster).
type LocalCluster struct {
	// Addrs are the host:port of its masters, in the order of their
	// slots: any of them is a seed.
	Addrs []string
	// Nodes are its masters, as Addrs.
	Nodes []*LocalServer
}

// Cluster starts a Redis Cluster of the test's own: masters redis-servers
// (no replicas), on free loopback ports (their cluster bus too), each in
// a directory of its own, sharing the 16384 slots in consecutive ranges.
// It returns once every node says cluster_state:ok and knows every other;
// the nodes are killed when the test ends. It skips the test as Server
// does.
func Cluster(tb testing.TB, masters int) *LocalCluster {
	tb.Helper()
	if masters < 1 {
		tb.Fatalf("redistest: a cluster of %d masters", masters)
	}
	bin := serverBinary(tb)
	lc := &LocalCluster{}
	buses := make([]string, masters)
	for i := range masters {
		buses[i] = freePort(tb)
		s := newLocalServer(tb, bin, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000", "--cluster-port", buses[i])
		s.Start()
		tb.Cleanup(s.Stop)
		lc.Nodes = append(lc.Nodes, s)
		lc.Addrs = append(lc.Addrs, s.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), formTimeout)
	defer cancel()
	for i, s := range lc.Nodes {
		c := s.client()
		lo, hi := i*slotCount/masters, (i+1)*slotCount/masters-1
		err := c.ClusterAddSlotsRange(ctx, lo, hi).Err()
		if err == nil {
			// Distinct epochs, as redis-cli --cluster create gives: no
			// collision to settle.
			err = c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		}
		if err == nil && i > 0 {
			host, port, _ := net.SplitHostPort(s.Addr)
			err = lc.Nodes[0].clientDo(ctx, "CLUSTER", "MEET", host, port, buses[i])
		}
		_ = c.Close()
		if err != nil {
			tb.Fatalf("redistest: forming the cluster, node %s: %v", s.Addr, err)
		}
	}
	for _, s := range lc.Nodes {
		c := s.client()
		poll(tb, "the cluster to be ok on "+s.Addr, formTimeout, func(ctx context.Context) error {
			return clusterOK(ctx, c, masters)
		})
		_ = c.Close()
	}
	return lc
}

// clientDo runs one command on the server alone.
func (s *LocalServer) clientDo(ctx context.Context, args ...any) error {
	c := s.client()
	defer c.Close()
	return c.Do(ctx, args...).Err()
}

// clusterOK says why the node of c does not see the cluster of n nodes
// whole and ok, or nil.
func clusterOK(ctx context.Context, c *redis.Client, n int) error {
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return err
	}
	fields := make(map[string]string)
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		fields[k] = v
	}
	if fields["cluster_state"] != "ok" || fields["cluster_known_nodes"] != strconv.Itoa(n) ||
		fields["cluster_slots_ok"] != strconv.Itoa(slotCount) {
		return fmt.Errorf("state %s, %s nodes known, %s slots ok", fields["cluster_state"], fields["cluster_known_nodes"], fields["cluster_slots_ok"])
	}
	return nil
}

// Client returns a client of the cluster, closed when the test ends.
func (lc *LocalCluster) Client(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: lc.Addrs})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
