// Package sioclient is a small Socket.IO v5 client over Engine.IO v4, for
// tests and for load generation.
//
// It has two layers. EngineConn is an Engine.IO connection over WebSocket,
// HTTP long-polling, or polling upgraded to WebSocket: it does the
// handshake, answers the server's pings, and gives raw access to the
// packets, which protocol tests use directly. Client multiplexes Socket.IO
// namespaces over one EngineConn: Socket.Connect joins a namespace, Emit and
// EmitWithAck send events, On registers event handlers, which may
// acknowledge what the server asks them to.
//
// The packet codecs are those the server uses, packages of their own:
// eioparser for the Engine.IO framing, sioparser for Socket.IO packets,
// arguments and binary attachments. The client imports no server package.
//
// # Concurrency
//
// EngineConn, Client and Socket are safe for concurrent use. Sending never
// waits for the network: packets are queued and written, in order, by one
// writer goroutine per connection. Event handlers of one Client run one at
// a time, in arrival order, on the Client's read goroutine; a handler must
// not wait for an acknowledgement (EmitWithAck) or call Close, as both need
// that goroutine.
//
// # Lock order
//
// Client.mu, then Socket.mu; EngineConn.mu is taken alone. No lock is held
// while calling a handler or doing network I/O.
package sioclient
