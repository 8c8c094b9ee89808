package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/store/postgres/pgtest"
	"github.com/parley-chat/parley/internal/test/metricstest"
	"github.com/parley-chat/parley/internal/test/redistest"
	"github.com/parley-chat/parley/internal/test/wait"
)

// newMetricsApp returns the whole app, with its metrics, served by a test
// server; both are closed at the end of the test. Its history is in
// memory.
func newMetricsApp(t *testing.T, cfg config) (*app, *httptest.Server) {
	t.Helper()
	if cfg.MaxNameLength == 0 {
		cfg.MaxNameLength = 32
	}
	if cfg.MaxMessageLength == 0 {
		cfg.MaxMessageLength = 2000
	}
	if cfg.NameReserve == 0 {
		cfg.NameReserve = defaultNameReserve
	}
	if cfg.Store == "" {
		cfg.Store = "memory"
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a.handler)
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.sio.Shutdown(ctx)
		_ = a.close()
	})
	return a, ts
}

// counted is a client that counts every event it gets.
type counted struct {
	c      *sioclient.Client
	so     *sioclient.Socket
	mu     sync.Mutex
	events map[string]int
}

func (c *counted) count(e *sioclient.Event) {
	c.mu.Lock()
	c.events[e.Name]++
	c.mu.Unlock()
}

func (c *counted) got(event string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if event == "" {
		n := 0
		for _, v := range c.events {
			n += v
		}
		return n
	}
	return c.events[event]
}

// dialCounted connects a client over transport, with auth, counting its
// events.
func dialCounted(t *testing.T, ctx context.Context, url string, transport sioclient.Transport, auth any) *counted {
	t.Helper()
	c, err := sioclient.Dial(ctx, url, &sioclient.Options{Transport: transport})
	if err != nil {
		t.Fatalf("dial over %s: %v", transport, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cc := &counted{c: c, so: c.Socket("/"), events: make(map[string]int)}
	cc.so.OnAny(cc.count)
	if err := cc.so.Connect(ctx, auth); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return cc
}

// ack emits event and returns its acknowledgement's ok.
func (c *counted) ack(t *testing.T, ctx context.Context, event string, args ...any) bool {
	t.Helper()
	msg, err := c.so.EmitWithAck(ctx, event, args...)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	var r struct {
		OK bool `json:"ok"`
	}
	if err := msg.Bind(0, &r); err != nil {
		t.Fatalf("%s: ack: %v", event, err)
	}
	return r.OK
}

// TestMetricsExact connects clients over each transport, has some of them
// chat, and checks every metric against what happened: the sessions by
// transport, the sockets, the people and rooms, the events received by
// name and the events sent (all the clients got, one by one), the
// messages stored and their batches, the refusals, the recoveries, the
// deliveries timed; then everyone leaves, and the gauges are back to zero.
func TestMetricsExact(t *testing.T) {
	t.Parallel()
	a, ts := newMetricsApp(t, config{PresenceGrace: 50 * time.Millisecond})
	reg := a.metrics.Registry()
	ctx := wait.Context(t, 30*time.Second)

	transports := []sioclient.Transport{
		sioclient.TransportWebSocket, sioclient.TransportPolling, sioclient.TransportUpgrade,
		sioclient.TransportWebSocket, sioclient.TransportPolling,
	}
	var people []*counted
	for i, tr := range transports {
		c := dialCounted(t, ctx, ts.URL, tr, nil)
		if !c.ack(t, ctx, "new-user", fmt.Sprintf("Person%d", i)) {
			t.Fatalf("new-user %d refused", i)
		}
		people = append(people, c)
	}
	// Someone who asks for a state the server never kept, and who sends a
	// message without joining (refused) and an event the chat knows not.
	stranger := dialCounted(t, ctx, ts.URL, sioclient.TransportWebSocket, map[string]string{"pid": "no-such-session", "offset": "x"})
	if stranger.ack(t, ctx, "send-chat-message", "hello?") {
		t.Fatal("a message before new-user was accepted")
	}
	if err := stranger.so.Emit("made-up-event", 1); err != nil {
		t.Fatal(err)
	}

	const perPerson = 3
	messages := 0
	for round := range perPerson {
		for i, p := range people {
			if !p.ack(t, ctx, "send-chat-message", fmt.Sprintf("message %d of %d", round, i)) {
				t.Fatalf("message %d of %d refused", round, i)
			}
			messages++
		}
	}
	// Everyone hears the default room, the stranger too; nobody gets
	// their own messages.
	for _, p := range people {
		wait.For(t, "the messages", 10*time.Second, func() bool { return p.got("chat-message") == messages-perPerson })
	}
	wait.For(t, "the stranger's messages", 10*time.Second, func() bool { return stranger.got("chat-message") == messages })
	all := append(people, stranger)
	eventsGot := func() int {
		n := 0
		for _, c := range all {
			n += c.got("")
		}
		return n
	}

	joined := float64(len(people))
	want := []metricstest.Want{
		metricstest.Is("parley_connections", 2, "transport=polling"),
		metricstest.Is("parley_connections", 4, "transport=websocket"), // the upgraded one too
		metricstest.Is("parley_sockets", joined+1, "namespace=/"),
		metricstest.Is("parley_people_online", joined),
		metricstest.Is("parley_rooms", 1),
		metricstest.Is("parley_events_received_total", joined, "event=new-user"),
		metricstest.Is("parley_events_received_total", float64(messages+1), "event=send-chat-message"),
		metricstest.Is("parley_events_received_total", 0, "event=join-room"),
		metricstest.Is("parley_events_received_total", 1, "event=other"),
		metricstest.Is("parley_messages_stored_total", float64(messages)),
		metricstest.Is("parley_refusals_total", 1, "code=not_joined"),
		metricstest.Is("parley_refusals_total", 0, "code=rate_limited"),
		metricstest.Is("parley_rate_limited_total", 0),
		metricstest.Is("parley_recoveries_total", 1, "result=missed"),
		metricstest.Is("parley_recoveries_total", 0, "result=recovered"),
		metricstest.Is("parley_slow_consumers_total", 0),
		// Each message had others to reach: each was timed.
		metricstest.Is("parley_delivery_latency_seconds", float64(messages)),
	}
	wait.For(t, "the metrics", 10*time.Second, func() error { return metricstest.Check(reg, want) })
	wait.For(t, "the events sent", 10*time.Second, func() error {
		sent, got := metricstest.Get(t, reg, "parley_events_sent_total"), eventsGot()
		if sent != float64(got) {
			return fmt.Errorf("parley_events_sent_total %v, the clients got %d", sent, got)
		}
		return nil
	})
	batches := metricstest.Get(t, reg, "parley_store_batch_size")
	if sum := metricstest.Sum(t, reg, "parley_store_batch_size"); sum != float64(messages) || batches < 1 || batches > float64(messages) {
		t.Errorf("%v batches of %v messages in all, want %d messages", batches, sum, messages)
	}
	if commits := metricstest.Get(t, reg, "parley_store_commit_seconds"); commits != batches {
		t.Errorf("%v commits timed, want one per batch, %v", commits, batches)
	}

	for _, c := range all {
		_ = c.c.Close()
	}
	wait.For(t, "the gauges back to zero", 10*time.Second, func() error {
		return metricstest.Check(reg, []metricstest.Want{
			metricstest.Is("parley_connections", 0, "transport=polling"),
			metricstest.Is("parley_connections", 0, "transport=websocket"),
			metricstest.Is("parley_sockets", 0, "namespace=/"),
			metricstest.Is("parley_people_online", 0),
			metricstest.Is("parley_rooms", 0),
		})
	})
}

// TestMetricsEndpoint checks /metrics on the main address: the text
// format, parley's metrics with the Go runtime's and the process's.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	_, ts := newMetricsApp(t, config{})
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	for _, want := range []string{
		"\n# TYPE parley_connections gauge\n", "\nparley_connections{transport=\"websocket\"} 0\n",
		"\nparley_sockets{namespace=\"/\"} 0\n", "\nparley_people_online 0\n",
		"\n# TYPE parley_delivery_latency_seconds histogram\n", "\n# TYPE go_goroutines gauge\n",
		"\n# TYPE process_cpu_seconds_total counter\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(body), "parley_redis_") || strings.Contains(string(body), "parley_cluster_nodes") {
		t.Error("/metrics has the cluster's metrics without --redis")
	}
}

// metricsAddrRE matches the log line that names the metrics listener.
var metricsAddrRE = regexp.MustCompile(`msg=metrics addr=(127\.0\.0\.1:\d+)`)

// TestMetricsAddr checks that --metrics-addr serves /metrics on a
// listener of its own, and then not on the main address.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	s := startRun(t, []string{"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, env())
	var addr string
	wait.For(t, "the metrics listener's log line", 5*time.Second, func() bool {
		m := metricsAddrRE.FindStringSubmatch(s.log.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	resp, err := s.http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "parley_connections") {
		t.Errorf("GET /metrics on --metrics-addr: %s\n%.300s", resp.Status, body)
	}
	resp, err = s.http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on --addr with --metrics-addr: %s, want 404", resp.Status)
	}
	// The rest stays on the main address.
	s.get(t, "/healthz")
	s.get(t, "/readyz")
	if err := s.stop(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the metrics listener still answers after run returned")
	}
}

// TestMetricsCluster checks the metrics of two nodes of a cluster (a
// Redis of the test's own, one PostgreSQL store): each counts both nodes,
// times its writes to Redis, and counts none failed; once Redis is down,
// the failures are counted and /readyz names Redis. It needs
// PARLEY_TEST_REDIS and PARLEY_TEST_POSTGRES.
func TestMetricsCluster(t *testing.T) {
	rs := redistest.Server(t)
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", pgtest.Schema(t))
	u.RawQuery = q.Encode()
	cfg := config{Store: u.String(), Redis: rs.URL(), PresenceGrace: 50 * time.Millisecond}
	n1, ts1 := newMetricsApp(t, cfg)
	n2, ts2 := newMetricsApp(t, cfg)
	ctx := wait.Context(t, 30*time.Second)
	ann := dialCounted(t, ctx, ts1.URL, sioclient.TransportWebSocket, nil)
	bob := dialCounted(t, ctx, ts2.URL, sioclient.TransportPolling, nil)
	for i, c := range []*counted{ann, bob} {
		if !c.ack(t, ctx, "new-user", fmt.Sprint("Node", i)) {
			t.Fatal("new-user refused")
		}
	}
	if !ann.ack(t, ctx, "send-chat-message", "across") {
		t.Fatal("send-chat-message refused")
	}
	wait.For(t, "the message on the other node", 10*time.Second, func() bool { return bob.got("chat-message") == 1 })
	for i, n := range []*app{n1, n2} {
		reg := n.metrics.Registry()
		// A node hears of the other by its heartbeats, every 5 s.
		wait.For(t, fmt.Sprint("node ", i, " counting both"), 15*time.Second, func() error {
			return metricstest.Check(reg, []metricstest.Want{
				metricstest.Is("parley_cluster_nodes", 2),
				metricstest.Is("parley_redis_errors_total", 0),
				metricstest.Is("parley_people_online", 1),
			})
		})
		if got := metricstest.Get(t, reg, "parley_redis_publish_seconds"); got < 1 {
			t.Errorf("node %d timed %v writes to Redis, want some", i, got)
		}
	}
	// The message was stored by the node it arrived at, and is timed
	// there, to that node's own sockets: Ann was alone there, so nothing
	// was timed; the other node got it relayed, with no arrival to time.
	for i, want := range []metricstest.Want{
		metricstest.Is("parley_messages_stored_total", 1),
		metricstest.Is("parley_messages_stored_total", 0),
	} {
		reg := []*app{n1, n2}[i].metrics.Registry()
		if err := metricstest.Check(reg, []metricstest.Want{want, metricstest.Is("parley_delivery_latency_seconds", 0)}); err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}

	rs.Stop()
	_ = ann.so.Emit("typing", map[string]any{"room": "general", "typing": true}) // a broadcast to Redis
	wait.For(t, "the Redis failures counted", 15*time.Second, func() bool {
		return metricstest.Get(t, n1.metrics.Registry(), "parley_redis_errors_total") > 0
	})
	code, body := readyz(t, n1.handler)
	if code != http.StatusServiceUnavailable || body.Failing[checkRedis] == "" || body.Failing[checkStore] != "" {
		t.Errorf("/readyz with Redis down: %d %+v, want 503 naming redis alone", code, body)
	}
	rs.Start()
}
