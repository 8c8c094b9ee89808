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
// adapter can wrap it without the socket code changing.
//
// # Concurrency and lock order
//
// Event handlers of one connection run one at a time, on the goroutine that
// read the packet; a handler that blocks holds up only its own connection.
// Application code runs with no lock held, except Config.NewAdapter and,
// with recovery on, the Adapter's Broadcast and Join. The order in which
// this package's locks are taken, with those of the packages around it, is
// written down in docs/locking.md.
package socketio
