package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/metrics"
	"github.com/parley-chat/parley/internal/test/metricstest"
	"github.com/parley-chat/parley/internal/test/redistest"
)

// parleyNames are the metrics every Metrics has, and clusterNames those
// of a cluster node besides.
var (
	parleyNames = []string{
		"parley_connections", "parley_delivery_latency_seconds", "parley_events_received_total",
		"parley_events_sent_total", "parley_messages_stored_total", "parley_rate_limited_total",
		"parley_recoveries_total", "parley_refusals_total", "parley_slow_consumers_total",
		"parley_store_batch_size", "parley_store_commit_failures_total", "parley_store_commit_seconds",
	}
	watchedNames = []string{"parley_people_online", "parley_rooms", "parley_sockets"}
	clusterNames = []string{"parley_cluster_nodes", "parley_redis_errors_total", "parley_redis_publish_seconds"}
)

// families gathers m and returns its metric families by name.
func families(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	return metricstest.Families(t, m.Registry())
}

// value returns the value of the series of name whose labels are labels
// (name=value pairs), or fails the test (see metricstest.Value).
func value(t *testing.T, m *metrics.Metrics, name string, labels ...string) float64 {
	t.Helper()
	return metricstest.Get(t, m.Registry(), name, labels...)
}

func newMetrics(cluster bool) *metrics.Metrics {
	return metrics.New(metrics.Config{Events: []string{"new-user", "send-chat-message"}, Codes: []string{"rate_limited", "not_joined"}, Cluster: cluster})
}

// TestNames checks the metrics a registry has: parley's, with the Go
// runtime's and the process's, and the cluster's only for a cluster node;
// every label value of a Config's lists is there from the start, at zero.
func TestNames(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		m := newMetrics(cluster)
		m.Watch(metrics.Sources{
			Sockets:      func(yield func(string, int)) { yield("/", 0) },
			People:       func() int { return 0 },
			Rooms:        func() int { return 0 },
			ClusterNodes: map[bool]func() int{true: func() int { return 1 }}[cluster],
		})
		var got []string
		for name := range families(t, m) {
			if strings.HasPrefix(name, "parley_") {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		want := append(append([]string(nil), parleyNames...), watchedNames...)
		if cluster {
			want = append(want, clusterNames...)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("cluster=%v: metrics %q, want %q", cluster, got, want)
		}
		fams := families(t, m)
		for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
			if fams[name] == nil {
				t.Errorf("no %s", name)
			}
		}
		for _, s := range []struct {
			name   string
			labels []string
		}{
			{"parley_connections", []string{"transport=polling"}},
			{"parley_connections", []string{"transport=websocket"}},
			{"parley_events_received_total", []string{"event=new-user"}},
			{"parley_events_received_total", []string{"event=other"}},
			{"parley_refusals_total", []string{"code=not_joined"}},
			{"parley_refusals_total", []string{"code=other"}},
			{"parley_recoveries_total", []string{"result=recovered"}},
			{"parley_recoveries_total", []string{"result=missed"}},
		} {
			if v := value(t, m, s.name, s.labels...); v != 0 {
				t.Errorf("%s%v = %v at the start", s.name, s.labels, v)
			}
		}
	}
}

// TestObserve checks that each observer method moves its metric, and
// only it, by what it says.
func TestObserve(t *testing.T) {
	m := newMetrics(false)
	m.SessionOpened(metrics.TransportPolling)
	m.SessionOpened(metrics.TransportPolling)
	m.SessionOpened(metrics.TransportWebSocket)
	m.SessionUpgraded()
	m.SessionClosed(metrics.TransportWebSocket)
	m.SlowConsumer()
	m.EventReceived("/", "new-user")
	m.EventReceived("/", "send-chat-message")
	m.EventReceived("/", "send-chat-message")
	m.EventReceived("/", "made-up")
	m.EventReceived("/admin", "other")
	m.EventsSent(1000)
	m.EventsSent(1)
	m.Recovery(true)
	m.Recovery(false)
	m.Recovery(false)
	m.Committed(3, 2*time.Millisecond, nil)
	m.Committed(5, time.Millisecond, nil)
	m.Committed(4, time.Second, errors.New("disk full"))
	m.Refused("not_joined")
	m.Refused("rate_limited")
	m.Refused("from-a-future-version")
	m.RateLimited()
	m.Delivered(3 * time.Millisecond)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"parley_connections", []string{"transport=polling"}, 1},
		{"parley_connections", []string{"transport=websocket"}, 1},
		{"parley_slow_consumers_total", nil, 1},
		{"parley_events_received_total", []string{"event=new-user"}, 1},
		{"parley_events_received_total", []string{"event=send-chat-message"}, 2},
		{"parley_events_received_total", []string{"event=other"}, 2},
		{"parley_events_sent_total", nil, 1001},
		{"parley_recoveries_total", []string{"result=recovered"}, 1},
		{"parley_recoveries_total", []string{"result=missed"}, 2},
		{"parley_messages_stored_total", nil, 8},
		{"parley_store_commit_failures_total", nil, 1},
		{"parley_store_commit_seconds", nil, 3},
		{"parley_store_batch_size", nil, 2},
		{"parley_refusals_total", []string{"code=not_joined"}, 1},
		{"parley_refusals_total", []string{"code=rate_limited"}, 1},
		{"parley_refusals_total", []string{"code=other"}, 1},
		{"parley_rate_limited_total", nil, 1},
		{"parley_delivery_latency_seconds", nil, 1},
	} {
		if got := value(t, m, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	h := families(t, m)["parley_store_batch_size"].GetMetric()[0].GetHistogram()
	if h.GetSampleSum() != 8 {
		t.Errorf("batch sizes sum to %v, want 8", h.GetSampleSum())
	}
	d := families(t, m)["parley_delivery_latency_seconds"].GetMetric()[0].GetHistogram()
	if d.GetSampleSum() != 0.003 {
		t.Errorf("latency sum %v, want 0.003", d.GetSampleSum())
	}
}

// TestObserveAllocs checks that the observers of the hot path allocate
// nothing.
func TestObserveAllocs(t *testing.T) {
	m := newMetrics(false)
	allocs := testing.AllocsPerRun(100, func() {
		m.EventReceived("/", "send-chat-message")
		m.EventReceived("/", "made-up")
		m.EventsSent(10)
		m.Delivered(time.Millisecond)
		m.Committed(3, time.Millisecond, nil)
		m.Refused("not_joined")
		m.SessionOpened(metrics.TransportWebSocket)
		m.SessionClosed(metrics.TransportWebSocket)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

// TestWatch checks the gauges read at scrape time: each scrape reads the
// sources anew.
func TestWatch(t *testing.T) {
	m := newMetrics(true)
	people, rooms := 3, 1
	sockets := map[string]int{"/": 4, "/admin": 1}
	m.Watch(metrics.Sources{
		Sockets: func(yield func(string, int)) {
			for _, nsp := range []string{"/", "/admin"} {
				yield(nsp, sockets[nsp])
			}
		},
		People:       func() int { return people },
		Rooms:        func() int { return rooms },
		ClusterNodes: func() int { return 2 },
	})
	check := func(name string, want float64, labels ...string) {
		t.Helper()
		if got := value(t, m, name, labels...); got != want {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
		}
	}
	check("parley_people_online", 3)
	check("parley_rooms", 1)
	check("parley_sockets", 4, "namespace=/")
	check("parley_sockets", 1, "namespace=/admin")
	check("parley_cluster_nodes", 2)
	people, rooms, sockets["/"] = 0, 0, 0
	check("parley_people_online", 0)
	check("parley_rooms", 0)
	check("parley_sockets", 0, "namespace=/")
	m.Watch(metrics.Sources{}) // a second call does nothing
	check("parley_people_online", 0)
}

// TestHandler checks that the handler serves the text format, which a
// Prometheus parser reads, with parley's metrics in it.
func TestHandler(t *testing.T) {
	m := newMetrics(false)
	m.EventsSent(7)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(string(body), "\nparley_events_sent_total 7\n") {
		t.Errorf("no parley_events_sent_total 7 in:\n%.2000s", body)
	}
	if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(`
# HELP parley_events_sent_total Socket.IO events queued for sockets: one per socket a broadcast reaches, one per event to a socket alone.
# TYPE parley_events_sent_total counter
parley_events_sent_total 7
`), "parley_events_sent_total"); err != nil {
		t.Error(err)
	}
}

// TestRedisHook checks the hook of a Redis client: publishes timed,
// pipelines of them too, failures counted, and neither empty answers nor
// a client's close taken for failures.
func TestRedisHook(t *testing.T) {
	srv := redistest.Server(t)
	opts, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1
	opts.DialTimeout = 200 * time.Millisecond
	c := redis.NewClient(opts)
	defer c.Close()
	m := newMetrics(true)
	c.AddHook(m.RedisHook())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if err := c.Publish(ctx, "parley-test-channel", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	pipe := c.Pipeline()
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: "parley-test-stream", Values: []string{"k", "v"}})
	pipe.Publish(ctx, "parley-test-channel", "again")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "parley-test-no-such-key").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET: %v, want redis.Nil", err)
	}
	if err := c.Set(ctx, "parley-test-key", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	// A script Redis does not know yet: EVALSHA is refused (NOSCRIPT), and
	// go-redis sends it with EVAL.
	if err := redis.NewScript(`return 1`).Run(ctx, c, nil).Err(); err != nil {
		t.Fatal(err)
	}
	if got := value(t, m, "parley_redis_publish_seconds"); got != 2 {
		t.Errorf("%v publishes timed, want 2 (a PUBLISH, a pipeline)", got)
	}
	if got := value(t, m, "parley_redis_errors_total"); got != 0 {
		t.Errorf("%v errors, want 0", got)
	}

	srv.Stop()
	if err := c.Publish(ctx, "parley-test-channel", "lost").Err(); err == nil {
		t.Fatal("PUBLISH to a stopped Redis succeeded")
	}
	pipe = c.Pipeline()
	pipe.Publish(ctx, "parley-test-channel", "lost")
	pipe.Publish(ctx, "parley-test-channel", "lost")
	_, _ = pipe.Exec(ctx)
	if got := value(t, m, "parley_redis_errors_total"); got != 3 {
		t.Errorf("%v errors, want 3 (a command, a pipeline of two)", got)
	}
	_ = c.Close()
	_ = c.Ping(ctx).Err() // closed: no failure of Redis's
	if got := value(t, m, "parley_redis_errors_total"); got != 3 {
		t.Errorf("%v errors after the client's close, want 3", got)
	}
}
