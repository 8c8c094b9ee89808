// Package cluster is a socketio.Adapter over Redis that makes several
// parley nodes, and Node.js Socket.IO servers using the npm package
// @socket.io/redis-streams-adapter 0.3, one cluster: a broadcast or an
// operation on sockets made on any node reaches the sockets of all.
//
// A Node is one process's membership of the cluster. It owns:
//
//   - one stream reader per stream (one stream by default), a blocking
//     XREAD loop that feeds what other nodes broadcast to the local
//     delivery path (socketio.Namespace.Deliver), so that a broadcast is
//     decoded and encoded once per node however many sockets get it;
//   - one PUB/SUB connection, subscribed to each namespace's public
//     channel (requests: fetchSockets, serverSideEmit, heartbeats) and to
//     its own private channel (the responses to its requests); with
//     sharded PUB/SUB on a Redis Cluster, one per hash slot of those
//     channels (pubsub.go);
//   - one publisher, which writes what the adapters send, in order, from a
//     queue bounded by bytes: one XADD per broadcast, pipelined, and
//     PUBLISH for the ephemeral messages. Adapter methods never wait for
//     Redis; when Redis is unreachable the queue keeps what is sent until
//     it is back, and once full the adapter refuses with ErrBacklog.
//
// The wire format is package wire's. Every message carries the node's uid;
// a node drops its own. The number of nodes is the number of subscribers
// of a namespace's public channel, as the reference counts them; parley's
// nodes also publish heartbeats there (which the reference ignores), so
// that a node that dies without a word is noticed (Node.Peers).
//
// With connection state recovery on, the adapters share it across the
// cluster (socketio.SharedRecovery, recovery.go): a broadcast's offset is
// its stream entry's id, and the node's own broadcasts, and its
// operations on sockets, reach its sockets from the stream, in its order; a client that reconnects to another node
// takes its session back from Redis and is replayed what it missed, from
// that node's memory of the stream or from the stream itself. A keeper
// (sessions.go) keeps the sessions of live sockets in Redis, so that the
// clients of a node that dies can be restored by another.
//
// Config.Client is any of go-redis's clients: one server, a master found
// through Sentinel, or a Redis Cluster. Keys that one command or script
// touches together share a hash slot (a stream and its sequences' keys,
// SeqKey); docs/cluster.md says what is tested on each.
//
// Node.NewAdapter is the socketio.Config.NewAdapter of a server; its
// adapters keep the local rooms in a socketio memory adapter.
package cluster
