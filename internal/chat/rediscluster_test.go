package chat_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/test/redistest"
)

// TestClusterOnRedisCluster runs tests above over a Redis Cluster of
// three masters: the stream and the sequences' keys in one slot, the
// presence in another, the PUB/SUB channels and sessions in theirs.
func TestClusterOnRedisCluster(t *testing.T) {
	lc := redistest.Cluster(t, 3)
	client := func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: lc.Addrs, MaxRetries: -1})
	}
	for _, tt := range []struct {
		name string
		f    func(*testing.T, *testCluster)
	}{
		{"chat", testClusterChat},
		{"concurrent writers", testClusterConcurrentWriters},
		{"two tabs", testClusterTwoTabs},
		{"node death", testClusterNodeDeath},
		{"fills gaps", testClusterFillsGaps},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, newTestClusterOf(t, client)) })
	}
}
