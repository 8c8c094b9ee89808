// Package socketio implements the server side of the Socket.IO protocol,
// version 5, on top of package engineio. Packets, their arguments and binary
// attachments are encoded and decoded by package sioparser; frames.go turns
// them into Engine.IO messages.
//
// A Server multiplexes namespaces over each Engine.IO session. A client
// joins a Namespace with a CONNECT packet, passes its middleware, and gets a
// Socket: the handle through which the application receives events (On),
// emits events (Emit, EmitWithAck), joins rooms and broadcasts.
//
// # Broadcasting
//
// Broadcasts go through the namespace's Adapter. A broadcast is encoded
// once, then handed to every recipient's send queue, which never blocks (see
// package engineio). The in-memory adapter serves one node; a cluster
// adapter can wrap it without the socket code changing. Operations on
// sockets selected by room (SocketsJoin, SocketsLeave, DisconnectSockets,
// FetchSockets) and server-side events (ServerSideEmit) go through the
// adapter too, so that they reach every node of a cluster; Local keeps any
// of them to this node. A cluster adapter hands what other nodes send to
// Namespace.Deliver and Namespace.HandleServerSideEmit.
//
// # Connection state recovery
//
// With Config.Recovery set, each namespace keeps a log of its broadcasts,
// each with an offset, and the sessions of sockets that lost their
// connection (recovery.go); both are bounded by age, count and bytes, and
// swept on a timer. Events sent to one socket are not kept (see
// Socket.Emit). A client that comes back in time gets its socket back and
// the broadcasts it missed, streamed in pieces that fit its send queue
// before it goes live again (replay.go).
//
// # Concurrency and lock order
//
// Event handlers of one connection run one at a time, on the goroutine that
// read the packet; a handler that blocks holds up only its own connection.
// A restored socket's replay runs on a goroutine of its own, which then
// calls its connection handlers and handles, in order, what the connection
// received meanwhile.
// Application code runs with no lock held, except Config.NewAdapter and,
// with recovery on, the Adapter's Broadcast and Join. The order in which
// this package's locks are taken, with those of the packages around it, is
// written down in docs/locking.md.
package socketio
