// Package admin serves the protocol of the official Socket.IO Admin UI
// (the npm package @socket.io/admin-ui, version 0.5) on a namespace of a
// socketio.Server, "/admin" by default, as that package's instrument()
// does on a Node.js server: the UI, hosted at admin.socket.io or served
// from the package's ui/dist, connects to it with the official client and
// shows the server's clients, sockets, rooms and traffic, and acts on them.
//
// # Protocol
//
// A UI logs in with its CONNECT packet's auth, {username, password},
// checked against Config.Username and Config.PasswordHash (bcrypt); it
// then gets a "session" id, which logs it in again later ({sessionId})
// without the password. A refusal is the connect error "invalid
// credentials", which the UI shows as such; failed attempts are limited
// per client address and in all ("too many attempts").
//
// A UI that is in gets "config" ({supportedFeatures}), then, in
// development mode, "all_sockets": every socket of every namespace. Every
// admin socket gets "server_stats" every StatsInterval (2 s): the server's
// id, host name, pid, uptime, Engine.IO clients (those on polling apart),
// the namespaces with their socket counts, and the aggregated events of
// the interval (connections, disconnections by reason, packets and bytes
// in and out, per second). In development mode it also gets, as they
// happen, "socket_connected", "socket_updated" (an upgrade to WebSocket,
// data set), "socket_disconnected", "room_joined", "room_left" and
// "event_received"; production mode (Config.Mode) leaves those out, as
// the reference does. The UI's commands are "emit", "join", "leave" and
// "_disconnect", each on a namespace, optionally narrowed by a room or a
// socket id (the UI's MJOIN, MLEAVE and MDISCONNECT forms).
//
// # Cost
//
// The package watches the server through socketio.Observer. Each method
// of it that the server calls on a busy path costs a check and, while some
// admin socket listens, an append to a bounded queue under a lock of the
// package's own (a leaf); a goroutine emits what is queued. Aggregated
// packets and bytes are read from the Engine.IO server's counters at each
// interval. When the queue is full, what comes next is dropped and every
// UI is sent "all_sockets" afresh once the queue is drained.
//
// # Cluster
//
// Everything the package sends goes through the admin namespace's adapter:
// with a cluster adapter every node's events and stats reach the UIs
// connected to any node (each node has its own server id), "all_sockets"
// is the cluster's (Namespace.FetchSockets), and the commands act on the
// sockets of every node. Config.Sessions can be shared by the nodes (see
// RedisSessions), so that a session id given by one node logs in on
// another.
package admin
