// Package metrics holds parley's Prometheus metrics: one registry per
// process, with the Go runtime's and the process's collectors, and the
// collectors of parley's own metrics, all named parley_*. A Metrics is made
// once, in the command, and handed down: it is the observer that the
// servers' configurations take (engineio.Observer, socketio.Metrics,
// chat.Observer, store.CommitObserver), which those packages define
// themselves, so that none of them depends on this one or on Prometheus;
// a cluster node's Redis client takes its RedisHook.
//
// What a delivery costs is an atomic add: the counters and gauges are
// Prometheus's own, which are atomic, with their label values resolved
// once, when the Metrics is made; the gauges of what the servers hold (the
// sockets of each namespace, the people online, the rooms in use, the
// nodes of a cluster) are read when the registry is scraped, and cost the
// hot path nothing. docs/operations.md lists every metric.
package metrics
