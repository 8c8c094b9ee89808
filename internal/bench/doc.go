// Package bench is a load generator for Socket.IO chats that follow the
// tutorial's contract: each client connects to namespace "/", emits
// new-user with a name, and hears chat-message {name, message, ...}; a
// sender emits send-chat-message with a string, which the server relays to
// everyone else.
//
// Run connects Config.Clients clients over WebSocket or HTTP long-polling
// (Engine.IO v4, Socket.IO v5), then has the first Config.Senders of them
// send Config.Rate messages per second each. Every message embeds the run's
// tag, its sender, a sequence number and its send time,
//
//	b1|<run>|<sender>|<seq>|<unix nanoseconds>
//
// so that every receiving client measures the delivery latency and checks,
// per sender, what was lost, duplicated or reordered. Deliveries of
// messages sent during the warm-up, history replays (history: true) and
// anything without the run's tag are not counted. With Config.PID the run
// also samples the server's CPU time and resident memory from /proc.
//
// # Phases
//
// A run connects the clients, Config.ConnectRate per second; waits for
// the server to settle (a tutorial server announces each new user to
// everyone already there, so N joins make up to N² user-connected events,
// which must be delivered before anything else can be measured); sends
// through the warm-up and the measured window; waits up to Config.Drain
// for the last deliveries of what was sent in the window; then leaves the
// namespace and closes every connection. Config.Idle replaces the sending
// with a window in which only the server's CPU and memory are measured.
// With Config.SlowReaders, some clients stop reading before the warm-up,
// and are probed after the drain (see below).
// The run is bounded: every phase has a limit, and a server that drops,
// refuses or ignores clients shows as failures in the Result, not a hang.
//
// # Slow readers
//
// Config.SlowReaders makes a fraction of the clients that do not send
// slow readers, chosen before dialing and spread over the connection
// order: they connect and join like the others, then, once the server has
// settled, stop at the next packet they get and never read again, like a
// stuck phone. Over WebSocket they dial with a 4 KiB receive buffer
// (SO_RCVBUF, set before connecting, on Unix), so that the server's writes
// to them soon block; over polling they stop polling. The delivery
// figures describe the healthy clients only: senders are never slow, so
// each message is expected by every healthy client but its sender,
// Sent × (Connected − SlowReaders − 1), and Dropped counts healthy clients
// only. Result.SlowCutOff counts the slow readers the server disconnected:
// one whose connection ended while it still read is counted then; the
// others are probed after the drain, before the goodbyes: a WebSocket
// ping (which a connection the server has closed answers with a reset,
// and which tells a server that has stopped sending that the window is
// open), then reading what the server left them until the connection
// shows its end (end of file, reset, an Engine.IO close) or the server
// goes quiet for half a second. Over polling, one poll tells: an HTTP
// error or a close packet, or an open session.
//
// # A lean client
//
// The generator shares the machine with the server it measures, so its
// client does only what the contract needs: one goroutine per connection
// reads frames into a buffer it reuses, answers Engine.IO pings and finds
// the message by its marker without decoding JSON; senders write frames
// pre-encoded up to their sequence number and time, paced by one ticker
// per group of senders. Receiving a message allocates nothing in this
// package (gorilla/websocket allocates one small reader per frame).
//
// # Concurrency
//
// Run may be called concurrently; a Histogram is safe for concurrent use.
// Within a run, each connection's reader goroutine owns its per-sender
// state; counters and histograms shared by connections are atomic.
// Writes to one connection (pongs from its reader, messages from its
// sender group, the goodbye from Run) are serialised by that connection's
// mutex. A slow reader's goroutine ends when it stops reading: the probe
// then reads its connection. Every goroutine a run starts has ended when
// Run returns, except
// that readers which have not stopped 10 seconds after their connections
// were closed are reported in Result.Errors and left behind.
package bench
