package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Other is the label value of the events and codes a Config does not
// list: the label's cardinality is that of the lists, whatever clients
// send.
const Other = "other"

// The values of the transport label of parley_connections: Engine.IO's
// names of its transports.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// The values of the result label of parley_recoveries_total.
const (
	RecoveryRecovered = "recovered"
	RecoveryMissed    = "missed"
)

// Histogram buckets, in seconds or messages.
var (
	// latencyBuckets are those of parley_delivery_latency_seconds and
	// parley_store_commit_seconds: from half a millisecond, beneath which
	// a delivery on loopback falls, to ten seconds, the Committer's
	// timeout.
	latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// batchBuckets are those of parley_store_batch_size, up to the
	// Committer's largest batch (store.DefaultMaxBatch).
	batchBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}
	// redisBuckets are those of parley_redis_publish_seconds: a pipeline
	// to a Redis nearby takes a fraction of a millisecond.
	redisBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
)

// Config says what a Metrics labels and whether it has the cluster's
// metrics.
type Config struct {
	// Events are the values of parley_events_received_total's event label
	// besides Other: the events of the chat (chat.Events).
	Events []string
	// Codes are the values of parley_refusals_total's code label besides
	// Other: the chat's refusal codes (chat.Codes).
	Codes []string
	// Cluster adds the metrics of a cluster node (parley --redis):
	// parley_cluster_nodes, parley_redis_publish_seconds and
	// parley_redis_errors_total.
	Cluster bool
}

// Metrics is one process's metrics. Its observer methods are safe for
// concurrent use, and cost an atomic operation or a few (a histogram's);
// none takes a lock or allocates.
type Metrics struct {
	reg *prometheus.Registry

	connPolling, connWebSocket prometheus.Gauge
	slowConsumers              prometheus.Counter
	received                   map[string]prometheus.Counter
	receivedOther              prometheus.Counter
	sent                       prometheus.Counter
	recovered, missed          prometheus.Counter

	stored        prometheus.Counter
	commitFailed  prometheus.Counter
	commitSeconds prometheus.Histogram
	batchSize     prometheus.Histogram

	refusals     map[string]prometheus.Counter
	refusedOther prometheus.Counter
	rateLimited  prometheus.Counter
	delivery     prometheus.Histogram

	redisPublish prometheus.Histogram // nil without Config.Cluster
	redisErrors  prometheus.Counter

	watchOnce sync.Once
}

// New returns the Metrics of cfg, registered in a registry of their own
// with the Go runtime's and the process's collectors.
func New(cfg Config) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &Metrics{reg: reg}
	f := factory{reg}

	conns := f.gaugeVec("parley_connections", "Open Engine.IO sessions, by transport; an upgrade moves one from polling to websocket.", "transport")
	m.connPolling = conns.WithLabelValues(TransportPolling)
	m.connWebSocket = conns.WithLabelValues(TransportWebSocket)
	m.slowConsumers = f.counter("parley_slow_consumers_total", "Sessions closed because their send queue could not take what they were sent.")

	received := f.counterVec("parley_events_received_total", "Socket.IO events received from clients, by event: the chat's events, others as other.", "event")
	m.received = make(map[string]prometheus.Counter, len(cfg.Events))
	for _, e := range cfg.Events {
		if e != Other {
			m.received[e] = received.WithLabelValues(e)
		}
	}
	m.receivedOther = received.WithLabelValues(Other)
	m.sent = f.counter("parley_events_sent_total", "Socket.IO events queued for sockets: one per socket a broadcast reaches, one per event to a socket alone.")
	recoveries := f.counterVec("parley_recoveries_total", "Clients that asked to recover their connection's state: recovered (missed events replayed) or missed (not kept).", "result")
	m.recovered = recoveries.WithLabelValues(RecoveryRecovered)
	m.missed = recoveries.WithLabelValues(RecoveryMissed)

	m.stored = f.counter("parley_messages_stored_total", "Messages in the batches the store committed.")
	m.commitFailed = f.counter("parley_store_commit_failures_total", "Batches of messages the store failed to commit.")
	m.commitSeconds = f.histogram("parley_store_commit_seconds", "Time one batch of messages took to commit, one transaction.", latencyBuckets)
	m.batchSize = f.histogram("parley_store_batch_size", "Messages per committed batch (group commit).", batchBuckets)

	refusals := f.counterVec("parley_refusals_total", "Refusals the chat sent, by code: of events (acks or error events) and, in app mode, of connections.", "code")
	m.refusals = make(map[string]prometheus.Counter, len(cfg.Codes))
	for _, c := range cfg.Codes {
		if c != Other {
			m.refusals[c] = refusals.WithLabelValues(c)
		}
	}
	m.refusedOther = refusals.WithLabelValues(Other)
	m.rateLimited = f.counter("parley_rate_limited_total", "Events the chat refused for a rate limit, and Engine.IO handshakes refused for the per-address rate.")
	m.delivery = f.histogram("parley_delivery_latency_seconds", "Time from a message's event reaching the chat to its frames being written to the last of its room's members' connections on this node.", latencyBuckets)

	if cfg.Cluster {
		m.redisPublish = f.histogram("parley_redis_publish_seconds", "Time one write of broadcasts to Redis took: a pipeline or a command that publishes (XADD, PUBLISH, SPUBLISH).", redisBuckets)
		m.redisErrors = f.counter("parley_redis_errors_total", "Redis commands that failed (unreachable, timed out or refused), each command of a pipeline counted.")
	}
	return m
}

// factory makes collectors and registers them.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help, label string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help, label string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{label})
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

// Registry returns the registry of the metrics: the Gatherer that Handler
// serves.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's text format (or in
// OpenMetrics, to a scraper that asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Sources are what the gauges of the servers' state read when the
// registry is scraped.
type Sources struct {
	// Sockets calls yield with the number of sockets of each namespace.
	Sockets func(yield func(namespace string, sockets int))
	// People returns the number of people online on this node.
	People func() int
	// Rooms returns the number of rooms somebody online is in.
	Rooms func() int
	// ClusterNodes returns the number of nodes of the cluster, this one
	// included; nil without a cluster.
	ClusterNodes func() int
}

// Watch registers the gauges that read s when scraped: parley_sockets,
// parley_people_online, parley_rooms and, with s.ClusterNodes,
// parley_cluster_nodes. Only the first call does anything.
func (m *Metrics) Watch(s Sources) {
	m.watchOnce.Do(func() {
		if s.Sockets != nil {
			m.reg.MustRegister(&socketsCollector{count: s.Sockets})
		}
		for _, g := range []struct {
			name, help string
			f          func() int
		}{
			{"parley_people_online", "People online on this node: identities with a socket here, or within their presence grace.", s.People},
			{"parley_rooms", "Rooms that somebody online on this node is in.", s.Rooms},
			{"parley_cluster_nodes", "Nodes of the cluster this node hears from, itself included.", s.ClusterNodes},
		} {
			if g.f == nil {
				continue
			}
			f := g.f
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help},
				func() float64 { return float64(f()) }))
		}
	})
}

// socketsCollector is parley_sockets: the sockets of each namespace, read
// when scraped.
type socketsCollector struct {
	count func(yield func(namespace string, sockets int))
}

var socketsDesc = prometheus.NewDesc("parley_sockets", "Sockets connected to each namespace on this node.", []string{"namespace"}, nil)

func (c *socketsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- socketsDesc }

func (c *socketsCollector) Collect(ch chan<- prometheus.Metric) {
	c.count(func(nsp string, n int) {
		ch <- prometheus.MustNewConstMetric(socketsDesc, prometheus.GaugeValue, float64(n), nsp)
	})
}

// The observer methods: engineio.Observer.

// SessionOpened counts an Engine.IO session open on transport.
func (m *Metrics) SessionOpened(transport string) { m.conn(transport).Inc() }

// SessionUpgraded moves a session from polling to websocket.
func (m *Metrics) SessionUpgraded() {
	m.connPolling.Dec()
	m.connWebSocket.Inc()
}

// SessionClosed counts a session on transport closed.
func (m *Metrics) SessionClosed(transport string) { m.conn(transport).Dec() }

// SlowConsumer counts a session closed as a slow consumer.
func (m *Metrics) SlowConsumer() { m.slowConsumers.Inc() }

func (m *Metrics) conn(transport string) prometheus.Gauge {
	if transport == TransportWebSocket {
		return m.connWebSocket
	}
	return m.connPolling
}

// socketio.Metrics.

// EventReceived counts an event received, under its name if it is one of
// Config.Events, as Other otherwise.
func (m *Metrics) EventReceived(_, event string) {
	if c, ok := m.received[event]; ok {
		c.Inc()
		return
	}
	m.receivedOther.Inc()
}

// EventsSent counts n events sent.
func (m *Metrics) EventsSent(n int) { m.sent.Add(float64(n)) }

// Recovery counts a client's recovery, recovered or missed.
func (m *Metrics) Recovery(recovered bool) {
	if recovered {
		m.recovered.Inc()
		return
	}
	m.missed.Inc()
}

// store.CommitObserver.

// Committed counts a batch of messages committed, or failed.
func (m *Metrics) Committed(messages int, took time.Duration, err error) {
	m.commitSeconds.Observe(took.Seconds())
	if err != nil {
		m.commitFailed.Inc()
		return
	}
	m.stored.Add(float64(messages))
	m.batchSize.Observe(float64(messages))
}

// chat.Observer.

// Refused counts a refusal with code, under it if it is one of
// Config.Codes, as Other otherwise.
func (m *Metrics) Refused(code string) {
	if c, ok := m.refusals[code]; ok {
		c.Inc()
		return
	}
	m.refusedOther.Inc()
}

// RateLimited counts a refusal for a rate limit.
func (m *Metrics) RateLimited() { m.rateLimited.Inc() }

// Delivered observes a delivery's latency.
func (m *Metrics) Delivered(d time.Duration) { m.delivery.Observe(d.Seconds()) }
