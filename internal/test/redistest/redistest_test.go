package redistest_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/test/redistest"
)

// TestCluster checks that Cluster forms a cluster whose slots are all
// served, each master some: keys spread over them are written and read
// back, and every master holds some.
func TestCluster(t *testing.T) {
	lc := redistest.Cluster(t, 3)
	c := lc.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 100 {
		k := "k" + strconv.Itoa(i)
		if err := c.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		if v, err := c.Get(ctx, k).Int(); err != nil || v != i {
			t.Fatalf("GET %s = %d, %v", k, v, err)
		}
	}
	var mu sync.Mutex
	sizes := make(map[string]int64)
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		mu.Lock()
		sizes[m.Options().Addr] = n
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, addr := range lc.Addrs {
		if sizes[addr] == 0 {
			t.Errorf("master %s holds no key: %v", addr, sizes)
		}
		total += sizes[addr]
	}
	if len(sizes) != 3 || total != 100 {
		t.Errorf("keys per master %v, want 100 over 3", sizes)
	}
}

// TestSentinel checks that Sentinel's client reaches the master, that
// the replica has what the master wrote, and that after Failover the
// client writes to the replica, promoted, with what was there before.
func TestSentinel(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d sentinels", n), func(t *testing.T) {
			ls := redistest.Sentinel(t, redistest.SentinelConfig{Replicas: 1, Sentinels: n})
			c := ls.Client(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			old := ls.Master
			ls.InSync()
			promoted := ls.Failover(nil)
			if promoted == old || promoted != ls.Replicas[0] || ls.Master != promoted {
				t.Fatalf("promoted %s, master was %s", promoted.Addr, old.Addr)
			}
			// The client's connections to the old master fail until it
			// learns of the new one.
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := c.Set(ctx, "after", "2", 0).Err()
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("SET after the failover: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			direct := redis.NewClient(&redis.Options{Addr: promoted.Addr})
			defer direct.Close()
			if v, err := direct.MGet(ctx, "before", "after").Result(); err != nil || fmt.Sprint(v) != "[1 2]" {
				t.Errorf("the promoted replica holds %v, %v", v, err)
			}
		})
	}
}
