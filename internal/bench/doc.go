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
// The run is bounded: every phase has a limit, and a server that drops,
// refuses or ignores clients shows as failures in the Result, not a hang.
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
// mutex. Every goroutine a run starts has ended when Run returns, except
// that readers which have not stopped 10 seconds after their connections
// were closed are reported in Result.Errors and left behind.
package bench
