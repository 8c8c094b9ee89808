// Package engineio implements the server side of the Engine.IO protocol,
// version 4: the transport layer beneath Socket.IO.
//
// A Server is an http.Handler mounted at a path such as "/socket.io/". It
// opens a Session per client over HTTP long-polling or WebSocket, upgrades
// polling sessions to WebSocket, keeps them alive with heartbeats, and hands
// each message to the Handler that Config.NewSession returns for the session.
// Packets are encoded and decoded by package eioparser, which the Go client
// shares.
//
// # Sending
//
// Session.Send never blocks: it appends to the session's send queue, which is
// bounded in bytes (Config.MaxQueueBytes). A session whose queue would grow
// past the bound is closed as a slow consumer. What the server queues of
// its own counts too (pings, and the pongs that answer a client's
// WebSocket pings), as does each entry's own size, so that the bound holds
// for the memory a queue of small packets takes. A client's Engine.IO ping
// closes its session: only the server pings in Engine.IO v4, as in the
// reference server. On WebSocket, a short-lived
// flush goroutine, started only while the queue is non-empty, writes every
// queued frame in one write call. A connection that was written to less
// than Config.WriteCoalesce ago waits out the rest of that time first, so
// that a busy connection costs one system call per batch of frames rather
// than per frame. Each connection's kernel send buffer is bounded
// (Config.SendBuffer): a client that stops reading stalls its writes soon,
// and Config.WriteTimeout then closes it. On polling, the pending GET
// request drains the queue into one payload.
//
// # Long polls off net/http
//
// Served through the listener Server.PollListener returns, the server
// takes a long-polling connection over from net/http at its first poll
// with a sid, and serves the polls and POSTs that follow on it itself
// (takeover.go): the poller reads them, a strict parser fuzzed against
// net/http's reads them (pollreq.go), a waiting poll holds no goroutine,
// and a broadcast's answers are written in one non-blocking write each by
// a few goroutines in turn. Whatever the parser is unsure of (another
// path, a handshake, an upgrade, a chunked or slow body, another host or
// origin) hands the connection back to net/http through the listener, with
// the bytes read.
//
// # Receiving
//
// The WebSocket transport is ours, on top of net/http's hijacked connection:
// the opening handshake (wshandshake.go) and an incremental RFC 6455 frame
// parser (wsframe.go) that holds no buffer between messages. On Linux the
// server's netpoll.Poller reports which connections have data, and a
// short-lived goroutine reads them with a shared buffer: an idle connection
// holds no goroutine and no read buffer. Elsewhere one goroutine reads each
// connection. Client protocol errors close the connection with the RFC's
// close code (1002, 1007 invalid UTF-8, 1009 too big); so does a close
// frame whose code a peer may not send or whose reason is not UTF-8. The
// close frames, the answer to a client's and the server's own, go through
// the queue like everything the server writes, after what is queued; the
// reader then reads and drops what the client still sends until it closes
// its end, so that the connection is not reset under the close frame.
//
// # Concurrency and lock order
//
// Server.mu guards the session map; Session.mu guards a session's state,
// queue and transport; Session.dispatchMu serialises calls into the
// Handler for one session. No lock is held during network I/O, and no lock
// but dispatchMu is held while calling the Handler. The order in which
// these locks are taken, with those of the packages above, is written down
// in docs/locking.md.
package engineio
