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
// # Several nodes
//
// Config.URL may list the base URLs of several nodes of a cluster,
// separated by commas, and Config.SendersURL those that the senders
// connect to. The clients are spread over the nodes by their place in the
// run, so that a run goes the same way each time:
//
//   - Without SendersURL, client i (the senders first, then the others)
//     connects to node i mod n of URL's n nodes: senders and receivers
//     alike are spread over every node in turn.
//   - With SendersURL, sender i connects to node i mod s of its s nodes,
//     and the j-th client that does not send (the replacements of the
//     churn included) to node j mod n of URL's. SendersURL http://a with
//     URL http://b puts every sender on a and every other client on b.
//
// A node is its scheme and host: one listed in both lists is one node,
// whose clients are senders and receivers. Each measured delivery is
// counted as same-node, when its sender is on the receiver's node, or
// cross-node (Result.SameNode, CrossNode), and by the receiver's node
// (Result.Nodes). The generator is one process: a message carries its
// send time, read from the same clock as its arrival, whatever node each
// end is on, so a cross-node latency is measured as honestly as a local
// one, and includes the hop between the nodes. The hostile client
// (below) goes to URL's first node.
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
// # Churn and acknowledged messages
//
// Config.Churn makes clients leave and new ones join all the while, from
// the warm-up to the end of the window: every other receiver churns (it
// leaves the namespace and closes its connection, as a person closing
// the page does), and a new client, with a new name, connects and joins
// in its place, getting the room's history (Result.History); the new
// ones churn too. The senders and the other receivers are steady: they
// stay from before the window to the end, and the delivery figures are
// theirs (Result.Steady). Config.Ack has each sender ask for an
// acknowledgement of each message, its sequence number as the ack id;
// senders and steady clients then keep a bit per message, and the run
// checks that every message acknowledged in the window reached every
// steady client but its sender (Result.Acks): an acknowledged message
// that one of them lacks is lost.
//
// # The hostile client
//
// Config.Hostile runs, alongside the load, one hostile client from the
// warm-up to the end of the window. It cycles through inputs that
// exhausted or locked up servers before (parley's issue 10), each
// checked to be refused or bounded; an item that finds otherwise counts
// as failed, with what it saw (Result.Hostile):
//
//   - polling-pings: one polling POST of half a million Engine.IO pings
//     from a session that never polls; the session must be closed.
//   - websocket-pings: Engine.IO pings over a WebSocket that never
//     reads; the connection must be closed, no ping answered.
//   - ping-frames-unread: WebSocket ping frames (5 MB) from a connection
//     with a 4 KiB receive buffer that never reads; the pongs must count
//     against the send queue, and the connection be closed.
//   - anonymous-cycles: 200 connect/close cycles that never join.
//   - room-flood: 100 join-room of new rooms at once; some must be
//     refused, and list-rooms still answered.
//   - huge-headers: handshakes with 1 MiB of headers; refused (431).
//   - big-frame-then-byte: on 20 connections, a 900 KB message and one
//     byte of the next frame, held; the frame must be read when it is
//     completed (the memory is the server's to bound).
//   - invalid-close-codes: close frames with codes 0, 999, 1004-1006,
//     1015, 2999, 5000 and a reason that is not UTF-8; answered 1002 or
//     1007.
//   - slow-post-bodies: 10 polling POST bodies at a byte a second; the
//     server must end each within 20 s.
//   - http10-upgrade, two-websocket-keys: WebSocket handshakes over
//     HTTP/1.0 and with two keys; refused.
//   - big-catch-up: 400 messages of 2,000 CJK characters are stored once
//     in a room of its own; then each cycle a new person joins it asking
//     for all of them (2.5 MB, more than a send queue holds) and for the
//     last 200 with history, asking again from the oldest while a reply
//     says there is more; all must arrive, without the connection being
//     cut off.
//
// # Restart storms
//
// Config.Restart makes a run a restart storm: the clients join (with
// Config.Rejoin RejoinPage, as parley's page does: new-user with an ack,
// whose answer gives each client its guest token), the server settles,
// and Restart restarts it (cmd/parley: a command, or SIGTERM to the
// server's process while something else starts it again). Every client
// whose connection the restart closed then reconnects as the page's
// client does (web/static/socket.io.js: the first attempt after 1 s, each
// next one after twice as long, up to 5 s, each moved by up to half of
// itself at random; a handshake has 20 s), and rejoins as the page does
// (js/join.js, js/membership.js): new-user with its name and token, sent
// again 1.5 s after no answer within 8 s or a rate_limited one, up to 8
// times, given up on another refusal; then the pages of the default
// room's members that new-user's answer did not hold, and the directory
// of rooms. A client is back once new-user is acknowledged under its
// name (RejoinTutorial: once new-user is sent, for servers with neither
// identities nor acks). The run waits for all to be back or to have given
// up (at most Config.StormLimit), for the server to go quiet, then holds
// them for Config.Duration, and reports (Result.Storm) when they came
// back, the connections the server cut off after that, and the
// user-connected and user-disconnected events each client received from
// the restart to the end of the hold: as everyone was there before the
// restart, each user-connected is a return announced as news. With
// Config.PID and a Restart that returns the new server's process id, it
// also reports the new server's CPU time and memory.
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
